// Package judge classifies each metric of a canary analysis (Pass, High,
// Low, NoData, Error) and turns the classifications into one verdict.
// Judges are pure: they see numbers already fetched and never do I/O.
package judge

import (
	"fmt"
	"math"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/analyzer/stats"
	"github.com/birdwatch-gitops/birdwatch/analyzer/verdict"
)

// Classification is one metric's outcome, in Kayenta's vocabulary.
type Classification string

// Classifications shared by every judge.
const (
	Pass   Classification = "Pass"   // no harmful change found
	High   Classification = "High"   // the canary is worse upwards (or above max)
	Low    Classification = "Low"    // the canary is worse downwards (or below min)
	NoData Classification = "NoData" // too little data to say anything
	Error  Classification = "Error"  // the metric could not be fetched
)

// Failed reports whether c counts against the canary.
func (c Classification) Failed() bool { return c == High || c == Low }

// Verdict is the outcome of one analysis as a whole; it lives in the leaf
// package verdict so that the state machine does not import the judges.
type Verdict = verdict.Verdict

// Verdicts. Inconclusive is never a reason to advance.
const (
	VerdictPass         = verdict.Pass
	VerdictFail         = verdict.Fail
	VerdictInconclusive = verdict.Inconclusive
)

// Direction says which change of a metric is harmful.
type Direction string

// Directions.
const (
	Increase Direction = "increase"
	Decrease Direction = "decrease"
	Either   Direction = "either"
)

// MetricConfig is how one metric is judged.
type MetricConfig struct {
	Name      string
	Unit      string
	Direction Direction
	// Tolerance is the relative change tolerated (0.25 = 25%).
	Tolerance float64
	// Critical metrics fail the rollout at once when they fail.
	Critical bool
	// Max and Min are absolute guards on the canary's value; nil = none.
	Max, Min *float64
	// Quantile is the stable's quantile a histogram metric is tested at
	// by the sequential judge, in (0, 1); 0 means DefaultQuantile when the
	// metric has buckets, and no quantile test otherwise.
	Quantile float64

	// The fields below are read by the mannwhitney judge (see MannWhitney);
	// their zero values are the defaults.

	// Group names the metric's group in the weighted score; "" puts the
	// metric in a group of its own, named after it.
	Group string
	// Confidence is the confidence level of the Mann-Whitney interval, in
	// (0, 1); 0 means DefaultConfidence (0.98, Kayenta's).
	Confidence float64
	// NaNStrategy says what happens to NaN samples (no value at a step):
	// NaNRemove ("" too) or NaNReplace (with 0).
	NaNStrategy NaNStrategy
	// Outliers is OutliersKeep ("" too) or OutliersRemove: drop samples
	// beyond OutlierFactor interquartile ranges from the quartiles.
	Outliers OutlierStrategy
	// OutlierFactor is the fence distance in interquartile ranges; 0 means
	// DefaultOutlierFactor (3, Kayenta's).
	OutlierFactor float64
	// AllowedIncrease and AllowedDecrease are effect-size guards on the
	// ratio of the canary's mean to the baseline's (Kayenta's): a
	// significant increase with a ratio below AllowedIncrease (e.g. 1.1),
	// or decrease above AllowedDecrease (e.g. 0.9), still passes. 0 means
	// no guard.
	AllowedIncrease, AllowedDecrease float64
	// CriticalIncrease and CriticalDecrease narrow Critical to large
	// effects: a failure of a critical metric is critical only when its
	// ratio is at least CriticalIncrease (or at most CriticalDecrease).
	// 0 means every failure of a critical metric is critical.
	CriticalIncrease, CriticalDecrease float64
	// MinSamples is the fewest samples per side the judge classifies;
	// fewer is NoData. 0 means DefaultMinSamples (10).
	MinSamples int
	// Optional leaves NoData and Error out of the score (Kayenta's
	// default); otherwise they count as not passing.
	Optional bool
	// LocationOnly skips the tail tests and judges by the Mann-Whitney
	// interval alone: Kayenta's classifier exactly, with its blind spots.
	LocationOnly bool
}

// Series is what was measured for one version in one window.
type Series struct {
	// Value is the metric's value over the window; NaN when undefined (0/0).
	Value float64
	// Bad and Total are event counts (errors and requests) when the metric is a count.
	Bad, Total float64
	HasCounts  bool
	// Skipped, when not empty, says why Bad and Total are not evidence
	// (a counter series with a NaN or negative value, more errors than
	// requests; see metrics.Measurement.Skipped); they are then NaN.
	Skipped string
	// Dropped says, per pod left out of Bad and Total, why (it appeared
	// or vanished mid-window, a counter reset; see
	// metrics.Measurement.Dropped).
	Dropped []string
	// Samples are per-step values for judges that compare distributions.
	Samples []float64
	// Buckets is the window's latency histogram (cumulative counts per
	// bucket bound) when the metric's template reads buckets (HasBuckets);
	// the sequential judge tests it with stats.QuantileTest.
	Buckets    stats.Histogram
	HasBuckets bool
}

// Input is one metric's data for one analysis. Err is set when it could not be fetched.
type Input struct {
	Config   MetricConfig
	Canary   Series
	Baseline Series
	// Requests is the canary's request count in the window, for the
	// minRequests check; negative when unknown.
	Requests float64
	Err      error
	// State is this metric's carried-over sequential state; nil when none.
	State *State
}

// State is a judge's opaque per-metric memory between analyses.
type State struct {
	Kind   string
	Values []float64
}

