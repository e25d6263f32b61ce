package core

import (
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// quantileSpec is the aleph canary judged by the sequential judge on its
// latency histogram alone (istio-latency-buckets at the stable's p99, 10%
// tolerance): the evidence goes through the status file between looks.
var quantileSpec = strings.Replace(strings.Replace(mannWhitneySpec, "judge: mannwhitney", "judge: sequential", 1),
	`      - name: error-rate
        template: istio-error-rate
        critical: true
      - name: latency-p99
        template: istio-latency-p99
`, `      - name: latency
        template: istio-latency-buckets
        quantile: 0.99
        tolerance: 0.1
        critical: true
`, 1)

// TestQuantileJudgeInTheLoop runs the loop on a real Prometheus and a real
// Git repository: v06 (twice as slow as the stable) is rolled back by the
// histogram quantile test, whose reason names the stable's p99 bucket, and
// healthy v05 is promoted.
func TestQuantileJudgeInTheLoop(t *testing.T) {
	if !strings.Contains(quantileSpec, "istio-latency-buckets") || !strings.Contains(quantileSpec, "judge: sequential") {
		t.Fatal("spec not rewritten")
	}
	prom := startPrometheusEqualTraffic(t)
	for _, tt := range []struct {
		canary string
		want   spec.Phase
	}{{"v06", spec.PhaseRolledBack}, {"v05", spec.PhaseSucceeded}} {
		t.Run(tt.canary, func(t *testing.T) {
			f := newFleet(t, strings.Replace(quantileSpec, "canary: v04", "canary: "+tt.canary, 1))
			c := newClock(dataEnd.Add(-100 * time.Minute))
			e := newEngine(t, openRepo(t, f.URL()), prom, c)
			e.Judges["sequential"] = judge.Sequential{}
			var last *judge.Result
			for range 40 {
				o := runOnce(t, e)
				if o.Analysis != nil {
					last = o.Analysis
					t.Logf("%s %s %s: %s", c.now.Sub(dataEnd), o.Decision.Action, o.Analysis.Verdict, o.Analysis.Metrics[0].Reason)
				}
				if o.Decision.Status.Phase.Terminal() {
					break
				}
				c.advance(time.Minute)
			}
			st := statusAt(t, f, "main")
			if st.Phase != tt.want || last == nil {
				t.Fatalf("phase %s (%s), last analysis %+v", st.Phase, st.Message, last)
			}
			m := last.Metrics[0]
			if !strings.Contains(m.Reason, "p99 bucket (le=") {
				t.Errorf("reason %q does not name the stable's p99 bucket", m.Reason)
			}
			if tt.want == spec.PhaseRolledBack && (m.Classification != judge.High || !strings.HasPrefix(m.Reason, "e=")) {
				t.Errorf("%s: %s", m.Classification, m.Reason)
			}
		})
	}
}
