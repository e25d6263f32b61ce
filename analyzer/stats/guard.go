package stats

import (
	"fmt"
	"math"
)

// RateGuard is an anytime-valid test that one version's bad-event rate is
// beyond an absolute limit (a spec's max or min on an error rate), for
// cumulative counts looked at after every interval. It fails only on
// evidence: a canary whose rate sits at the limit, as a stable version's
// may, is rolled back with probability at most Alpha over the whole
// rollout, however often it is looked at.
//
// Model: the bad events are independent Bernoulli draws with rate p. For a
// max guard (Above) the null is H0: p <= L with L = Limit; the e-value is a
// mixture over alternatives p_k beyond L of the likelihood ratios
//
//	LR_k = (p_k/L)^X ((1-p_k)/(1-L))^(N-X),   logit(p_k) = logit(L) + u_k
//
// for X bad events of N requests so far, with the grid u_k and the tuned
// prior of CountTest (sequential_grid.go, scaled to a 25% change of the
// odds). Each LR_k is a nonnegative martingale at p = L and a
// supermartingale for every p < L (the binomial's monotone likelihood
// ratio), so by Ville's inequality P(sup_N E_N >= 1/Alpha) <= Alpha. The
// limits L not rejected form a confidence sequence for p (Robbins 1970;
// Howard, Ramdas, McAuliffe & Sekhon 2021, "Time-uniform, nonparametric,
// nonasymptotic confidence sequences", the discrete mixture of section 3):
// the guard fails when that sequence lies wholly beyond the limit, and
// Bound returns its edge. A min guard (Above false) mirrors it (H0: p >= L).
//
// Only the cumulative counts are needed (they are sufficient for p), and
// counts from increase() may be fractional: the formula takes them as they
// are. It assumes independent requests; overdispersed errors make it
// approximate, as the binomial count test is.
type RateGuard struct {
	// Limit is the rate, in [0, 1], the version must not exceed (Above)
	// or fall below.
	Limit float64
	// Alpha is the false-failure bound over every look, in (0, 1).
	Alpha float64
	// Above is true for a max guard, false for a min guard.
	Above bool
}

// guardTunedRatio is the odds ratio beyond the limit where the guard's
// prior is concentrated (half its mass; the other half is the wide prior).
const guardTunedRatio = 1.25

// Validate reports whether g is usable; the error wraps ErrInvalidTest.
func (g RateGuard) Validate() error {
	if !(g.Limit >= 0 && g.Limit <= 1) || !(g.Alpha > 0 && g.Alpha < 1) {
		return fmt.Errorf("rate guard: limit %v not in [0, 1] or alpha %v not in (0, 1): %w", g.Limit, g.Alpha, ErrInvalidTest)
	}
	return nil
}

// LogEValue returns the natural log of the guard's e-value for bad events
// of total requests: 0 with no evidence, +Inf when the counts are
// impossible under the null (a bad event with max 0). Invalid counts
// (negative, non-finite, bad > total) or an invalid g give 0: they are
// never evidence.
func (g RateGuard) LogEValue(bad, total float64) float64 {
	if g.Validate() != nil || !seqFinite(bad, total) || bad < 0 || total < 0 || bad > total {
		return 0
	}
	// Work with the share x of "beyond" events against the limit l, so a min
	// guard on bad events is a max guard on good ones.
	x, l := bad, g.Limit
	if !g.Above {
		x, l = total-bad, 1-g.Limit
	}
	switch {
	case l >= 1 || x == 0:
		return 0 // nothing can exceed a limit of 1; no beyond-events, no evidence
	case l <= 0:
		return math.Inf(1) // an event beyond a zero limit is impossible under H0
	}
	grid := countGrid()
	w := grid.tunedLogWeights(guardTunedRatio)
	logitL := math.Log(l) - math.Log1p(-l)
	var llr [gridSize]float64
	for k, u := range grid.u {
		// log p_k and log(1-p_k) for logit(p_k) = logit(l) + u, stably.
		z := logitL + u
		logP, log1mP := z-math.Log1p(math.Exp(z)), -math.Log1p(math.Exp(z))
		if z > 0 {
			logP, log1mP = -math.Log1p(math.Exp(-z)), -z-math.Log1p(math.Exp(-z))
		}
		llr[k] = x*(logP-math.Log(l)) + (total-x)*(log1mP-math.Log1p(-l))
	}
	return grid.logMixture(&w, llr[:])
}

// Exceeded reports whether the counts show, at level Alpha, that the rate
// is beyond the limit (above it for a max guard, below for a min guard).
func (g RateGuard) Exceeded(bad, total float64) bool {
	return g.LogEValue(bad, total) >= math.Log(1/g.Alpha)
}

// Bound returns the edge of the confidence sequence on the guard's side:
// for a max guard the largest rate L that the counts do not reject at
// level Alpha (a lower confidence bound of p, valid at every look), for a
// min guard the smallest (an upper bound). It is 0 (max) or 1 (min) when
// nothing is rejected, and NaN for an invalid g or invalid counts.
// Hand-written bisection: the e-value falls monotonically as the limit
// moves toward the observed rate, and gonum has no bounded root finder.
func (g RateGuard) Bound(bad, total float64) float64 {
	if g.Validate() != nil || !seqFinite(bad, total) || bad < 0 || total < 0 || bad > total {
		return math.NaN()
	}
	rejects := func(l float64) bool {
		h := g
		h.Limit = l
		return h.Exceeded(bad, total)
	}
	if g.Above {
		if bad == 0 || !rejects(math.SmallestNonzeroFloat64) {
			return 0
		}
		lo, hi := 0.0, 1.0 // rejects lo, never hi
		for range 60 {
			if mid := (lo + hi) / 2; rejects(mid) {
				lo = mid
			} else {
				hi = mid
			}
		}
		return lo
	}
	if bad == total || !rejects(1) {
		return 1
	}
	lo, hi := 0.0, 1.0 // never rejects lo, rejects hi
	for range 60 {
		if mid := (lo + hi) / 2; rejects(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}
