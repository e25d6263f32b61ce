package core

import (
	"fmt"
	"slices"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// badInputError is a manifest or promote edit that birdwatch cannot read or
// make: a file a human moved, or edited into a shape the provider does not
// know. Retrying cannot help; a human must.
type badInputError struct {
	c   *spec.Canary
	st  *spec.Status // nil when no rollout has started
	err error
}

func (e *badInputError) Error() string { return e.err.Error() }
func (e *badInputError) Unwrap() error { return e.err }

// freezeOnBadInput records bad input in the status, once: an active rollout
// (or one about to start) is Frozen with the error as its message, so the
// report says what a human must fix, then `resume` goes on. A status that
// already says so is left alone (no loop of commits) and the error is
// returned, so every run still reports it. A finished rollout is not touched.
func freezeOnBadInput(bad *badInputError, now time.Time, trigger string) (*decided, error) {
	c, st := bad.c, bad.st
	msg := "cannot edit the manifests: " + bad.err.Error()
	newGeneration := st == nil || st.Generation != c.Spec.Canary
	switch {
	case !newGeneration && (st.Phase.Terminal() || (st.Phase == spec.PhaseFrozen && st.Message == msg)):
		return nil, bad
	case newGeneration && c.Spec.Canary == c.Spec.Stable:
		return nil, bad
	}
	next := spec.Status{Generation: c.Spec.Canary, Stable: c.Spec.Stable}
	if !newGeneration {
		next = *st
		next.History = slices.Clone(st.History)
	}
	next.Phase, next.Message = spec.PhaseFrozen, msg
	next.History = append(next.History, spec.HistoryEntry{At: now, Decision: string(rollout.ActionFreeze),
		Step: next.Step, Weight: next.Weight, Trigger: trigger, Reason: msg})
	if n := len(next.History); n > spec.HistoryLimit {
		next.History = next.History[n-spec.HistoryLimit:]
	}
	d := rollout.Decision{Action: rollout.ActionFreeze, Status: next, Commit: true, From: next.Weight, Reason: msg}
	status, err := spec.MarshalStatus(&next)
	if err != nil {
		return nil, fmt.Errorf("%w (and the status could not be written: %v)", bad, err)
	}
	return &decided{decision: d, files: map[string][]byte{c.StatusPath(): status},
		message: commitMessage(c, d, nil, trigger, spec.Routing{})}, nil
}
