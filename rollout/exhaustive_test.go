package rollout

import (
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// TestEveryPhaseCommandVerdict runs every phase x step x command x verdict x
// sync combination and checks the invariants that make birdwatch safe.
func TestEveryPhaseCommandVerdict(t *testing.T) {
	phases := []spec.Phase{spec.PhaseProgressing, spec.PhaseWaitingForSync, spec.PhasePaused, spec.PhaseSucceeded,
		spec.PhaseRolledBack, spec.PhaseFrozen, spec.PhaseFailed}
	commands := []*Command{nil, {Kind: CmdPromote}, {Kind: CmdResume}, {Kind: CmdPause}, {Kind: CmdAbort},
		{Kind: CmdRollback}, {Kind: CmdSkipAnalysis}}
	verdicts := []*Analysis{nil, analysis(judge.VerdictPass, false), analysis(judge.VerdictFail, false),
		analysis(judge.VerdictFail, true), analysis(judge.VerdictInconclusive, false)}
	c := aleph()
	weights := []int{0, 1, 1, 10, 10, 50, 50, 100}
	n := 0
	for _, p := range phases {
		for step := 0; step <= len(c.Spec.Steps); step++ {
			for _, cmd := range commands {
				for _, v := range verdicts {
					for _, applied := range []*time.Time{nil, at(time.Minute)} {
						n++
						in := Input{Canary: c, Status: status(p, step, weights[step]), Now: t0.Add(20 * time.Minute),
							AppliedAt: applied, Analysis: v, Command: cmd}
						d := Decide(in)
						checkInvariants(t, in, d)
					}
				}
			}
		}
	}
	t.Logf("%d combinations", n)
}

func checkInvariants(t *testing.T, in Input, d Decision) {
	t.Helper()
	old := in.Status
	name := func() string {
		cmd := "none"
		if in.Command != nil {
			cmd = string(in.Command.Kind)
		}
		v := "none"
		if in.Analysis != nil {
			v = string(in.Analysis.Verdict)
		}
		return string(old.Phase) + "/step" + string(rune('0'+old.Step)) + "/" + cmd + "/" + v
	}
	if d.Status.Weight < 0 || d.Status.Weight > 100 || d.Status.Step < 0 || d.Status.Step > len(in.Canary.Spec.Steps) {
		t.Errorf("%s: weight %d step %d out of range", name(), d.Status.Weight, d.Status.Step)
	}
	if d.SetWeight != nil && *d.SetWeight != d.Status.Weight {
		t.Errorf("%s: SetWeight %d but status weight %d", name(), *d.SetWeight, d.Status.Weight)
	}
	// A decision that needs data is recomputed with it, so it commits nothing yet.
	if d.NeedsAnalysis && d.Commit {
		t.Errorf("%s: commits before the analysis it needs", name())
	}
	if !d.NeedsAnalysis && d.Commit != (d.Action != ActionNone && d.Action != ActionWait) {
		t.Errorf("%s: commit %v with action %s", name(), d.Commit, d.Action)
	}
	// Nothing moves a finished rollout.
	if old.Phase.Terminal() && d.Commit {
		t.Errorf("%s: committed %s on a finished rollout", name(), d.Action)
	}
	// No data is not good data: an inconclusive or missing analysis never raises the weight,
	// except by a human command or a timed pause.
	raised := d.SetWeight != nil && *d.SetWeight > old.Weight
	if raised && in.Command == nil && (in.Analysis == nil || in.Analysis.Verdict != judge.VerdictPass) &&
		!(old.Phase == spec.PhaseWaitingForSync && in.AppliedAt != nil) && old.Phase != spec.PhaseProgressing {
		t.Errorf("%s: weight raised %d -> %d without a passing analysis", name(), old.Weight, *d.SetWeight)
	}
	if raised && in.Analysis != nil && in.Analysis.Verdict != judge.VerdictPass && old.Step < len(in.Canary.Spec.Steps) &&
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
			in.Analysis = analysis(judge.VerdictPass, false)
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
