package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
	"github.com/birdwatch-gitops/birdwatch/rollout/step"
)

// Planned is one canary's next decision as Run would make it now, with the
// files its commit would change, computed without committing anything.
type Planned struct {
	// Canary is "namespace/name".
	Canary string
	// Decision is what the state machine decided, as Run would decide it.
	Decision rollout.Decision
	// Analysis is the judged window, when the decision measured one.
	Analysis *judge.Result
	// Message is the commit message the decision would have.
	Message string
	// Commit is the fetched commit the plan was made on.
	Commit string
	// Files are the files the commit would change, sorted by path; empty
	// when the decision commits nothing.
	Files []PlannedFile
	// Hooks are the webhooks the decision would have called, in order. A
	// plan calls none: it assumes the answers that let the rollout go on
	// (see step.AssumedHooks).
	Hooks []step.HookCall
	// Err is why no decision could be made for this canary; the other
	// fields are then zero.
	Err error
}

// PlannedFile is one file a planned commit changes.
type PlannedFile struct {
	// Path is the repository-relative path.
	Path string
	// Old is the content at the fetched commit; nil when the file is new.
	Old []byte
	// New is the content the commit would write.
	New []byte
}

// Plan is a dry run of Run: it fetches the branch and runs the same decide
// step for every selected canary (measuring and querying the sync gate as
// Run does), but commits and pushes nothing. As in Run, an invalid spec
// is the Planned.Err of its canary (or file), and every other canary is
// planned; a rollout whose own spec became invalid shows its freeze.
func (e *Engine) Plan(ctx context.Context, req Request) ([]Planned, error) {
	t, err := e.selectCanaries(ctx, req)
	if err != nil {
		return nil, err
	}
	var ps []*pending
	for _, iv := range t.invalid {
		ps = append(ps, &pending{key: iv.Canary.Key(), invalid: iv})
	}
	for _, c := range t.canaries {
		ps = append(ps, &pending{key: c.Key(), canary: c})
	}
	// A dry run calls no webhook: it records what it would call and
	// assumes the answers that let the rollout go on (issue 20).
	calls := &step.HookLog{}
	dry := *e
	dry.Hooks = step.AssumedHooks{Log: calls}
	dry.decideAll(ctx, t.snap, ps, req)
	var out []Planned
	for _, p := range ps {
		pl := Planned{Canary: p.key, Commit: t.snap.Commit()}
		err := p.err
		if err == nil {
			pl.Decision, pl.Analysis, pl.Message = p.res.Decision, p.res.Analysis, e.change(t.snap, p.res).Message.String() // with the seal it will carry
			pl.Files, err = changedFiles(t.snap, p.res.Effects.Files)
			pl.Hooks = calls.For(p.canary.Metadata.Namespace, p.canary.Metadata.Name)
		}
		if err != nil {
			pl = Planned{Canary: p.key, Commit: t.snap.Commit(), Err: fmt.Errorf("%s: %w", p.key, err)}
		}
		out = append(out, pl)
	}
	for _, iv := range t.reported {
		out = append(out, Planned{Canary: invalidName(iv), Commit: t.snap.Commit(), Err: &spec.Error{Problems: iv.Problems}})
	}
	return out, nil
}

// changedFiles pairs each new file content with its content in snap,
// leaving out files the commit would not change.
func changedFiles(snap *repo.Snapshot, files map[string][]byte) ([]PlannedFile, error) {
	var out []PlannedFile
	for _, path := range slices.Sorted(maps.Keys(files)) {
		old, err := snap.ReadFile(path)
		switch {
		case errors.Is(err, repo.ErrNotFound):
			old = nil
		case err != nil:
			return nil, fmt.Errorf("read %s: %w", path, err)
		case bytes.Equal(old, files[path]):
			continue
		}
		out = append(out, PlannedFile{Path: path, Old: old, New: files[path]})
	}
	return out, nil
}
