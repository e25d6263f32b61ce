package judge

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// repeat returns v n times.
func repeat(v float64, n int) []float64 { return slices.Repeat([]float64{v}, n) }

// normals returns n draws of N(mu, sigma) from a fixed seed.
func normals(seed uint64, n int, mu, sigma float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	v := make([]float64, n)
	for i := range v {
		v[i] = mu + sigma*rng.NormFloat64()
	}
	return v
}

// zeroInflated returns n error counts per step: 0 except with probability
// p, then 1 + Poisson-ish(3) (a geometric count keeps it simple).
func zeroInflated(seed uint64, n int, p float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 2))
	v := make([]float64, n)
	for i := range v {
		if rng.Float64() < p {
			v[i] = float64(1 + rng.IntN(6))
		}
	}
	return v
}

// mw judges one metric with samples only (no instant value, no request count).
func mw(cfg MetricConfig, canary, baseline []float64) MetricResult {
	in := Input{Config: cfg, Canary: Series{Value: math.NaN(), Samples: canary},
		Baseline: Series{Value: math.NaN(), Samples: baseline}, Requests: -1}
	return ClassifyMannWhitney(in, 100)
}

func wantClass(t *testing.T, got MetricResult, want Classification, reasonHas string) {
	t.Helper()
	if got.Classification != want || !strings.Contains(got.Reason, reasonHas) {
		t.Errorf("got %s (%s), want %s with %q", got.Classification, got.Reason, want, reasonHas)
	}
}

