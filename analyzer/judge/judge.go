// Package judge classifies each metric of a canary analysis (Pass, High,
// Low, NoData, Error) and turns the classifications into one verdict.
// Judges are pure: they see numbers already fetched and never do I/O.
package judge

import (
	"fmt"
	"math"
	"strings"
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

// Verdict is the outcome of one analysis as a whole.
type Verdict string

// Verdicts. Inconclusive is never a reason to advance.
const (
	VerdictPass         Verdict = "Pass"
	VerdictFail         Verdict = "Fail"
	VerdictInconclusive Verdict = "Inconclusive"
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
}

// Series is what was measured for one version in one window.
type Series struct {
	// Value is the metric's value over the window; NaN when undefined (0/0).
	Value float64
	// Bad and Total are event counts (errors and requests) when the metric is a count.
	Bad, Total float64
	HasCounts  bool
	// Samples are per-step values for judges that compare distributions.
	Samples []float64
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
