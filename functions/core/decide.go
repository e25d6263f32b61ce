package core

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/sync"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
	"github.com/birdwatch-gitops/birdwatch/rollout"
	"github.com/birdwatch-gitops/birdwatch/rollout/step"
)

// snapshot adapts *repo.Snapshot to step.Snapshot: a missing file wraps
// fs.ErrNotExist as well as repo.ErrNotFound.
type snapshot struct{ *repo.Snapshot }

func (s snapshot) ReadFile(path string) ([]byte, error) {
	data, err := s.Snapshot.ReadFile(path)
	if errors.Is(err, repo.ErrNotFound) {
		return nil, fmt.Errorf("%w (%w)", err, fs.ErrNotExist)
	}
	return data, err
}

// ports are the step's ports wired to the engine's Prometheus, judges and sync gates.
func (e *Engine) ports() step.Ports {
	p := step.Ports{Judges: e.Judges, Sync: syncGate{e.Sync}, Hooks: e.Hooks}
	if len(e.StatusKey) > 0 {
		p.Seals = seals{key: e.StatusKey, repo: e.Repo}
	}
	if e.Metrics != nil || e.Providers != nil {
		p.Metrics = measurer{e}
	}
	return p
}

// syncGate is the step's sync port on sync.Engines: the gate of each
// canary's spec.sync.engine, with its reason when it can give one.
type syncGate struct{ engines sync.Engines }

func (g syncGate) Observe(ctx context.Context, c *spec.Canary, st *spec.Status, now time.Time) (*time.Time, string, error) {
	gate, err := g.engines.For(c)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", c.File, err)
	}
	if ob, ok := gate.(sync.Observer); ok {
		o, err := ob.Observe(ctx, c, st, now)
		return o.AppliedAt, o.Waiting, err
	}
	at, err := gate.AppliedAt(ctx, c, st, now)
	return at, "", err
}

// decide runs the shared step for c on snap.
func (e *Engine) decide(ctx context.Context, snap *repo.Snapshot, c *spec.Canary, req Request, view func(*spec.Status) *spec.Status) (*step.Result, error) {
	return e.ports().Decide(ctx, snapshot{snap}, c, step.Request{Now: e.now(), Command: req.Command, Trigger: req.Trigger, View: view})
}

// decidePR runs the shared step for c on snap in pull-request mode: the
// state machine applies the pull request policy to pr.
func (e *Engine) decidePR(ctx context.Context, snap *repo.Snapshot, c *spec.Canary, req Request, view func(*spec.Status) *spec.Status,
	pr *rollout.PullRequest) (*step.Result, error) {
	return e.ports().Decide(ctx, snapshot{snap}, c, step.Request{Now: e.now(), Command: req.Command, Trigger: req.Trigger,
		View: view, PullRequest: pr})
}

// TrafficRoutes converts the spec's routing state into the routes a
// traffic.Router writes (see step.TrafficRoutes).
func TrafficRoutes(r spec.Routing) traffic.Routes { return step.TrafficRoutes(r) }

// checkRouting is spec.Checks.Routing for the built-in traffic providers:
// are the routes r well formed as the providers will write them
// (traffic.Routes.Validate), and can provider hold them (traffic.Supports)?
// Checking both here keeps a spec that validates from freezing at its
// first route step.
func checkRouting(provider string, r spec.Routing) error {
	tr := step.TrafficRoutes(r)
	if err := tr.Validate(); err != nil {
		return err
	}
	return traffic.Supports(provider, tr)
}
