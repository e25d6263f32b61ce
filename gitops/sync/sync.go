// Package sync answers one question before any analysis: has the applier
// (Argo CD, Flux, or nothing) applied the commit that set the current weight?
// A window is only judged once its weight is live.
package sync

import (
	"context"
	"fmt"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Gate reports when the weight recorded in st was applied to the cluster,
// or nil when it has not been applied yet.
type Gate interface {
	AppliedAt(ctx context.Context, c *spec.Canary, st *spec.Status, now time.Time) (*time.Time, error)
}

// None is the gate for spec.sync.engine none: a weight counts as applied
// spec.sync.applyDelay after the commit that set it. It does no I/O.
type None struct{}

// AppliedAt returns WeightSetAt + applyDelay once now has reached it.
func (None) AppliedAt(_ context.Context, c *spec.Canary, st *spec.Status, now time.Time) (*time.Time, error) {
	if st == nil || st.WeightSetAt == nil {
		return nil, nil
	}
	t := st.WeightSetAt.Add(c.Spec.Sync.ApplyDelay.D())
	if now.Before(t) {
		return nil, nil
	}
	return &t, nil
}

// Engines maps spec.sync.engine values to gates. It is the explicit registry
// the binary wires; an engine absent from it is an error, never a fallback.
type Engines map[string]Gate

// For returns the gate of c's engine.
func (e Engines) For(c *spec.Canary) (Gate, error) {
	g, ok := e[c.Spec.Sync.Engine]
	if !ok {
		return nil, fmt.Errorf("sync engine %q is not available (have %v)", c.Spec.Sync.Engine, keys(e))
	}
	return g, nil
}

func keys(e Engines) []string {
	out := make([]string, 0, len(e))
	for k := range e {
		out = append(out, k)
	}
	return out
}
