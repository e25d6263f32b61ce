package step

// Status integrity (issue 18): before a decision on a canary's status is
// committed, the status must be the one birdwatch last sealed
// (gitops/statusseal). Kept in this file; Decide calls checkSeal once.

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/statusseal"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// Seals checks who last wrote a canary's status; functions/core wires it
// to statusseal.Check on the repository's history when a status key is
// configured. nil checks nothing (the simulator; no key).
type Seals interface {
	// Check returns nil when c's status in snap was last changed by a
	// commit birdwatch sealed, a *statusseal.Tampered when not.
	Check(ctx context.Context, snap Snapshot, c *spec.Canary) error
}

// checkSeal runs before res, decided on st, is committed. A status of the
// rollout in progress (its generation is the spec's canary) that
// birdwatch did not seal is not acted on: the canary is decided again
// from the last status birdwatch sealed, with the tampering as bad input,
// so the state machine freezes it (weight and routes held) and the
// message names the commit. When the state machine leaves that status
// alone (a finished rollout), the sealed status is written back. A new
// rollout (another generation) uses nothing of the old status but its
// handled commands, so it is not checked: the walk back would be long.
func (p Ports) checkSeal(ctx context.Context, snap Snapshot, c *spec.Canary, st *spec.Status, req Request, res *Result) (*Result, error) {
	if p.Seals == nil || res == nil || !res.Effects.Commit || st == nil || st.Generation != c.Spec.Canary {
		return res, nil
	}
	err := p.Seals.Check(ctx, snap, c)
	var t *statusseal.Tampered
	if !errors.As(err, &t) {
		if err != nil {
			return nil, fmt.Errorf("check the status seal of %s: %w", c.Key(), err)
		}
		return res, nil
	}
	var sealed *spec.Status
	if t.Sealed != nil {
		if sealed, err = spec.ParseStatus(c.StatusPath(), t.Sealed); err != nil {
			return nil, &BadInputError{Canary: c.Key(), Problem: t.Error() + "; the last sealed status does not parse: " + err.Error(), Err: err}
		}
		if req.View != nil {
			sealed = req.View(sealed)
		}
	}
	cmd := req.Command
	req.Command = nil
	out, err := p.decideOn(ctx, snap, c, sealed, req, t.Error())
	if out != nil && cmd != nil {
		// The command is not applied to a status birdwatch did not write:
		// it is answered as refused; a resume after the freeze applies.
		out.Decision.Refused = fmt.Sprintf("%s refused: %s", cmd.Kind, t.Error())
	}
	var bad *BadInputError
	if !errors.As(err, &bad) || out == nil || t.Sealed == nil {
		return out, err
	}
	current, rerr := snap.ReadFile(c.StatusPath())
	if rerr != nil || bytes.Equal(current, t.Sealed) {
		return out, err
	}
	out.Decision.Commit, out.Decision.Reason = true, t.Error()+"; the last status birdwatch sealed is written back"
	out.Effects = Effects{Commit: true, Status: *sealed, Files: map[string][]byte{c.StatusPath(): t.Sealed},
		Message: repo.Message{
			Subject:  fmt.Sprintf("birdwatch: %s %s status restored (changed by commit %.12s)", c.Key(), sealed.Generation, t.Commit),
			Body:     out.Decision.Reason,
			Trailers: []repo.Trailer{{Key: "Birdwatch-Canary", Value: c.Key()}, {Key: "Birdwatch-Decision", Value: string(rollout.ActionFreeze)}},
		}}
	return out, nil
}
