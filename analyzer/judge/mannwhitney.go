package judge

import (
	"fmt"
	"math"
)

// Defaults of the mannwhitney judge, used for zero MetricConfig and Scoring
// fields.
const (
	// DefaultConfidence is the confidence level of the Mann-Whitney
	// interval: Kayenta's NetflixACAJudge uses 0.98.
	DefaultConfidence = 0.98
	// DefaultOutlierFactor is the IQR fence distance: Kayenta's is 3.
	DefaultOutlierFactor = 3.0
	// DefaultMinSamples is the fewest samples per side that are judged.
	DefaultMinSamples = 10
	// DefaultPassScore and DefaultMarginalScore are the score thresholds
	// (Kayenta's usual 95 and 75).
	DefaultPassScore     = 95.0
	DefaultMarginalScore = 75.0
)

// NaNStrategy says what the mannwhitney judge does with NaN samples: steps
// where the metric had no value (a ratio over no requests, a gap).
type NaNStrategy string

// NaN strategies, as in Kayenta.
const (
	NaNRemove  NaNStrategy = "remove"  // drop them (the default)
	NaNReplace NaNStrategy = "replace" // count them as 0
)

// OutlierStrategy says whether the mannwhitney judge drops outliers.
type OutlierStrategy string

// Outlier strategies.
const (
	OutliersKeep   OutlierStrategy = "keep"   // judge every sample (the default)
	OutliersRemove OutlierStrategy = "remove" // drop samples beyond the IQR fences
)

// MannWhitney is the fixed-window judge of Kayenta's NetflixACAJudge: per
// metric, the canary's samples (one per step of the window) against the
// baseline's, then a weighted score over metric groups.
//
// Classification of one metric, in order:
//
//  1. a fetch error is Error; fewer canary requests than minRequests is
//     NoData; a canary value beyond the absolute max/min guard is High/Low;
//  2. samples: NaN removed or replaced by 0 (NaNStrategy), ±Inf is Error,
//     outliers beyond OutlierFactor interquartile ranges optionally removed
//     (skipped when the IQR is 0, where the fences would drop every value
//     but the mode, hiding all errors of zero-inflated data); fewer than
//     MinSamples on either side is NoData, never Pass;
//  3. identical samples, or one value throughout, Pass (as in Kayenta);
//  4. location (Kayenta): Mann-Whitney U with the Hodges-Lehmann shift
//     canary - baseline and its two-sided interval at Confidence, exactly
//     R's wilcox.test(canary, baseline, conf.int = TRUE). With the bound
//     b = Tolerance·|shift|, the metric is High when Lower > b and Low when
//     Upper < -b (Kayenta's MannWhitneyClassifier: the interval must clear
//     zero by a Tolerance share of the estimate);
//  5. tails (birdwatch): unless LocationOnly, stats.ExceedanceTest on the
//     harmful side(s): the share of samples above the pooled sample's
//     split nearest its 0.5 and 0.9 quantiles (upper side, Increase) or at
//     or below the split nearest 0.5 and 0.1 (lower side, Decrease), by
//     Fisher's exact test. A significant excess is High (upper) or Low
//     (lower). This catches what the location test misses by design: a few
//     huge values among values equal to the baseline's, a wider spread
//     around the same median, and zero-inflated metrics (error counts per
//     step) where the shift estimate is 0 whatever the canary does. For a
//     count metric whose Series carry the window's counts (HasCounts, as
//     the loop fills them), the tail test is instead Fisher's exact test
//     of the canary's share of bad events among its requests against the
//     baseline's (TailEvents): exact whatever the traffic split, where
//     per-step rates are not (see Traffic below);
//  6. effect-size guards: a finding passes when the ratio of the canary's
//     mean to the baseline's (Kayenta's effect size) is under
//     AllowedIncrease (or over AllowedDecrease); a failure of a Critical
//     metric is critical only beyond CriticalIncrease (CriticalDecrease)
//     when those are set. A NaN ratio (baseline mean 0) never passes.
//     Ratios of means assume a metric that is never negative.
//
// Error rate. Write α = 1 - Confidence. Under the null hypothesis (canary
// and baseline samples from one distribution) each harmful direction is
// flagged with probability at most α, by Bonferroni: α/2 for the side of
// the Mann-Whitney interval (Kayenta's own rate, so the interval reported
// is exactly R's at Confidence) plus α/2 shared evenly by that side's tail
// tests (α/4 each, α/2 when both splits coincide, as with a few distinct
// values). Direction Either tests both sides: at most 2α in all. The tail
// tests are exact permutation tests (their splits do not depend on the
// labels); the interval uses R's normal approximation with tie correction
// from 50 samples a side or with ties. With LocationOnly the rate is
// Kayenta's α/2 per side. TestMannWhitneyFalseFlags checks the rates by
// simulation.
//
// Samples must not overlap: each should cover its own step of the window
// (increase(x[s]) at step s), or neighbouring samples share data and the
// tests flag healthy canaries too often.
//
// Traffic. Like Kayenta's, the comparison of per-step samples assumes both
// sides are sampled alike: a canary with a fifth of the baseline's requests
// per step has noisier per-step rates and quantiles, a wider spread that
// the quantile tail tests rightly see as a different distribution: with
// 1200 against 6000 requests per step at 0.2% errors, the per-step rates
// alone flag 97 of 1000 healthy canaries, the event counts 5
// (TestMannWhitneyUnequalTraffic). Count metrics avoid it through
// TailEvents; for other metrics compare at equal traffic (weight 50, or a
// baseline deployment sized like the canary, as Kayenta does), or use
// LocationOnly.
//
// Looks. This is a fixed-window test: each look is at most as wrong as
// said above, but looking every interval at a growing window tests again
// and again, so the chance of a false failure over a rollout is larger; the
// rollout's failureLimit absorbs some of it, the sequential judge all.
//
// The score and verdict are Kayenta's weighted group score (see Scoring).
// MannWhitney is stateless and safe for concurrent use.
type MannWhitney struct{}

