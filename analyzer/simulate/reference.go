package simulate

import (
	"errors"
	"fmt"
	"math"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/stats"
)

// MannWhitneyReference is the simulator's yardstick for "Mann-Whitney
// peeked at every interval": at each look and for each metric, a one-sided
// Mann-Whitney U test (stats.MannWhitney, as R's wilcox.test) of the
// canary's samples against the baseline's scaled by the tolerance,
//
//	increase: H1: canary > (1+tol)·baseline     decrease: H1: canary < (1-tol)·baseline
//
// over the look's window, failing the metric (High or Low) when the p-value
// is below Level (split in two for direction either). A metric with fewer
// than MinRequests canary requests in the window, or fewer than MinSamples
// finite samples per version, is NoData, as for every judge.
//
// Each metric's EValue is set to 1/p, the reciprocal of its smallest
// p-value (1/(2p) for direction either), which exceeds 1/Level exactly when
// the test rejects. It is NOT an
// e-value (its expectation under the null is unbounded): it lets Calibrate
// read, from rollouts that never fail, the level at which each would have.
//
// It is deliberately the plain fixed-sample test, not Kayenta's classifier
// (no effect-size guards, outlier removal or group scoring; the
// mannwhitney judge of analyzer/judge is that), so that Calibrate can tune
// its one level: the sequential judge must detect at least as fast as this
// test peeked every interval at the same false-rollback rate. Hand-written
// here because no judge with a settable level exists; it is not registered
// as a spec judge. Safe for concurrent use.
type MannWhitneyReference struct {
	// Level is the significance level of each test, in (0, 1); zero means
	// the request's Alpha (naive peeking: the nominal level at every look).
	Level float64
	// MinSamples per version, >= 1; zero means judge.DefaultMinSamples.
	MinSamples int
}

// NeedsSamples is true: the loop fills Series.Samples with one value per
// step of the window, as for the mannwhitney judge.
func (MannWhitneyReference) NeedsSamples() bool { return true }

// Name returns "mannwhitney-reference".
func (MannWhitneyReference) Name() string { return "mannwhitney-reference" }

// Judge tests every metric of r and summarises them as judge.Summarize does.
func (m MannWhitneyReference) Judge(r judge.Request) judge.Result {
	level := m.Level
	if level == 0 {
		level = r.Alpha
	}
	minN := m.MinSamples
	if minN == 0 {
		minN = judge.DefaultMinSamples
	}
	out := judge.Result{Judge: m.Name()}
	for _, in := range r.Metrics {
		out.Metrics = append(out.Metrics, referenceMetric(in, r.MinRequests, level, minN))
	}
	judge.Summarize(&out)
	return out
}

// referenceMetric classifies one metric.
func referenceMetric(in judge.Input, minRequests, level float64, minN int) judge.MetricResult {
	c := in.Config
	res := judge.MetricResult{Name: c.Name, Unit: c.Unit, Critical: c.Critical, Canary: in.Canary.Value,
		Baseline: in.Baseline.Value, Classification: judge.Pass}
	x, y := finiteValues(in.Canary.Samples), finiteValues(in.Baseline.Samples)
	switch {
	case in.Err != nil:
		res.Classification, res.Reason = judge.Error, in.Err.Error()
		return res
	case in.Requests >= 0 && in.Requests < minRequests:
		res.Classification = judge.NoData
		res.Reason = fmt.Sprintf("%.0f canary requests, needs %.0f", in.Requests, minRequests)
		return res
	case len(x) < minN || len(y) < minN:
		res.Classification = judge.NoData
		res.Reason = fmt.Sprintf("%d canary and %d baseline samples, needs %d each", len(x), len(y), minN)
		return res
	case !(level > 0 && level < 1):
		res.Classification, res.Reason = judge.Error, fmt.Sprintf("level %v not in (0, 1)", level)
		return res
	}
	sidesTested := 1.0
	if c.Direction == judge.Either {
		level, sidesTested = level/2, 2
	}
	sides := []struct {
		on    bool
		scale float64
		alt   stats.Alternative
		class judge.Classification
	}{
		{c.Direction != judge.Decrease, 1 + c.Tolerance, stats.Greater, judge.High},
		{c.Direction != judge.Increase, 1 - c.Tolerance, stats.Less, judge.Low},
	}
	res.Reason = "no shift beyond the tolerance"
	for _, s := range sides {
		if !s.on {
			continue
		}
		p, err := shiftPValue(x, y, s.scale, s.alt)
		if err != nil {
			res.Classification, res.Reason = judge.Error, err.Error()
			return res
		}
		res.EValue = max(res.EValue, 1/(sidesTested*p))
		if p < level {
			res.Classification = s.class
			res.Reason = fmt.Sprintf("p=%.3g < %.3g (Mann-Whitney, %d vs %d samples)", p, level, len(x), len(y))
			return res
		}
	}
	return res
}

// shiftPValue is the one-sided Mann-Whitney p-value of x against scale*y;
// samples that are all tied carry no evidence (p = 1).
func shiftPValue(x, y []float64, scale float64, alt stats.Alternative) (float64, error) {
	ys := make([]float64, len(y))
	for i, v := range y {
		ys[i] = scale * v
	}
	r, err := stats.MannWhitney(x, ys, alt, 0.95)
	switch {
	case errors.Is(err, stats.ErrAllTied):
		return 1, nil
	case err != nil:
		return math.NaN(), fmt.Errorf("mann-whitney: %w", err)
	}
	return r.PValue, nil
}

// finiteValues returns the finite values of xs (NaN strategy "remove").
func finiteValues(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, v := range xs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}
