package judge

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// shapes are sample generators for the simulations: continuous, skewed,
// discrete and zero-inflated data, where rank tests with ties and the
// interval's normal approximation are most likely to go wrong.
var simShapes = []struct {
	name string
	n    int
	draw func(rng *rand.Rand) float64
}{
	{"normal, 15 a side (exact branch)", 15, func(rng *rand.Rand) float64 { return 100 + 10*rng.NormFloat64() }},
	{"lognormal latency, 60 a side", 60, func(rng *rand.Rand) float64 { return 40 * math.Exp(0.5*rng.NormFloat64()) }},
	{"poisson-like counts, 40 a side", 40, func(rng *rand.Rand) float64 { return float64(rng.IntN(4) + rng.IntN(4)) }},
	{"zero-inflated errors, 60 a side", 60, func(rng *rand.Rand) float64 {
		if rng.Float64() < 0.85 {
			return 0
		}
		return float64(1 + rng.IntN(5))
	}},
}

// TestMannWhitneyFalseFlags checks the error rate documented on
// MannWhitney by simulation: with canary and baseline drawn from one
// distribution, a harmful direction is flagged at most 1 - Confidence of
// the time (2 x that for either; half of it with LocationOnly, Kayenta's
// rate). 2000 runs per shape and configuration; the limit allows three
// binomial standard errors.
func TestMannWhitneyFalseFlags(t *testing.T) {
	const runs = 2000
	configs := []struct {
		name  string
		cfg   MetricConfig
		limit float64
	}{
		{"increase", MetricConfig{Name: "m", Direction: Increase, Tolerance: 0.25}, 0.02},
		{"either", MetricConfig{Name: "m", Direction: Either, Tolerance: 0.25}, 0.04},
		{"increase, location only", MetricConfig{Name: "m", Direction: Increase, Tolerance: 0.25, LocationOnly: true}, 0.01},
	}
	for si, sh := range simShapes {
		for ci, c := range configs {
			t.Run(fmt.Sprintf("%s/%s", sh.name, c.name), func(t *testing.T) {
				t.Parallel()
				rng := rand.New(rand.NewPCG(uint64(si), uint64(ci)))
				flagged := 0
				for range runs {
					canary, baseline := make([]float64, sh.n), make([]float64, sh.n)
					for i := range canary {
						canary[i], baseline[i] = sh.draw(rng), sh.draw(rng)
					}
					if r := mw(c.cfg, canary, baseline); r.Classification.Failed() {
						flagged++
					} else if r.Classification != Pass {
						t.Fatalf("%s: %s", r.Classification, r.Reason)
					}
				}
				rate := float64(flagged) / runs
				limit := c.limit + 3*math.Sqrt(c.limit*(1-c.limit)/runs)
				t.Logf("%s, %s: false flags %d of %d = %.4f (documented bound %.3f)", sh.name, c.name, flagged, runs, rate, c.limit)
				if rate > limit {
					t.Errorf("false-flag rate %.4f above %.4f", rate, limit)
				}
			})
		}
	}
}

// TestMannWhitneyDetects checks power on plain changes, 500 runs each: a
// one-sigma shift with 60 samples a side (Kayenta's rule needs z above about
// 3.1 here, and z is about 4.9 on average; 0.994 of the runs flag it with
// these seeds), and a canary with errors in 30% of its steps where the
// baseline has them in 5% (the tail test on the steps with errors; 0.856).
func TestMannWhitneyDetects(t *testing.T) {
	const runs = 500
	tests := []struct {
		name     string
		n        int
		canary   func(rng *rand.Rand) float64
		baseline func(rng *rand.Rand) float64
		minRate  float64
	}{
		{"one-sigma shift, 60 a side", 60, func(rng *rand.Rand) float64 { return 110 + 10*rng.NormFloat64() },
			func(rng *rand.Rand) float64 { return 100 + 10*rng.NormFloat64() }, 0.9},
		{"errors in 30% of steps vs 5%, 60 a side", 60, bernoulliSteps(0.30), bernoulliSteps(0.05), 0.8},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(99, uint64(i)))
			cfg := MetricConfig{Name: "m", Direction: Increase, Tolerance: 0.25}
			flagged := 0
			for range runs {
				canary, baseline := make([]float64, tt.n), make([]float64, tt.n)
				for j := range canary {
					canary[j], baseline[j] = tt.canary(rng), tt.baseline(rng)
				}
				if mw(cfg, canary, baseline).Classification == High {
					flagged++
				}
			}
			rate := float64(flagged) / runs
			t.Logf("flagged %d of %d = %.3f", flagged, runs, rate)
			if rate < tt.minRate {
				t.Errorf("detection rate %.3f below %.2f", rate, tt.minRate)
			}
		})
	}
}

func bernoulliSteps(p float64) func(rng *rand.Rand) float64 {
	return func(rng *rand.Rand) float64 {
		if rng.Float64() < p {
			return float64(1 + rng.IntN(3))
		}
		return 0
	}
}

// poisson draws a Poisson(lambda) count by multiplying uniforms (fine for
// the small means here).
func poisson(rng *rand.Rand, lambda float64) float64 {
	l, k, p := math.Exp(-lambda), 0.0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// TestMannWhitneyUnequalTraffic checks the false-flag bound where the
// canary gets a fifth of the baseline's requests (1200 vs 6000 per step,
// errors at 0.2%, 30 steps): per-step error rates are then noisier on the
// canary's side, which the quantile tail tests would flag, so count
// metrics are tested on their event counts. 1000 runs; the bound allows
// three binomial standard errors. The samples-only rate is logged for
// comparison (see MannWhitney, Traffic).
func TestMannWhitneyUnequalTraffic(t *testing.T) {
	const runs, steps, limit = 1000, 30, 0.02
	rng := rand.New(rand.NewPCG(5, 5))
	cfg := MetricConfig{Name: "error-rate", Unit: "percent", Direction: Increase, Tolerance: 0.25}
	withCounts, samplesOnly := 0, 0
	for range runs {
		cs, bs := make([]float64, steps), make([]float64, steps)
		var cBad, bBad float64
		for i := range cs {
			c, b := poisson(rng, 1200*0.002), poisson(rng, 6000*0.002)
			cBad, bBad = cBad+c, bBad+b
			cs[i], bs[i] = 100*c/1200, 100*b/6000
		}
		in := Input{Config: cfg, Requests: 1200 * steps,
			Canary:   Series{Value: 100 * cBad / (1200 * steps), Bad: cBad, Total: 1200 * steps, HasCounts: true, Samples: cs},
			Baseline: Series{Value: 100 * bBad / (6000 * steps), Bad: bBad, Total: 6000 * steps, HasCounts: true, Samples: bs}}
		r := ClassifyMannWhitney(in, 100)
		if r.Classification.Failed() {
			withCounts++
		}
		if len(r.Tails) != 1 || r.Tails[0].Kind != TailEvents {
			t.Fatalf("tails %+v", r.Tails)
		}
		if mw(cfg, cs, bs).Classification.Failed() {
			samplesOnly++
		}
	}
	t.Logf("false flags with event counts %d of %d, on per-step samples alone %d of %d", withCounts, runs, samplesOnly, runs)
	if rate := float64(withCounts) / runs; rate > limit+3*math.Sqrt(limit*(1-limit)/runs) {
		t.Errorf("false-flag rate %.4f above the bound %.2f", rate, limit)
	}
}
