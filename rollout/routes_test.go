package rollout

import (
	"slices"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// withRoutes sets a status' routes to those in place before steps[i].
func withRoutes(steps []spec.Step, i int) func(*spec.Status) {
	return func(s *spec.Status) { s.Routes = spec.RoutingAt(steps, i) }
}

var oldRoute = spec.Routing{Headers: []spec.HeaderRoute{{Name: "old", Match: []spec.Match{developer}}}}

// wantRoutes asserts Decision.Routes ("-" for nil) and Status.Routes, rendered by fmtRoutes.
func wantRoutes(t *testing.T, d Decision, set, status string) {
	t.Helper()
	if got := fmtRoutes(d.Routes); got != set {
		t.Errorf("Decision.Routes %s, want %s", got, set)
	}
	if got := fmtRoutes(&d.Status.Routes); got != status {
		t.Errorf("Status.Routes %s, want %s", got, status)
	}
}

func wantReason(t *testing.T, d Decision, reason string) {
	t.Helper()
	if d.Reason != reason {
		t.Errorf("reason %q, want %q", d.Reason, reason)
	}
}

func TestRouteSteps(t *testing.T) {
	changedSteps := []spec.Step{headerStep("dev", developer), analyzeStep(5 * time.Minute), headerStep("dev", preview), analyzeStep(5 * time.Minute)}
	mirrorUpSteps := []spec.Step{mirrorStep("m", 10), analyzeStep(5 * time.Minute), mirrorStep("m", 50), analyzeStep(5 * time.Minute)}
	tests := []struct {
		name       string
		in         Input
		assertions func(t *testing.T, d Decision)
	}{
		{"a header route step commits the route and waits for its sync",
			Input{Canary: withSteps(abTestingSteps...), Status: status(spec.PhaseProgressing, 0, 0), Now: t0.Add(time.Minute)},
			func(t *testing.T, d Decision) {
				want(ActionAdvance, spec.PhaseWaitingForSync, 1, 0, nil, true)(t, d)
				wantRoutes(t, d, "h:ab", "h:ab")
				wantReason(t, d, "header route ab -> canary")
				if !d.Status.WeightSetAt.Equal(t0.Add(time.Minute)) || d.Status.AppliedAt != nil {
					t.Errorf("weightSetAt %v appliedAt %v", d.Status.WeightSetAt, d.Status.AppliedAt)
				}
				if !slices.Equal(d.Routes.Headers[0].Match, []spec.Match{developer}) {
					t.Errorf("match %+v", d.Routes.Headers[0].Match)
				}
			}},
		{"a mirror step names its percentage",
			Input{Canary: withSteps(blueGreenMirrorSteps...), Status: status(spec.PhaseProgressing, 0, 0), Now: t0},
			func(t *testing.T, d Decision) {
				want(ActionAdvance, spec.PhaseWaitingForSync, 1, 0, nil, true)(t, d)
				wantRoutes(t, d, "m:preview/20", "m:preview/20")
				wantReason(t, d, "mirror 20% -> canary")
			}},
		{"the blue-green switch stops the mirror in the same commit",
			Input{Canary: withSteps(blueGreenMirrorSteps...), Status: status(spec.PhaseProgressing, 1, 0, withRoutes(blueGreenMirrorSteps, 1)),
				Now: t0.Add(5 * time.Minute), Analysis: analysis(judge.VerdictPass, false)},
			func(t *testing.T, d Decision) {
				want(ActionAdvance, spec.PhaseWaitingForSync, 4, 100, ip(100), true)(t, d)
				wantRoutes(t, d, "none", "none")
				wantReason(t, d, "weight 0 -> 100, mirror stopped")
				var reasons []string
				for _, h := range d.Status.History {
					reasons = append(reasons, h.Reason)
				}
				if want := []string{"analysis passed for 5m0s", "weight 0 -> 100, mirror stopped"}; !slices.Equal(reasons, want) {
					t.Errorf("history %q, want %q", reasons, want)
				}
			}},
		{"a weight and a route removal coalesce into one commit",
			Input{Canary: withSteps(argoHeaderSteps...), Status: status(spec.PhaseProgressing, 3, 10, withRoutes(argoHeaderSteps, 3)),
				Now: t0.Add(5 * time.Minute), Analysis: analysis(judge.VerdictPass, false)},
			func(t *testing.T, d Decision) {
				want(ActionAdvance, spec.PhaseWaitingForSync, 6, 50, ip(50), true)(t, d)
				wantRoutes(t, d, "none", "none")
				wantReason(t, d, "weight 10 -> 50, header route developers removed")
			}},
		{"a header route set again with new matches keeps its name",
			Input{Canary: withSteps(changedSteps...), Status: status(spec.PhaseProgressing, 1, 0, withRoutes(changedSteps, 1)),
				Now: t0.Add(5 * time.Minute), Analysis: analysis(judge.VerdictPass, false)},
			func(t *testing.T, d Decision) {
				want(ActionAdvance, spec.PhaseWaitingForSync, 3, 0, nil, true)(t, d)
				wantRoutes(t, d, "h:dev", "h:dev")
				wantReason(t, d, "header route dev changed")
				if !slices.Equal(d.Routes.Headers[0].Match, []spec.Match{preview}) {
					t.Errorf("match %+v", d.Routes.Headers[0].Match)
				}
			}},
		{"a mirror set to another percentage",
			Input{Canary: withSteps(mirrorUpSteps...), Status: status(spec.PhaseProgressing, 1, 0, withRoutes(mirrorUpSteps, 1)),
				Now: t0.Add(5 * time.Minute), Analysis: analysis(judge.VerdictPass, false)},
			func(t *testing.T, d Decision) {
				wantRoutes(t, d, "m:m/50", "m:m/50")
				wantReason(t, d, "mirror 10% -> 50%")
			}},
		{"routes already in place commit the step and go on without a sync wait",
			Input{Canary: withSteps(abTestingSteps...), Status: status(spec.PhaseProgressing, 0, 0, withRoutes(abTestingSteps, 1)), Now: t0},
			func(t *testing.T, d Decision) {
				want(ActionAdvance, spec.PhaseProgressing, 1, 0, nil, true)(t, d)
				wantRoutes(t, d, "-", "h:ab")
				wantReason(t, d, "weight 0 with header ab already in place")
			}},
		{"skip-analysis of a matched look goes on to the switch",
			Input{Canary: withSteps(blueGreenMatchSteps...), Status: status(spec.PhaseProgressing, 1, 0, withRoutes(blueGreenMatchSteps, 1)),
				Now: t0, Command: &Command{Kind: CmdSkipAnalysis, Actor: "github:alice"}},
			func(t *testing.T, d Decision) {
				want(ActionAdvance, spec.PhaseWaitingForSync, 3, 100, ip(100), true)(t, d)
				wantRoutes(t, d, "-", "h:preview")
				wantReason(t, d, "weight 0 -> 100")
			}},
		{"waiting for sync names the routes",
			Input{Canary: withSteps(abTestingSteps...), Status: status(spec.PhaseWaitingForSync, 1, 0, withRoutes(abTestingSteps, 1)), Now: t0.Add(time.Minute)},
			func(t *testing.T, d Decision) {
				want(ActionWait, spec.PhaseWaitingForSync, 1, 0, nil, false)(t, d)
				wantReason(t, d, "waiting for the applier to apply weight 0 with header ab")
			}},
		{"synced routes start the analyze step",
			Input{Canary: withSteps(abTestingSteps...), Status: status(spec.PhaseWaitingForSync, 1, 0, withRoutes(abTestingSteps, 1)),
				AppliedAt: at(30 * time.Second), Now: t0.Add(40 * time.Second)},
			func(t *testing.T, d Decision) {
				want(ActionSynced, spec.PhaseProgressing, 1, 0, nil, true)(t, d)
				wantRoutes(t, d, "-", "h:ab")
				wantReason(t, d, "weight 0 with header ab applied at 2026-11-26T12:00:30Z")
			}},
		{"routes never applied freeze and stay",
			Input{Canary: withSteps(blueGreenManualSteps...), Status: status(spec.PhaseWaitingForSync, 2, 0, withRoutes(blueGreenManualSteps, 2)), Now: t0.Add(11 * time.Minute)},
			func(t *testing.T, d Decision) {
				want(ActionFreeze, spec.PhaseFrozen, 2, 0, nil, true)(t, d)
				wantRoutes(t, d, "-", "h:preview,m:preview/50")
				if want := "weight 0 with header preview, mirror preview 50% not applied within 10m0s"; d.Status.Message != want {
					t.Errorf("message %q, want %q", d.Status.Message, want)
				}
			}},
		{"onFailure freeze keeps the routes",
			Input{Canary: aleph(func(c *spec.Canary) { c.Spec.Steps, c.Spec.OnFailure = abTestingSteps, "freeze" }),
				Status: status(spec.PhaseProgressing, 1, 0, withRoutes(abTestingSteps, 1)), Now: t0.Add(2 * time.Minute), Analysis: analysis(judge.VerdictFail, true)},
			func(t *testing.T, d Decision) {
				want(ActionFreeze, spec.PhaseFrozen, 1, 0, nil, true)(t, d)
				wantRoutes(t, d, "-", "h:ab")
			}},
		{"promotion removes the routes with the promote edits",
			Input{Canary: withSteps(blueGreenMatchSteps...), Status: status(spec.PhaseWaitingForSync, 3, 100, withRoutes(blueGreenMatchSteps, 3)),
				AppliedAt: at(time.Minute), Now: t0.Add(2 * time.Minute)},
			func(t *testing.T, d Decision) {
				want(ActionPromote, spec.PhaseSucceeded, 3, 0, ip(0), true)(t, d)
				wantRoutes(t, d, "none", "none")
				if !d.Promote || d.From != 100 {
					t.Errorf("promote %v from %d", d.Promote, d.From)
				}
			}},
		{"a newer canary starts with no routes and its first route step sets them all",
			Input{Canary: aleph(func(c *spec.Canary) { c.Spec.Steps, c.Spec.Canary = abTestingSteps, "v05" }),
				Status: status(spec.PhasePaused, 3, 0, func(s *spec.Status) { s.Routes = oldRoute }), Now: t0},
			func(t *testing.T, d Decision) {
				want(ActionAdvance, spec.PhaseWaitingForSync, 1, 0, nil, true)(t, d)
				wantRoutes(t, d, "h:ab", "h:ab")
				if d.Status.Generation != "v05" {
					t.Errorf("generation %s", d.Status.Generation)
				}
			}},
		{"a newer canary with weights only leaves the manifest's routes to its promotion or rollback",
			Input{Canary: aleph(func(c *spec.Canary) { c.Spec.Canary = "v05" }),
				Status: status(spec.PhaseProgressing, 1, 0, func(s *spec.Status) { s.Routes = oldRoute }), Now: t0},
			func(t *testing.T, d Decision) {
				want(ActionAdvance, spec.PhaseWaitingForSync, 1, 1, ip(1), true)(t, d)
				wantRoutes(t, d, "-", "none")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.assertions(t, Decide(tt.in))
		})
	}
}

// TestRollbackRemovesRoutes rolls back from every phase a routed canary can
// be in: the weight goes to 0 and birdwatch's routes go in the same commit.
func TestRollbackRemovesRoutes(t *testing.T) {
	abort := &Command{Kind: CmdAbort, Actor: "slack:U1"}
	tests := []struct {
		name    string
		in      Input
		from    int
		message string
	}{
		{"waiting for the sync of a header route, abort",
			Input{Canary: withSteps(abTestingSteps...), Status: status(spec.PhaseWaitingForSync, 1, 0, withRoutes(abTestingSteps, 1)), Now: t0, Command: abort},
			0, "abort by slack:U1"},
		{"matched traffic fails a critical metric",
			Input{Canary: withSteps(abTestingSteps...), Status: status(spec.PhaseProgressing, 1, 0, withRoutes(abTestingSteps, 1)),
				Now: t0.Add(2 * time.Minute), Analysis: analysis(judge.VerdictFail, true)},
			0, "critical metric failed: Fail"},
		{"mirrored traffic fails beyond the failure limit",
			Input{Canary: withSteps(blueGreenMirrorSteps...), Status: status(spec.PhaseProgressing, 1, 0, withRoutes(blueGreenMirrorSteps, 1),
				func(s *spec.Status) { s.Failures = 1 }), Now: t0.Add(2 * time.Minute), Analysis: analysis(judge.VerdictFail, false)},
			0, "analysis failed (2 of 1 tolerated): Fail"},
		{"matched traffic inconclusive beyond the limit",
			Input{Canary: withSteps(abTestingSteps...), Status: status(spec.PhaseProgressing, 1, 0, withRoutes(abTestingSteps, 1),
				func(s *spec.Status) { s.Inconclusives = 10 }), Now: t0.Add(2 * time.Minute), Analysis: analysis(judge.VerdictInconclusive, false)},
			0, "analysis inconclusive (11 of 10 tolerated): Inconclusive"},
		{"a paused blue-green fails its background analysis",
			Input{Canary: withSteps(blueGreenManualSteps...), Status: status(spec.PhasePaused, 3, 0, withRoutes(blueGreenManualSteps, 3)),
				Now: t0.Add(2 * time.Minute), Analysis: analysis(judge.VerdictFail, true)},
			0, "critical metric failed: Fail"},
		{"abort during a paused blue-green",
			Input{Canary: withSteps(blueGreenManualSteps...), Status: status(spec.PhasePaused, 3, 0, withRoutes(blueGreenManualSteps, 3)), Now: t0, Command: abort},
			0, "abort by slack:U1"},
		{"rollback after the switch is the reverse commit 100 -> 0",
			Input{Canary: withSteps(blueGreenManualSteps...), Status: status(spec.PhaseWaitingForSync, 6, 100, withRoutes(blueGreenManualSteps, 6)),
				Now: t0, Command: &Command{Kind: CmdRollback, Actor: "github:bob"}},
			100, "rollback by github:bob"},
		{"a frozen rollout with routes is aborted",
			Input{Canary: withSteps(abTestingSteps...), Status: status(spec.PhaseFrozen, 1, 0, withRoutes(abTestingSteps, 1)), Now: t0, Command: abort},
			0, "abort by slack:U1"},
		{"a live canary with a mirror fails",
			Input{Canary: withSteps(mirrorWeightsSteps...), Status: status(spec.PhaseProgressing, 4, 20, func(s *spec.Status) { s.Routes = oldRoute }),
				Now: t0.Add(2 * time.Minute), Analysis: analysis(judge.VerdictFail, true)},
			20, "critical metric failed: Fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fmtRoutes(&tt.in.Status.Routes)
			d := Decide(tt.in)
			want(ActionRollback, spec.PhaseRolledBack, tt.in.Status.Step, 0, ip(0), true)(t, d)
			wantRoutes(t, d, "none", "none")
			if d.From != tt.from || d.Status.Message != tt.message {
				t.Errorf("from %d message %q, want %d %q", d.From, d.Status.Message, tt.from, tt.message)
			}
			if got := fmtRoutes(&tt.in.Status.Routes); got != before {
				t.Errorf("Decide changed its input's routes: %s, was %s", got, before)
			}
		})
	}
}

