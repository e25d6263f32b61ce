package judge

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/analyzer/stats"
)

// Sequential is birdwatch's default judge: an anytime-valid test that may be
// looked at every interval without raising the false-rollback rate.
//
// Count metrics (bad events vs requests per version, e.g. 5xx responses or
// requests slower than the SLO bucket) feed a mixture e-process on the
// canary's share of bad events (stats.CountTest, Lindon et al. KDD 2022).
// The evidence is carried between looks in the metric's State, so alpha is
// spent over the whole rollout, not per look; it is split evenly between the
// count metrics (Bonferroni), so the rollout's false-rollback rate stays
// below Request.Alpha. A metric fails when its e-value reaches 1/alpha.
//
// Each look must cover only the time since the previous look (Incremental),
// so no event is counted twice. minRequests applies to the whole rollout's
// canary requests at the end of an analyze step, not to one short window:
// low traffic makes the test slower, never wrong.
//
// A count metric's absolute max/min guards (percent of requests) are inside
// the error budget: they spend GuardShare of the metric's alpha and fail only
// when an anytime-valid confidence sequence for the canary's cumulative rate
// lies wholly beyond the guard (stats.RateGuard), so a canary no worse than a
// stable that itself sits at the guard is not rolled back on noise.
// Histogram metrics (a template with buckets, or a config Quantile) take a
// share of alpha like a count metric and are tested with
// stats.QuantileTest: the canary's share of requests above the bucket bound
// nearest the stable's quantile, chosen from the earlier looks (see
// judgeQuantile). Other metrics without counts (a p99 query) are judged
// only by their guards, as plain thresholds on windows with MinRequests
// requests: those are outside alpha.
//
// The count test allows for extra-binomial dispersion (stats.CountTest
// Dispersion with Profile: a beta-binomial universal-inference e-value
// whose denominator is maximised over the dispersion too), so overdispersed
// or clustered errors do not pass for a regression; Binomial turns that off
// and trusts every event. Both use the
// mixture prior tuned to the metric's tolerance (stats.CountTest
// TunedPrior).
type Sequential struct {
	// Binomial selects the plain binomial count test; its Name is then
	// "sequential-binomial".
	Binomial bool
}

// Name returns "sequential" ("sequential-binomial" with Binomial).
func (s Sequential) Name() string {
	if s.Binomial {
		return "sequential-binomial"
	}
	return "sequential"
}

// Incremental is true: each look's window starts where the previous look ended.
func (Sequential) Incremental() bool { return true }

// Judge updates each count metric's e-process with the window's counts.
func (s Sequential) Judge(r Request) Result {
	out := Result{Judge: s.Name()}
	counted := 0
	for _, in := range r.Metrics {
		if (in.Canary.HasCounts && in.Baseline.HasCounts) || isQuantileMetric(in) {
			counted++
		}
	}
	for _, in := range r.Metrics {
		out.Metrics = append(out.Metrics, judgeSequential(in, r, max(counted, 1), !s.Binomial))
	}
	Summarize(&out)
	return out
}

// judgeSequential classifies one metric and returns its new state; on any
// error the old state is carried unchanged, so evidence is never lost.
func judgeSequential(in Input, r Request, counted int, dispersion bool) MetricResult {
	res := MetricResult{Name: in.Config.Name, Unit: in.Config.Unit, Critical: in.Config.Critical,
		Canary: in.Canary.Value, Baseline: in.Baseline.Value, State: in.State}
	switch {
	case in.Err != nil:
		res.Classification, res.Reason = Error, in.Err.Error()
		return res
	case isQuantileMetric(in):
		judgeQuantile(&res, in, r, r.Alpha/float64(counted), dispersion)
		return res
	case !in.Canary.HasCounts || !in.Baseline.HasCounts:
		judgeGuardOnly(&res, in, r)
		return res
	}
	testAlpha, guardAlpha := splitAlpha(r.Alpha/float64(counted), in.Config)
	test := stats.CountTest{Tolerance: in.Config.Tolerance, Alpha: testAlpha,
		Direction: statsDirection(in.Config.Direction), Dispersion: dispersion, TunedPrior: true, Profile: dispersion}
	prev, err := unpackCountState(in.State)
	if err != nil {
		res.Classification, res.Reason = Error, "carried evidence unreadable: "+err.Error()
		return res
	}
	next, err := test.Update(prev, stats.CountObservation{CanaryBad: in.Canary.Bad, CanaryTotal: in.Canary.Total,
		BaselineBad: in.Baseline.Bad, BaselineTotal: in.Baseline.Total})
	skipped := errors.Is(err, stats.ErrSkipped)
	if err != nil && !skipped {
		res.Classification, res.Reason = Error, err.Error()
		return res
	}
	res.State = packCountState(next)
	e := test.EValue(next)
	res.EValue = e
	rates := fmt.Sprintf("canary %s of %.0f vs baseline %s of %.0f over %d looks",
		rate(next.CanaryBad, next.CanaryTotal), next.CanaryTotal, rate(next.BaselineBad, next.BaselineTotal),
		next.BaselineTotal, next.Intervals)
	enough := next.CanaryTotal >= r.MinRequests
	switch {
	case test.Decide(next) == stats.Reject:
		res.Classification = High
		if up, down := test.SideEValues(next); down > up {
			res.Classification = Low
		}
		res.Reason = fmt.Sprintf("e=%.3g >= %.3g: %s", e, 1/test.Alpha, rates)
	case guardExceeded(&res, in.Config, next, guardAlpha):
		// The absolute guard fails only on evidence: the confidence sequence
		// for the canary's rate over the rollout lies wholly beyond it.
		res.Reason += " (" + rates + ")"
	case r.Last && !enough:
		res.Classification = NoData
		res.Reason = fmt.Sprintf("%.0f canary requests in the rollout, needs %.0f before promotion", next.CanaryTotal, r.MinRequests)
	default:
		res.Classification = Pass
		res.Reason = fmt.Sprintf("e=%.3g, needs %.3g: %s", e, 1/test.Alpha, rates)
	}
	if skipped {
		res.Reason += " (this window skipped: " + skipReason(in, err) + ")"
	}
	return res
}

