package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/spectree"
	"github.com/birdwatch-gitops/birdwatch/gitops/sync"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// decided is one canary's decision on one snapshot, with the commit it needs.
type decided struct {
	decision rollout.Decision
	analysis *judge.Result
	files    map[string][]byte
	message  repo.Message
}

// decide reads everything from snap, measures if the state machine asks for
// it, and builds the change. It is called again on every CAS retry.
func (e *Engine) decide(ctx context.Context, snap *repo.Snapshot, key string, req Request) (*decided, error) {
	d, err := e.decideWith(ctx, snap, key, req, decideOptions{})
	var bad *badInputError
	if errors.As(err, &bad) {
		return freezeOnBadInput(bad, e.now(), req.Trigger)
	}
	return d, err
}

// decideWith is decide with what pull-request mode adds (see decideOptions).
func (e *Engine) decideWith(ctx context.Context, snap *repo.Snapshot, key string, req Request, opts decideOptions) (*decided, error) {
	c, err := e.findCanary(snap, key)
	if err != nil {
		return nil, err
	}
	st, err := readStatus(snap, c)
	if err != nil {
		return nil, err
	}
	st = opts.landed(st)
	prov, err := traffic.New(trafficConfig(c))
	if err != nil {
		return nil, fmt.Errorf("%s: spec.traffic: %w", c.File, err)
	}
	manifest, err := snap.ReadFile(c.Spec.Traffic.File)
	if errors.Is(err, repo.ErrNotFound) {
		return nil, &badInputError{c: c, st: st, err: fmt.Errorf("traffic manifest %s: %w", c.Spec.Traffic.File, err)}
	}
	if err != nil {
		return nil, fmt.Errorf("read traffic manifest: %w", err)
	}
	weights, err := prov.Weights(manifest)
	if err != nil {
		return nil, &badInputError{c: c, st: st, err: fmt.Errorf("%s: %w", c.Spec.Traffic.File, err)}
	}
	var hasRoutes bool
	if st == nil || st.Generation != c.Spec.Canary {
		// Only a new rollout looks for routes a superseded one left behind.
		if hasRoutes, err = manifestHasRoutes(prov, manifest); err != nil {
			return nil, &badInputError{c: c, st: st, err: fmt.Errorf("%s: %w", c.Spec.Traffic.File, err)}
		}
	}
	now := e.now()
	in := rollout.Input{Canary: c, Status: st, Now: now, ManifestWeight: weights.Canary, ManifestHasRoutes: hasRoutes,
		Command: req.Command, Trigger: req.Trigger}
	var waiting string
	if st != nil && st.Phase == spec.PhaseWaitingForSync && st.Generation == c.Spec.Canary {
		if in.AppliedAt, waiting, err = e.observe(ctx, c, st, now); err != nil {
			return nil, err
		}
	}
	d := rollout.Decide(in)
	out := &decided{decision: d}
	if d.NeedsAnalysis {
		res, err := e.analyze(ctx, c, &d.Status, d.Window)
		if err != nil {
			return nil, err
		}
		out.analysis = res
		in.Analysis = toRolloutAnalysis(res, now, d.Window)
		d = rollout.Decide(in)
		out.decision = d
	}
	d = withSyncReason(d, in, waiting)
	out.decision = d
	var before spec.Routing
	if st != nil {
		before = st.Routes
	}
	out.message = commitMessage(c, d, out.analysis, req.Trigger, before)
	if !d.Commit {
		return out, nil
	}
	if out.files, err = buildFiles(snap, c, d, prov, manifest); err != nil {
		return nil, &badInputError{c: c, st: st, err: err}
	}
	return out, nil
}

// manifestHasRoutes reports whether doc holds header routes birdwatch
// added (named birdwatch-*, or NGINX's marked annotations); a provider that
// cannot route has none. A mirror to the canary is not counted: nothing in
// the manifest says who set it, so only a rollout whose steps mirror removes it.
func manifestHasRoutes(prov traffic.Provider, doc []byte) (bool, error) {
	router, ok := prov.(traffic.Router)
	if !ok {
		return false, nil
	}
	r, err := router.Routes(doc)
	if err != nil {
		return false, err
	}
	return len(r.Headers) > 0, nil
}

// observe asks c's sync gate whether st's weight is applied; waiting says
// what is missing when the gate can tell (sync.Observer).
func (e *Engine) observe(ctx context.Context, c *spec.Canary, st *spec.Status, now time.Time) (*time.Time, string, error) {
	gate, err := e.Sync.For(c)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", c.File, err)
	}
	if ob, ok := gate.(sync.Observer); ok {
		o, err := ob.Observe(ctx, c, st, now)
		if err != nil {
			return nil, "", fmt.Errorf("sync gate: %w", err)
		}
		return o.AppliedAt, o.Waiting, nil
	}
	at, err := gate.AppliedAt(ctx, c, st, now)
	if err != nil {
		return nil, "", fmt.Errorf("sync gate: %w", err)
	}
	return at, "", nil
}

// withSyncReason adds the gate's reason to a wait for sync, and to the
// Frozen message when spec.sync.timeout ran out, so the status says what
// never arrived ("kustomization flux-system/apps not found").
func withSyncReason(d rollout.Decision, in rollout.Input, waiting string) rollout.Decision {
	if waiting == "" || in.AppliedAt != nil {
		return d
	}
	switch {
	case d.Action == rollout.ActionWait:
		d.Reason += ": " + waiting
	case d.Action == rollout.ActionFreeze && d.Status.Phase == spec.PhaseFrozen:
		d.Status.Message += ": " + waiting
		d.Reason = d.Status.Message
		if n := len(d.Status.History); n > 0 {
			d.Status.History[n-1].Reason = d.Status.Message
		}
	}
	return d
}

// findCanary parses the spec files of snap and returns the one named key.
func (e *Engine) findCanary(snap *repo.Snapshot, key string) (*spec.Canary, error) {
	canaries, err := e.loadCanaries(snap)
	if err != nil {
		return nil, err
	}
	for _, c := range canaries {
		if c.Key() == key {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%s: %w", key, ErrUnknownCanary)
}

// loadCanaries parses every spec under .birdwatch/ in snap as validate
// does (spectree.Load: no links, no file over 1 MiB, no duplicates). Any
// problem fails the whole load: a half-read fleet could hide a canary.
func (e *Engine) loadCanaries(snap *repo.Snapshot) ([]*spec.Canary, error) {
	cs, err := spectree.Load(spectree.Snapshot{Snapshot: snap}, Checks(e.Judges))
	if err != nil {
		return nil, err
	}
	return cs, nil
}

// readStatus reads c's status file; nil when there is none yet.
func readStatus(snap *repo.Snapshot, c *spec.Canary) (*spec.Status, error) {
	data, err := snap.ReadFile(c.StatusPath())
	if errors.Is(err, repo.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read status: %w", err)
	}
	return spec.ParseStatus(c.StatusPath(), data)
}