// TestWindowTraffic checks what a look says the canary serves.
func TestWindowTraffic(t *testing.T) {
	mirror := &spec.MirrorRoute{Name: "m", Percentage: 20}
	tests := []struct {
		name   string
		weight int
		routes spec.Routing
		want   Traffic
	}{
		{"a weight is live traffic", 10, spec.Routing{}, TrafficLive},
		{"a weight with routes is live traffic", 10, spec.Routing{Headers: oldRoute.Headers, Mirror: mirror}, TrafficLive},
		{"header routes alone are matched traffic", 0, oldRoute, TrafficMatched},
		{"header routes and a mirror are matched traffic", 0, spec.Routing{Headers: oldRoute.Headers, Mirror: mirror}, TrafficMatched},
		{"a mirror alone is mirrored traffic", 0, spec.Routing{Mirror: mirror}, TrafficMirrored},
		{"nothing is no traffic", 0, spec.Routing{}, TrafficNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := status(spec.PhaseProgressing, 0, tt.weight, func(s *spec.Status) { s.Routes = tt.routes })
			d := Decide(Input{Canary: withSteps(analyzeStep(5 * time.Minute)), Status: st, Now: t0.Add(2 * time.Minute)})
			if !d.NeedsAnalysis || d.Window.Traffic != tt.want {
				t.Errorf("needs %v traffic %q, want %q", d.NeedsAnalysis, d.Window.Traffic, tt.want)
			}
		})
	}
}