// GuardShare is the share of a count metric's alpha that its absolute
// max/min guards spend (split evenly between them when both are set); the
// count test keeps the rest. The guards are thus inside the error budget:
// the rollout's false-rollback rate stays below alpha with them.
const GuardShare = 0.2

// splitAlpha splits a count metric's alpha between its count test and each
// of its guards.
func splitAlpha(alpha float64, c MetricConfig) (test, guard float64) {
	guards := 0
	if c.Max != nil {
		guards++
	}
	if c.Min != nil {
		guards++
	}
	if guards == 0 {
		return alpha, 0
	}
	return alpha * (1 - GuardShare), alpha * GuardShare / float64(guards)
}

// guardExceeded applies a count metric's max/min guards (in percent of
// requests) to the rollout's cumulative canary counts with an anytime-valid
// confidence sequence at level alpha (stats.RateGuard) and reports whether
// one failed: a canary at the guard, as its stable may be, is not rolled
// back on noise.
func guardExceeded(res *MetricResult, c MetricConfig, s stats.CountState, alpha float64) bool {
	for _, g := range []struct {
		limit *float64
		above bool
	}{{c.Max, true}, {c.Min, false}} {
		if g.limit == nil {
			continue
		}
		rg := stats.RateGuard{Limit: min(max(*g.limit/100, 0), 1), Alpha: alpha, Above: g.above}
		if !rg.Exceeded(s.CanaryBad, s.CanaryTotal) {
			continue
		}
		bound := 100 * rg.Bound(s.CanaryBad, s.CanaryTotal)
		if g.above {
			res.Classification = High
			res.Reason = fmt.Sprintf("canary rate >= %s at level %.2g, above max %s", formatValue(bound, c.Unit),
				alpha, formatValue(*g.limit, c.Unit))
		} else {
			res.Classification = Low
			res.Reason = fmt.Sprintf("canary rate <= %s at level %.2g, below min %s", formatValue(bound, c.Unit),
				alpha, formatValue(*g.limit, c.Unit))
		}
		return true
	}
	return false
}

// skipReason is why a window was skipped: what the measurement said about
// its data when it said something, else the count test's refusal.
func skipReason(in Input, err error) string {
	var why []string
	for _, side := range []struct {
		name string
		s    Series
	}{{"canary", in.Canary}, {"baseline", in.Baseline}} {
		if side.s.Skipped != "" {
			why = append(why, side.name+" "+side.s.Skipped)
		}
	}
	if len(why) == 0 {
		return err.Error()
	}
	return strings.Join(why, "; ")
}

// guardFails applies the absolute max/min guards to v and reports whether one tripped.
func guardFails(res *MetricResult, c MetricConfig, v float64) bool {
	classifyThreshold(res, c, v)
	return res.Classification.Failed()
}

// judgeGuardOnly judges a metric without counts (a p99) by its guards, on
// windows with at least MinRequests canary requests; a thinner window is
// skipped, and at the last look before promotion it is NoData.
func judgeGuardOnly(res *MetricResult, in Input, r Request) {
	thin := in.Requests >= 0 && in.Requests < r.MinRequests
	switch {
	case math.IsNaN(in.Canary.Value) || (thin && r.Last):
		res.Classification, res.Reason = NoData, "no canary value"
		if thin {
			res.Reason = fmt.Sprintf("%.0f canary requests in this window, needs %.0f", in.Requests, r.MinRequests)
		}
	case thin:
		res.Classification = Pass
		res.Reason = fmt.Sprintf("guard not applied: %.0f canary requests in this window, needs %.0f", in.Requests, r.MinRequests)
	case guardFails(res, in.Config, in.Canary.Value):
	case res.Reason == "no limit set":
		res.Reason = "not a count metric and no max/min: nothing to test"
	}
}

func rate(bad, total float64) string {
	if total <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.3g%%", 100*bad/total)
}

func statsDirection(d Direction) stats.Direction {
	switch d {
	case Decrease:
		return stats.Decrease
	case Either:
		return stats.Either
	}
	return stats.Increase
}
