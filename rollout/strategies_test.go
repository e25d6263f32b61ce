package rollout

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Steps as spec.SetDefaults expands the strategies (the contract in
// gitops/spec/types.go), written by hand so these tests do not depend on
// the expansion.

func weightStep(w int) spec.Step { return spec.Step{SetWeight: ip(w)} }

func analyzeStep(d time.Duration) spec.Step { return spec.Step{Analyze: dur(d)} }

func pauseStep() spec.Step { return spec.Step{Pause: &spec.Pause{}} }

// headerStep sets header route name with matches; without any it removes it.
func headerStep(name string, match ...spec.Match) spec.Step {
	return spec.Step{SetHeaderRoute: &spec.HeaderRoute{Name: name, Match: match}}
}

// mirrorStep mirrors pct percent; 0 removes the mirror.
func mirrorStep(name string, pct float64) spec.Step {
	return spec.Step{SetMirrorRoute: &spec.MirrorRoute{Name: name, Percentage: pct}}
}

var (
	developer = spec.Match{Cookie: "user", Exact: "developer"}
	preview   = spec.Match{Header: "x-preview", Exact: "1"}
)

// withSteps is aleph with other steps.
func withSteps(steps ...spec.Step) *spec.Canary {
	return aleph(func(c *spec.Canary) { c.Spec.Steps = steps })
}

// The strategies' step lists, 5 analysis intervals of 1m each.
var (
	argoHeaderSteps = []spec.Step{headerStep("developers", developer), analyzeStep(5 * time.Minute),
		weightStep(10), analyzeStep(5 * time.Minute), headerStep("developers"), weightStep(50), analyzeStep(5 * time.Minute)}
	abTestingSteps       = []spec.Step{headerStep("ab", developer), analyzeStep(5 * time.Minute)}
	blueGreenMatchSteps  = []spec.Step{headerStep("preview", preview), analyzeStep(5 * time.Minute), weightStep(100)}
	blueGreenMirrorSteps = []spec.Step{mirrorStep("preview", 20), analyzeStep(5 * time.Minute), mirrorStep("preview", 0), weightStep(100)}
	blueGreenManualSteps = []spec.Step{headerStep("preview", preview), mirrorStep("preview", 50), analyzeStep(5 * time.Minute),
		pauseStep(), mirrorStep("preview", 0), weightStep(100)}
	mirrorWeightsSteps = []spec.Step{mirrorStep("mirror", 100), analyzeStep(5 * time.Minute), mirrorStep("mirror", 0),
		weightStep(20), analyzeStep(5 * time.Minute), weightStep(60), analyzeStep(5 * time.Minute)}
	mirrorSwitchSteps = []spec.Step{mirrorStep("mirror", 100), analyzeStep(5 * time.Minute), mirrorStep("mirror", 0), weightStep(100)}
	// mixedSteps puts routes around two weights in a row: routes coalesce
	// with a weight, two weights stay two stages.
	mixedSteps = []spec.Step{headerStep("a", preview), weightStep(10), weightStep(20), mirrorStep("m", 10), analyzeStep(5 * time.Minute),
		headerStep("a"), mirrorStep("m", 0), weightStep(100)}
)

// TestStrategyWalks drives each strategy's healthy rollout as the loop
// would: Decide every 30 s, the applier applying each commit 10 s after it
// is made, every analysis passing, and a promote command once a pause has
// lasted 3 minutes. Each line of the trace is one committed decision:
// action, the traffic of the window it judged, the weight and routes it
// sets, then the status it commits.
func TestStrategyWalks(t *testing.T) {
	tests := []struct {
		name  string
		steps []spec.Step
		trace []string
		looks []Traffic // window traffic of every look, repeats folded
	}{
		{"canary with an Argo-style header route", argoHeaderSteps, []string{
			"advance - w=- r=h:developers => WaitingForSync@1 0 h:developers",
			"synced - w=- r=- => Progressing@1 0 h:developers",
			"advance matched w=10 r=- => WaitingForSync@3 10 h:developers",
			"synced - w=- r=- => Progressing@3 10 h:developers",
			"advance live w=50 r=none => WaitingForSync@6 50 none",
			"synced - w=- r=- => Progressing@6 50 none",
			"promote live w=0 r=none => Succeeded@7 0 none",
		}, []Traffic{TrafficMatched, TrafficLive}},
		{"abTesting", abTestingSteps, []string{
			"advance - w=- r=h:ab => WaitingForSync@1 0 h:ab",
			"synced - w=- r=- => Progressing@1 0 h:ab",
			"promote matched w=0 r=none => Succeeded@2 0 none",
		}, []Traffic{TrafficMatched}},
		{"blueGreen with a match preview", blueGreenMatchSteps, []string{
			"advance - w=- r=h:preview => WaitingForSync@1 0 h:preview",
			"synced - w=- r=- => Progressing@1 0 h:preview",
			"advance matched w=100 r=- => WaitingForSync@3 100 h:preview",
			"promote - w=0 r=none => Succeeded@3 0 none",
		}, []Traffic{TrafficMatched}},
		{"blueGreen with a mirror preview", blueGreenMirrorSteps, []string{
			"advance - w=- r=m:preview/20 => WaitingForSync@1 0 m:preview/20",
			"synced - w=- r=- => Progressing@1 0 m:preview/20",
			"advance mirrored w=100 r=none => WaitingForSync@4 100 none",
			"promote - w=0 r=none => Succeeded@4 0 none",
		}, []Traffic{TrafficMirrored}},
		{"blueGreen with autoPromote false waits for promote", blueGreenManualSteps, []string{
			"advance - w=- r=h:preview,m:preview/50 => WaitingForSync@2 0 h:preview,m:preview/50",
			"synced - w=- r=- => Progressing@2 0 h:preview,m:preview/50",
			"pause matched w=- r=- => Paused@3 0 h:preview,m:preview/50",
			"advance - w=100 r=h:preview => WaitingForSync@6 100 h:preview",
			"promote - w=0 r=none => Succeeded@6 0 none",
		}, []Traffic{TrafficMatched}},
		{"mirror, then weights", mirrorWeightsSteps, []string{
			"advance - w=- r=m:mirror/100 => WaitingForSync@1 0 m:mirror/100",
			"synced - w=- r=- => Progressing@1 0 m:mirror/100",
			"advance mirrored w=20 r=none => WaitingForSync@4 20 none",
			"synced - w=- r=- => Progressing@4 20 none",
			"advance live w=60 r=- => WaitingForSync@6 60 none",
			"synced - w=- r=- => Progressing@6 60 none",
			"promote live w=0 r=none => Succeeded@7 0 none",
		}, []Traffic{TrafficMirrored, TrafficLive}},
		{"mirror without weights ends in the switch", mirrorSwitchSteps, []string{
			"advance - w=- r=m:mirror/100 => WaitingForSync@1 0 m:mirror/100",
			"synced - w=- r=- => Progressing@1 0 m:mirror/100",
			"advance mirrored w=100 r=none => WaitingForSync@4 100 none",
			"promote - w=0 r=none => Succeeded@4 0 none",
		}, []Traffic{TrafficMirrored}},
		{"routes coalesce with a weight, two weights stay two stages", mixedSteps, []string{
			"advance - w=10 r=h:a => WaitingForSync@2 10 h:a",
			"advance - w=20 r=h:a,m:m/10 => WaitingForSync@4 20 h:a,m:m/10",
			"synced - w=- r=- => Progressing@4 20 h:a,m:m/10",
			"advance live w=100 r=none => WaitingForSync@8 100 none",
			"promote - w=0 r=none => Succeeded@8 0 none",
		}, []Traffic{TrafficLive}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := walk(t, withSteps(tt.steps...))
			if got, want := strings.Join(w.trace, "\n"), strings.Join(tt.trace, "\n"); got != want {
				t.Errorf("trace:\n%s\nwant:\n%s", got, want)
			}
			if fmt.Sprint(w.looks) != fmt.Sprint(tt.looks) {
				t.Errorf("looks %v, want %v", w.looks, tt.looks)
			}
			hasPause := false
			for _, s := range tt.steps {
				hasPause = hasPause || s.Pause != nil
			}
			// A paused canary serving matched traffic is still analysed.
			if hasPause != (w.pausedLooks > 0) {
				t.Errorf("%d looks while paused", w.pausedLooks)
			}
		})
	}
}

