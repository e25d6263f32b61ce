package stats

import "math"

// Beta-binomial universal-inference e-value for CountTest (Dispersion with
// Profile true).
//
// Tempering (sequential_dispersion.go) pays for dispersion on every
// interval: each log-likelihood ratio is divided by phi_i = 1 + a_i tau^2,
// with tau^2 an upper confidence bound, so on independent requests, where
// tau^2 = 0, the test still throws away a share z*sqrt(2/k) of the evidence
// of interval k (about 30% over a 30-look rollout at z = 1). The profile
// e-value pays once, in the denominator (Wasserman, Ramdas & Balakrishnan,
// "Universal inference", PNAS 2020; its sequential form, sec. 7): with the
// canary's share of interval i's E_i bad events beta-binomial,
//
//	e_c,i ~ BetaBinomial(E_i, alpha_i, beta_i),   alpha_i = 1/(tau^2 (1-p_i)),  beta_i = 1/(tau^2 p_i),
//	p_i = p_i(d) = d rho_i / (d rho_i + 1)
//
// (mean p_i, variance E_i p_i (1-p_i) (1 + (E_i - 1) rho) with intra-class
// correlation rho = tau^2 p_i (1-p_i) / (1 + tau^2 p_i (1-p_i)): to first
// order the random effect of variance tau^2 on the log rate ratio of the
// tempering model, Williams 1975, Crowder 1978; tau^2 = 0 is the binomial),
// the e-value is
//
//	E_t = sum_k w_k prod_i BB_i(d_k, tau2_(i-1)) / sup_{d in H0, tau^2 >= 0} prod_i BB_i(d, tau^2)
//
// The numerator is a mixture over the grid's alternatives d_k of products
// of predictive densities, each with the tau^2 estimated from the intervals
// before i (tau2_(i-1), the method-of-moments point estimate of
// addDispersion: a plug-in changes power, never validity), so it is a
// probability density of the sequence. The denominator is maximised over the
// whole null, dispersion included, so it is at least the likelihood of the
// truth whenever the truth is in the model: E_t is then at most a
// nonnegative martingale of mean 1 under the truth, and Ville's inequality
// bounds P(sup_t E_t >= 1/Alpha) by Alpha for every d in H0 and every
// tau^2 in [0, profileMaxTau2]. Independent requests are tau^2 = 0, so it is
// exactly valid there as well; with real dispersion it is exact when the
// share is beta-binomial and approximate otherwise (docs/simulation.md
// measures it on production-shaped traffic). On independent requests the
// numerator's estimate is near 0 and the denominator gains only what a
// fitted tau^2 explains of the noise: a cost of about one nat per rollout
// instead of a share of every interval.
//
// The state keeps every informative interval (e_c, E, rho) for the
// denominator; Up and Down hold the numerator's log-likelihoods relative to
// the binomial at the null boundary, UpProfile and DownProfile the log
// denominator on the same scale (>= 0).

// bbLogLik is log BetaBinomial(eC; n, p, tau2) without the binomial
// coefficient (it cancels in every ratio); tau2 = 0, or a dispersion so small
// that the beta-binomial is the binomial to double precision, gives the
// binomial.
func bbLogLik(eC, n, p, tau2 float64) float64 {
	binom := func() float64 {
		l := 0.0
		if eC > 0 {
			l += eC * math.Log(p)
		}
		if n-eC > 0 {
			l += (n - eC) * math.Log1p(-p)
		}
		return l
	}
	if tau2*p*(1-p) < 1e-9 {
		return binom()
	}
	if math.IsInf(tau2, 1) {
		// The limit: every interval's bad events all on one side, the
		// canary's with probability p.
		switch eC {
		case n:
			return math.Log(p)
		case 0:
			return math.Log1p(-p)
		}
		return math.Inf(-1)
	}
	a, b := 1/(tau2*(1-p)), 1/(tau2*p)
	lg := func(x float64) float64 { v, _ := math.Lgamma(x); return v }
	// log B(eC+a, n-eC+b) - log B(a, b)
	return lg(eC+a) - lg(a) + lg(n-eC+b) - lg(b) - lg(n+a+b) + lg(a+b)
}

