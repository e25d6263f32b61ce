package stats

import (
	"fmt"
	"testing"
)

// benchSample is the generator that scripts/bench_wilcox.R repeats, so that Go
// and R time the same data: the Park-Miller "minimal standard" generator
// s <- 16807 s mod (2^31 - 1), u = s / (2^31 - 1), and a skewed,
// latency-like value loc + 50 u / (1.05 - u). Only exact operations (integer
// arithmetic below 2^53, one division, one subtraction) are used, so both
// languages produce the same doubles.
func benchSample(seed uint64, n int, loc float64) []float64 {
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

var benchSizes = []int{100, 10_000, 1_000_000}

// BenchmarkMannWhitney times the whole test with its interval at n = m per
// size: the normal branch, as in R's wilcox.test(conf.int = TRUE).
func BenchmarkMannWhitney(b *testing.B) {
	for _, n := range benchSizes {
		x, y := benchSample(1, n, 101), benchSample(2, n, 100)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := MannWhitney(x, y, TwoSided, 0.95); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMannWhitneyExact times the exact branch at its largest size.
func BenchmarkMannWhitneyExact(b *testing.B) {
	x, y := benchSample(3, 49, 101), benchSample(4, 49, 100)
	for b.Loop() {
		if _, err := MannWhitney(x, y, TwoSided, 0.95); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHodgesLehmann times the median of all n·m differences, selected
// without forming them.
func BenchmarkHodgesLehmann(b *testing.B) {
	for _, n := range benchSizes {
		x, y := benchSample(1, n, 101), benchSample(2, n, 100)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := HodgesLehmann(x, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
