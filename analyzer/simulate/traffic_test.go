package simulate

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

const draws = 20000

// meanVar returns the sample mean and variance of n draws of f.
func meanVar(n int, f func() float64) (mean, variance float64) {
	var sum, sum2 float64
	for range n {
		x := f()
		sum += x
		sum2 += x * x
	}
	mean = sum / float64(n)
	return mean, sum2/float64(n) - mean*mean
}

// TestPoissonBinomialMoments checks the samplers' means and variances: the
// mean within 5 standard errors, the variance within 10%.
func TestPoissonBinomialMoments(t *testing.T) {
	tests := []struct {
		name       string
		draw       func(g *generator) float64
		mean, vari float64
	}{
		{"poisson 0.5 (direct method)", func(g *generator) float64 { return g.poisson(0.5) }, 0.5, 0.5},
		{"poisson 6 (1% of 10 requests/s)", func(g *generator) float64 { return g.poisson(6) }, 6, 6},
		{"poisson 600 (rejection method)", func(g *generator) float64 { return g.poisson(600) }, 600, 600},
		{"poisson 0 is 0", func(g *generator) float64 { return g.poisson(0) }, 0, 0},
		{"binomial 600 x 0.001", func(g *generator) float64 { return g.binomial(600, 0.001) }, 0.6, 600 * 0.001 * 0.999},
		{"binomial 6 x 0.5", func(g *generator) float64 { return g.binomial(6, 0.5) }, 3, 1.5},
		{"binomial 30000 x 0.002", func(g *generator) float64 { return g.binomial(30000, 0.002) }, 60, 30000 * 0.002 * 0.998},
		{"binomial p = 1 is n", func(g *generator) float64 { return g.binomial(7, 1) }, 7, 0},
		{"binomial n = 0 is 0", func(g *generator) float64 { return g.binomial(0, 0.3) }, 0, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &generator{rng: rand.New(rand.NewPCG(3, uint64(i)))}
			mean, vari := meanVar(draws, func() float64 { return tt.draw(g) })
			se := math.Sqrt(tt.vari / draws)
			if math.Abs(mean-tt.mean) > 5*se+1e-12 {
				t.Errorf("case %d: mean %.4f, want %.4f (standard error %.4f)", i, mean, tt.mean, se)
			}
			if math.Abs(vari-tt.vari) > 0.1*tt.vari+1e-12 {
				t.Errorf("case %d: variance %.4f, want %.4f", i, vari, tt.vari)
			}
		})
	}
}

// TestMultinomial: the cells sum to n and each has mean n*p.
func TestMultinomial(t *testing.T) {
	tests := []struct {
		name  string
		n     float64
		probs []float64
	}{
		{"three cells", 100, []float64{0.2, 0.5, 0.3}},
		{"an empty cell", 50, []float64{0.4, 0, 0.6}},
		{"latency buckets", 600, bucketProbabilities(Behaviour{LatencyMedian: 100, LatencySigma: 0.5}, istioBuckets())},
		{"weights, not probabilities, with empty cells last", 80, []float64{0.25, 0.5, 0, 0}},
		{"no events", 0, []float64{0.5, 0.5}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &generator{rng: rand.New(rand.NewPCG(4, uint64(i)))}
			sums := make([]float64, len(tt.probs))
			for range draws {
				cells := g.multinomial(tt.n, tt.probs)
				total := 0.0
				for j, c := range cells {
					sums[j] += c
					total += c
				}
				if total != tt.n || (len(cells) == 4 && cells[2]+cells[3] != 0) {
					t.Fatalf("case %d: cells %v sum to %v, want %v", i, cells, total, tt.n)
				}
			}
			w := sum(tt.probs)
			for j, p := range tt.probs {
				p /= w
				mean, se := sums[j]/draws, math.Sqrt(tt.n*p*(1-p)/draws)
				if math.Abs(mean-tt.n*p) > 5*se+1e-12 {
					t.Errorf("case %d cell %d: mean %.4f, want %.4f", i, j, mean, tt.n*p)
				}
			}
		})
	}
}

