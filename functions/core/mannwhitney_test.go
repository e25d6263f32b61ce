package core

import (
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
)

// startPrometheusEqualTraffic backfills Istio metrics for aleph where every
// version gets the same traffic (50 rps), as Kayenta's baseline-vs-canary
// comparison assumes: per-step rates are then equally noisy on both sides.
// v03 is the stable version; v04 answers 30% of its requests with 503s;
// v05 is healthy; v06 is twice as slow.
func startPrometheusEqualTraffic(t *testing.T) string {
	t.Helper()
	return startPrometheusWith(t, 7, []promtest.IstioVersion{
		{Version: "v03", RPS: 50, ErrorRatio: 0.002, LatencyMedianMs: 40, LatencySigma: 0.3},
		{Version: "v04", RPS: 50, ErrorRatio: 0.3, LatencyMedianMs: 40, LatencySigma: 0.3},
		{Version: "v05", RPS: 50, ErrorRatio: 0.002, LatencyMedianMs: 40, LatencySigma: 0.3},
		{Version: "v06", RPS: 50, ErrorRatio: 0.002, LatencyMedianMs: 80, LatencySigma: 0.3},
	})
}

// mannWhitneySpec is the aleph canary judged by mannwhitney on the
// statistics alone (no max guards): 10m analyze steps looked at every
// minute. Early looks have too few samples and are inconclusive, so the
// limit is generous.
const mannWhitneySpec = `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata:
  name: aleph
  namespace: games
spec:
  stable: v03
  canary: v04
  traffic:
    provider: istio
    file: apps/games/aleph/virtualservice.yaml
    stableSubset: production
    canarySubset: canary
  steps:
    - setWeight: 10
    - analyze: 10m
    - setWeight: 50
    - analyze: 10m
  analysis:
    interval: 1m
    judge: mannwhitney
    minRequests: 100
    failureLimit: 1
    inconclusiveLimit: 20
    metrics:
      - name: error-rate
        template: istio-error-rate
        critical: true
      - name: latency-p99
        template: istio-latency-p99
  promote:
    - file: apps/games/aleph/destinationrule.yaml
      path: spec.subsets[name=production].labels.version
      value: "{{ .Canary }}"
`