// The semantics of Kayenta's MannWhitneyClassifier, on our own data.
func TestMannWhitneyKayentaSemantics(t *testing.T) {
	base := MetricConfig{Name: "latency", Unit: "ms", Direction: Either, Tolerance: 0.25}
	with := func(f func(*MetricConfig)) MetricConfig { c := base; f(&c); return c }
	tests := []struct {
		name             string
		cfg              MetricConfig
		canary, baseline []float64
		assertions       func(t *testing.T, r MetricResult)
	}{
		{"a clear increase is High with the interval in the reason", base, normals(1, 40, 120, 10), normals(2, 40, 100, 10),
			func(t *testing.T, r MetricResult) {
				wantClass(t, r, High, "98% CI [")
				if !(r.Lower > 0.25*r.Estimate && r.Estimate > 10 && r.Estimate < 30) || r.Level != 0.98 || !(r.PValue < 1e-6) {
					t.Errorf("estimate %v [%v, %v] at %v, p %v", r.Estimate, r.Lower, r.Upper, r.Level, r.PValue)
				}
				if r.CanarySamples.N != 40 || r.BaselineSamples.N != 40 || !(r.Ratio > 1.1 && r.Ratio < 1.3) {
					t.Errorf("summaries %+v %+v ratio %v", r.CanarySamples, r.BaselineSamples, r.Ratio)
				}
			}},
		{"a clear decrease is Low", base, normals(3, 40, 80, 10), normals(4, 40, 100, 10),
			func(t *testing.T, r MetricResult) { wantClass(t, r, Low, "below") }},
		{"a decrease is harmless when only increases harm", with(func(c *MetricConfig) { c.Direction = Increase }),
			normals(3, 40, 80, 10), normals(4, 40, 100, 10),
			func(t *testing.T, r MetricResult) { wantClass(t, r, Pass, "tails alike") }},
		{"no change passes", base, normals(5, 40, 100, 10), normals(6, 40, 100, 10),
			func(t *testing.T, r MetricResult) { wantClass(t, r, Pass, "98% CI") }},
		{"identical samples pass", base, []float64{5, 4, 3, 2, 1, 6, 7, 8, 9, 10}, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
			func(t *testing.T, r MetricResult) { wantClass(t, r, Pass, "identical") }},
		{"one value throughout passes", base, repeat(0, 12), repeat(0, 15),
			func(t *testing.T, r MetricResult) {
				wantClass(t, r, Pass, "every sample is 0ms")
				if r.Ratio != 1 {
					t.Errorf("ratio %v, want 1 for two zero means", r.Ratio)
				}
			}},
		{"tied ranks far apart are High (both sides constant)", base, repeat(10, 10), repeat(1, 10),
			func(t *testing.T, r MetricResult) {
				wantClass(t, r, High, "canary constant at 10ms, baseline at 1ms: shift +9ms")
				if r.Estimate != 9 || r.Lower != 9 || r.Upper != 9 {
					t.Errorf("estimate %v [%v, %v]", r.Estimate, r.Lower, r.Upper)
				}
			}},
		{"a zero baseline mean gives a NaN ratio and still High", base, normals(7, 10, 55, 1), repeat(0, 10),
			func(t *testing.T, r MetricResult) {
				wantClass(t, r, High, "mean ratio NaN")
				if !math.IsNaN(r.Ratio) {
					t.Errorf("ratio %v", r.Ratio)
				}
			}},
		{"an increase under the allowed one passes", with(func(c *MetricConfig) { c.AllowedIncrease = 1.5 }),
			normals(1, 40, 120, 10), normals(2, 40, 100, 10),
			func(t *testing.T, r MetricResult) { wantClass(t, r, Pass, "under the allowed increase 1.5") }},
		{"an increase over the allowed one fails", with(func(c *MetricConfig) { c.AllowedIncrease = 1.1 }),
			normals(1, 40, 120, 10), normals(2, 40, 100, 10),
			func(t *testing.T, r MetricResult) { wantClass(t, r, High, "shift +") }},
		{"a decrease above the allowed one passes", with(func(c *MetricConfig) { c.AllowedDecrease = 0.7 }),
			normals(3, 40, 80, 10), normals(4, 40, 100, 10),
			func(t *testing.T, r MetricResult) { wantClass(t, r, Pass, "above the allowed decrease 0.7") }},
		{"a critical metric's failure is critical", with(func(c *MetricConfig) { c.Critical = true }),
			normals(1, 40, 120, 10), normals(2, 40, 100, 10),
			func(t *testing.T, r MetricResult) {
				if r.Classification != High || !r.Critical {
					t.Errorf("%s critical %v", r.Classification, r.Critical)
				}
			}},
		{"below the critical increase a failure is not critical",
			with(func(c *MetricConfig) { c.Critical, c.CriticalIncrease = true, 1.5 }), normals(1, 40, 120, 10), normals(2, 40, 100, 10),
			func(t *testing.T, r MetricResult) {
				if r.Classification != High || r.Critical {
					t.Errorf("%s critical %v", r.Classification, r.Critical)
				}
			}},
		{"beyond the critical decrease a Low is critical",
			with(func(c *MetricConfig) { c.Critical, c.CriticalDecrease = true, 0.9 }), normals(3, 40, 80, 10), normals(4, 40, 100, 10),
			func(t *testing.T, r MetricResult) {
				if r.Classification != Low || !r.Critical {
					t.Errorf("%s critical %v", r.Classification, r.Critical)
				}
			}},
		{"a smaller minimum judges five a side, as Kayenta's tests do", with(func(c *MetricConfig) { c.MinSamples = 5 }),
			[]float64{20, 22, 21, 25, 30}, []float64{1, 2.2, 1.1, 2.5, 3},
			func(t *testing.T, r MetricResult) { wantClass(t, r, High, "shift +") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.assertions(t, mw(tt.cfg, tt.canary, tt.baseline)) })
	}
}

