// Package notifytest holds what the notifier tests share: the aleph
// rollout that rolled back (spec, status and a committed outcome), and a
// real Prometheus holding its Istio metrics, for charts.
package notifytest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// Start is when the testdata rollout starts.
var Start = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// Commit is the decision commit of Outcome.
const Commit = "8a77a13f00d1c0ffee00000000000000000000aa"

// testdata is functions/notify/testdata, wherever the test runs.
func testdata(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", name)
}

// RolledBack reads the aleph spec (without spec.notify) and its
// rolled-back status.
func RolledBack(t testing.TB) (*spec.Canary, *spec.Status) {
	t.Helper()
	data, err := os.ReadFile(testdata("aleph.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := spec.ParseCanaries(".birdwatch/aleph.yaml", data, spec.Checks{})
	if err != nil {
		t.Fatal(err)
	}
	file := testdata("status-rolledback.yaml")
	if data, err = os.ReadFile(file); err != nil {
		t.Fatal(err)
	}
	st, err := spec.ParseStatus(file, data)
	if err != nil {
		t.Fatal(err)
	}
	return cs[0], st
}

// Analysis is the rollback's judged window: error-rate High with text that
// must be escaped, latency Pass, a metric without data (NaN).
func Analysis() *judge.Result {
	nan := func() float64 { var z float64; return z / z }()
	return &judge.Result{Judge: "sequential", Verdict: judge.VerdictFail, Score: 33, Metrics: []judge.MetricResult{
		{Name: "error-rate", Classification: judge.High, Canary: 2.1, Baseline: 0.11, Unit: "percent", Reason: "e=312 >= 200 <b>@everyone</b>"},
		{Name: "latency-p99", Classification: judge.Pass, Canary: 231.5, Baseline: 204.2, Unit: "ms"},
		{Name: "saturation", Classification: judge.NoData, Canary: nan, Baseline: nan, Unit: "percent"},
	}}
}

// Outcome is the committed rollback of st, with Analysis.
func Outcome(c *spec.Canary, st *spec.Status) core.Outcome {
	return core.Outcome{Canary: c.Key(), Commit: Commit, Analysis: Analysis(),
		Decision: rollout.Decision{Action: rollout.ActionRollback, Commit: true, From: 10, Reason: st.Message, Status: *st}}
}

// IstioPrometheus starts a real Prometheus holding Istio metrics over the
// rollout: v04 answers 503 to 20% of its requests, v03 to 0.1%.
func IstioPrometheus(t *testing.T) *metrics.Prometheus {
	t.Helper()
	gen := promtest.Istio{Service: "aleph", Namespace: "games", Start: Start.Add(-10 * time.Minute), End: Start.Add(15 * time.Minute),
		Step: 10 * time.Second, Seed: 11, Versions: []promtest.IstioVersion{
			{Version: "v03", RPS: 100, ErrorRatio: 0.001, LatencyMedianMs: 40, LatencySigma: 0.3},
			{Version: "v04", RPS: 20, ErrorRatio: 0.2, LatencyMedianMs: 60, LatencySigma: 0.3},
		}}
	fams, err := gen.Generate()
	if err != nil {
		t.Fatal(err)
	}
	om, err := promtest.OpenMetrics(fams)
	if err != nil {
		t.Fatal(err)
	}
	p, err := metrics.NewPrometheus(metrics.PrometheusConfig{URL: promtest.Start(t, promtest.Options{OpenMetrics: om}).URL()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
