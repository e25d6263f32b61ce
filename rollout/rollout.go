// Package rollout is birdwatch's state machine: a pure function from a
// Canary spec, its status, what was observed (sync, analysis, a command)
// and the time, to the next status and the edits to commit. It does no I/O.
package rollout

import (
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/verdict"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Action names a decision; it appears in commit subjects and trailers.
type Action string

// Actions. None and Wait change nothing in Git.
const (
	ActionNone     Action = "none"     // nothing to do
	ActionWait     Action = "wait"     // waiting for sync, time or data
	ActionStart    Action = "start"    // a new canary version starts a rollout
	ActionSynced   Action = "synced"   // the applier applied the committed weight
	ActionHold     Action = "hold"     // analysis recorded, weight kept
	ActionAdvance  Action = "advance"  // next step, usually a new weight or new routes
	ActionPause    Action = "pause"    // paused at a step or by command
	ActionResume   Action = "resume"   // resumed by command or after a timed pause
	ActionPromote  Action = "promote"  // all steps done; canary becomes stable, routes removed
	ActionRollback Action = "rollback" // canary weight back to 0, routes removed
	ActionFreeze   Action = "freeze"   // weight and routes held until a human acts
)

// CommandKind is a manual command from a PR comment, chat or the CLI.
type CommandKind string

// Commands.
const (
	CmdPromote      CommandKind = "promote"       // continue past a pause
	CmdResume       CommandKind = "resume"        // continue a paused or frozen rollout
	CmdPause        CommandKind = "pause"         // hold where it is
	CmdAbort        CommandKind = "abort"         // roll back
	CmdRollback     CommandKind = "rollback"      // roll back
	CmdSkipAnalysis CommandKind = "skip-analysis" // end the current analyze step now
	CmdRetry        CommandKind = "retry"         // start a rolled back or failed version again
)

// Command is an authorized manual command.
type Command struct {
	Kind  CommandKind
	Actor string // who asked, for the history
	// ID identifies the command's delivery (a PR comment id, a Slack trigger
	// id); a command whose ID the status lists as handled is refused, so a
	// redelivered command acts once. Empty means not deduplicated.
	ID string
}

// Analysis is a judged window, as the state machine needs it.
type Analysis struct {
	Verdict verdict.Verdict
	// Critical is true when a critical metric failed.
	Critical bool
	// Record is stored as the status' lastAnalysis.
	Record *spec.AnalysisRecord
	// Evidence is the sequential state to carry; nil keeps none.
	Evidence map[string]spec.Evidence
	Reason   string
}

// Input is everything Decide looks at.
type Input struct {
	Canary *spec.Canary
	// Status is the current status file; nil when there is none.
	Status *spec.Status
	Now    time.Time
	// ManifestWeight is the canary weight found in the traffic manifest.
	ManifestWeight int
	// ManifestHasRoutes is true when the traffic manifest holds birdwatch
	// routes; a new rollout removes them in its first commit (they were left
	// by a rollout the new version superseded).
	ManifestHasRoutes bool
	// AppliedAt is when the applier applied the committed weight; nil when it
	// has not (yet), or when it was not observed (see Require).
	AppliedAt *time.Time
	// SyncWaiting is what the sync gate says is missing when AppliedAt is
	// nil ("kustomization flux-system/apps not found"); it completes the
	// "waiting for ..." reason and the message of a sync timeout freeze.
	SyncWaiting string
	// BadInput says why birdwatch cannot read or edit this canary's inputs
	// (a manifest moved or edited into a shape its provider does not know, a
	// promote path gone, a spec that no longer validates), naming file, line
	// and field; "" when they are fine. An active rollout (or one about to
	// start) is then frozen once with it in its message, weight and routes
	// held; a finished one is left alone.
	BadInput string
	// RoutesStuck says why birdwatch's routes cannot be removed from the
	// traffic manifest; "" when they can. A rollback never waits on them: it
	// sets the weight to 0, leaves the routes and says so in its message.
	RoutesStuck string
	// Split says how the traffic manifest would hold a canary weight it
	// cannot hold exactly (the replicas provider's whole pods: "1 of 4
	// pods"); promote is true for the promotion's weight. Nil, or "", when
	// the manifest holds every weight exactly. A decision that sets the
	// weight records it in status.split.
	Split func(weight int, promote bool) string
	// PullRequest is the canary's pull request in pull-request mode (State
	// PRNoneYet before the first); nil in push mode. Decide then applies
	// pull-request mode's policy (Decision.PullRequest).
	PullRequest *PullRequest
	// Analysis is the judged window asked for by a previous Decision; nil when not measured.
	Analysis *Analysis
	// Command is a manual command; nil when none.
	Command *Command
	// Trigger names what woke birdwatch (schedule, webhook, chatops, cli), for the history.
	Trigger string
	// Hooks holds the results of the webhook calls a previous Decision
	// asked for (NeedsHooks), by type; see hooks.go.
	Hooks map[spec.HookType][]spec.HookResult
}

// Window is the time range an analysis covers: from Start (the current
// weight's data, after warmup) to End (now). Since is where the previous
// look ended, or Start if later: judges that accumulate evidence between
// looks measure [Since, End] so no event counts twice. Final is true when
// this look ends an analyze step; Last is true when it ends the last
// analyze step before promotion.
type Window struct {
	Start, Since, End time.Time
	Final, Last       bool
	// Traffic says what the canary serves in this window: live (a weight
	// above 0), matched (header routes only), mirrored (a mirror only) or
	// none. Judges compare it with the stable's traffic of the same window.
	Traffic Traffic
}

// Traffic is what reaches the canary during a window.
type Traffic string

// Kinds of canary traffic.
const (
	TrafficLive     Traffic = "live"     // a share of live requests (weight > 0)
	TrafficMatched  Traffic = "matched"  // only requests matched by header routes
	TrafficMirrored Traffic = "mirrored" // only mirrored copies; responses reach no user
	TrafficNone     Traffic = "none"     // nothing is routed to the canary
)

// Decision is what Decide concluded.
type Decision struct {
	Action Action
	// Status is the new status; meaningful when Commit is true.
	Status spec.Status
	// Commit is true when the status or a manifest must change in Git.
	Commit bool
	// SetWeight is the canary weight to write into the traffic manifest; nil = unchanged.
	SetWeight *int
	// Routes is the full set of birdwatch routes to hold in the traffic
	// manifest (header routes, mirror); nil = unchanged, empty = remove all.
	Routes *spec.Routing
	// Promote asks for the spec's promote edits in the same commit.
	Promote bool
	// NeedsAnalysis asks the caller to measure Window and call Decide again with Analysis.
	NeedsAnalysis bool
	Window        Window
	// NeedsHooks asks the caller to call every webhook of these types and
	// call Decide again with their results in Input.Hooks.
	NeedsHooks []spec.HookType
	// HookResults are the webhook results this decision acted on, for the
	// commit message.
	HookResults []spec.HookResult
	// PullRequest is what pull-request mode does with this decision (see
	// pullRequestPolicy); PRNone in push mode. Anything but PRPropose makes
	// the decision a wait that commits nothing.
	PullRequest PRAction
	// From is the canary weight before this decision.
	From   int
	Reason string
	// Refused says why the input's command did nothing; empty when it applied or there was none.
	Refused string
}

// Needs is what the state machine needs observed or measured before it
// can decide on an Input (see Require).
type Needs struct {
	// Sync is true when the rollout waits for the applier: the caller asks
	// the sync gate and fills Input.AppliedAt and Input.SyncWaiting.
	Sync bool
	// Analysis is the window to measure and judge into Input.Analysis; nil
	// when no look is due.
	Analysis *Window
	// Hooks are the webhook types to call, every hook of each, with the
	// results put in Input.Hooks (see hooks.go); call Require again after.
	Hooks []spec.HookType
}

// Require says what Decide needs for in: a sync observation first (when
// in does not carry one yet, call Require again after filling it), then
// webhook results (again: a confirm gate passed leads to the next gate),
// then an analysis window. It changes nothing.
func Require(in Input) Needs {
	if in.BadInput != "" {
		return Needs{}
	}
	if st := in.Status; st != nil && st.Phase == spec.PhaseWaitingForSync && st.Generation == in.Canary.Spec.Canary &&
		in.AppliedAt == nil && in.SyncWaiting == "" {
		return Needs{Sync: true}
	}
	d := decide(in)
	n := Needs{Hooks: d.NeedsHooks}
	if d.NeedsAnalysis {
		w := d.Window
		n.Analysis = &w
	}
	return n
}

// Decide computes the next step of a rollout. It never panics on any status.
func Decide(in Input) Decision {
	return decide(in)
}

func decide(in Input) Decision {
	m := newMachine(in)
	if in.BadInput != "" {
		m.badInput()
	} else {
		m.run()
	}
	d := m.decision()
	if d.Commit && d.SetWeight != nil {
		d.Status.Split = ""
		if in.Split != nil {
			d.Status.Split = in.Split(*d.SetWeight, d.Promote)
		}
	}
	if in.PullRequest != nil {
		d = pullRequestPolicy(in, d)
	}
	return d
}