// profileHistory is the informative intervals, packed as (e_c, E, rho).
type profileHistory []float64

// logLik is the beta-binomial log-likelihood of every interval at log rate
// ratio theta and dispersion tau2, and at theta - step (one pass; step 0
// skips it).
func (h profileHistory) logLik(theta, step, tau2 float64) (at, before float64) {
	d, dBefore := math.Exp(theta), math.Exp(theta-step)
	for i := 0; i+2 < len(h); i += 3 {
		eC, n, rho := h[i], h[i+1], h[i+2]
		at += bbLogLik(eC, n, shareAt(d, rho), tau2)
		if step != 0 {
			before += bbLogLik(eC, n, shareAt(dBefore, rho), tau2)
		}
	}
	return at, before
}

// profileTau2Grid are the dispersions the denominator's search starts from:
// 0, 17 values spaced geometrically from 1e-4 to profileMaxTau2 and, with
// profileMaxTau2 infinite, the limit +Inf (all of an interval's bad events
// on one side).
var profileTau2Grid = func() []float64 {
	top := profileMaxTau2
	if math.IsInf(top, 1) {
		top = 1e4
	}
	g := []float64{0}
	for j := 0; j <= 16; j++ {
		g = append(g, 1e-4*math.Pow(top/1e-4, float64(j)/16))
	}
	if math.IsInf(profileMaxTau2, 1) {
		g = append(g, profileMaxTau2)
	}
	return g
}()

// profileMaxTau2 is the largest dispersion the null allows: a log rate
// ratio that varies between intervals with sd 2 (a factor of 7.4), four
// times the sdlog 0.5 of each version in the simulator's overdispersed
// scenarios. Unbounded (+Inf) the denominator can explain any one interval
// by dispersion (its events all fall on one side with probability p), so no
// single look could ever reject: simulated (500 rollouts each), aleph's 50%
// errors at 10 requests/s were rolled back within 2 looks in 4% of
// rollouts unbounded, 87% at 10, 90% at 4, 92% at 2, while five failing
// clients pinned to a version (pinned-clients) were rolled back in 0%,
// 0.4%, 0.6% and 1.4%. Validity covers dispersions up to this bound.
const profileMaxTau2 = 4.0

// profileThetaSpan bounds the denominator's search over log d inside the
// null: |log d - log d0| <= 12 covers any rate ratio counts can show.
const profileThetaSpan = 12

// logDenominator returns the log denominator of the profile e-value with
// null boundary theta0 (sign +1: the null is theta <= theta0; -1: theta >=
// theta0), as the log-likelihood minus the binomial's at theta0 (so >= 0:
// theta0 with tau2 = 0 is in the search). It first takes the supremum over
// tau2 at theta0 alone, a lower bound of the whole supremum; when the
// numerator num (on the same scale) over that bound stays below
// logThreshold, the test cannot reject whatever the rest of the null gives,
// and that bound is returned: the e-value is then an upper bound of the
// profile e-value, below the threshold. Otherwise it returns the supremum
// over theta on the null side and tau2 >= 0, and the e-value is exact. (The
// sup inside the null matters only when the canary looks better than the
// boundary; searching it at every look made the simulator ten times
// slower.)
//
// Hand-written search (gonum's optimize has no bounded one-dimensional
// method): tau2 on profileTau2Grid, the best refined by golden section
// between its neighbours; for each tau2 the sup over theta is at theta0
// when the likelihood still rises there, else found by a golden-section
// search inside the null.
func (h profileHistory) logDenominator(theta0, sign, num, logThreshold float64) float64 {
	if len(h) == 0 {
		return 0
	}
	base, _ := h.logLik(theta0, 0, 0)
	atBoundary := func(tau2 float64) float64 { l, _ := h.logLik(theta0, 0, tau2); return l }
	if d0 := profileSup(atBoundary) - base; num-d0 < logThreshold {
		return max(d0, 0)
	}
	overTheta := func(tau2 float64) float64 {
		at0, before := h.logLik(theta0, sign*1e-4, tau2)
		if before <= at0 {
			return at0 // still rising towards the boundary
		}
		lo, hi := theta0-sign*profileThetaSpan, theta0
		best := goldenMax(func(th float64) float64 { l, _ := h.logLik(th, 0, tau2); return l }, min(lo, hi), max(lo, hi), 1e-3)
		return max(best, at0)
	}
	return max(profileSup(overTheta)-base, 0)
}

