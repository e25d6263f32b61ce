package stats

import "math"

// Extra-binomial dispersion for CountTest (Dispersion true).
//
// Production errors are not independent draws: a version's error rate
// varies from interval to interval (a noisy pod, a retry storm, a client
// pinned to one version), so the canary's share of an interval's bad events
// varies more than the binomial model allows, and a likelihood ratio that
// trusts every event rolls healthy canaries back. CountTest then treats each
// interval as a random-effects observation of the log rate ratio:
//
//	log d_i = log d + b_i,   b_i ~ (0, tau^2) independently per interval
//
// and discounts interval i's binomial log-likelihood ratios by
//
//	phi_i = 1 + a_i * tau^2,   a_i = E_i p_i (1 - p_i)
//
// where E_i is the interval's bad events and p_i = p(d_hat) the canary's
// expected share at the current estimate. a_i is the binomial Fisher
// information of log d in the interval, so 1/a_i is the binomial variance of
// its estimate and phi_i = (1/a_i + tau^2) / (1/a_i): the tempered ratio
// (L_i(d)/L_i(d0))^(1/phi_i) is, to second order in log d, the Gaussian
// likelihood ratio with the variance inflated by the random effect, the
// quasi-likelihood of Wedderburn (1974) with a per-interval dispersion
// (McCullagh & Nelder 1989, ch. 9; the DerSimonian & Laird 1986 model of
// between-study variance, with intervals as studies).
//
// Validity: with tau^2 fixed before interval i is seen (it is estimated from
// earlier intervals only), and the events independent (tau^2 = 0), every
// phi_i >= 1 keeps each factor's expectation at most 1 under H0 by Jensen's
// inequality (x^(1/phi) is concave), so the test stays exactly anytime-valid
// on independent requests whatever tau^2 is used. With real dispersion the
// guarantee is approximate (it rests on the random-effects model and on the
// estimate of tau^2); docs/simulation.md measures it on production-shaped
// traffic. A persistent difference (one canary pod whose rate differs for
// the whole rollout) is no dispersion between intervals: it is not
// discounted and needs pod-level data.
//
// tau^2 is estimated by the method of moments from the residuals of the
// earlier intervals on the log scale (see addDispersion), against the
// Mantel-Haenszel estimate of d (Mantel & Haenszel 1959, for rate ratios
// stratified by interval; Greenland & Robins 1985): under the model
// E[r_j^2] = 1 + a_j tau^2. The test discounts with an upper confidence
// bound of that estimate (dispersionTau2), priorTau2 before the first
// residual; the first interval with events fits d exactly and gives none.
// A point estimate is not enough: simulated, a plug-in of the estimate
// itself rolled back 11% of canaries at the tolerance at alpha 5% on
// overdispersed errors (sdlog 0.5), the bound 2.5%
// (TestDispersionFalseRejections). priorTau2 = 0.5 is the log-ratio
// variance of two versions whose per-interval rates vary independently by
// a log-normal factor of sdlog 0.5; dispersionZ = 1 is the bound's width in
// standard errors. Narrower bounds buy power on independent events and lose
// calibration on dispersed ones: with the tolerance-tuned prior, a canary at
// the tolerance with errors overdispersed at sdlog 0.5 (1,000 requests/s,
// 25 looks, alpha 0.01, 1,000 runs) was rejected in 0.9% of runs at z = 1,
// 1.4% at 0.75, 2.5% at 0.5 and 4.6% at 0.25, while 1.5x regressions at
// 100 requests/s were caught in 7%, 15-19% (z = 0.5) and 20% (z = 0.25) of
// the simulator's rollouts. z = 1 keeps the worst healthy case within alpha
// at a 0.1% error rate, but not at 1%: there a canary at the tolerance with
// the same overdispersion was rejected in 96 of 400 runs at alpha 5%
// (TestProfileFalseRejections). The judge's count test therefore uses the
// profile e-value (CountTest.Profile, sequential_profile.go), 4 of 400 there;
// tempering remains for the futility processes and for tests built on
// CountTest without Profile.
const (
	priorTau2   = 0.5
	dispersionZ = 1.0
)

// dispersionTau2 returns the random-effect variance tau^2 to discount
// with, from the intervals s summarises: an upper confidence bound,
//
//	tau2_hat = max(0, sum_j (r_j^2 - 1) / sum_j a_j)
//	tau2     = tau2_hat + z * sqrt(2 * sum_j (1 + a_j tau2_hat)^2) / sum_j a_j
//
// (Var(r_j^2) = 2 (1 + a_j tau^2)^2 for a normal residual), and priorTau2
// before any residual. The bound shrinks as intervals accumulate: on
// independent events to about z*sqrt(2k)/sum a_j, so the discount fades;
// on overdispersed ones it stays above the truth with high probability,
// which keeps the test valid while the estimate is still noisy.
func dispersionTau2(s CountState) float64 {
	k := float64(max(s.Informative-1, 0))
	if k == 0 || !(s.ResidualInfo > 0) {
		return priorTau2
	}
	est := math.Max(0, s.ResidualExcess/s.ResidualInfo)
	spread := k + 2*s.ResidualInfo*est + s.ResidualInfoSq*est*est
	return est + dispersionZ*math.Sqrt(2*spread)/s.ResidualInfo
}

// mhRatio returns the Mantel-Haenszel rate ratio of s, or fallback when it
// is undefined (no events on a side yet).
func mhRatio(s CountState, fallback float64) float64 {
	if s.MHNum > 0 && s.MHDen > 0 {
		return s.MHNum / s.MHDen
	}
	return fallback
}

// shareAt is the canary's expected share of bad events at rate ratio d
// with rho = canary requests / baseline requests.
func shareAt(d, rho float64) float64 { return d * rho / (d*rho + 1) }

// discount returns 1/phi for an interval with eTotal events and request
// ratio rho, given the state before it.
func (t CountTest) discount(s CountState, eTotal, rho float64) float64 {
	if !t.Dispersion {
		return 1
	}
	p := shareAt(mhRatio(s, 1), rho)
	return 1 / (1 + eTotal*p*(1-p)*dispersionTau2(s))
}

// addDispersion adds an interval's Mantel-Haenszel terms and, after the
// first informative interval, its residual to next: on the log scale, the
// empirical log rate ratio with Haldane's half-count correction,
//
//	y = log((eC + 1/2) / (eB + 1/2)) - log(nC / nB),   v = 1/(eC + 1/2) + 1/(eB + 1/2)
//
// against log d_hat: r^2 = (y - log d_hat)^2 / v, with information a = 1/v,
// so that E[r^2] = 1 + a tau^2 with tau^2 the variance of the log ratio
// (DerSimonian & Laird 1986 with weights 1/v).
func addDispersion(next *CountState, eC, eB, nC, nB float64) {
	n := nC + nB
	next.MHNum += eC * nB / n
	next.MHDen += eB * nC / n
	if next.Informative++; next.Informative == 1 {
		return
	}
	y := math.Log((eC+0.5)/(eB+0.5)) - math.Log(nC/nB)
	v := 1/(eC+0.5) + 1/(eB+0.5)
	dev := y - math.Log(mhRatio(*next, 1))
	next.ResidualExcess += dev*dev/v - 1
	next.ResidualInfo += 1 / v
	next.ResidualInfoSq += 1 / (v * v)
}
