// Package core is birdwatch's loop, shared by every trigger (webhook, chat,
// schedule, CLI): load the Canary specs and status from Git, wait for the
// applier, measure, judge, decide, and commit the decision back to Git with
// compare-and-swap. Every I/O edge is an interface or a value passed in.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/gitops/pullrequest"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/sync"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// Repository is the Git side of the loop; *repo.Repo implements it.
type Repository interface {
	Fetch(ctx context.Context) (*repo.Snapshot, error)
	Update(ctx context.Context, decide func(*repo.Snapshot) (*repo.Change, error)) (repo.UpdateResult, error)
}

// Engine runs the loop. Its fields are set once by the caller; it is safe
// for concurrent use when they are.
type Engine struct {
	Repo    Repository
	Metrics metrics.Provider
	// Judges maps spec.analysis.judge to a judge.
	Judges map[string]judge.Judge
	// Sync maps spec.sync.engine to a gate.
	Sync sync.Engines
	// PullRequests opens and follows the pull requests of canaries with
	// spec.git.mode pullRequest; nil makes those canaries fail with
	// ErrNoPullRequests. Repo must then also be a BranchRepository.
	PullRequests PullRequests
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives one structured line per decision; nil discards.
	Log *slog.Logger
	// Notifiers are told of every committed decision (Slack, ...); their
	// errors are logged, never fatal: Git already holds the decision.
	Notifiers []Notifier
}

// Notifier reports a committed decision where people work.
type Notifier interface {
	Notify(ctx context.Context, c *spec.Canary, o Outcome) error
}

// Flusher is a Notifier that delivers in the background (notify.Dispatcher):
// Run lets it finish, within its own bounds, before returning, so a
// short-lived process does not end with messages unsent while no
// notification delays the next canary's decision.
type Flusher interface {
	Flush(ctx context.Context)
}

// Request says what to do in one invocation.
type Request struct {
	// Canary limits the run to "namespace/name"; empty means every canary.
	Canary string
	// Command is a manual, already authorized command; it needs Canary.
	Command *rollout.Command
	// Trigger names what woke birdwatch: schedule, webhook, chatops, cli.
	Trigger string
}

// Outcome is what happened to one canary.
type Outcome struct {
	Canary   string
	Decision rollout.Decision
	// Analysis is the judged window, when one was measured.
	Analysis *judge.Result
	// Commit is the pushed commit's hash; empty when nothing was committed.
	// In pull-request mode it is the commit pushed to the pull request's branch.
	Commit string
	// PullRequest is, in pull-request mode, the canary's current pull
	// request (opened, updated, waited for or found declined); nil otherwise.
	PullRequest *pullrequest.PR
	// Message is the commit message (or what it would have been).
	Message  string
	Attempts int
	Err      error
}

// ErrUnknownCanary is returned when Request.Canary names no canary in the repository.
var ErrUnknownCanary = errors.New("no such canary")

// ErrNoMetricsProvider is a metric's error when the engine has no metrics
// provider: the look is inconclusive, never a pass.
var ErrNoMetricsProvider = errors.New("no metrics provider configured")

// Run executes the loop once for every selected canary, one commit per
// decision. Spec errors are reported per canary file and commit nothing.
func (e *Engine) Run(ctx context.Context, req Request) ([]Outcome, error) {
	snap, canaries, err := e.selectCanaries(ctx, req)
	if err != nil {
		return nil, err
	}
	var out []Outcome
	for _, c := range canaries {
		var o Outcome
		if c.Spec.Git.Mode == modePullRequest {
			o = e.runPullRequest(ctx, snap, c, req)
		} else {
			o = e.runOne(ctx, c.Key(), req)
		}
		e.logOutcome(o)
		e.notify(ctx, c, o)
		out = append(out, o)
	}
	for _, n := range e.Notifiers {
		if f, ok := n.(Flusher); ok {
			f.Flush(ctx)
		}
	}
	return out, nil
}

// selectCanaries fetches the branch and returns the canaries req selects:
// all, or the one req.Canary names (ErrUnknownCanary when none does).
func (e *Engine) selectCanaries(ctx context.Context, req Request) (*repo.Snapshot, []*spec.Canary, error) {
	if req.Command != nil && req.Canary == "" {
		return nil, nil, fmt.Errorf("a command needs a canary")
	}
	snap, err := e.Repo.Fetch(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch: %w", err)
	}
	canaries, err := e.loadCanaries(snap)
	if err != nil || req.Canary == "" {
		return snap, canaries, err
	}
	for _, c := range canaries {
		if c.Key() == req.Canary {
			return snap, []*spec.Canary{c}, nil
		}
	}
	return nil, nil, fmt.Errorf("%s: %w", req.Canary, ErrUnknownCanary)
}

// runOne decides for one canary inside the repository's compare-and-swap
// loop: on a rejected push, decide runs again on the new snapshot, so a
// decision another invocation already made is not made twice.
func (e *Engine) runOne(ctx context.Context, key string, req Request) Outcome {
	o := Outcome{Canary: key}
	res, err := e.Repo.Update(ctx, func(snap *repo.Snapshot) (*repo.Change, error) {
		d, err := e.decide(ctx, snap, key, req)
		if err != nil {
			return nil, err
		}
		o.Decision, o.Analysis, o.Message = d.decision, d.analysis, d.message.String()
		if !d.decision.Commit {
			return nil, nil
		}
		return &repo.Change{Files: d.files, Message: d.message}, nil
	})
	o.Attempts = res.Attempts
	if res.Pushed != nil {
		o.Commit = res.Pushed.Commit()
	}
	if err != nil {
		o.Err = fmt.Errorf("%s: %w", key, err)
	}
	return o
}

// now is the decision time, in UTC to the millisecond so status files stay readable.
func (e *Engine) now() time.Time {
	t := time.Now()
	if e.Now != nil {
		t = e.Now()
	}
	return t.UTC().Truncate(time.Millisecond)
}

func (e *Engine) logOutcome(o Outcome) {
	if e.Log == nil {
		return
	}
	attrs := []any{"canary", o.Canary, "action", o.Decision.Action, "phase", o.Decision.Status.Phase,
		"step", o.Decision.Status.Step, "weight", o.Decision.Status.Weight, "reason", o.Decision.Reason,
		"commit", o.Commit, "attempts", o.Attempts}
	if o.Analysis != nil {
		attrs = append(attrs, "verdict", o.Analysis.Verdict, "score", o.Analysis.Score)
	}
	if o.Decision.Refused != "" {
		attrs = append(attrs, "refused", o.Decision.Refused)
	}
	if o.Err != nil {
		e.Log.Error("decision failed", append(attrs, "error", o.Err)...)
		return
	}
	e.Log.Info("decision", attrs...)
}

// notify tells every notifier of a committed decision.
func (e *Engine) notify(ctx context.Context, c *spec.Canary, o Outcome) {
	if o.Commit == "" || o.Err != nil {
		return
	}
	for _, n := range e.Notifiers {
		if err := n.Notify(ctx, c, o); err != nil && e.Log != nil {
			e.Log.Warn("notify failed", "canary", o.Canary, "commit", o.Commit, "error", err)
		}
	}
}
