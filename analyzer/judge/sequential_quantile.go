package judge

import (
	"errors"
	"fmt"
	"math"

	"github.com/birdwatch-gitops/birdwatch/analyzer/stats"
)

// DefaultQuantile is the quantile a histogram metric is tested at when its
// config gives none.
const DefaultQuantile = 0.99

// isQuantileMetric reports whether the sequential judge tests in with the
// histogram quantile test: the config asks for a quantile or the template
// reads histogram buckets.
func isQuantileMetric(in Input) bool {
	return in.Config.Quantile > 0 || in.Canary.HasBuckets || in.Baseline.HasBuckets
}

// judgeQuantile judges a histogram metric (latency buckets) with
// stats.QuantileTest at level alpha: the canary's share of requests above
// the bucket bound nearest the stable's q-quantile (chosen from the earlier
// looks), against (1+tol) times the stable's share. The window's value is
// the histogram's q-quantile, interpolated as histogram_quantile does, when
// the template gives none; max/min guards apply to it as plain thresholds
// (outside alpha, like every guard of a metric without counts).
func judgeQuantile(res *MetricResult, in Input, r Request, alpha float64, dispersion bool) {
	q := in.Config.Quantile
	if q == 0 {
		q = DefaultQuantile
	}
	if math.IsNaN(res.Canary) {
		res.Canary = in.Canary.Buckets.Quantile(q)
	}
	if math.IsNaN(res.Baseline) {
		res.Baseline = in.Baseline.Buckets.Quantile(q)
	}
	test := stats.QuantileTest{Quantile: q, Count: stats.CountTest{Tolerance: in.Config.Tolerance, Alpha: alpha,
		Direction: statsDirection(in.Config.Direction), Dispersion: dispersion, TunedPrior: true, Profile: dispersion}}
	prev, err := unpackQuantileState(in.State)
	if err != nil {
		res.Classification, res.Reason = Error, "carried evidence unreadable: "+err.Error()
		return
	}
	next, err := test.Update(prev, in.Canary.Buckets, in.Baseline.Buckets)
	skipped := errors.Is(err, stats.ErrSkipped)
	if err != nil && !skipped {
		res.Classification, res.Reason = Error, err.Error()
		return
	}
	res.State = packQuantileState(next)
	e := test.EValue(next)
	res.EValue = e
	c := next.Count
	shares := fmt.Sprintf("canary %s of %.0f vs baseline %s of %.0f requests above the stable's p%s bucket (le=%s) over %d looks",
		rate(c.CanaryBad, c.CanaryTotal), c.CanaryTotal, rate(c.BaselineBad, c.BaselineTotal), c.BaselineTotal,
		formatQuantile(q), formatValue(next.Threshold, ""), c.Intervals)
	if next.Threshold == 0 {
		shares = "first look: the stable's histogram is the reference for the next look's threshold"
	}
	switch {
	case test.Decide(next) == stats.Reject:
		res.Classification = High
		if up, down := test.Count.SideEValues(c); down > up {
			res.Classification = Low
		}
		res.Reason = fmt.Sprintf("e=%.3g >= %.3g: %s", e, 1/alpha, shares)
	case !math.IsNaN(res.Canary) && guardFails(res, in.Config, res.Canary):
		res.Reason += " (plain threshold on the window's quantile, outside alpha)"
	case r.Last && c.CanaryTotal < r.MinRequests:
		res.Classification = NoData
		res.Reason = fmt.Sprintf("%.0f canary requests tested in the rollout, needs %.0f before promotion", c.CanaryTotal, r.MinRequests)
	default:
		res.Classification = Pass
		res.Reason = fmt.Sprintf("e=%.3g, needs %.3g: %s", e, 1/alpha, shares)
	}
	if skipped {
		res.Reason += " (this window skipped: " + skipReason(in, err) + ")"
	}
}

// formatQuantile spells q as a percentile: 0.99 -> "99", 0.999 -> "99.9".
func formatQuantile(q float64) string { return fmt.Sprintf("%.4g", 100*q) }

// quantileStateKind names the layout of a QuantileState packed into a State.
const quantileStateKind = "quantile/v1"

// packQuantileState flattens s into one list of numbers (the status file
// stores it on one line; +Inf, which JSON cannot hold, is left implicit):
//
//	threshold, n, finite reference bounds (n)..., reference counts (n+1)..., packed count state...
func packQuantileState(s stats.QuantileState) *State {
	ref := s.Reference
	n := max(len(ref.Bounds)-1, 0)
	v := []float64{s.Threshold, float64(n)}
	v = append(v, ref.Bounds[:n]...)
	if len(ref.Counts) == 0 {
		v = append(v, 0) // no reference yet
	}
	v = append(v, ref.Counts...)
	v = append(v, packCountState(s.Count).Values...)
	return &State{Kind: quantileStateKind, Values: v}
}

// unpackQuantileState reverses packQuantileState; nil gives the zero state.
func unpackQuantileState(st *State) (stats.QuantileState, error) {
	var s stats.QuantileState
	if st == nil {
		return s, nil
	}
	if st.Kind != quantileStateKind {
		return s, fmt.Errorf("evidence of kind %q, want %q", st.Kind, quantileStateKind)
	}
	v := st.Values
	if len(v) < 2 || !(v[1] >= 0) || v[1] != math.Trunc(v[1]) || v[1] > float64(len(v)) {
		return s, fmt.Errorf("evidence has no readable reference histogram")
	}
	s.Threshold = v[0]
	n := int(v[1])
	rest := v[2:]
	if len(rest) < 2*n+1 {
		return s, fmt.Errorf("evidence holds %d numbers, the reference histogram needs %d", len(rest), 2*n+1)
	}
	if n > 0 || rest[0] > 0 {
		s.Reference.Bounds = append(append([]float64(nil), rest[:n]...), math.Inf(1))
		s.Reference.Counts = append([]float64(nil), rest[n:2*n+1]...)
	}
	count, err := unpackCountState(&State{Kind: countStateKind, Values: rest[2*n+1:]})
	s.Count = count
	return s, err
}
