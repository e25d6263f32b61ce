package simulate

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
)

// TestLatencyQuantileRows: the -p99/-p999 rows read latency as a histogram
// and the sequential judge tests it with the quantile test (its reason
// names the stable's bucket); a healthy canary stays within alpha, and at
// p99.9 (the 500 ms bucket) a 2% tail 10x slower is caught sooner than by
// the 250 ms slow-request count.
func TestLatencyQuantileRows(t *testing.T) {
	for _, name := range []string{"healthy-p99", "healthy-latency-edge-p99", "diurnal-p99", "healthy-p999",
		"latency-shift-10pct-p99", "latency-tail-p99", "latency-shift-10pct-p999", "latency-tail-p999"} {
		s, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if !(s.LatencyQuantile > 0) || s.Validate() != nil {
			t.Errorf("%s: quantile %v, %v", name, s.LatencyQuantile, s.Validate())
		}
	}
	s, err := Lookup("healthy-p99")
	if err != nil {
		t.Fatal(err)
	}
	c := canarySpec(&s, "sequential", DefaultAlpha, false)
	if m := c.Spec.Analysis.Metrics[1]; m.Template != "istio-latency-buckets" || m.Quantile != 0.99 {
		t.Fatalf("latency metric %+v", m)
	}
	runs := 400
	if testing.Short() {
		runs = 100
	}
	rate := func(name string) *Result {
		s, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Run(context.Background(), Config{Scenario: s, Judge: judge.Sequential{}, Runs: runs, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := rate("healthy-latency-edge-p99"); r.FalseRollbackRate.Value > DefaultAlpha+3*math.Sqrt(DefaultAlpha/float64(runs)) {
		t.Errorf("healthy-latency-edge-p99: %v false rollbacks", r.FalseRollbackRate.Value)
	}
	tail, slow := rate("latency-tail-p999"), rate("latency-tail")
	if tail.DetectionRate.Value < 0.9 || slow.MeanIntervalsToDetect == nil || tail.MeanIntervalsToDetect == nil ||
		!(*tail.MeanIntervalsToDetect < *slow.MeanIntervalsToDetect-3) {
		t.Errorf("tail at p99.9: detected %v after %v intervals; slow-request count after %v", tail.DetectionRate.Value,
			tail.MeanIntervalsToDetect, slow.MeanIntervalsToDetect)
	}
}

// TestLatencyQuantileInputs: a window of a -p99 row gives the judge the
// histogram (cumulative, +Inf last) and no counts, and the sequential
// judge's reason names the stable's p99 bucket from the second look on.
func TestLatencyQuantileInputs(t *testing.T) {
	s, err := Lookup("latency-tail-p99")
	if err != nil {
		t.Fatal(err)
	}
	cfgs := metricConfigs(canarySpec(&s, "sequential", DefaultAlpha, false))
	if cfgs[1].Quantile != 0.99 {
		t.Fatalf("latency config quantile %v", cfgs[1].Quantile)
	}
	g := newGenerator(&s, rand.New(rand.NewPCG(1, 2)))
	states := make([]*judge.State, len(cfgs))
	for look := range 2 {
		w := &windowData{scenario: &s, intervals: []intervalData{g.interval(10)}, duration: s.Interval, bounds: g.bounds}
		in := inputs(w, cfgs, states, false)
		lat := in[1]
		c := lat.Canary
		if !c.HasBuckets || c.HasCounts || c.Buckets.Check() != nil || c.Buckets.Total() != w.intervals[0].canary.requests ||
			!math.IsInf(c.Buckets.Bounds[len(c.Buckets.Bounds)-1], 1) {
			t.Fatalf("look %d: canary series %+v", look, c)
		}
		res := judge.Sequential{}.Judge(judge.Request{Metrics: in, Alpha: DefaultAlpha, MinRequests: 100})
		for i, m := range res.Metrics {
			states[i] = m.State
		}
		if reason := res.Metrics[1].Reason; look == 1 && !strings.Contains(reason, "le=250") {
			t.Errorf("look %d: reason %q does not name le=250", look, reason)
		}
	}
}