// walked is what walk saw.
type walked struct {
	trace       []string  // the committed decisions (see TestStrategyWalks)
	looks       []Traffic // the window traffic of every look, repeats folded
	pausedLooks int       // how many looks were taken while paused
	took        time.Duration
}

func (w walked) String() string {
	return fmt.Sprintf("%s\nlooks %v, %d while paused, took %s", strings.Join(w.trace, "\n"), w.looks, w.pausedLooks, w.took)
}

// walk runs c's rollout to its end.
func walk(t *testing.T, c *spec.Canary) walked {
	t.Helper()
	var trace []string
	var looks []Traffic
	pausedLooks := 0
	var st *spec.Status
	now := t0
	for i := 0; i < 400 && (st == nil || !st.Phase.Terminal()); i++ {
		in := Input{Canary: c, Status: st, Now: now}
		if st != nil && st.Phase == spec.PhaseWaitingForSync && now.Sub(*st.WeightSetAt) >= 10*time.Second {
			applied := st.WeightSetAt.Add(10 * time.Second)
			in.AppliedAt = &applied
		}
		if st != nil && st.Phase == spec.PhasePaused && now.Sub(*st.StepStartedAt) >= 3*time.Minute {
			in.Command = &Command{Kind: CmdPromote, Actor: "github:alice", ID: fmt.Sprint("comment-", i)}
		}
		d := Decide(in)
		on := "-"
		if d.NeedsAnalysis {
			if n := len(looks); n == 0 || looks[n-1] != d.Window.Traffic {
				looks = append(looks, d.Window.Traffic)
			}
			if st != nil && st.Phase == spec.PhasePaused {
				pausedLooks++
			}
			on = string(d.Window.Traffic)
			in.Analysis = analysis(judge.VerdictPass, false)
			d = Decide(in)
		}
		if !d.Commit {
			if d.SetWeight != nil || d.Routes != nil {
				t.Errorf("at %s: %s sets weight %s routes %s without a commit", now.Sub(t0), d.Action, fmtp(d.SetWeight), fmtRoutes(d.Routes))
			}
		} else {
			if on != "-" && d.Action == ActionHold {
				t.Errorf("at %s: hold on a passing look without evidence", now.Sub(t0))
			}
			trace = append(trace, fmt.Sprintf("%s %s w=%s r=%s => %s@%d %d %s", d.Action, on, weightOrDash(d.SetWeight),
				fmtRoutes(d.Routes), d.Status.Phase, d.Status.Step, d.Status.Weight, fmtRoutes(&d.Status.Routes)))
			s := d.Status
			st = &s
		}
		now = now.Add(30 * time.Second)
	}
	if st == nil || st.Phase != spec.PhaseSucceeded {
		t.Fatalf("rollout did not finish: %+v", st)
	}
	return walked{trace: trace, looks: looks, pausedLooks: pausedLooks, took: now.Sub(t0)}
}

