package rollout

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) *time.Time { t := t0.Add(d); return &t }

func ip(i int) *int { return &i }

func dur(d time.Duration) *spec.Duration { x := spec.Duration(d); return &x }

// aleph is DESIGN.md's example: 1, analyze 5m, 10, analyze 10m, 50, pause, 100.
func aleph(mutate ...func(*spec.Canary)) *spec.Canary {
	c := &spec.Canary{
		APIVersion: spec.APIVersion, Kind: spec.Kind,
		Metadata: spec.Metadata{Name: "aleph", Namespace: "games"},
		Spec: spec.CanarySpec{
			Stable: "v03", Canary: "v04",
			Steps: []spec.Step{
				{SetWeight: ip(1)}, {Analyze: dur(5 * time.Minute)}, {SetWeight: ip(10)},
				{Analyze: dur(10 * time.Minute)}, {SetWeight: ip(50)}, {Pause: &spec.Pause{}}, {SetWeight: ip(100)},
			},
			Analysis: spec.Analysis{Metrics: []spec.Metric{{Name: "error-rate", Template: "istio-error-rate"}}},
		},
	}
	spec.SetDefaults(c)
	for _, f := range mutate {
		f(c)
	}
	return c
}

// status builds a status of generation v04.
func status(phase spec.Phase, step, weight int, mutate ...func(*spec.Status)) *spec.Status {
	s := &spec.Status{Generation: "v04", Stable: "v03", Phase: phase, Step: step, Weight: weight,
		WeightSetAt: at(0), AppliedAt: at(0), StepStartedAt: at(0)}
	for _, f := range mutate {
		f(s)
	}
	return s
}