// TestPausedBackgroundAnalysis: a paused canary is analysed when it gets
// any traffic, and only then.
func TestPausedBackgroundAnalysis(t *testing.T) {
	bare := []spec.Step{analyzeStep(5 * time.Minute), pauseStep(), weightStep(100)}
	tests := []struct {
		name  string
		steps []spec.Step
		st    *spec.Status
		want  Traffic // "" = no analysis
	}{
		{"matched and mirrored traffic", blueGreenManualSteps, status(spec.PhasePaused, 3, 0, withRoutes(blueGreenManualSteps, 3)), TrafficMatched},
		{"mirrored traffic", bare, status(spec.PhasePaused, 1, 0, func(s *spec.Status) { s.Routes.Mirror = &spec.MirrorRoute{Name: "m", Percentage: 5} }), TrafficMirrored},
		{"live traffic", bare, status(spec.PhasePaused, 1, 30), TrafficLive},
		{"no traffic", bare, status(spec.PhasePaused, 1, 0), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(Input{Canary: withSteps(tt.steps...), Status: tt.st, Now: t0.Add(2 * time.Minute)})
			if d.Action != ActionWait || d.Commit || d.NeedsAnalysis != (tt.want != "") || d.Window.Traffic != tt.want {
				t.Errorf("%s commit %v needs %v traffic %q, want %q", d.Action, d.Commit, d.NeedsAnalysis, d.Window.Traffic, tt.want)
			}
		})
	}
}