// Request is everything a judge needs for one analysis.
type Request struct {
	Metrics []Input
	// MinRequests below which a metric is NoData.
	MinRequests float64
	// Alpha is the false-rollback budget of the whole rollout.
	Alpha float64
	// Final is true at the last look of an analyze step.
	Final bool
	// Last is true at the final look of the last analyze step before
	// promotion: the sequential judge asks for MinRequests only then.
	Last bool
	// Scoring holds the group weights and score thresholds of the
	// mannwhitney judge; the zero value means equal weights and
	// DefaultPassScore / DefaultMarginalScore.
	Scoring Scoring
}

// MetricResult is one metric's classification with what a report needs.
type MetricResult struct {
	Name           string
	Unit           string
	Classification Classification
	Critical       bool
	// Canary and Baseline values; NaN when unknown.
	Canary, Baseline float64
	Reason           string
	// State is the new sequential state to carry; nil when the judge keeps none.
	State *State
	// EValue is the sequential evidence against the canary (reject at 1/alpha); 0 when not computed.
	EValue float64
	// LeftOut says what of the window's data was not evidence, and why:
	// a version's window skipped whole, or pods left out of its counts
	// (see LeftOutOf). Filled by the decision step, not by the judges.
	LeftOut []string

	// The fields below are filled by the mannwhitney judge; zero otherwise.

	// Group is the metric's group in the weighted score.
	Group string
	// CanarySamples and BaselineSamples describe the samples judged, after
	// the NaN strategy and outlier removal.
	CanarySamples, BaselineSamples SampleSummary
	// Estimate is the Hodges-Lehmann shift canary - baseline, and [Lower,
	// Upper] its confidence interval at level Level (R's wilcox.test); NaN
	// when the test did not run.
	Estimate, Lower, Upper, Level float64
	// PValue is the two-sided Mann-Whitney p-value; NaN when not run.
	PValue float64
	// Ratio is the canary's mean over the baseline's: 1 when both are 0,
	// NaN when only the baseline's is 0 or the test did not run.
	Ratio float64
	// Tails are the tail tests run beside Mann-Whitney, in the order run.
	Tails []TailResult
}

// Result is one analysis' outcome.
type Result struct {
	Judge   string
	Metrics []MetricResult
	// Score is 100 x passing metrics / judged metrics.
	Score   float64
	Verdict Verdict
	// Critical is true when a critical metric failed.
	Critical bool
	Reason   string
	// Groups are the group scores of the mannwhitney judge; nil otherwise.
	Groups []GroupScore
	// ScoreClass is Kayenta's reading of Score against the pass and
	// marginal thresholds; "" when the judge does not score that way.
	ScoreClass ScoreClass
}

// Judge classifies a Request. Implementations are pure and safe for concurrent use.
type Judge interface {
	// Name is the value of spec.analysis.judge that selects this judge.
	Name() string
	Judge(r Request) Result
}

// Summarize fills Score, Verdict, Critical and Reason from r.Metrics:
// any failed metric fails the analysis (a critical one is marked so);
// otherwise any NoData or Error makes it inconclusive; otherwise it passes.
func Summarize(r *Result) {
	var pass, failed, unknown int
	var failedNames, unknownNames []string
	for _, m := range r.Metrics {
		switch {
		case m.Classification == Pass:
			pass++
		case m.Classification.Failed():
			failed++
			failedNames = append(failedNames, fmt.Sprintf("%s %s (%s)", m.Name, m.Classification, m.Reason))
			if m.Critical {
				r.Critical = true
			}
		default:
			unknown++
			unknownNames = append(unknownNames, m.Name)
		}
	}
	if n := len(r.Metrics); n > 0 {
		r.Score = 100 * float64(pass) / float64(n)
	}
	if r.Critical {
		r.Score = 0
	}
	switch {
	case failed > 0:
		r.Verdict = VerdictFail
		r.Reason = strings.Join(failedNames, "; ")
	case unknown > 0 || len(r.Metrics) == 0:
		r.Verdict = VerdictInconclusive
		r.Reason = "no data for " + strings.Join(unknownNames, ", ")
	default:
		r.Verdict = VerdictPass
		r.Reason = fmt.Sprintf("%d metrics passed", pass)
	}
}

// preliminary classifies what no judge may call a pass: fetch errors and
// too little traffic. ok is false when the metric is settled by it.
func preliminary(in Input, minRequests float64) (MetricResult, bool) {
	res := MetricResult{Name: in.Config.Name, Unit: in.Config.Unit, Critical: in.Config.Critical,
		Canary: in.Canary.Value, Baseline: in.Baseline.Value}
	switch {
	case in.Err != nil:
		res.Classification, res.Reason = Error, in.Err.Error()
		res.Canary, res.Baseline = math.NaN(), math.NaN()
		return res, false
	case in.Requests >= 0 && in.Requests < minRequests:
		res.Classification = NoData
		res.Reason = fmt.Sprintf("%.0f canary requests, needs %.0f", in.Requests, minRequests)
		return res, false
	case math.IsNaN(in.Canary.Value) || math.IsInf(in.Canary.Value, 0):
		res.Classification, res.Reason = NoData, "no canary value"
		return res, false
	}
	return res, true
}

// LeftOutOf lists what of in's data is not evidence: "canary window
// skipped: why" when a version's counts were skipped whole, and
// "canary {pod=...}: why" per pod left out of them; nil when nothing was.
func LeftOutOf(in Input) []string {
	var out []string
	for _, side := range []struct {
		name string
		s    Series
	}{{"canary", in.Canary}, {"baseline", in.Baseline}} {
		if side.s.Skipped != "" {
			out = append(out, side.name+" window skipped: "+side.s.Skipped)
		}
		for _, d := range side.s.Dropped {
			out = append(out, side.name+" "+d)
		}
	}
	return out
}