// Kayenta's known misses, each caught by the tail test (and passed, as
// Kayenta passes them, with LocationOnly).
func TestMannWhitneyKayentaMisses(t *testing.T) {
	inc := MetricConfig{Name: "m", Direction: Increase, Tolerance: 0.25}
	only := inc
	only.LocationOnly = true
	dir := func(d Direction) MetricConfig { c := inc; c.Direction = d; return c }
	sevenHundreds := func(n int) []float64 { return append(repeat(1, n-7), repeat(100, 7)...) }
	tests := []struct {
		name             string
		cfg              MetricConfig
		canary, baseline []float64
		want             Classification
		reasonHas        string
	}{
		{"(a) seven 100s among 1s, 10 a side", inc, sevenHundreds(10), repeat(1, 10), High, "upper tail: 7 of 10 canary vs 0 of 10"},
		{"(a) seven 100s among 1s, 20 a side", inc, sevenHundreds(20), repeat(1, 20), High, "upper tail: 7 of 20"},
		{"(a) seven 100s among 1s, 50 a side", inc, sevenHundreds(50), repeat(1, 50), High, "upper tail: 7 of 50"},
		{"(a) seven 100s among 1s, 100 a side", inc, sevenHundreds(100), repeat(1, 100), High, "upper tail: 7 of 100"},
		{"(a) seven 100s among 1s, 1000 a side", inc, sevenHundreds(1000), repeat(1, 1000), High, "upper tail: 7 of 1000"},
		{"(a) Kayenta's location test alone passes it", only, sevenHundreds(20), repeat(1, 20), Pass, "98% CI [+0, +99]"},
		{"(b) spread grows around the same median: increase", inc, normals(11, 60, 100, 20), normals(12, 60, 100, 5), High, "upper tail"},
		{"(b) spread grows: decrease flags the lower tail", dir(Decrease), normals(11, 60, 100, 20), normals(12, 60, 100, 5), Low, "lower tail"},
		{"(b) spread grows: either", dir(Either), normals(11, 60, 100, 20), normals(12, 60, 100, 5), High, "lower tail"},
		{"(b) Kayenta's location test alone passes it", only, normals(11, 60, 100, 20), normals(12, 60, 100, 5), Pass, "CI"},
		{"(c) zero-inflated errors: the canary adds errors", inc, zeroInflated(21, 60, 0.3), zeroInflated(22, 60, 0.05), High, "upper tail"},
		{"(c) Kayenta's location test alone passes it", only, zeroInflated(21, 60, 0.3), zeroInflated(22, 60, 0.05), Pass, "CI"},
		{"(c) zero-inflated and alike passes", inc, zeroInflated(23, 60, 0.1), zeroInflated(24, 60, 0.1), Pass, "tails alike"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mw(tt.cfg, tt.canary, tt.baseline)
			wantClass(t, r, tt.want, tt.reasonHas)
			if tt.cfg.LocationOnly != (len(r.Tails) == 0) {
				t.Errorf("tails %+v with LocationOnly %v", r.Tails, tt.cfg.LocationOnly)
			}
			for _, tl := range r.Tails {
				wrongSide := (tt.cfg.Direction == Increase && tl.Side != UpperTail) || (tt.cfg.Direction == Decrease && tl.Side != LowerTail)
				if tl.Alpha > 0.01+1e-12 || wrongSide {
					t.Errorf("tail %+v for direction %s", tl, tt.cfg.Direction)
				}
			}
		})
	}
}

