package simulate

import (
	"fmt"
	"math"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"gonum.org/v1/gonum/stat/distuv"
)

// LikelihoodRatioReference is the ceiling the sequential judge is measured
// against: the fixed-horizon likelihood-ratio test that looks once, at the
// last look before promotion, at every interval's counts. It never rolls
// back earlier, so it pays nothing for peeking; no test that may stop at
// every look can be expected to detect more often at the same level.
//
// For each count metric (direction increase), with per-interval bad events
// e_c, e_b and the request ratio rho of the interval, the stratified
// conditional log-likelihood of theta = log d is
//
//	l(theta) = sum_i e_c,i log p_i + e_b,i log(1 - p_i),   p_i = e^theta rho_i / (e^theta rho_i + 1)
//
// and the one-sided test of H0: d <= d0 = 1+tolerance rejects when the
// signed root of 2 (l(theta_hat) - l(log d0)) exceeds the normal quantile
// at the metric's share of alpha (alpha split evenly over the count
// metrics, as the sequential judge splits it). It assumes independent
// requests: on overdispersed traffic it is no ceiling but an invalid test.
// Not registered as a spec judge. Safe for concurrent use.
type LikelihoodRatioReference struct{}

// Name returns "likelihood-ratio-ceiling".
func (LikelihoodRatioReference) Name() string { return "likelihood-ratio-ceiling" }

// Incremental is true: each look adds its window's counts to the state.
func (LikelihoodRatioReference) Incremental() bool { return true }

// lrtKind names the state: triples of e_c, e_b, rho per interval with events.
const lrtKind = "lrt-intervals/v1"

// Judge adds the window's counts of every count metric to its state and,
// at the last look, tests them.
func (l LikelihoodRatioReference) Judge(r judge.Request) judge.Result {
	out := judge.Result{Judge: l.Name()}
	counted := countMetrics(r.Metrics)
	for _, in := range r.Metrics {
		res := judge.MetricResult{Name: in.Config.Name, Unit: in.Config.Unit, Critical: in.Config.Critical,
			Classification: judge.Pass, Reason: "not tested before the last look"}
		if !in.Canary.HasCounts || !in.Baseline.HasCounts {
			out.Metrics = append(out.Metrics, res)
			continue
		}
		st := &judge.State{Kind: lrtKind}
		if in.State != nil {
			st.Values = append(st.Values, in.State.Values...)
		}
		if eC, eB := math.Round(in.Canary.Bad), math.Round(in.Baseline.Bad); eC+eB > 0 && in.Canary.Total > 0 && in.Baseline.Total > 0 {
			st.Values = append(st.Values, eC, eB, in.Canary.Total/in.Baseline.Total)
		}
		res.State = st
		if r.Last {
			z := signedRootLRT(st.Values, math.Log1p(in.Config.Tolerance))
			crit := distuv.UnitNormal.Quantile(1 - r.Alpha/float64(counted))
			res.EValue = z
			res.Reason = fmt.Sprintf("signed root %.3g, critical %.3g", z, crit)
			if z >= crit {
				res.Classification = judge.High
			}
		}
		out.Metrics = append(out.Metrics, res)
	}
	judge.Summarize(&out)
	return out
}

// signedRootLRT returns the signed root of the likelihood-ratio statistic
// of H0: theta <= theta0 for intervals packed as (e_c, e_b, rho) triples;
// 0 when the estimate is at or below theta0.
func signedRootLRT(v []float64, theta0 float64) float64 {
	loglik := func(theta float64) (l, score float64) {
		for i := 0; i+2 < len(v); i += 3 {
			eC, eB, rho := v[i], v[i+1], v[i+2]
			x := theta + math.Log(rho)
			// log p = -log(1+e^-x), log(1-p) = -log(1+e^x)
			l -= eC*math.Log1p(math.Exp(-x)) + eB*math.Log1p(math.Exp(x))
			p := 1 / (1 + math.Exp(-x))
			score += eC - (eC+eB)*p
		}
		return l, score
	}
	l0, s0 := loglik(theta0)
	if s0 <= 0 {
		return 0
	}
	// The log-likelihood is concave, so its score falls: bisect the score's
	// zero on [theta0, theta0+30] (30 covers any rate ratio counts can show).
	// Hand-written: gonum's optimize has no bounded one-dimensional search.
	lo, hi := theta0, theta0+30
	for range 100 {
		mid := (lo + hi) / 2
		if _, s := loglik(mid); s > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	lHat, _ := loglik((lo + hi) / 2)
	return math.Sqrt(math.Max(0, 2*(lHat-l0)))
}

// countMetrics returns how many of ms have counts on both versions: the
// metrics alpha is split over by the count-only reference judges.
func countMetrics(ms []judge.Input) int {
	n := 0
	for _, in := range ms {
		if in.Canary.HasCounts && in.Baseline.HasCounts {
			n++
		}
	}
	return n
}
