package judge

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/birdwatch-gitops/birdwatch/analyzer/stats"
)

// ClassifyMannWhitney classifies one metric the way MannWhitney does,
// without scoring: see MannWhitney for the steps. minRequests is the
// canary request count below which the metric is NoData (when
// in.Requests is known, i.e. not negative). It never panics on any input:
// unusable data or settings become NoData or Error with the reason.
func ClassifyMannWhitney(in Input, minRequests float64) MetricResult {
	nan := math.NaN()
	res := MetricResult{Name: in.Config.Name, Unit: in.Config.Unit, Critical: in.Config.Critical,
		Canary: in.Canary.Value, Baseline: in.Baseline.Value,
		Estimate: nan, Lower: nan, Upper: nan, PValue: nan, Ratio: nan}
	c, err := resolve(in.Config)
	res.Group = c.group
	switch {
	case err != nil:
		res.Classification, res.Reason = Error, "unusable settings: "+err.Error()
		return res
	case in.Err != nil:
		res.Classification, res.Reason = Error, in.Err.Error()
		return res
	case in.Requests >= 0 && in.Requests < minRequests:
		res.Classification = NoData
		res.Reason = fmt.Sprintf("%.0f canary requests, needs %.0f", in.Requests, minRequests)
		return res
	}
	if finite(in.Canary.Value) {
		classifyThreshold(&res, in.Config, in.Canary.Value)
		if res.Classification.Failed() {
			return res
		}
	}
	canary, cs, err := prepare(in.Canary.Samples, c, "canary")
	if err == nil {
		var baseline []float64
		var bs SampleSummary
		baseline, bs, err = prepare(in.Baseline.Samples, c, "baseline")
		if err == nil {
			res.CanarySamples, res.BaselineSamples = cs, bs
			classifySamples(&res, canary, baseline, in, c)
			return res
		}
	}
	res.Classification, res.Reason = Error, err.Error()
	return res
}

// classifySamples is steps 2 to 6 of MannWhitney on prepared samples.
func classifySamples(res *MetricResult, canary, baseline []float64, in Input, c mwConfig) {
	cs, bs := res.CanarySamples, res.BaselineSamples
	if !finite(res.Canary) {
		res.Canary = cs.Mean
	}
	if !finite(res.Baseline) {
		res.Baseline = bs.Mean
	}
	if cs.N < c.minSamples || bs.N < c.minSamples {
		res.Classification = NoData
		res.Reason = fmt.Sprintf("%d canary and %d baseline samples, needs %d a side", cs.N, bs.N, c.minSamples)
		return
	}
	res.Ratio = meanRatio(cs.Mean, bs.Mean)
	switch {
	case slices.Equal(canary, baseline):
		res.Classification, res.Reason = Pass, "canary and baseline samples are identical"
		return
	case canary[0] == canary[len(canary)-1] && canary[0] == baseline[0] && baseline[0] == baseline[len(baseline)-1]:
		res.Classification, res.Reason = Pass, "every sample is "+formatValue(canary[0], c.Unit)
		return
	}
	loc, err := testLocation(canary, baseline, c)
	if err != nil {
		res.Classification, res.Reason = Error, err.Error()
		return
	}
	res.Estimate, res.Lower, res.Upper, res.Level, res.PValue = loc.est, loc.lower, loc.upper, c.confidence, loc.p
	if !c.LocationOnly {
		if res.Tails, err = testTails(canary, baseline, in.Canary, in.Baseline, c); err != nil {
			res.Classification, res.Reason = Error, err.Error()
			return
		}
	}
	decide(res, loc, c)
}

// location is the outcome of the Mann-Whitney part (Kayenta's rule).
type location struct {
	est, lower, upper, p float64
	bound                float64 // Tolerance·|est|
	high, low            bool
	degenerate           bool // both sides constant: no interval exists
}

// testLocation runs Mann-Whitney with its interval on sorted samples.
// TolRoot, R's absolute root tolerance, is set to 1e-7 of the data's
// range, so the estimate and bounds keep seven digits at any scale (R's
// default 1e-4 is absolute: too coarse for ratios near 0.001, needlessly
// fine for byte counts).
func testLocation(canary, baseline []float64, c mwConfig) (location, error) {
	lo := math.Min(canary[0], baseline[0])
	hi := math.Max(canary[len(canary)-1], baseline[len(baseline)-1])
	tol := (hi - lo) * 1e-7
	if !(tol > 0) || math.IsInf(tol, 0) {
		tol = stats.DefaultTolRoot
	}
	var l location
	r, err := stats.MannWhitneyWith(canary, baseline, stats.MannWhitneyOptions{
		Alternative: stats.TwoSided, ConfLevel: c.confidence, TolRoot: tol})
	switch {
	case errors.Is(err, stats.ErrAllTied):
		// Each side is constant (and they differ): the shift is known
		// exactly, but is it more than chance? The exact permutation test
		// of that one split answers, at the interval's level.
		t, terr := stats.ExceedanceTestSorted(canary, baseline, 0.5, stats.TwoSided)
		if terr != nil {
			return l, fmt.Errorf("mann-whitney on constant samples: %w", terr)
		}
		l.degenerate, l.est, l.p = true, canary[0]-baseline[0], t.PValue
		l.lower, l.upper = l.est, l.est
	case err != nil:
		return l, fmt.Errorf("mann-whitney: %w", err)
	default:
		// Roots within tol of 0 are 0 as far as anyone can tell (with heavy
		// ties the true estimate and bound are often exactly 0).
		snap := func(v float64) float64 {
			if math.Abs(v) <= tol {
				return 0
			}
			return v
		}
		l.est, l.lower, l.upper, l.p = snap(r.Estimate), snap(r.Lower), snap(r.Upper), r.PValue
	}
	// The bounds are roots found to within tol: one that clears the bound
	// by less than that is not told apart from it (with heavy ties the true
	// bound is often exactly 0 = Tolerance·|0|).
	l.bound = c.Tolerance * math.Abs(l.est)
	significant := !l.degenerate || l.p <= 1-c.confidence
	l.high = significant && l.lower-tol > l.bound
	l.low = significant && l.upper+tol < -l.bound
	return l, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
