package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	gosync "sync"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/spectree"
	"github.com/birdwatch-gitops/birdwatch/rollout/step"
)

// pending is one canary's decision in a tick, until it is pushed.
type pending struct {
	key    string
	canary *spec.Canary // nil for an invalid one
	// invalid is set for a rollout whose own spec became invalid.
	invalid step.Invalid
	res     *step.Result
	err     error
	// commit is the hash of this decision's commit once pushed.
	commit   string
	attempts int
}

func (p *pending) outcome() Outcome {
	o := Outcome{Canary: p.key, Commit: p.commit, Attempts: p.attempts}
	if p.res != nil {
		o.Decision, o.Analysis, o.Message = p.res.Decision, p.res.Analysis, p.res.Effects.Message.String()
	}
	if p.err != nil {
		o.Err = fmt.Errorf("%s: %w", p.key, p.err)
	}
	return o
}

// decideAll decides every pending canary on snap, at most Concurrency at once.
func (e *Engine) decideAll(ctx context.Context, snap *repo.Snapshot, ps []*pending, req Request) {
	n := e.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	sem := make(chan struct{}, n)
	var wg gosync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			p.res, p.err = e.decideOne(ctx, snap, p, req)
		}()
	}
	wg.Wait()
}

func (e *Engine) decideOne(ctx context.Context, snap *repo.Snapshot, p *pending, req Request) (*step.Result, error) {
	if p.canary != nil {
		return e.decide(ctx, snap, p.canary, req, nil)
	}
	return e.ports().DecideInvalid(snapshot{snap}, p.invalid, step.Request{Now: e.now(), Trigger: req.Trigger})
}

// commitAll commits every decision that changes Git, one commit each,
// chained on snap, and pushes the chain with compare-and-swap. When the
// branch moved, only the canaries whose files changed are decided again
// on the new head; a decision whose files an earlier one of the chain
// writes too waits for the next round, decided on top of it.
func (e *Engine) commitAll(ctx context.Context, snap *repo.Snapshot, ps []*pending, req Request) {
	ch, ok := e.Repo.(Chainer)
	if !ok {
		e.updateEach(ctx, snap, ps, req)
		return
	}
	maxAttempts := e.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = repo.DefaultMaxAttempts
	}
	todo := slices.DeleteFunc(slices.Clone(ps), func(p *pending) bool { return p.err != nil || !p.res.Effects.Commit })
	base := snap
	for attempt := 1; len(todo) > 0; attempt++ {
		head, chained, deferred := e.chain(ctx, ch, base, todo)
		if len(chained) == 0 {
			return
		}
		err := ch.Push(ctx, head, base)
		for _, p := range chained {
			p.attempts = attempt
		}
		if err == nil {
			base, todo = head, deferred
			e.decideAll(ctx, base, deferred, req)
			todo = slices.DeleteFunc(todo, func(p *pending) bool { return p.err != nil || !p.res.Effects.Commit })
			continue
		}
		todo = append(chained, deferred...)
		for _, p := range chained {
			p.commit = ""
		}
		if !errors.Is(err, repo.ErrRejected) || attempt >= maxAttempts {
			for _, p := range todo {
				p.err = fmt.Errorf("push (attempt %d of %d): %w", attempt, maxAttempts, err)
			}
			return
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return
		}
		next, err := e.Repo.Fetch(ctx)
		if err != nil {
			for _, p := range todo {
				p.err = fmt.Errorf("fetch after a rejected push: %w", err)
			}
			return
		}
		e.redecideChanged(ctx, base, next, todo, req)
		todo = slices.DeleteFunc(todo, func(p *pending) bool { return p.err != nil || !p.res.Effects.Commit })
		base = next
	}
}

// updateEach lands each decision with its own Update (a Repository that
// commits through an API, one remote write per commit): the first round
// uses the decision made on snap; a retry decides again on the new head.
func (e *Engine) updateEach(ctx context.Context, snap *repo.Snapshot, ps []*pending, req Request) {
	for _, p := range ps {
		if p.err != nil || !p.res.Effects.Commit {
			continue
		}
		decidedOn := snap
		res, err := e.Repo.Update(ctx, func(s *repo.Snapshot) (*repo.Change, error) {
			if s.Commit() != decidedOn.Commit() && inputsChanged(decidedOn, s, p) {
				if err := e.redecideOn(ctx, s, p, req); err != nil {
					return nil, err
				}
				decidedOn = s
			}
			if !p.res.Effects.Commit {
				return nil, nil
			}
			ch := e.change(s, p.res)
			return &ch, nil
		})
		p.attempts = res.Attempts
		if res.Pushed != nil {
			p.commit = res.Pushed.Commit()
			snap = res.Pushed
		}
		if err != nil {
			p.err = err
		}
	}
}

