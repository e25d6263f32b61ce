package rollout

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/verdict"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// TestEveryPhaseCommandVerdict runs every spec x phase x step x routes x
// command x verdict x sync x time combination and checks the invariants
// that make birdwatch safe. The specs cover every kind of step: aleph's
// weights and pause, and the strategies' header routes, mirrors and switches.
func TestEveryPhaseCommandVerdict(t *testing.T) {
	phases := []spec.Phase{spec.PhaseProgressing, spec.PhaseWaitingForSync, spec.PhasePaused, spec.PhaseSucceeded,
		spec.PhaseRolledBack, spec.PhaseFrozen, spec.PhaseFailed}
	commands := []*Command{nil, {Kind: CmdPromote}, {Kind: CmdResume}, {Kind: CmdPause}, {Kind: CmdAbort},
		{Kind: CmdRollback}, {Kind: CmdSkipAnalysis}}
	verdicts := []*Analysis{nil, analysis(verdict.Pass, false), analysis(verdict.Fail, false),
		analysis(verdict.Fail, true), analysis(verdict.Inconclusive, false)}
	specs := []struct {
		name  string
		steps []spec.Step
	}{{"aleph", aleph().Spec.Steps}, {"argo-header", argoHeaderSteps}, {"abTesting", abTestingSteps},
		{"blueGreen-manual", blueGreenManualSteps}, {"blueGreen-mirror", blueGreenMirrorSteps}, {"mirror-weights", mirrorWeightsSteps},
		{"mixed", mixedSteps}}
	// The inputs core used to patch in after the fact: the sync gate's
	// reason, bad input, routes that cannot be removed.
	extras := []func(*Input){func(*Input) {}, func(in *Input) { in.SyncWaiting = "kustomization flux-system/apps not found" },
		func(in *Input) { in.BadInput = "apps/vs.yaml:7: spec.http: not a list" },
		func(in *Input) { in.RoutesStuck = "apps/vs.yaml: flow-style list" },
		func(in *Input) {
			in.Status.Split = "weight 5 is 1 of 4 pods (25%)"
			in.Split = func(w int, promote bool) string { return fmt.Sprintf("split %d promote %t", w, promote) }
		},
		// Pull-request mode: no pull request yet; an open one proposing
		// this very decision on this base, or another decision on this or
		// an older base; a declined one proposing this very decision.
		withPR(PRNoneYet, false, false), withPR(PROpen, true, true), withPR(PROpen, true, false),
		withPR(PROpen, false, false), withPR(PRDeclined, false, true)}
	extras = append(extras, hookExtras...) // webhooks: see hooks_exhaustive_test.go
	n := 0
	for _, sp := range specs {
		c := withSteps(sp.steps...)
		for _, p := range phases {
			for step := 0; step <= len(sp.steps); step++ {
				// Routes as the steps left them (none once finished), or a
				// route no step set, as a stale or hand-edited status holds.
				consistent := spec.RoutingAt(sp.steps, step)
				if p.Terminal() {
					consistent = spec.Routing{}
				}
				for _, routes := range []spec.Routing{consistent, oldRoute} {
					for _, cmd := range commands {
						for _, v := range verdicts {
							for _, applied := range []*time.Time{nil, at(time.Minute)} {
								for _, now := range []time.Time{t0.Add(2 * time.Minute), t0.Add(20 * time.Minute)} {
									for _, extra := range extras {
										n++
										st := status(p, step, weightAt(sp.steps, step), func(s *spec.Status) { s.Routes = cloneRouting(routes) })
										in := Input{Canary: c, Status: st, Now: now, AppliedAt: applied, Analysis: v, Command: cmd}
										extra(&in)
										d := Decide(in)
										checkInvariants(t, sp.name, in, d)
										checkRouteInvariants(t, sp.name, in, d, routingEqual(routes, consistent))
										checkOwnedInputs(t, sp.name, in, d)
										checkHookInputs(t, sp.name, in, d)
									}
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d combinations", n)
}

// weightAt is the weight the steps before steps[i] leave.
func weightAt(steps []spec.Step, i int) int {
	w := 0
	for _, s := range steps[:i] {
		if s.SetWeight != nil {
			w = *s.SetWeight
		}
	}
	return w
}

// caseName names a combination in failure messages.
func caseName(specName string, in Input) string {
	cmd, v, applied, extra := "none", "none", "unsynced", ""
	if in.Command != nil {
		cmd = string(in.Command.Kind)
	}
	if in.Analysis != nil {
		v = string(in.Analysis.Verdict)
		if in.Analysis.Critical {
			v += "-critical"
		}
	}
	if in.AppliedAt != nil {
		applied = "synced"
	}
	switch {
	case in.SyncWaiting != "":
		extra = "/sync-waiting"
	case in.BadInput != "":
		extra = "/bad-input"
	case in.RoutesStuck != "":
		extra = "/routes-stuck"
	case in.Split != nil:
		extra = "/split"
	case in.PullRequest != nil:
		pr := in.PullRequest
		extra = fmt.Sprintf("/pr-%s-samebase-%t-proposes-%s-w%d", pr.State, pr.SameBase, pr.Action, pr.Weight)
	default:
		extra = hookCaseName(in)
	}
	return fmt.Sprintf("%s/%s/step%d/w%d/%s/%s/%s/%s/%s%s", specName, in.Status.Phase, in.Status.Step, in.Status.Weight,
		fmtRoutes(&in.Status.Routes), cmd, v, applied, in.Now.Sub(t0), extra)
}

func checkInvariants(t *testing.T, specName string, in Input, d Decision) {
	t.Helper()
	old := in.Status
	name := func() string { return caseName(specName, in) }
	if d.Status.Weight < 0 || d.Status.Weight > 100 || d.Status.Step < 0 || d.Status.Step > len(in.Canary.Spec.Steps) {
		t.Errorf("%s: weight %d step %d out of range", name(), d.Status.Weight, d.Status.Step)
	}
	if d.SetWeight != nil && *d.SetWeight != d.Status.Weight {
		t.Errorf("%s: SetWeight %d but status weight %d", name(), *d.SetWeight, d.Status.Weight)
	}
	// A decision that needs data (a look, hook answers) is recomputed with
	// it, so it commits nothing yet.
	needsData := d.NeedsAnalysis || len(d.NeedsHooks) > 0
	if needsData && d.Commit {
		t.Errorf("%s: commits before the analysis or hooks it needs", name())
	}
	if !needsData && d.Commit != (d.Action != ActionNone && d.Action != ActionWait) {
		t.Errorf("%s: commit %v with action %s", name(), d.Commit, d.Action)
	}
	// Nothing moves a finished rollout.
	if old.Phase.Terminal() && d.Commit {
		t.Errorf("%s: committed %s on a finished rollout", name(), d.Action)
	}
	// No data is not good data: an inconclusive or missing analysis never raises the weight,
	// except by a human command or a timed pause.
	raised := d.SetWeight != nil && *d.SetWeight > old.Weight
	if raised && in.Command == nil && (in.Analysis == nil || in.Analysis.Verdict != verdict.Pass) &&
		!(old.Phase == spec.PhaseWaitingForSync && in.AppliedAt != nil) && old.Phase != spec.PhaseProgressing {
		t.Errorf("%s: weight raised %d -> %d without a passing analysis", name(), old.Weight, *d.SetWeight)
	}
	if raised && in.Analysis != nil && in.Analysis.Verdict != verdict.Pass && old.Step < len(in.Canary.Spec.Steps) &&
		in.Canary.Spec.Steps[old.Step].Analyze != nil && in.Command == nil {
		t.Errorf("%s: an analyze step advanced on verdict %s", name(), in.Analysis.Verdict)
	}
	// A weight is never raised before the previous one was applied.
	if raised && old.Phase == spec.PhaseWaitingForSync && in.AppliedAt == nil {
		t.Errorf("%s: raised weight while waiting for sync", name())
	}
	// A critical failure, when looked at, always ends in rollback.
	if in.Analysis != nil && in.Analysis.Critical && d.NeedsAnalysis {
		t.Errorf("%s: asked for analysis although one was given", name())
	}
}

// checkRouteInvariants checks what a decision does with birdwatch's routes
// and with the traffic its looks see. consistent is true when the input's
// weight and routes are the ones its steps left.
func checkRouteInvariants(t *testing.T, specName string, in Input, d Decision, consistent bool) {
	t.Helper()
	old, steps := in.Status, in.Canary.Spec.Steps
	name := func() string { return caseName(specName, in) }
	terminal := d.Status.Phase.Terminal()
	// Routes change only with a commit that carries them.
	if !routingEqual(d.Status.Routes, old.Routes) && (!d.Commit || d.Routes == nil) {
		t.Errorf("%s: routes %s -> %s with commit %v and Decision.Routes %s", name(), fmtRoutes(&old.Routes),
			fmtRoutes(&d.Status.Routes), d.Commit, fmtRoutes(d.Routes))
	}
	if d.Routes != nil {
		// A decision that sets routes commits them as its status says, and
		// waits for their sync unless it ends the rollout.
		if !d.Commit || !routingEqual(*d.Routes, d.Status.Routes) {
			t.Errorf("%s: sets routes %s, commit %v, status routes %s", name(), fmtRoutes(d.Routes), d.Commit, fmtRoutes(&d.Status.Routes))
		}
		if !terminal && d.Status.Phase != spec.PhaseWaitingForSync {
			t.Errorf("%s: sets routes %s and goes on %s", name(), fmtRoutes(d.Routes), d.Status.Phase)
		}
		// The routes set are the ones the steps call for, whatever the status held.
		if want := spec.RoutingAt(steps, d.Status.Step); !terminal && !routingEqual(*d.Routes, want) {
			t.Errorf("%s: sets routes %s at step %d, the steps say %s", name(), fmtRoutes(d.Routes), d.Status.Step, fmtRoutes(&want))
		}
	}
	// A new weight waits for its sync too, unless it ends the rollout.
	if d.SetWeight != nil && !terminal && d.Status.Phase != spec.PhaseWaitingForSync {
		t.Errorf("%s: sets weight %d and goes on %s", name(), *d.SetWeight, d.Status.Phase)
	}
	// Terminal phases have no routes: ending a rollout that may have routed
	// (its status lists routes or its steps set some) removes them all, even
	// ones the status did not list; one that never routes leaves the
	// manifest's routes alone.
	mayRoute := !old.Routes.Empty() || slices.ContainsFunc(steps, func(s spec.Step) bool {
		return s.SetHeaderRoute != nil || s.SetMirrorRoute != nil
	})
	if d.Commit && terminal && in.RoutesStuck == "" && (!d.Status.Routes.Empty() || (d.Routes != nil && !d.Routes.Empty()) || (mayRoute && d.Routes == nil) || (!mayRoute && d.Routes != nil)) {
		t.Errorf("%s: %s leaves routes %s, sets %s", name(), d.Status.Phase, fmtRoutes(&d.Status.Routes), fmtRoutes(d.Routes))
	}
	// Until a change is applied, only the end of the rollout changes traffic again.
	if old.Phase == spec.PhaseWaitingForSync && in.AppliedAt == nil && (d.Routes != nil || d.SetWeight != nil) && !terminal {
		t.Errorf("%s: changed traffic while waiting for sync", name())
	}
	if d.NeedsAnalysis {
		// A look says what the canary serves: live with a weight, else matched
		// with header routes, else mirrored with a mirror, else none.
		want := TrafficNone
		switch r := d.Status.Routes; {
		case d.Status.Weight > 0:
			want = TrafficLive
		case len(r.Headers) > 0:
			want = TrafficMatched
		case r.Mirror != nil:
			want = TrafficMirrored
		}
		if d.Window.Traffic != want {
			t.Errorf("%s: window traffic %q, want %q", name(), d.Window.Traffic, want)
		}
		// A paused canary is analysed only when it gets traffic.
		if d.Status.Phase == spec.PhasePaused && want == TrafficNone {
			t.Errorf("%s: analyses a paused canary that gets no traffic", name())
		}
	}
	// A weight and routes as the steps left them stay so.
	if consistent && !terminal && (d.Status.Weight != weightAt(steps, d.Status.Step) ||
		!routingEqual(d.Status.Routes, spec.RoutingAt(steps, d.Status.Step))) {
		t.Errorf("%s: step %d with weight %d routes %s, not what the steps left", name(), d.Status.Step, d.Status.Weight,
			fmtRoutes(&d.Status.Routes))
	}
}

// TestHealthyWalk drives a whole healthy rollout, as the loop would call
// Decide every 30 s with the applier applying each weight after 10 s.
func TestHealthyWalk(t *testing.T) {
	c := aleph()
	var st *spec.Status
	var weights []int
	now := t0
	for i := 0; i < 400; i++ {
		in := Input{Canary: c, Status: st, Now: now}
		if st != nil && st.Phase == spec.PhaseWaitingForSync && now.Sub(*st.WeightSetAt) >= 10*time.Second {
			applied := st.WeightSetAt.Add(10 * time.Second)
			in.AppliedAt = &applied
		}
		if st != nil && st.Phase == spec.PhasePaused {
			in.Command = &Command{Kind: CmdPromote, Actor: "github:alice"}
		}
		d := Decide(in)
		if d.NeedsAnalysis {
			in.Analysis = analysis(verdict.Pass, false)
			d = Decide(in)
		}
		if d.Commit {
			s := d.Status
			st = &s
			if d.SetWeight != nil {
				weights = append(weights, *d.SetWeight)
			}
		}
		if st != nil && st.Phase == spec.PhaseSucceeded {
			break
		}
		now = now.Add(30 * time.Second)
	}
	if st == nil || st.Phase != spec.PhaseSucceeded {
		t.Fatalf("rollout did not finish: %+v", st)
	}
	if got, want := weights, []int{1, 10, 50, 100, 0}; !equalInts(got, want) {
		t.Errorf("weights %v, want %v", got, want)
	}
	if took := now.Sub(t0); took < 15*time.Minute || took > 20*time.Minute {
		t.Errorf("took %s; the analyze steps alone take 15m", took)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkOwnedInputs checks the status changes the state machine owns besides
// its steps: what Require asks for, bad-input freezes, the sync gate's
// reason, rollbacks whose routes cannot be removed, status.split and
// pull-request mode's policy.
func checkOwnedInputs(t *testing.T, specName string, in Input, d Decision) {
	t.Helper()
	old := in.Status
	name := func() string { return caseName(specName, in) }
	// Require asks for a sync observation exactly when the rollout waits for
	// the applier and none was given, and for the window Decide would need.
	// status.split is the manifest's split of the weight a decision sets,
	// and is kept when it sets none.
	if d.Commit {
		want := old.Split
		if d.SetWeight != nil {
			want = ""
			if in.Split != nil {
				want = in.Split(*d.SetWeight, d.Promote)
			}
		}
		if d.Status.Split != want {
			t.Errorf("%s: %s sets weight %v with status.split %q, want %q", name(), d.Action, d.SetWeight, d.Status.Split, want)
		}
	}
	if in.PullRequest != nil {
		checkPullRequestPolicy(t, name(), in, d)
	}
	need := Require(in)
	wantSync := in.BadInput == "" && old.Phase == spec.PhaseWaitingForSync && in.AppliedAt == nil && in.SyncWaiting == ""
	if need.Sync != wantSync {
		t.Errorf("%s: Require.Sync %v, want %v", name(), need.Sync, wantSync)
	}
	if !need.Sync && (need.Analysis != nil) != d.NeedsAnalysis {
		t.Errorf("%s: Require.Analysis %v but Decide.NeedsAnalysis %v", name(), need.Analysis, d.NeedsAnalysis)
	}
	switch {
	case in.BadInput != "":
		// Bad input freezes an active rollout once, holding weight and
		// routes; it never moves traffic, and a finished rollout stays so.
		if d.SetWeight != nil || d.Routes != nil || d.NeedsAnalysis {
			t.Errorf("%s: bad input moved traffic or asked to measure: %+v", name(), d)
		}
		want := !old.Phase.Terminal()
		if d.Commit != want || (want && (d.Action != ActionFreeze || d.Status.Phase != spec.PhaseFrozen ||
			d.Status.Weight != old.Weight || !strings.Contains(d.Status.Message, in.BadInput))) {
			t.Errorf("%s: bad input gave %s commit %v phase %s message %q", name(), d.Action, d.Commit, d.Status.Phase, d.Status.Message)
		}
		again := in
		again.Status = &d.Status
		if want && Decide(again).Commit {
			t.Errorf("%s: froze twice on the same bad input", name())
		}
	case in.SyncWaiting != "" && old.Phase == spec.PhaseWaitingForSync && in.AppliedAt == nil && in.Command == nil:
		// The gate's reason reaches the wait and the timeout's freeze.
		if !strings.Contains(d.Reason, in.SyncWaiting) {
			t.Errorf("%s: reason %q does not say what the gate waits for", name(), d.Reason)
		}
		if d.Action == ActionFreeze && !strings.Contains(d.Status.Message, in.SyncWaiting) {
			t.Errorf("%s: sync timeout message %q does not say what never arrived", name(), d.Status.Message)
		}
	case in.RoutesStuck != "" && d.Action == ActionRollback:
		// A rollback goes through with routes it cannot remove, and says so.
		if d.Routes != nil || !routingEqual(d.Status.Routes, old.Routes) || d.SetWeight == nil || *d.SetWeight != 0 ||
			!strings.Contains(d.Status.Message, "routes left in place: "+in.RoutesStuck) {
			t.Errorf("%s: stuck routes rollback sets %s, status routes %s, weight %v, message %q", name(),
				fmtRoutes(d.Routes), fmtRoutes(&d.Status.Routes), d.SetWeight, d.Status.Message)
		}
	}
}

// withPR sets the canary's pull request: in state, proposed on this base
// or not, proposing the decision push mode makes (same) or another one.
func withPR(state PRState, sameBase, same bool) func(*Input) {
	return func(in *Input) {
		pr := &PullRequest{State: state, Number: 7, Title: "birdwatch: games/aleph", SameBase: sameBase,
			Generation: "v0", Action: ActionAdvance, Step: 99, Weight: 3}
		if same {
			d := Decide(*in)
			pr.Generation, pr.Action, pr.Step, pr.Weight = d.Status.Generation, d.Action, d.Status.Step, d.Status.Weight
		}
		in.PullRequest = pr
	}
}

// checkPullRequestPolicy checks pull-request mode against push mode's
// decision on the same input: it proposes that decision unchanged or waits;
// it never proposes what push mode would not commit, never proposes a
// declined decision again without a command, lets commands, rollbacks and
// freezes replace an open pull request, and otherwise waits for the open
// one (closing it when the branch moved and nothing is left to propose).
func checkPullRequestPolicy(t *testing.T, name string, in Input, d Decision) {
	t.Helper()
	push := in
	push.PullRequest = nil
	d0 := Decide(push)
	pr := in.PullRequest
	same := d0.Commit && pr.proposes(d0)
	open := pr.State == PROpen
	urgent := d0.Action == ActionRollback || d0.Action == ActionFreeze || in.Command != nil
	if d.Commit != (d.PullRequest == PRPropose) || (d.Commit && !d0.Commit) {
		t.Errorf("%s: commit %v with %q (push mode commits %v)", name, d.Commit, d.PullRequest, d0.Commit)
	}
	if d.PullRequest == PRPropose {
		if d.Action != d0.Action || d.Status.Phase != d0.Status.Phase || d.Status.Step != d0.Status.Step ||
			d.Status.Weight != d0.Status.Weight || (d.SetWeight == nil) != (d0.SetWeight == nil) || d.Promote != d0.Promote {
			t.Errorf("%s: proposes %s %s step %d weight %d, push mode decides %s %s step %d weight %d", name, d.Action,
				d.Status.Phase, d.Status.Step, d.Status.Weight, d0.Action, d0.Status.Phase, d0.Status.Step, d0.Status.Weight)
		}
	} else if d.PullRequest != PRNone {
		if d.Action != ActionWait || d.SetWeight != nil || d.Routes != nil || d.Promote || !strings.Contains(d.Reason, "#7") {
			t.Errorf("%s: %q is %s weight %v routes %v promote %v reason %q", name, d.PullRequest, d.Action, d.SetWeight,
				d.Routes, d.Promote, d.Reason)
		}
	}
	var want PRAction
	switch {
	case open && !d0.Commit && !pr.SameBase:
		want = PRClose // the branch moved and nothing is left to propose
	case open && (!d0.Commit || pr.SameBase && (same || !urgent)):
		want = PRWait // the open pull request stands
	case pr.State == PRDeclined && same && in.Command == nil:
		want = PRHold // declined: not proposed again
	case d0.Commit:
		want = PRPropose // new, urgent, from a command, or on a moved branch
	}
	if d.PullRequest != want {
		t.Errorf("%s: pull request %q, want %q (push mode: %s commit %v)", name, d.PullRequest, want, d0.Action, d0.Commit)
	}
}
