package core

import (
	"context"
	"fmt"

	"github.com/birdwatch-gitops/birdwatch/gitops/spectree"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/birdwatch-gitops/birdwatch/rollout/step"
)

// Entry is one canary and its status as read from Git.
type Entry = report.FleetEntry

// Fleet reads every canary and its status at the branch head, without deciding anything.
func (e *Engine) Fleet(ctx context.Context) ([]Entry, error) {
	snap, err := e.Repo.Fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	fl, err := step.Load(spectree.Snapshot{Snapshot: snap}, e.checks())
	if err != nil {
		return nil, err
	}
	if err := fl.Err(); err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(fl.Canaries))
	for _, c := range fl.Canaries {
		st, err := step.ReadStatus(snapshot{snap}, c)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Key(), err)
		}
		out = append(out, Entry{Canary: c, Status: st})
	}
	return out, nil
}
