package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Loop runs birdwatch's loop on one repository; *core.Engine implements it.
type Loop interface {
	Run(ctx context.Context, req core.Request) ([]core.Outcome, error)
}

// RepoProcessor runs the loop over every canary of the repository a
// RepoMessage names. It is the Processor for TypeRepo.
type RepoProcessor struct {
	// Loops maps each configured repository URL to its loop; a message
	// naming another repository is dropped (ErrUnknownRepo).
	Loops map[string]Loop
	// Log receives per-canary errors; nil discards. Decisions are logged by the loop.
	Log *slog.Logger
}

// Process runs one repository's loop. A failed run (the repository could
// not be fetched, say) is returned for a retry. Invalid specs are permanent
// until someone fixes them in Git, so they are logged and not retried, and
// so are errors of single canaries: the next tick tries them again, and
// a retry here would hold back every other canary of the FIFO group.
func (p *RepoProcessor) Process(ctx context.Context, body []byte) error {
	m, err := DecodeRepoMessage(body)
	if err != nil {
		return Permanent(err)
	}
	loop, ok := p.Loops[m.Repo]
	if !ok {
		return Permanent(fmt.Errorf("%s: %w", m.Repo, ErrUnknownRepo))
	}
	outcomes, err := loop.Run(ctx, core.Request{Trigger: "schedule"})
	var specErr *spec.Error
	if errors.As(err, &specErr) {
		return Permanent(fmt.Errorf("run %s: %w", m.Repo, err))
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", m.Repo, err)
	}
	var invalid []error
	for _, o := range outcomes {
		if o.Err != nil && p.Log != nil {
			p.Log.Error("canary failed", "repo", m.Repo, "canary", o.Canary, "tick", m.Tick, "error", o.Err)
		}
		if errors.As(o.Err, &specErr) {
			invalid = append(invalid, o.Err)
		}
	}
	if len(invalid) > 0 {
		// Every other canary was decided; the repository's outcome still
		// says its specs need a human, and a retry cannot fix them.
		return Permanent(fmt.Errorf("run %s: %w", m.Repo, errors.Join(invalid...)))
	}
	return nil
}