// profileSup returns the supremum of f over tau2 >= 0 (and the limit
// +Inf): the best of profileTau2Grid, refined by golden section in log
// tau2 between its grid neighbours.
func profileSup(f func(tau2 float64) float64) float64 {
	g := profileTau2Grid
	bestJ, best := 0, math.Inf(-1)
	for j, t2 := range g {
		if v := f(t2); v > best {
			bestJ, best = j, v
		}
	}
	if bestJ > 0 && !math.IsInf(g[bestJ], 1) {
		last := len(g) - 1
		if math.IsInf(g[last], 1) {
			last--
		}
		lo := math.Log(g[max(bestJ-1, 1)])
		hi := math.Log(g[min(bestJ+1, last)])
		best = max(best, goldenMax(func(lt float64) float64 { return f(math.Exp(lt)) }, lo, hi, 1e-3))
	}
	return best
}

// goldenMax returns the largest value of f found by a golden-section search
// on [lo, hi] (f unimodal there), to a bracket of tol.
func goldenMax(f func(float64) float64, lo, hi, tol float64) float64 {
	const invPhi = 0.6180339887498949
	a, b := lo, hi
	c, d := b-invPhi*(b-a), a+invPhi*(b-a)
	fc, fd := f(c), f(d)
	for b-a > tol {
		if fc < fd {
			a, c, fc = c, d, fd
			d = a + invPhi*(b-a)
			fd = f(d)
		} else {
			b, d, fd = d, c, fc
			c = b - invPhi*(b-a)
			fc = f(c)
		}
	}
	return max(fc, fd, f(lo), f(hi))
}

// profileTau2 is the numerator's plug-in dispersion before an interval:
// a lower confidence bound of the method-of-moments estimate of the earlier
// intervals (the estimate minus profileZ standard errors, at least 0; see
// dispersionTau2), 0 before the second informative one. A plug-in moves
// power, never validity: a low one keeps the numerator binomial on
// independent requests, where a noisy positive estimate would cost
// evidence, and a real dispersion still shows through.
func profileTau2(s CountState) float64 {
	k := float64(max(s.Informative-1, 0))
	if k == 0 || !(s.ResidualInfo > 0) {
		return 0
	}
	est := math.Max(0, s.ResidualExcess/s.ResidualInfo)
	spread := k + 2*s.ResidualInfo*est + s.ResidualInfoSq*est*est
	return math.Max(0, est-profileZ*math.Sqrt(2*spread)/s.ResidualInfo)
}

// profileZ is the width, in standard errors, below the estimate of the
// numerator's dispersion. Simulated on errors-x1-5 (1,000 rollouts), z = 0
// and z = 1 detected alike (18.5% and 19.4%): the numerator's plug-in is
// not where the power goes; the denominator's fitted dispersion is.
const profileZ = 1

// addProfileInterval adds one interval's numerator log-likelihoods to llr
// for the process with reference ratio ref and alternatives
// d_k = ref*exp(sign*u_k): log BB(eC; n, p(d_k), tau2) - log Binom(eC; n, p(ref)).
func (g *mixtureGrid) addProfileInterval(llr []float64, ref, sign, eC, n, rho, tau2 float64) {
	base := bbLogLik(eC, n, shareAt(ref, rho), 0)
	for k := range g.u {
		d := ref * g.expU[k]
		if sign < 0 {
			d = ref / g.expU[k]
		}
		llr[k] += bbLogLik(eC, n, shareAt(d, rho), tau2) - base
	}
}