func weightOrDash(p *int) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

// fmtRoutes renders routes as "-" (nil), "none" (empty) or "h:a,m:b/20".
func fmtRoutes(r *spec.Routing) string {
	switch {
	case r == nil:
		return "-"
	case r.Empty():
		return "none"
	}
	var parts []string
	for _, h := range r.Headers {
		parts = append(parts, "h:"+h.Name)
	}
	if r.Mirror != nil {
		parts = append(parts, fmt.Sprintf("m:%s/%g", r.Mirror.Name, r.Mirror.Percentage))
	}
	return strings.Join(parts, ",")
}

// TestExpandedStrategyWalks walks the steps spec.SetDefaults expands from
// each strategy block and checks they roll out exactly as the hand-written
// steps of the contract above.
func TestExpandedStrategyWalks(t *testing.T) {
	no := false
	tests := []struct {
		name  string
		set   func(s *spec.CanarySpec)
		steps []spec.Step
	}{
		{"abTesting", func(s *spec.CanarySpec) {
			s.Strategy, s.ABTesting = spec.StrategyABTesting, &spec.ABTesting{Match: []spec.Match{developer}, Iterations: 5}
		}, abTestingSteps},
		{"blueGreen with a match preview", func(s *spec.CanarySpec) {
			s.Strategy, s.BlueGreen = spec.StrategyBlueGreen, &spec.BlueGreen{Match: []spec.Match{preview}, Iterations: 5}
		}, blueGreenMatchSteps},
		{"blueGreen with a mirror preview", func(s *spec.CanarySpec) {
			s.Strategy, s.BlueGreen = spec.StrategyBlueGreen, &spec.BlueGreen{MirrorPercentage: 20, Iterations: 5}
		}, blueGreenMirrorSteps},
		{"blueGreen with autoPromote false", func(s *spec.CanarySpec) {
			s.Strategy, s.BlueGreen = spec.StrategyBlueGreen,
				&spec.BlueGreen{Match: []spec.Match{preview}, MirrorPercentage: 50, Iterations: 5, AutoPromote: &no}
		}, blueGreenManualSteps},
		{"mirror, then weights", func(s *spec.CanarySpec) {
			s.Strategy, s.Mirror = spec.StrategyMirror, &spec.Mirroring{Percentage: 100, Iterations: 5}
			s.Steps = []spec.Step{weightStep(20), analyzeStep(5 * time.Minute), weightStep(60), analyzeStep(5 * time.Minute)}
		}, mirrorWeightsSteps},
		{"mirror without weights", func(s *spec.CanarySpec) {
			s.Strategy, s.Mirror = spec.StrategyMirror, &spec.Mirroring{Iterations: 5}
		}, mirrorSwitchSteps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := aleph()
			c.Spec.Steps = nil
			tt.set(&c.Spec)
			spec.SetDefaults(c)
			got, want := walk(t, c), walk(t, withSteps(tt.steps...))
			if got.String() != want.String() {
				t.Errorf("expanded steps walk:\n%s\nthe contract's steps walk:\n%s", got, want)
			}
		})
	}
}