func analysis(v judge.Verdict, critical bool) *Analysis {
	return &Analysis{Verdict: v, Critical: critical, Reason: string(v),
		Record: &spec.AnalysisRecord{Verdict: string(v), Judge: "threshold"}}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name       string
		in         Input
		assertions func(t *testing.T, d Decision)
	}{
		{"new canary starts and sets the first weight", Input{Canary: aleph(), Now: t0},
			want(ActionAdvance, spec.PhaseWaitingForSync, 1, 1, ip(1), true)},
		{"canary equal to stable needs nothing", Input{Canary: aleph(func(c *spec.Canary) { c.Spec.Canary = "v03" }), Now: t0},
			want(ActionNone, "", 0, 0, nil, false)},
		{"a newer canary restarts from the manifest's weight",
			Input{Canary: aleph(func(c *spec.Canary) { c.Spec.Canary = "v05" }), Status: status(spec.PhaseProgressing, 5, 50), ManifestWeight: 50, Now: t0},
			func(t *testing.T, d Decision) {
				want(ActionAdvance, spec.PhaseWaitingForSync, 1, 1, ip(1), true)(t, d)
				if d.Status.Generation != "v05" || d.From != 50 || d.Status.Failures != 0 {
					t.Errorf("generation %s from %d", d.Status.Generation, d.From)
				}
			}},
		{"waiting for sync within the timeout does nothing",
			Input{Canary: aleph(), Status: status(spec.PhaseWaitingForSync, 1, 1), Now: t0.Add(time.Minute)},
			want(ActionWait, spec.PhaseWaitingForSync, 1, 1, nil, false)},
		{"sync never arriving freezes",
			Input{Canary: aleph(), Status: status(spec.PhaseWaitingForSync, 1, 1), Now: t0.Add(11 * time.Minute)},
			func(t *testing.T, d Decision) {
				want(ActionFreeze, spec.PhaseFrozen, 1, 1, nil, true)(t, d)
				if !strings.Contains(d.Status.Message, "not applied within 10m0s") {
					t.Errorf("message %q", d.Status.Message)
				}
			}},
		{"sync observed is committed and the analyze step starts then",
			Input{Canary: aleph(), Status: status(spec.PhaseWaitingForSync, 1, 1), AppliedAt: at(30 * time.Second), Now: t0.Add(40 * time.Second)},
			func(t *testing.T, d Decision) {
				want(ActionSynced, spec.PhaseProgressing, 1, 1, nil, true)(t, d)
				if !d.Status.StepStartedAt.Equal(*at(30 * time.Second)) || d.NeedsAnalysis {
					t.Errorf("step started %v needs %v", d.Status.StepStartedAt, d.NeedsAnalysis)
				}
			}},
		{"analysis is asked for once an interval of data exists",
			Input{Canary: aleph(), Status: status(spec.PhaseProgressing, 1, 1), Now: t0.Add(2 * time.Minute)},
			func(t *testing.T, d Decision) {
				want(ActionWait, spec.PhaseProgressing, 1, 1, nil, false)(t, d)
				if !d.NeedsAnalysis || !d.Window.Start.Equal(t0) || !d.Window.End.Equal(t0.Add(2*time.Minute)) {
					t.Errorf("needs %v window %+v", d.NeedsAnalysis, d.Window)
				}
			}},
		{"warmup delays the window",
			Input{Canary: aleph(func(c *spec.Canary) { c.Spec.Analysis.Warmup = spec.Duration(90 * time.Second) }),
				Status: status(spec.PhaseProgressing, 1, 1), Now: t0.Add(2 * time.Minute)},
			func(t *testing.T, d Decision) {
				if d.NeedsAnalysis {
					t.Errorf("analysis asked during warmup: %+v", d.Window)
				}
			}},
		{"a pass before the step ends commits nothing",
			Input{Canary: aleph(), Status: status(spec.PhaseProgressing, 1, 1), Now: t0.Add(2 * time.Minute), Analysis: analysis(judge.VerdictPass, false)},
			want(ActionWait, spec.PhaseProgressing, 1, 1, nil, false)},
		{"a pass with new sequential evidence is recorded",
			Input{Canary: aleph(), Status: status(spec.PhaseProgressing, 1, 1), Now: t0.Add(2 * time.Minute),
				Analysis: func() *Analysis {
					a := analysis(judge.VerdictPass, false)
					a.Evidence = map[string]spec.Evidence{"error-rate": {Kind: "counts", Values: []float64{1}}}
					return a
				}()},
			func(t *testing.T, d Decision) {
				want(ActionHold, spec.PhaseProgressing, 1, 1, nil, true)(t, d)
				if d.Status.LastCheckAt == nil || d.Status.Evidence["error-rate"].Values[0] != 1 {
					t.Errorf("evidence not carried: %+v", d.Status)
				}
			}},
		{"a pass at the end of the step advances to the next weight",
			Input{Canary: aleph(), Status: status(spec.PhaseProgressing, 1, 1), Now: t0.Add(5 * time.Minute), Analysis: analysis(judge.VerdictPass, false)},
			func(t *testing.T, d Decision) {
				want(ActionAdvance, spec.PhaseWaitingForSync, 3, 10, ip(10), true)(t, d)
				if d.From != 1 || d.Status.LastAnalysis == nil {
					t.Errorf("from %d last analysis %v", d.From, d.Status.LastAnalysis)
				}
			}},
		{"no second look within the interval",
			Input{Canary: aleph(), Status: status(spec.PhaseProgressing, 1, 1, func(s *spec.Status) { s.LastCheckAt = at(3 * time.Minute) }),
				Now: t0.Add(3*time.Minute + 30*time.Second)},
			func(t *testing.T, d Decision) {
				if d.NeedsAnalysis || d.Commit {
					t.Errorf("looked again within the interval: %+v", d)
				}
			}},
		{"a first failure within the limit is recorded",
			Input{Canary: aleph(), Status: status(spec.PhaseProgressing, 1, 1), Now: t0.Add(2 * time.Minute), Analysis: analysis(judge.VerdictFail, false)},
			func(t *testing.T, d Decision) {
				want(ActionHold, spec.PhaseProgressing, 1, 1, nil, true)(t, d)
				if d.Status.Failures != 1 || !d.Status.LastCheckAt.Equal(t0.Add(2*time.Minute)) {
					t.Errorf("failures %d", d.Status.Failures)
				}
			}},
		{"failures over the limit roll back",
			Input{Canary: aleph(), Status: status(spec.PhaseProgressing, 1, 1, func(s *spec.Status) { s.Failures = 1 }), Now: t0.Add(2 * time.Minute), Analysis: analysis(judge.VerdictFail, false)},
			want(ActionRollback, spec.PhaseRolledBack, 1, 0, ip(0), true)},
		{"a critical failure rolls back at once",
			Input{Canary: aleph(), Status: status(spec.PhaseProgressing, 1, 1), Now: t0.Add(2 * time.Minute), Analysis: analysis(judge.VerdictFail, true)},
			want(ActionRollback, spec.PhaseRolledBack, 1, 0, ip(0), true)},
		{"onFailure freeze keeps the weight",
			Input{Canary: aleph(func(c *spec.Canary) { c.Spec.OnFailure = "freeze" }), Status: status(spec.PhaseProgressing, 1, 1), Now: t0.Add(2 * time.Minute), Analysis: analysis(judge.VerdictFail, true)},
			want(ActionFreeze, spec.PhaseFrozen, 1, 1, nil, true)},
		{"inconclusive within the limit holds and never advances",
			Input{Canary: aleph(), Status: status(spec.PhaseProgressing, 1, 1), Now: t0.Add(6 * time.Minute), Analysis: analysis(judge.VerdictInconclusive, false)},
			func(t *testing.T, d Decision) {
				want(ActionHold, spec.PhaseProgressing, 1, 1, nil, true)(t, d)
				if d.Status.Inconclusives != 1 {
					t.Errorf("inconclusives %d", d.Status.Inconclusives)
				}
			}},
		{"inconclusive over the limit applies onFailure",
			Input{Canary: aleph(), Status: status(spec.PhaseProgressing, 1, 1, func(s *spec.Status) { s.Inconclusives = 10 }), Now: t0.Add(6 * time.Minute), Analysis: analysis(judge.VerdictInconclusive, false)},
			want(ActionRollback, spec.PhaseRolledBack, 1, 0, ip(0), true)},
		{"a pause step pauses",
			Input{Canary: aleph(), Status: status(spec.PhaseProgressing, 5, 50), Now: t0},
			want(ActionPause, spec.PhasePaused, 5, 50, nil, true)},
		{"promote continues past the pause to the next weight",
			Input{Canary: aleph(), Status: status(spec.PhasePaused, 5, 50), Now: t0, Command: &Command{Kind: CmdPromote, Actor: "github:alice"}},
			want(ActionAdvance, spec.PhaseWaitingForSync, 7, 100, ip(100), true)},
		{"a paused canary that fails is still rolled back",
			Input{Canary: aleph(), Status: status(spec.PhasePaused, 5, 50), Now: t0.Add(2 * time.Minute), Analysis: analysis(judge.VerdictFail, true)},
			want(ActionRollback, spec.PhaseRolledBack, 5, 0, ip(0), true)},
		{"a timed pause resumes by itself",
			Input{Canary: aleph(func(c *spec.Canary) { c.Spec.Steps[5].Pause.Duration = dur(time.Minute) }), Status: status(spec.PhasePaused, 5, 50), Now: t0.Add(time.Minute)},
			want(ActionAdvance, spec.PhaseWaitingForSync, 7, 100, ip(100), true)},
		{"after the last step the canary is promoted",
			Input{Canary: aleph(), Status: status(spec.PhaseWaitingForSync, 7, 100), AppliedAt: at(time.Minute), Now: t0.Add(2 * time.Minute)},
			func(t *testing.T, d Decision) {
				want(ActionPromote, spec.PhaseSucceeded, 7, 0, ip(0), true)(t, d)
				if !d.Promote || d.Status.Stable != "v04" {
					t.Errorf("promote %v stable %s", d.Promote, d.Status.Stable)
				}
			}},
		{"a finished rollout stays finished",
			Input{Canary: aleph(), Status: status(spec.PhaseSucceeded, 7, 0), Now: t0, Analysis: analysis(judge.VerdictFail, true)},
			want(ActionNone, spec.PhaseSucceeded, 7, 0, nil, false)},
		{"abort rolls back",
			Input{Canary: aleph(), Status: status(spec.PhaseProgressing, 3, 10), Now: t0, Command: &Command{Kind: CmdAbort, Actor: "slack:U1"}},
			func(t *testing.T, d Decision) {
				want(ActionRollback, spec.PhaseRolledBack, 3, 0, ip(0), true)(t, d)
				if d.Status.Message != "abort by slack:U1" {
					t.Errorf("message %q", d.Status.Message)
				}
			}},
		{"resume unfreezes and forgets failures",
			Input{Canary: aleph(), Status: status(spec.PhaseFrozen, 1, 1, func(s *spec.Status) { s.Failures = 2 }), Now: t0, Command: &Command{Kind: CmdResume}},
			func(t *testing.T, d Decision) {
				if d.Status.Phase != spec.PhaseProgressing || d.Status.Failures != 0 || !d.Commit {
					t.Errorf("%+v", d)
				}
			}},
		{"skip-analysis ends an analyze step",
			Input{Canary: aleph(), Status: status(spec.PhaseProgressing, 1, 1), Now: t0, Command: &Command{Kind: CmdSkipAnalysis}},
			want(ActionAdvance, spec.PhaseWaitingForSync, 3, 10, ip(10), true)},
		{"a redelivered command acts once",
			Input{Canary: aleph(), Status: status(spec.PhasePaused, 5, 50, func(s *spec.Status) { s.HandledCommands = []string{"comment-7"} }),
				Now: t0, Command: &Command{Kind: CmdPromote, Actor: "github:alice", ID: "comment-7"}},
			func(t *testing.T, d Decision) {
				if d.Commit || !strings.Contains(d.Refused, "already handled") {
					t.Errorf("redelivery acted: %+v", d)
				}
			}},
		{"a command handled in an earlier rollout does not act on the next one",
			Input{Canary: aleph(func(c *spec.Canary) { c.Spec.Canary = "v05" }),
				Status: status(spec.PhaseRolledBack, 5, 0, func(s *spec.Status) { s.HandledCommands = []string{"slack-1.2.a", "github-comment-7001"} }),
				Now:    t0, Command: &Command{Kind: CmdAbort, Actor: "slack:U024BE7LH", ID: "slack-1.2.a"}},
			func(t *testing.T, d Decision) {
				if d.Status.Generation != "v05" || d.Status.Phase == spec.PhaseRolledBack || !strings.Contains(d.Refused, "already handled") ||
					!slices.Equal(d.Status.HandledCommands, []string{"slack-1.2.a", "github-comment-7001"}) {
					t.Errorf("replayed onto v05: %+v", d)
				}
			}},
		{"a handled command is remembered",
			Input{Canary: aleph(), Status: status(spec.PhasePaused, 5, 50), Now: t0, Command: &Command{Kind: CmdPromote, ID: "comment-8"}},
			func(t *testing.T, d Decision) {
				if !d.Commit || !slices.Contains(d.Status.HandledCommands, "comment-8") {
					t.Errorf("not recorded: %+v", d.Status.HandledCommands)
				}
			}},
		{"promote while progressing is refused",
			Input{Canary: aleph(), Status: status(spec.PhaseProgressing, 1, 1), Now: t0, Command: &Command{Kind: CmdPromote}},
			func(t *testing.T, d Decision) {
				if d.Refused == "" || d.Commit {
					t.Errorf("promote during analysis not refused: %+v", d)
				}
			}},
		{"an unknown phase changes nothing",
			Input{Canary: aleph(), Status: status("Exploded", 1, 1), Now: t0},
			want(ActionNone, "Exploded", 1, 1, nil, false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.assertions(t, Decide(tt.in))
		})
	}
}

// want asserts the main fields of a decision.
func want(a Action, p spec.Phase, step, weight int, set *int, commit bool) func(*testing.T, Decision) {
	return func(t *testing.T, d Decision) {
		t.Helper()
		if d.Action != a || d.Commit != commit {
			t.Errorf("action %s commit %v, want %s %v (reason %q)", d.Action, d.Commit, a, commit, d.Reason)
		}
		if p != "" && (d.Status.Phase != p || d.Status.Step != step || d.Status.Weight != weight) {
			t.Errorf("phase %s step %d weight %d, want %s %d %d", d.Status.Phase, d.Status.Step, d.Status.Weight, p, step, weight)
		}
		if (set == nil) != (d.SetWeight == nil) || (set != nil && *set != *d.SetWeight) {
			t.Errorf("SetWeight %v, want %v", fmtp(d.SetWeight), fmtp(set))
		}
	}
}

func fmtp(p *int) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}