// Name returns "mannwhitney".
func (MannWhitney) Name() string { return "mannwhitney" }

// NeedsSamples is true: the loop must fill Series.Samples with one value
// per step of the window, for both versions.
func (MannWhitney) NeedsSamples() bool { return true }

// Judge classifies each metric and scores the analysis.
func (MannWhitney) Judge(r Request) Result {
	out := Result{Judge: "mannwhitney"}
	cfgs := make([]MetricConfig, len(r.Metrics))
	for i, in := range r.Metrics {
		cfgs[i] = in.Config
		out.Metrics = append(out.Metrics, ClassifyMannWhitney(in, r.MinRequests))
	}
	scoreKayenta(&out, cfgs, r.Scoring)
	return out
}

// mwConfig is a MetricConfig with its defaults applied.
type mwConfig struct {
	MetricConfig
	confidence, outlierFactor float64
	minSamples                int
	group                     string
}

// resolve applies the defaults and rejects settings no test can use.
func resolve(c MetricConfig) (mwConfig, error) {
	r := mwConfig{MetricConfig: c, confidence: c.Confidence, outlierFactor: c.OutlierFactor,
		minSamples: c.MinSamples, group: c.Group}
	if r.confidence == 0 {
		r.confidence = DefaultConfidence
	}
	if r.outlierFactor == 0 {
		r.outlierFactor = DefaultOutlierFactor
	}
	if r.minSamples == 0 {
		r.minSamples = DefaultMinSamples
	}
	if r.group == "" {
		r.group = c.Name
	}
	if r.Direction == "" {
		r.Direction = Increase
	}
	switch {
	case !(r.confidence > 0 && r.confidence < 1):
		return r, fmt.Errorf("confidence %v not in (0, 1)", c.Confidence)
	case !(r.Tolerance >= 0) || math.IsInf(r.Tolerance, 0):
		return r, fmt.Errorf("tolerance %v not a non-negative number", c.Tolerance)
	case !(r.outlierFactor > 0) || math.IsInf(r.outlierFactor, 0):
		return r, fmt.Errorf("outlier factor %v not positive", c.OutlierFactor)
	case r.minSamples < 1:
		return r, fmt.Errorf("minimum samples %d below 1", c.MinSamples)
	case r.Direction != Increase && r.Direction != Decrease && r.Direction != Either:
		return r, fmt.Errorf("direction %q: want increase, decrease or either", c.Direction)
	case r.NaNStrategy != "" && r.NaNStrategy != NaNRemove && r.NaNStrategy != NaNReplace:
		return r, fmt.Errorf("NaN strategy %q: want remove or replace", c.NaNStrategy)
	case r.Outliers != "" && r.Outliers != OutliersKeep && r.Outliers != OutliersRemove:
		return r, fmt.Errorf("outlier strategy %q: want keep or remove", c.Outliers)
	}
	for _, g := range []float64{c.AllowedIncrease, c.AllowedDecrease, c.CriticalIncrease, c.CriticalDecrease} {
		if !(g >= 0) || math.IsInf(g, 0) {
			return r, fmt.Errorf("effect-size guard %v not a non-negative ratio", g)
		}
	}
	return r, nil
}

// harmsUp and harmsDown say which changes of the metric are harmful.
func (c mwConfig) harmsUp() bool   { return c.Direction != Decrease }
func (c mwConfig) harmsDown() bool { return c.Direction != Increase }
