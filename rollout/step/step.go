// Package step is birdwatch's one decision step for one canary, shared by
// the loop (functions/core, push and pull-request mode), the simulator
// (analyzer/simulate) and the CLI (diff, run --dry-run). It reads the
// canary's inputs from a snapshot, asks the state machine what it needs (a
// sync observation, an analysis window), gets it through injected ports,
// calls rollout.Decide once and returns typed effects: the weight, the
// routes, the promotion, the status, the commit message and the files.
// It never writes anywhere: committing the effects is the caller's job.
package step

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// Snapshot is the files of one commit, read-only. A missing file is an
// error wrapping fs.ErrNotExist.
type Snapshot interface {
	ReadFile(path string) ([]byte, error)
}

// StatusReader is a Snapshot that keeps statuses parsed (the simulator's
// in-memory snapshot); the step then skips reading and parsing the file.
type StatusReader interface {
	Status(c *spec.Canary) (*spec.Status, error)
}

// SyncGate observes whether the applier applied a committed weight.
type SyncGate interface {
	// Observe returns when st's weight was applied, or nil and what is
	// missing ("kustomization flux-system/apps not found", may be "").
	Observe(ctx context.Context, c *spec.Canary, st *spec.Status, now time.Time) (appliedAt *time.Time, waiting string, err error)
}

// Look is one analysis window to measure.
type Look struct {
	Canary *spec.Canary
	Status *spec.Status
	// Window is what the state machine asked for; for judges that
	// accumulate evidence Start is already moved to Since.
	Window rollout.Window
	// Samples is true when the judge compares per-step samples.
	Samples bool
	// Inputs holds one judge.Input per metric of the spec, in order, with
	// Config and State filled; Measure fills Canary, Baseline, Requests,
	// Err and Config.Unit.
	Inputs []judge.Input
}

// Metrics measures a look for the canary and its baseline. Prometheus (and
// the other providers) in the loop, simulated traffic in the simulator.
// Failures are per metric (Input.Err), never a pass.
type Metrics interface {
	Measure(ctx context.Context, look Look) []judge.Input
}

// Ports are the step's I/O, injected by the caller.
type Ports struct {
	// Sync is the sync gate; nil observes nothing (a weight never counts
	// as applied).
	Sync SyncGate
	// Metrics measures looks; nil makes every metric an Error.
	Metrics Metrics
	// Judges maps spec.analysis.judge to a judge.
	Judges map[string]judge.Judge
	// Traffic returns the canary's traffic provider; nil means
	// traffic.New on spec.traffic. A provider says what it supports by the
	// interfaces it implements (traffic.Router) and traffic.Supports.
	Traffic func(c *spec.Canary) (traffic.Provider, error)
	// Hooks calls spec.analysis.webhooks; nil makes every call fail
	// (confirm hooks hold, rollout hooks fail their looks).
	Hooks HookCaller
	// Seals checks that a status about to be acted on is the one birdwatch
	// last sealed (seal.go); nil checks nothing.
	Seals Seals
}

// Request is what one decision is about.
type Request struct {
	Now time.Time
	// Command is a manual, already authorized command; nil when none.
	Command *rollout.Command
	// Trigger names what woke birdwatch: schedule, webhook, chatops, cli.
	Trigger string
	// View adjusts the status read before deciding (pull-request mode
	// moves weightSetAt to the merge of the pull request); nil keeps it.
	View func(*spec.Status) *spec.Status
	// PullRequest is the canary's pull request in pull-request mode; nil
	// in push mode (see rollout.Input.PullRequest).
	PullRequest *rollout.PullRequest
}

// Effects are what a decision changes. Files holds the full new content
// of every file the commit touches (manifest, promote edits, the spec's
// spec.stable, the status); it is empty when Commit is false.
type Effects struct {
	Commit bool
	// Weight is the canary weight written to the manifest; nil = unchanged.
	Weight *int
	// Routes are the birdwatch routes the manifest holds; nil = unchanged.
	Routes *spec.Routing
	// Promote is true when the spec's promote edits (and spec.stable) are made.
	Promote bool
	Status  spec.Status
	Message repo.Message
	Files   map[string][]byte
}

// Result is one canary's decision on one snapshot.
type Result struct {
	Canary   *spec.Canary
	Decision rollout.Decision
	// Analysis is the judged window, when one was measured.
	Analysis *judge.Result
	Effects  Effects
	// Before is the status the decision was made on; nil when none.
	Before *spec.Status
}

// ErrNoMetrics is a metric's error when no metrics port is configured: the
// look is inconclusive, never a pass.
var ErrNoMetrics = errors.New("no metrics provider configured")

// BadInputError is bad input that left the rollout as it is (it was
// already frozen on it, or finished): it is reported on every run.
type BadInputError struct {
	Canary  string
	Problem string
	// Err is the problem as found, when there is one (a *spec.Error).
	Err error
}

func (e *BadInputError) Error() string { return e.Problem }
func (e *BadInputError) Unwrap() error { return e.Err }

// Decide makes c's next decision on snap. Problems with c's own inputs
// (an unreadable manifest, an edit that cannot be made) are bad input for
// the state machine: the rollout freezes once, with the problem in its
// status; a *BadInputError is returned when nothing was committed for it.
// Other errors (I/O, a judge that is not available) decide nothing.
func (p Ports) Decide(ctx context.Context, snap Snapshot, c *spec.Canary, req Request) (*Result, error) {
	st, err := ReadStatus(snap, c)
	if err != nil {
		// A status birdwatch cannot read is never overwritten: the canary
		// is reported and left as it is until a human fixes or deletes it.
		return nil, &BadInputError{Canary: c.Key(), Problem: err.Error()}
	}
	if req.View != nil {
		st = req.View(st)
	}
	res, err := p.decideOn(ctx, snap, c, st, req, "")
	if err != nil {
		return res, err
	}
	return p.checkSeal(ctx, snap, c, st, req, res) // status integrity, issue 18
}