func TestMannWhitneyJudgeInTheLoop(t *testing.T) {
	prom := startPrometheusEqualTraffic(t)
	tests := []struct {
		name       string
		canary     string
		assertions func(t *testing.T, outcomes []Outcome, st *spec.Status)
	}{
		{"v04's errors fail the critical metric and roll it back", "v04", func(t *testing.T, outcomes []Outcome, st *spec.Status) {
			last := lastAnalysis(t, outcomes)
			if st.Phase != spec.PhaseRolledBack || !last.Critical || last.Score != 0 || last.Verdict != judge.VerdictFail {
				t.Fatalf("phase %s, analysis %+v", st.Phase, last)
			}
			m := last.Metrics[0]
			if m.Name != "error-rate" || m.Classification != judge.High || !strings.Contains(m.Reason, "shift +") ||
				!(m.Estimate > 20 && m.Estimate < 40) || m.CanarySamples.N < 10 {
				t.Errorf("error-rate %s: %s (estimate %v, %d samples)", m.Classification, m.Reason, m.Estimate, m.CanarySamples.N)
			}
		}},
		{"v05 passes every judged look and is promoted", "v05", func(t *testing.T, outcomes []Outcome, st *spec.Status) {
			if st.Phase != spec.PhaseSucceeded {
				t.Fatalf("phase %s: %s", st.Phase, st.Message)
			}
			judged := 0
			for _, o := range outcomes {
				if o.Analysis == nil {
					continue
				}
				if o.Analysis.Verdict == judge.VerdictFail {
					t.Errorf("look failed: %s", o.Analysis.Reason)
				}
				if o.Analysis.Verdict == judge.VerdictPass {
					judged++
					for _, m := range o.Analysis.Metrics {
						if m.CanarySamples.N < 10 || m.BaselineSamples.N < 10 || len(m.Tails) == 0 {
							t.Errorf("%s passed on %d and %d samples, tails %v", m.Name, m.CanarySamples.N, m.BaselineSamples.N, m.Tails)
						}
					}
				}
			}
			if judged < 2 {
				t.Errorf("%d passing looks", judged)
			}
		}},
		{"v06's slower p99 fails twice and rolls it back", "v06", func(t *testing.T, outcomes []Outcome, st *spec.Status) {
			last := lastAnalysis(t, outcomes)
			if st.Phase != spec.PhaseRolledBack || last.Critical {
				t.Fatalf("phase %s, analysis %+v", st.Phase, last)
			}
			p99 := last.Metrics[1]
			if p99.Name != "latency-p99" || p99.Classification != judge.High || !(p99.Ratio > 1.5) {
				t.Errorf("latency-p99 %s: %s (ratio %v)", p99.Classification, p99.Reason, p99.Ratio)
			}
			if last.Metrics[0].Classification != judge.Pass {
				t.Errorf("error-rate %s: %s", last.Metrics[0].Classification, last.Metrics[0].Reason)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet(t, strings.Replace(mannWhitneySpec, "canary: v04", "canary: "+tt.canary, 1))
			c := newClock(dataEnd.Add(-100 * time.Minute))
			e := newEngine(t, openRepo(t, f.URL()), prom, c)
			e.Judges["mannwhitney"] = judge.MannWhitney{}
			var outcomes []Outcome
			for range 40 {
				o := runOnce(t, e)
				outcomes = append(outcomes, o)
				if o.Analysis != nil {
					t.Logf("%s %s %s: %s", c.now.Sub(dataEnd), o.Decision.Action, o.Analysis.Verdict, o.Analysis.Reason)
				}
				if o.Decision.Status.Phase.Terminal() {
					break
				}
				c.advance(time.Minute)
			}
			tt.assertions(t, outcomes, statusAt(t, f, "main"))
		})
	}
}

// lastAnalysis is the last judged window of a run.
func lastAnalysis(t *testing.T, outcomes []Outcome) *judge.Result {
	t.Helper()
	for i := len(outcomes) - 1; i >= 0; i-- {
		if outcomes[i].Analysis != nil {
			return outcomes[i].Analysis
		}
	}
	t.Fatal("no analysis")
	return nil
}

// With the usual traffic split (v03 at 100 rps, the canary at 20) per-step
// error rates are five times noisier on the canary's side; the error rate,
// a count metric, is judged on its event counts, so healthy v05 is still
// promoted and v04's 50% errors still roll it back.
func TestMannWhitneyUnequalTrafficInTheLoop(t *testing.T) {
	prom := startPrometheus(t)
	errorsOnly := strings.Replace(mannWhitneySpec, "      - name: latency-p99\n        template: istio-latency-p99\n", "", 1)
	tests := []struct {
		canary string
		want   spec.Phase
	}{
		{"v05", spec.PhaseSucceeded},
		{"v04", spec.PhaseRolledBack},
	}
	for _, tt := range tests {
		t.Run(tt.canary, func(t *testing.T) {
			f := newFleet(t, strings.Replace(errorsOnly, "canary: v04", "canary: "+tt.canary, 1))
			c := newClock(dataEnd.Add(-100 * time.Minute))
			e := newEngine(t, openRepo(t, f.URL()), prom, c)
			e.Judges["mannwhitney"] = judge.MannWhitney{}
			var last *judge.Result
			for range 40 {
				o := runOnce(t, e)
				if o.Analysis != nil {
					last = o.Analysis
					t.Logf("%s %s %s: %s", c.now.Sub(dataEnd), o.Decision.Action, o.Analysis.Verdict, o.Analysis.Reason)
				}
				if o.Decision.Status.Phase.Terminal() {
					break
				}
				c.advance(time.Minute)
			}
			if st := statusAt(t, f, "main"); st.Phase != tt.want || last == nil || len(last.Metrics) != 1 {
				t.Fatalf("phase %s (%s), last analysis %+v", st.Phase, st.Message, last)
			}
			if tails := last.Metrics[0].Tails; len(tails) != 1 || tails[0].Kind != judge.TailEvents {
				t.Errorf("tails %+v", tails)
			}
		})
	}
}