// Count metrics in the loop carry the window's counts: the tail test is
// then on bad events among requests, whatever the traffic split.
func TestMannWhitneyEventTest(t *testing.T) {
	cfg := MetricConfig{Name: "error-rate", Unit: "percent", Direction: Increase, Tolerance: 0.25}
	counts := func(bad, total float64, samples []float64) Series {
		return Series{Value: 100 * bad / total, Bad: bad, Total: total, HasCounts: true, Samples: samples}
	}
	steps := func(seed uint64, p float64) []float64 { return zeroInflated(seed, 30, p) }
	tests := []struct {
		name             string
		canary, baseline Series
		cfg              MetricConfig
		assertions       func(t *testing.T, r MetricResult)
	}{
		{"a canary with 5% errors at a fifth of the traffic is High", counts(60, 1200, steps(1, 0.3)), counts(60, 6000, steps(2, 0.3)), cfg,
			func(t *testing.T, r MetricResult) {
				wantClass(t, r, High, "bad events: 60 of 1200 canary vs 60 of 6000 baseline requests (more, p=")
				if len(r.Tails) != 1 || r.Tails[0].Kind != TailEvents || r.Tails[0].Ratio != 5 || r.Tails[0].Alpha > 0.0100001 {
					t.Errorf("tails %+v", r.Tails)
				}
			}},
		{"the same error rate at a fifth of the traffic passes", counts(12, 1200, steps(3, 0.3)), counts(60, 6000, steps(6, 0.3)), cfg,
			func(t *testing.T, r MetricResult) { wantClass(t, r, Pass, "tails alike") }},
		{"extrapolated counts are rounded", counts(11.6, 1199.7, steps(3, 0.3)), counts(60.2, 6000.4, steps(6, 0.3)), cfg,
			func(t *testing.T, r MetricResult) {
				if len(r.Tails) != 1 || r.Tails[0].Canary != 12 || r.Tails[0].CanaryTotal != 1200 || r.Tails[0].BaselineTotal != 6000 {
					t.Errorf("tails %+v", r.Tails)
				}
			}},
		{"either direction tests both sides", counts(2, 1200, steps(3, 0.3)), counts(60, 6000, steps(6, 0.3)),
			MetricConfig{Name: "error-rate", Direction: Either, Tolerance: 0.25},
			func(t *testing.T, r MetricResult) {
				if len(r.Tails) != 2 || r.Tails[0].Side != UpperTail || r.Tails[1].Side != LowerTail || !r.Tails[1].Significant {
					t.Errorf("tails %+v", r.Tails)
				}
			}},
		{"unusable counts fall back to the samples", Series{Value: math.NaN(), Bad: math.NaN(), Total: 0, HasCounts: true, Samples: steps(4, 0.3)},
			counts(60, 6000, steps(5, 0.3)), cfg,
			func(t *testing.T, r MetricResult) {
				if len(r.Tails) == 0 || r.Tails[0].Kind != TailQuantile {
					t.Errorf("tails %+v", r.Tails)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.assertions(t, ClassifyMannWhitney(Input{Config: tt.cfg, Canary: tt.canary, Baseline: tt.baseline, Requests: -1}, 100))
		})
	}
}

func TestMannWhitneyBadInput(t *testing.T) {
	cfg := MetricConfig{Name: "m", Unit: "percent", Direction: Increase, Tolerance: 0.25}
	with := func(f func(*MetricConfig)) MetricConfig { c := cfg; f(&c); return c }
	ok := normals(1, 20, 10, 1)
	tests := []struct {
		name       string
		in         Input
		assertions func(t *testing.T, r MetricResult)
	}{
		{"empty samples are NoData", Input{Config: cfg, Requests: -1, Canary: Series{Value: math.NaN()}, Baseline: Series{Value: math.NaN()}},
			func(t *testing.T, r MetricResult) {
				wantClass(t, r, NoData, "0 canary and 0 baseline samples, needs 10 a side")
			}},
		{"nine samples are NoData, never Pass", Input{Config: cfg, Requests: -1, Canary: Series{Samples: ok[:9]}, Baseline: Series{Samples: ok}},
			func(t *testing.T, r MetricResult) { wantClass(t, r, NoData, "9 canary and 20 baseline") }},
		{"NaN samples are removed by default", Input{Config: cfg, Requests: -1,
			Canary: Series{Samples: append(slices.Clone(ok[:9]), math.NaN(), math.NaN())}, Baseline: Series{Samples: ok}},
			func(t *testing.T, r MetricResult) {
				wantClass(t, r, NoData, "9 canary")
				if r.CanarySamples.NaN != 2 {
					t.Errorf("NaN count %d", r.CanarySamples.NaN)
				}
			}},
		{"NaN samples become 0 with replace", Input{Config: with(func(c *MetricConfig) { c.NaNStrategy = NaNReplace }), Requests: -1,
			Canary: Series{Samples: append(slices.Clone(ok[:9]), math.NaN(), math.NaN())}, Baseline: Series{Samples: ok}},
			func(t *testing.T, r MetricResult) {
				if r.CanarySamples.N != 11 || r.CanarySamples.NaN != 2 || r.Classification == NoData {
					t.Errorf("%s: %+v", r.Classification, r.CanarySamples)
				}
			}},
		{"an infinite sample is an Error", Input{Config: cfg, Requests: -1, Canary: Series{Samples: append(slices.Clone(ok), math.Inf(1))}, Baseline: Series{Samples: ok}},
			func(t *testing.T, r MetricResult) { wantClass(t, r, Error, "canary sample 21 is +Inf") }},
		{"a fetch error is Error", Input{Config: cfg, Requests: -1, Err: errors.New("prometheus down")},
			func(t *testing.T, r MetricResult) { wantClass(t, r, Error, "prometheus down") }},
		{"too few requests is NoData", Input{Config: cfg, Requests: 40, Canary: Series{Samples: ok}, Baseline: Series{Samples: ok}},
			func(t *testing.T, r MetricResult) { wantClass(t, r, NoData, "40 canary requests, needs 100") }},
		{"the absolute max guard applies", Input{Config: with(func(c *MetricConfig) { c.Max = fp(5) }), Requests: -1,
			Canary: Series{Value: 7, Samples: ok}, Baseline: Series{Value: 1, Samples: ok}},
			func(t *testing.T, r MetricResult) { wantClass(t, r, High, "7% above max 5%") }},
		{"unusable settings are an Error", Input{Config: with(func(c *MetricConfig) { c.Confidence = 1.5 }), Requests: -1},
			func(t *testing.T, r MetricResult) { wantClass(t, r, Error, "confidence 1.5 not in (0, 1)") }},
		{"an unknown direction is an Error", Input{Config: with(func(c *MetricConfig) { c.Direction = "sideways" }), Requests: -1},
			func(t *testing.T, r MetricResult) { wantClass(t, r, Error, `direction "sideways"`) }},
		{"a negative guard is an Error", Input{Config: with(func(c *MetricConfig) { c.AllowedIncrease = -1 }), Requests: -1},
			func(t *testing.T, r MetricResult) { wantClass(t, r, Error, "effect-size guard -1") }},
		{"an unknown NaN strategy is an Error", Input{Config: with(func(c *MetricConfig) { c.NaNStrategy = "ignore" }), Requests: -1},
			func(t *testing.T, r MetricResult) { wantClass(t, r, Error, `NaN strategy "ignore"`) }},
		{"huge values are an Error, not a panic", Input{Config: cfg, Requests: -1,
			Canary: Series{Samples: append(repeat(math.MaxFloat64, 10), 1)}, Baseline: Series{Samples: append(repeat(-math.MaxFloat64, 10), 2)}},
			func(t *testing.T, r MetricResult) { wantClass(t, r, Error, "too large") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.assertions(t, ClassifyMannWhitney(tt.in, 100)) })
	}
}

func TestMannWhitneyOutliers(t *testing.T) {
	cfg := MetricConfig{Name: "m", Direction: Increase, Tolerance: 0.25, Outliers: OutliersRemove}
	tests := []struct {
		name             string
		canary, baseline []float64
		wantOutliers     int
		want             Classification
	}{
		{"one wild value beyond 3 IQRs is dropped", append(normals(1, 30, 100, 5), 10000), normals(2, 30, 100, 5), 1, Pass},
		{"an IQR of 0 drops nothing, so zero-inflated errors stay", zeroInflated(21, 60, 0.3), zeroInflated(22, 60, 0.05), 0, High},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mw(cfg, tt.canary, tt.baseline)
			if r.CanarySamples.Outliers != tt.wantOutliers || r.Classification != tt.want {
				t.Errorf("%d outliers, %s (%s); want %d, %s", r.CanarySamples.Outliers, r.Classification, r.Reason, tt.wantOutliers, tt.want)
			}
		})
	}
}

func TestQuantile7MatchesR(t *testing.T) {
	// R: quantile(c(1, 2, 4, 8, 16), c(0, .25, .5, .9, 1)) = 1 2 4 12.8 16
	v := []float64{1, 2, 4, 8, 16}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {0.25, 2}, {0.5, 4}, {0.9, 12.8}, {1, 16}} {
		if got := quantile7(v, c.p); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("quantile7(%v) = %v, R %v", c.p, got, c.want)
		}
	}
	if !math.IsNaN(quantile7(nil, 0.5)) || !math.IsNaN(mean(nil)) {
		t.Error("empty quantile or mean not NaN")
	}
	if m := mean([]float64{math.MaxFloat64, math.MaxFloat64}); m != math.MaxFloat64 {
		t.Errorf("mean of two MaxFloat64 = %v", m)
	}
}