// TestLatencyCDF compares with R: 1 - plnorm(250, log(median), 0.5), and
// for the tail 1 - (0.98*plnorm(250, log(100), .5) + 0.02*plnorm(250, log(1000), .5)).
func TestLatencyCDF(t *testing.T) {
	base := Behaviour{LatencyMedian: 100, LatencySigma: 0.5}
	tests := []struct {
		name string
		b    Behaviour
		x    float64
		want float64 // P(latency > x)
	}{
		{"slower than 250 ms", base, 250, 0.033432418409},
		{"10% slower", Behaviour{LatencyMedian: 110, LatencySigma: 0.5}, 250, 0.050299032577},
		{"2% ten times slower", Behaviour{LatencyMedian: 100, LatencySigma: 0.5, TailShare: 0.02, TailFactor: 10}, 250, 0.052708157683},
		{"the median", base, 100, 0.5},
		{"zero", base, 0, 1},
		{"constant latency below x", Behaviour{LatencyMedian: 100}, 250, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := 1 - latencyCDF(tt.b, tt.x); math.Abs(got-tt.want) > 1e-10 {
				t.Errorf("case %d: P(latency > %v) = %.12f, want %.12f", i, tt.x, got, tt.want)
			}
			probs := bucketProbabilities(tt.b, istioBuckets())
			sum := 0.0
			for _, p := range probs {
				sum += p
			}
			if math.Abs(sum-1) > 1e-12 {
				t.Errorf("case %d: bucket probabilities sum to %v", i, sum)
			}
		})
	}
}

// TestHistogramQuantile checks PromQL's histogram_quantile rules on
// buckets le=1, 2, 4, +Inf holding 10 observations each.
func TestHistogramQuantile(t *testing.T) {
	bounds := []float64{1, 2, 4}
	cum := []float64{10, 20, 30, 40}
	tests := []struct {
		name       string
		q          float64
		cumulative []float64
		want       float64
	}{
		{"within the first bucket, which starts at 0", 0.1, cum, 0.4},
		{"top of the first bucket", 0.25, cum, 1},
		{"top of the second bucket", 0.5, cum, 2},
		{"interpolated in the third", 0.6, cum, 2.8},
		{"in +Inf: the highest finite bound", 0.9, cum, 4},
		{"no observations", 0.99, []float64{0, 0, 0, 0}, math.NaN()},
		{"wrong shape", 0.5, []float64{1}, math.NaN()},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bounds
			if len(tt.cumulative) != len(cum) {
				b = nil
			}
			got := histogramQuantile(tt.q, b, tt.cumulative)
			if !(got == tt.want || math.IsNaN(got) && math.IsNaN(tt.want)) && math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("case %d: %v, want %v", i, got, tt.want)
			}
		})
	}
}

