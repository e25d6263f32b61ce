package judge

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/analyzer/stats"
)

// latencyBounds are bucket bounds in ms, +Inf last.
var latencyBounds = []float64{50, 100, 250, 500, 1000, math.Inf(1)}

// latencySeries draws n log-normal latencies (median ms, sdlog 0.5) into a
// histogram series.
func latencySeries(rng *rand.Rand, n int, median float64) Series {
	h := stats.Histogram{Bounds: latencyBounds, Counts: make([]float64, len(latencyBounds))}
	for range n {
		x := median * math.Exp(0.5*rng.NormFloat64())
		for i, b := range latencyBounds {
			if x <= b {
				h.Counts[i]++
			}
		}
	}
	return Series{Value: math.NaN(), Buckets: h, HasBuckets: true}
}

func TestSequentialQuantile(t *testing.T) {
	cfg := MetricConfig{Name: "latency", Unit: "ms", Direction: Increase, Tolerance: 0.1, Critical: true, Quantile: 0.99}
	look := func(state *State, c, b Series, last bool) MetricResult {
		r := Sequential{}.Judge(Request{Metrics: []Input{{Config: cfg, Canary: c, Baseline: b, State: state, Requests: -1}},
			MinRequests: 100, Alpha: 0.01, Final: last, Last: last})
		return r.Metrics[0]
	}
	run := func(median float64, looks int) (MetricResult, int) {
		rng := rand.New(rand.NewPCG(1, 2))
		var m MetricResult
		for i := range looks {
			m = look(m.State, latencySeries(rng, 500, median), latencySeries(rng, 4500, 100), false)
			if m.Classification != Pass {
				return m, i + 1
			}
		}
		return m, looks
	}
	t.Run("a healthy canary passes; the threshold is the stable's p99 bucket from the earlier looks", func(t *testing.T) {
		m, n := run(100, 20)
		if m.Classification != Pass {
			t.Fatalf("look %d: %s %s", n, m.Classification, m.Reason)
		}
		s, err := unpackQuantileState(m.State)
		if err != nil || s.Threshold != 250 || s.Count.Intervals != 19 || s.Reference.Total() < 20*4000 {
			t.Errorf("state threshold %v, %d intervals, reference %v requests, err %v", s.Threshold, s.Count.Intervals, s.Reference.Total(), err)
		}
		if !strings.Contains(m.Reason, "le=250") || !strings.Contains(m.Reason, "p99") {
			t.Errorf("reason %q does not name the threshold", m.Reason)
		}
		if math.IsNaN(m.Canary) || m.Canary < 250 || m.Canary > 500 {
			t.Errorf("canary p99 %v, want the interpolated p99 in (250, 500]", m.Canary)
		}
	})
	t.Run("a canary 40% slower is rolled back", func(t *testing.T) {
		if m, n := run(140, 20); m.Classification != High || !strings.HasPrefix(m.Reason, "e=") {
			t.Errorf("after %d looks: %s %s", n, m.Classification, m.Reason)
		}
	})
	t.Run("the first look only builds the reference", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		m := look(nil, latencySeries(rng, 500, 1000), latencySeries(rng, 4500, 100), false)
		if m.Classification != Pass || !strings.Contains(m.Reason, "first look") || m.EValue != 1 {
			t.Errorf("%s e=%v %s", m.Classification, m.EValue, m.Reason)
		}
	})
	t.Run("a histogram without +Inf is skipped, counted, and named", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		m := look(nil, latencySeries(rng, 500, 100), latencySeries(rng, 4500, 100), false)
		bad := latencySeries(rng, 500, 100)
		bad.Buckets.Bounds, bad.Buckets.Counts = bad.Buckets.Bounds[:5], bad.Buckets.Counts[:5]
		bad.Skipped = ""
		m2 := look(m.State, bad, latencySeries(rng, 4500, 100), false)
		s, _ := unpackQuantileState(m2.State)
		if m2.Classification != Pass || !strings.Contains(m2.Reason, "no +Inf bucket") || s.Count.Skipped != 1 {
			t.Errorf("%s %s, skipped %d", m2.Classification, m2.Reason, s.Count.Skipped)
		}
	})
	t.Run("too few canary requests over the rollout is NoData at the last look", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		m := look(nil, latencySeries(rng, 20, 100), latencySeries(rng, 4500, 100), false)
		m = look(m.State, latencySeries(rng, 20, 100), latencySeries(rng, 4500, 100), true)
		if m.Classification != NoData {
			t.Errorf("%s %s", m.Classification, m.Reason)
		}
	})
	t.Run("a max guard on the window's p99 is a plain threshold", func(t *testing.T) {
		limit := 200.0
		c := cfg
		c.Max = &limit
		rng := rand.New(rand.NewPCG(9, 10))
		r := Sequential{}.Judge(Request{Metrics: []Input{{Config: c, Canary: latencySeries(rng, 500, 100),
			Baseline: latencySeries(rng, 4500, 100), Requests: -1}}, MinRequests: 100, Alpha: 0.01})
		if m := r.Metrics[0]; m.Classification != High || !strings.Contains(m.Reason, "outside alpha") {
			t.Errorf("%s %s", m.Classification, m.Reason)
		}
	})
	t.Run("unreadable evidence is an error, not a pass", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		m := look(&State{Kind: "counts/v2", Values: []float64{1}}, latencySeries(rng, 500, 100), latencySeries(rng, 4500, 100), false)
		if m.Classification != Error {
			t.Errorf("%s %s", m.Classification, m.Reason)
		}
	})
}

// TestQuantileStateRoundTrip: the packed state reads back exactly, the
// zero state included.
func TestQuantileStateRoundTrip(t *testing.T) {
	test := stats.QuantileTest{Quantile: 0.99, Count: stats.CountTest{Tolerance: 0.1, Alpha: 0.01, Dispersion: true, TunedPrior: true}}
	rng := rand.New(rand.NewPCG(1, 1))
	var s stats.QuantileState
	for i := range 4 {
		got, err := unpackQuantileState(packQuantileState(s))
		if err != nil || !reflect.DeepEqual(got, s) {
			t.Fatalf("look %d: %+v, %v; want %+v", i, got, err, s)
		}
		if s, err = test.Update(s, latencySeries(rng, 300, 120).Buckets, latencySeries(rng, 3000, 100).Buckets); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range [][]float64{{}, {0, -1}, {0, 2.5}, {0, 3, 1, 2}} {
		if _, err := unpackQuantileState(&State{Kind: quantileStateKind, Values: bad}); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestSequentialQuantileSharesAlpha: a histogram metric takes a share of
// alpha like a count metric.
func TestSequentialQuantileSharesAlpha(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lat := Input{Config: MetricConfig{Name: "latency", Tolerance: 0.1}, Canary: latencySeries(rng, 500, 100),
		Baseline: latencySeries(rng, 4500, 100), Requests: -1}
	errs := Input{Config: MetricConfig{Name: "errors", Tolerance: 0.25}, Canary: counts(1, 500), Baseline: counts(9, 4500), Requests: -1}
	r := Sequential{}.Judge(Request{Metrics: []Input{lat, errs}, MinRequests: 100, Alpha: 0.01})
	for _, m := range r.Metrics {
		if !strings.Contains(m.Reason, "needs 200") {
			t.Errorf("%s: %s, want the threshold 1/(alpha/2) = 200", m.Name, m.Reason)
		}
	}
}
