package simulate

import "math"

// z95 is the standard normal quantile for a two-sided 95% interval, Φ⁻¹(0.975).
const z95 = 1.959963984540054

// Rate is a share of runs with its Wilson 95% confidence interval.
type Rate struct {
	// Count of runs out of Runs.
	Count int `json:"count"`
	Runs  int `json:"runs"`
	// Value is Count/Runs; Lower and Upper bound it, all in [0, 1].
	Value float64 `json:"value"`
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
}

// NewRate returns k of n with its Wilson 95% interval; n = 0 gives NaNs.
func NewRate(k, n int) Rate {
	lo, hi := Wilson(k, n, z95)
	v := math.NaN()
	if n > 0 {
		v = float64(k) / float64(n)
	}
	return Rate{Count: k, Runs: n, Value: v, Lower: lo, Upper: hi}
}

// Wilson returns the Wilson score interval for k successes in n trials at
// normal quantile z (1.96 for 95%), without continuity correction, as R's
// prop.test(k, n, correct = FALSE)$conf.int (Wilson, "Probable inference,
// the law of succession, and statistical inference", JASA 22, 1927;
// Newcombe, Statistics in Medicine 17, 1998, method 3):
//
//	center = (p + z²/(2n)) / (1 + z²/n)
//	half   = z/(1 + z²/n) · sqrt(p(1-p)/n + z²/(4n²)),   p = k/n
//
// Special cases: n <= 0, k outside [0, n] or z not > 0 give NaN, NaN; the
// bounds are clamped to [0, 1] (they reach 0 at k = 0 and 1 at k = n).
// Hand-written: gonum has no binomial proportion interval.
func Wilson(k, n int, z float64) (lower, upper float64) {
	if n <= 0 || k < 0 || k > n || !(z > 0) || math.IsInf(z, 0) {
		return math.NaN(), math.NaN()
	}
	nf, p := float64(n), float64(k)/float64(n)
	z2 := z * z
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z / denom * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	lower, upper = max(0, center-half), min(1, center+half)
	if k == 0 {
		lower = 0
	}
	if k == n {
		upper = 1
	}
	return lower, upper
}