// DecideInvalid decides for a canary whose spec no longer validates: a
// rollout in flight is frozen once with the problems in its status, weight
// and routes held; with no rollout, the problems are the error (a
// *spec.Error inside). The state machine sees the canary as its status
// does (generation, stable): nothing else of the spec can be trusted.
func (p Ports) DecideInvalid(snap Snapshot, iv Invalid, req Request) (*Result, error) {
	c := iv.Canary
	problems := &spec.Error{Problems: iv.Problems}
	st, err := ReadStatus(snap, c)
	if err != nil {
		return nil, &BadInputError{Canary: c.Key(), Problem: err.Error(), Err: err}
	}
	if st == nil {
		return nil, &BadInputError{Canary: c.Key(), Problem: iv.Problem(), Err: problems}
	}
	cp := *c
	cp.Spec.Canary, cp.Spec.Stable = st.Generation, st.Stable
	in := rollout.Input{Canary: &cp, Status: st, Now: req.Now, Trigger: req.Trigger, BadInput: iv.Problem()}
	res, err := p.finish(context.Background(), nil, &cp, in, nil, nil, req)
	var bad *BadInputError
	if errors.As(err, &bad) {
		bad.Err = problems
	}
	return res, err
}

// decideOn runs the step on status st; bad is a problem already known.
func (p Ports) decideOn(ctx context.Context, snap Snapshot, c *spec.Canary, st *spec.Status, req Request, bad string) (*Result, error) {
	in := rollout.Input{Canary: c, Status: st, Now: req.Now, Command: req.Command, Trigger: req.Trigger, BadInput: bad,
		PullRequest: req.PullRequest}
	tr, err := p.readTraffic(snap, c, st)
	var badErr *badInput
	switch {
	case errors.As(err, &badErr):
		in.BadInput = badErr.Error()
	case err != nil:
		return nil, err
	default:
		in.ManifestWeight, in.ManifestHasRoutes, in.RoutesStuck = tr.weight, tr.hasRoutes, tr.stuck
		in.Split = splitOf(tr.prov, tr.manifest)
	}
	need := rollout.Require(in)
	if need.Sync {
		if in.AppliedAt, in.SyncWaiting, err = p.observe(ctx, c, st, req.Now); err != nil {
			return nil, err
		}
		need = rollout.Require(in)
	}
	need = p.requireHooks(ctx, c, &in, need)
	var res *judge.Result
	if need.Analysis != nil {
		if res, err = p.analyze(ctx, c, st, *need.Analysis); err != nil {
			return nil, err
		}
		in.Analysis = toRolloutAnalysis(res, st, req.Now, *need.Analysis)
	}
	return p.finish(ctx, snap, c, in, tr, res, req)
}

// finish calls the state machine and builds the effects. When they cannot
// be written (a promote path gone, routes a provider refuses), that is bad
// input: the state machine is asked again with it, to freeze.
func (p Ports) finish(ctx context.Context, snap Snapshot, c *spec.Canary, in rollout.Input, tr *trafficState, res *judge.Result, req Request) (*Result, error) {
	for {
		d := rollout.Decide(in)
		out := &Result{Canary: c, Decision: d, Analysis: res, Before: in.Status}
		out.Effects = Effects{Commit: d.Commit, Weight: d.SetWeight, Routes: d.Routes, Promote: d.Promote, Status: d.Status}
		var before spec.Routing
		if in.Status != nil {
			before = in.Status.Routes
		}
		out.Effects.Message = commitMessage(c, d, res, req.Trigger, before)
		if !d.Commit {
			if in.BadInput != "" {
				return out, &BadInputError{Canary: c.Key(), Problem: in.BadInput}
			}
			return out, nil
		}
		files, err := buildFiles(snap, c, &d, tr)
		if err == nil {
			if p.afterHooks(ctx, c, &d, req.Now) {
				if err := restatus(snap, c, d, files); err != nil {
					return nil, err
				}
			}
			out.Effects.Message.Body = withHooksNote(out.Effects.Message.Body, d)
			out.Decision, out.Effects.Status, out.Effects.Files = d, d.Status, files
			return out, nil
		}
		var bad *badInput
		if in.BadInput != "" || !errors.As(err, &bad) {
			return nil, err
		}
		in.BadInput, in.Analysis = bad.Error(), nil
		res = nil
	}
}

// badInput is a problem with the canary's own inputs that retrying cannot
// fix: a human must.
type badInput struct{ err error }

func (e *badInput) Error() string { return e.err.Error() }
func (e *badInput) Unwrap() error { return e.err }

// ReadStatus reads c's status from snap; nil when there is none yet.
func ReadStatus(snap Snapshot, c *spec.Canary) (*spec.Status, error) {
	if sr, ok := snap.(StatusReader); ok {
		return sr.Status(c)
	}
	data, err := snap.ReadFile(c.StatusPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read status: %w", err)
	}
	return spec.ParseStatus(c.StatusPath(), data)
}

func (p Ports) observe(ctx context.Context, c *spec.Canary, st *spec.Status, now time.Time) (*time.Time, string, error) {
	if p.Sync == nil {
		return nil, "no sync gate configured", nil
	}
	at, waiting, err := p.Sync.Observe(ctx, c, st, now)
	if err != nil {
		return nil, "", fmt.Errorf("sync gate: %w", err)
	}
	return at, waiting, nil
}