// TestRoutesAreCopies: a decision's routes share no memory with its status,
// its input or the spec, so the caller may edit one without the others.
func TestRoutesAreCopies(t *testing.T) {
	c := withSteps(abTestingSteps...)
	d := Decide(Input{Canary: c, Status: status(spec.PhaseProgressing, 0, 0), Now: t0})
	if d.Routes == nil || len(d.Routes.Headers) != 1 {
		t.Fatalf("routes %s", fmtRoutes(d.Routes))
	}
	d.Routes.Headers[0].Match[0].Exact = "changed"
	if d.Status.Routes.Headers[0].Match[0].Exact != "developer" || c.Spec.Steps[0].SetHeaderRoute.Match[0].Exact != "developer" {
		t.Errorf("routes shared: status %+v spec %+v", d.Status.Routes, c.Spec.Steps[0].SetHeaderRoute)
	}
	in := status(spec.PhaseWaitingForSync, 1, 0, withRoutes(abTestingSteps, 1))
	d = Decide(Input{Canary: c, Status: in, Now: t0.Add(time.Minute)})
	d.Status.Routes.Headers[0].Name = "changed"
	if in.Routes.Headers[0].Name != "ab" {
		t.Errorf("input status shares routes with the decision: %+v", in.Routes)
	}
}
