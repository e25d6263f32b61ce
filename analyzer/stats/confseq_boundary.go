package stats

import "math"

// mixtureRho2 returns the squared scale rho^2 of the normal mixture, in
// standardised units, that makes the boundary tightest near horizon
// effective samples (the choice recommended by Waudby-Smith et al. 2021 for
// their asymptotic confidence sequences, after Howard et al. 2021):
//
//	rho^2 = (-2 log a + log(1 - 2 log a)) / horizon
func mixtureRho2(a, horizon float64) float64 {
	l := -2 * math.Log(a)
	return (l + math.Log1p(l)) / horizon
}

// mixtureMargin returns the half-width, in standard errors, of the one-sided
// normal-mixture boundary at level a after v = rho^2 * n_eff (standardised
// intrinsic time):
//
//	margin = sqrt(1 + 1/v) * x,  where x solves
//	2/sqrt(1+v) * exp(x^2/2) * Phi(x) = 1/a
//
// The left side is the one-sided (half-normal on lambda >= 0) mixture of the
// Gaussian exponential martingales exp(lambda*S - lambda^2*V/2), evaluated at
// S = x*sqrt(V + 1/rho_m^2) (the one-sided normal mixture of Howard et al.
// 2021; mixing over lambda >= 0 only gives a tighter one-sided bound than the
// two-sided closed form). It is increasing in x, so the boundary is where it
// crosses 1/a. NaN if v <= 0.
func mixtureMargin(a, v float64) float64 {
	if !(v > 0) {
		return math.NaN()
	}
	c := math.Log(1/a) - math.Ln2 + 0.5*math.Log1p(v)
	return math.Sqrt(1+1/v) * solveHalfNormalMixture(c)
}

// solveHalfNormalMixture returns the x with h(x) = x^2/2 + log Phi(x) = c.
//
// Hand-written Newton iteration, because gonum has no scalar root finder:
// h is increasing and convex on the whole line (its second derivative
// 1 - r(x)(x + r(x)) is in (0, 1), r = phi/Phi the inverse Mills ratio), so
// Newton started to the right of the root decreases monotonically onto it. The start
// x0 = sqrt(2 max(c, 0)) + 1 has h(x0) > c.
func solveHalfNormalMixture(c float64) float64 {
	x := math.Sqrt(2*math.Max(c, 0)) + 1
	for range 100 {
		logPhi, mills := logNormalCDFMills(x)
		step := (x*x/2 + logPhi - c) / (x + mills)
		x -= step
		if math.Abs(step) <= 4e-16*math.Abs(x) {
			break
		}
	}
	return x
}

// logNormalCDFMills returns log Phi(x) and phi(x)/Phi(x) for the standard
// normal, accurate for the x >= -30 this package uses.
func logNormalCDFMills(x float64) (logPhi, mills float64) {
	var cdf float64
	if x > 0 {
		tail := 0.5 * math.Erfc(x/math.Sqrt2)
		logPhi, cdf = math.Log1p(-tail), 1-tail
	} else {
		cdf = 0.5 * math.Erfc(-x/math.Sqrt2)
		logPhi = math.Log(cdf)
	}
	pdf := math.Exp(-x*x/2) / math.Sqrt(2*math.Pi)
	return logPhi, pdf / cdf
}