// redecideOn decides p again on s, with its spec as s holds it.
func (e *Engine) redecideOn(ctx context.Context, s *repo.Snapshot, p *pending, req Request) error {
	if p.canary != nil {
		fl, err := step.Load(spectree.Snapshot{Snapshot: s}, e.checks())
		if err != nil {
			return err
		}
		c, _ := fl.Find(p.key)
		if c == nil {
			return fmt.Errorf("the spec changed while deciding; decided on the next run")
		}
		p.canary = c
	}
	p.res, p.err = e.decideOne(ctx, s, p, req)
	return p.err
}

// chain commits each decision on the previous one, starting at base.
func (e *Engine) chain(ctx context.Context, ch Chainer, base *repo.Snapshot, todo []*pending) (*repo.Snapshot, []*pending, []*pending) {
	head := base
	written := map[string]bool{}
	var chained, deferred []*pending
	for _, p := range todo {
		files := p.res.Effects.Files
		if slices.ContainsFunc(slices.Collect(maps.Keys(files)), func(f string) bool { return written[f] }) {
			deferred = append(deferred, p)
			continue
		}
		c, err := ch.Commit(ctx, head, e.change(head, p.res))
		if errors.Is(err, repo.ErrNoChange) {
			continue
		}
		if err != nil {
			p.err = err
			continue
		}
		for f := range files {
			written[f] = true
		}
		head, p.commit = c, c.Commit()
		chained = append(chained, p)
	}
	return head, chained, deferred
}

// redecideChanged decides again, on next, the canaries whose inputs differ
// between old and next; the others keep their decision (and their files,
// which were built from the same inputs).
func (e *Engine) redecideChanged(ctx context.Context, old, next *repo.Snapshot, todo []*pending, req Request) {
	var changed []*pending
	var specChanged bool
	for _, p := range todo {
		if c := p.res.Canary; c != nil && !sameFile(old, next, c.File) {
			specChanged = true
		}
		if inputsChanged(old, next, p) {
			changed = append(changed, p)
		}
	}
	if len(changed) == 0 {
		return
	}
	if specChanged {
		fl, err := step.Load(spectree.Snapshot{Snapshot: next}, e.checks())
		for _, p := range changed {
			if err != nil {
				p.err = err
				continue
			}
			if c, _ := fl.Find(p.key); c != nil && p.canary != nil {
				p.canary = c
			} else if p.canary != nil {
				p.res, p.err = nil, fmt.Errorf("the spec changed while deciding; decided on the next run")
			}
		}
		changed = slices.DeleteFunc(changed, func(p *pending) bool { return p.err != nil })
	}
	e.decideAll(ctx, next, changed, req)
}

// inputsChanged reports whether a file p's decision read or writes differs
// between old and next.
func inputsChanged(old, next *repo.Snapshot, p *pending) bool {
	paths := slices.Collect(maps.Keys(p.res.Effects.Files))
	if c := p.res.Canary; c != nil {
		paths = append(paths, c.File, c.StatusPath(), c.Spec.Traffic.File)
		for _, ed := range c.Spec.Promote {
			paths = append(paths, ed.File)
		}
	}
	return slices.ContainsFunc(paths, func(f string) bool { return !sameFile(old, next, f) })
}

// sameFile reports whether path has the same content (or is absent) in a and b.
func sameFile(a, b *repo.Snapshot, path string) bool {
	x, errA := a.ReadFile(path)
	y, errB := b.ReadFile(path)
	if errA != nil || errB != nil {
		return errors.Is(errA, repo.ErrNotFound) && errors.Is(errB, repo.ErrNotFound)
	}
	return bytes.Equal(x, y)
}

// backoff is the wait before round attempt+1: uniform in [d/2, d],
// d = 100ms x 2^(attempt-1), at most 5 s, so writers that collided
// spread out.
func backoff(attempt int) time.Duration {
	d := min(100*time.Millisecond<<min(attempt-1, 6), 5*time.Second)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
