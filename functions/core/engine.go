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
	"github.com/birdwatch-gitops/birdwatch/gitops/spectree"
	"github.com/birdwatch-gitops/birdwatch/gitops/sync"
	"github.com/birdwatch-gitops/birdwatch/rollout"
	"github.com/birdwatch-gitops/birdwatch/rollout/step"
)

// Repository is the Git side of the loop; *repo.Repo and *repo.GitHubRepo
// implement it. A tick is one Fetch. A Repository that can also commit
// locally and push (a Chainer, *repo.Repo) gets the tick's decisions as
// commits chained on the fetched snapshot and one compare-and-swap Push;
// any other lands each decision with its own Update.
type Repository interface {
	Fetch(ctx context.Context) (*repo.Snapshot, error)
	Update(ctx context.Context, decide func(*repo.Snapshot) (*repo.Change, error)) (repo.UpdateResult, error)
}

// Chainer is a Repository that commits without pushing and pushes a chain
// of commits with compare-and-swap.
type Chainer interface {
	Commit(ctx context.Context, parent *repo.Snapshot, c repo.Change) (*repo.Snapshot, error)
	Push(ctx context.Context, commit, parent *repo.Snapshot) error
}

// Engine runs the loop. Its fields are set once by the caller; it is safe
// for concurrent use when they are.
type Engine struct {
	Repo    Repository
	Metrics metrics.Provider
	// Providers builds the providers MetricTemplates name (datadog, web,
	// ...); nil means only the Metrics provider (Prometheus) exists.
	Providers *metrics.Registry
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
	// Hooks calls the canaries' webhooks (spec.analysis.webhooks); nil
	// makes every call fail (confirm hooks hold, rollout hooks fail looks).
	Hooks HookCaller
	// Notifiers are told of every committed decision (Slack, ...); their
	// errors are logged, never fatal: Git already holds the decision.
	Notifiers []Notifier
	// Concurrency bounds the canaries decided at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// MaxAttempts bounds the compare-and-swap rounds of a tick; 0 means
	// repo.DefaultMaxAttempts.
	MaxAttempts int
	// StatusKey (BIRDWATCH_STATUS_KEY) seals every status birdwatch
	// commits, and a status of a rollout in progress is acted on only when
	// the last commit that changed it is sealed (gitops/statusseal); a
	// forged or reverted status freezes the canary. nil writes no seals
	// and checks none: any commit to a status file is then trusted.
	StatusKey []byte
}

// DefaultConcurrency is how many canaries a tick decides at once: their
// time goes to Prometheus and the sync gates, not the CPU.
const DefaultConcurrency = 8

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
var ErrNoMetricsProvider = step.ErrNoMetrics

// Run executes the loop once: one fetch and one parse of the repository,
// every selected canary decided on that snapshot (concurrently, bounded),
// and the decisions committed one commit each, chained, in one
// compare-and-swap push. An invalid spec is an Outcome with Err (file,
// line and field) and is skipped: every other canary is decided.
func (e *Engine) Run(ctx context.Context, req Request) ([]Outcome, error) {
	t, err := e.selectCanaries(ctx, req)
	if err != nil {
		return nil, err
	}
	var push []*pending
	var out []Outcome
	for _, iv := range t.invalid {
		push = append(push, &pending{key: iv.Canary.Key(), invalid: iv})
	}
	for _, c := range t.canaries {
		if c.Spec.Git.Mode != modePullRequest {
			push = append(push, &pending{key: c.Key(), canary: c})
		}
	}
	e.decideAll(ctx, t.snap, push, req)
	e.commitAll(ctx, t.snap, push, req)
	for _, p := range push {
		out = append(out, p.outcome())
	}
	for _, c := range t.canaries {
		if c.Spec.Git.Mode == modePullRequest {
			out = append(out, e.runPullRequest(ctx, t.snap, c, req))
		}
	}
	for _, iv := range t.reported {
		out = append(out, Outcome{Canary: invalidName(iv), Err: &spec.Error{Problems: iv.Problems}})
	}
	for i := range out {
		e.logOutcome(out[i])
		e.notify(ctx, t.find(out[i].Canary), out[i])
	}
	for _, n := range e.Notifiers {
		if f, ok := n.(Flusher); ok {
			f.Flush(ctx)
		}
	}
	return out, nil
}

// tick is one fetched snapshot and the canaries a request selects on it.
type tick struct {
	snap     *repo.Snapshot
	fleet    *step.Fleet
	canaries []*spec.Canary
	// invalid are rollouts whose own spec became invalid: each is decided
	// (frozen once) on what its status says.
	invalid []step.Invalid
	// reported are the other problems: invalid documents, duplicates.
	reported []step.Invalid
}

func (t *tick) find(key string) *spec.Canary {
	c, _ := t.fleet.Find(key)
	return c
}

// selectCanaries fetches the branch, parses every spec once and returns
// what req selects: all canaries, or the one req.Canary names
// (ErrUnknownCanary when none does).
func (e *Engine) selectCanaries(ctx context.Context, req Request) (*tick, error) {
	if req.Command != nil && req.Canary == "" {
		return nil, fmt.Errorf("a command needs a canary")
	}
	snap, err := e.Repo.Fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	fl, err := step.Load(spectree.Snapshot{Snapshot: snap}, e.checks())
	if err != nil {
		return nil, err
	}
	t := &tick{snap: snap, fleet: fl}
	dup := map[string]int{}
	for _, iv := range fl.Invalid {
		dup[iv.Canary.Key()]++
	}
	selected := func(key string) bool { return req.Canary == "" || req.Canary == key }
	for _, c := range fl.Canaries {
		if selected(c.Key()) {
			t.canaries = append(t.canaries, c)
		}
	}
	for _, iv := range fl.Invalid {
		switch {
		case !selected(iv.Canary.Key()):
		case !iv.Duplicate && iv.Canary.Metadata.Name != "" && dup[iv.Canary.Key()] == 1:
			t.invalid = append(t.invalid, iv)
		default:
			t.reported = append(t.reported, iv)
		}
	}
	if req.Canary != "" && len(t.canaries)+len(t.invalid)+len(t.reported) == 0 {
		return nil, fmt.Errorf("%s: %w", req.Canary, ErrUnknownCanary)
	}
	return t, nil
}

// invalidName names an Invalid in an Outcome: its key, or its file.
func invalidName(iv step.Invalid) string {
	if iv.Canary.Metadata.Name == "" {
		return fmt.Sprintf("%s:%d", iv.Canary.File, iv.Canary.Line)
	}
	return iv.Canary.Key()
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
	if o.Commit == "" || o.Err != nil || c == nil {
		return
	}
	for _, n := range e.Notifiers {
		if err := n.Notify(ctx, c, o); err != nil && e.Log != nil {
			e.Log.Warn("notify failed", "canary", o.Canary, "commit", o.Commit, "error", err)
		}
	}
}
