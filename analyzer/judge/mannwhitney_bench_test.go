package judge

import (
	"fmt"
	"math"
	"testing"
)

// benchSamples is the data of analyzer/stats' benchmarks (and of
// scripts/bench_wilcox.R): the Park-Miller generator and a skewed,
// latency-like value loc + 50u/(1.05-u), exact in double arithmetic.
func benchSamples(seed uint64, n int, loc float64) []float64 {
	const modulus = 2147483647
	v := make([]float64, n)
	s := seed
	for i := range v {
		s = 16807 * s % modulus
		u := float64(s) / modulus
		v[i] = loc + 50*u/(1.05-u)
	}
	return v
}

// BenchmarkMannWhitneyJudge times one metric through the whole judge
// (samples prepared and sorted, Mann-Whitney with its interval, the tail
// tests of direction either, scoring) for 100, 10k and 1M samples a side.
func BenchmarkMannWhitneyJudge(b *testing.B) {
	for _, n := range []int{100, 10_000, 1_000_000} {
		canary, baseline := benchSamples(1, n, 101), benchSamples(2, n, 100)
		for _, only := range []bool{false, true} {
			name := fmt.Sprintf("n=%d", n)
			if only {
				name += "/location-only"
			}
			req := Request{Metrics: []Input{{Config: MetricConfig{Name: "latency", Direction: Either, Tolerance: 0.25, LocationOnly: only},
				Requests: -1, Canary: Series{Value: math.NaN(), Samples: canary}, Baseline: Series{Value: math.NaN(), Samples: baseline}}}}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					if r := (MannWhitney{}).Judge(req); r.Metrics[0].Classification == Error {
						b.Fatal(r.Metrics[0].Reason)
					}
				}
			})
		}
	}
}