// TestGeneratorInterval checks one interval's draws against the scenario:
// requests split by weight, errors and slow requests at each version's
// rates, a histogram whose count above the SLO is the slow count, over
// many intervals.
func TestGeneratorInterval(t *testing.T) {
	s, err := Lookup("latency-shift-10pct")
	if err != nil {
		t.Fatal(err)
	}
	s.Canary.ErrorRate = 0.02
	tests := []struct {
		name       string
		weight     int
		assertions func(t *testing.T, canary, baseline windowTotals, n int)
	}{
		{"weight 0: no canary traffic", 0, func(t *testing.T, canary, baseline windowTotals, n int) {
			if canary.requests != 0 || canary.cumulative[len(canary.cumulative)-1] != 0 {
				t.Errorf("canary served %v requests", canary.requests)
			}
			checkMean(t, "baseline requests", baseline.requests, float64(n)*6000, float64(n)*6000)
		}},
		{"weight 10", 10, func(t *testing.T, canary, baseline windowTotals, n int) {
			checkMean(t, "canary requests", canary.requests, float64(n)*600, float64(n)*600)
			checkMean(t, "baseline requests", baseline.requests, float64(n)*5400, float64(n)*5400)
			checkMean(t, "canary errors", canary.errors, canary.requests*0.02, canary.requests*0.02)
			checkMean(t, "baseline errors", baseline.errors, baseline.requests*0.001, baseline.requests*0.001)
			checkMean(t, "canary slow", canary.slow, canary.requests*0.050299032577, canary.requests*0.05)
			checkMean(t, "baseline slow", baseline.slow, baseline.requests*0.033432418409, baseline.requests*0.033)
			if len(canary.stepRequests) != n*s.SubSteps || len(canary.stepSlow) != n*s.SubSteps {
				t.Errorf("%d sub-steps over %d intervals", len(canary.stepRequests), n)
			}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGenerator(&s, rand.New(rand.NewPCG(5, uint64(i))))
			var intervals []intervalData
			for range 500 {
				d := g.interval(tt.weight)
				for _, v := range []versionData{d.canary, d.baseline} {
					le := slices.Index(g.bounds, s.SLO)
					above := 0.0
					for _, c := range v.buckets[le+1:] {
						above += c
					}
					if above != v.slow || sum(v.buckets) != v.requests || sum(v.stepRequests) != v.requests {
						t.Fatalf("%v requests, %v slow, buckets %v", v.requests, v.slow, v.buckets)
					}
				}
				intervals = append(intervals, d)
			}
			canary := totals(intervals, func(d *intervalData) *versionData { return &d.canary }, len(g.bounds))
			baseline := totals(intervals, func(d *intervalData) *versionData { return &d.baseline }, len(g.bounds))
			tt.assertions(t, canary, baseline, len(intervals))
		})
	}
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// TestSamples: per-step samples follow metrics.SampleStep, whole steps of
// sub-steps from the window's start, NaN where a step had no requests.
func TestSamples(t *testing.T) {
	s, err := Lookup("healthy")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		window     time.Duration
		minSamples int
		per        int
	}{
		{"1m window: ten 6s steps", time.Minute, 0, 1},
		{"3m window: ten 18s steps", 3 * time.Minute, 0, 3},
		{"10m window: the interval", 10 * time.Minute, 0, 10},
		{"25m window: the interval", 25 * time.Minute, 0, 10},
		{"20 samples wanted from 10m: 30s steps", 10 * time.Minute, 20, 5},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := samplesPer(&s, tt.window, tt.minSamples); got != tt.per {
				t.Errorf("case %d: %d sub-steps a sample, want %d", i, got, tt.per)
			}
		})
	}
	got := stepValues([]float64{10, 0, 5, 5, 20, 0, 7}, []float64{1, 0, 0, 5, 2, 0, 7}, 2)
	want := []float64{10, 50, 10} // the 7th sub-step makes no whole step
	if len(got) != len(want) {
		t.Fatalf("samples %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sample %d = %v, want %v", i, got[i], want[i])
		}
	}
	if v := stepValues([]float64{0, 0}, []float64{0, 0}, 1); !math.IsNaN(v[0]) {
		t.Errorf("no requests gave %v, want NaN", v[0])
	}
}

// checkMean fails when a sum is more than 5 standard deviations (sqrt of
// variance) from what was expected.
func checkMean(t *testing.T, what string, got, want, variance float64) {
	t.Helper()
	if math.Abs(got-want) > 5*math.Sqrt(variance) {
		t.Errorf("%s: %.0f, want %.0f ± %.0f", what, got, want, 5*math.Sqrt(variance))
	}
}

// TestEdgeScenarios: the edge scenarios sit exactly at the tolerance (the
// median of the latency edge agrees with R's 250/exp(0.5*qnorm(1-1.05*p0))).
func TestEdgeScenarios(t *testing.T) {
	tests := []struct {
		name  string
		ratio func(s Scenario) float64
		want  float64
	}{
		{"healthy-edge", func(s Scenario) float64 { return s.Canary.ErrorRate / s.Baseline.ErrorRate }, 1.25},
		{"healthy-latency-edge", func(s Scenario) float64 {
			return (1 - latencyCDF(s.Canary, s.SLO)) / (1 - latencyCDF(s.Baseline, s.SLO))
		}, 1.05},
		{"healthy-latency-edge", func(s Scenario) float64 { return s.Canary.LatencyMedian }, 101.1068603291},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Lookup(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.ratio(s); math.Abs(got-tt.want) > 1e-8*tt.want {
				t.Errorf("case %d: %.10f, want %.10f", i, got, tt.want)
			}
		})
	}
}

func TestScenariosValid(t *testing.T) {
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			if s.Intervals() < 1 || s.Interval != time.Minute {
				t.Errorf("%d intervals of %s", s.Intervals(), s.Interval)
			}
		})
	}
}
