package simulate

import (
	"math"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
)

// windowTotals is one version's sums over a window of intervals.
type windowTotals struct {
	requests, errors, slow float64
	// cumulative is the window's latency histogram, cumulative per bound.
	cumulative []float64
	// stepRequests, stepErrors and stepSlow are the window's sub-steps, in order.
	stepRequests, stepErrors, stepSlow []float64
}

// totals sums the version picked by pick over intervals.
func totals(intervals []intervalData, pick func(*intervalData) *versionData, nBounds int) windowTotals {
	t := windowTotals{cumulative: make([]float64, nBounds+1)}
	for i := range intervals {
		v := pick(&intervals[i])
		t.requests += v.requests
		t.errors += v.errors
		t.slow += v.slow
		for j, c := range v.buckets {
			t.cumulative[j] += c
		}
		t.stepRequests = append(t.stepRequests, v.stepRequests...)
		t.stepErrors = append(t.stepErrors, v.stepErrors...)
		t.stepSlow = append(t.stepSlow, v.stepSlow...)
	}
	for j := 1; j < len(t.cumulative); j++ {
		t.cumulative[j] += t.cumulative[j-1]
	}
	return t
}

// percent is 100*bad/total, NaN when total is 0 (an undefined rate, as
// Prometheus returns for 0/0).
func percent(bad, total float64) float64 {
	if total == 0 {
		return math.NaN()
	}
	return 100 * bad / total
}

// stepValues returns the per-step samples of a window of sub-steps as
// functions/core's measureSamples takes them: steps of `per` sub-steps from
// the window's start, whole steps only, each 100*bad/requests over its own
// step (NaN without requests), as a range query of the template at that step.
func stepValues(requests, bad []float64, per int) []float64 {
	n := len(requests) / per
	out := make([]float64, n)
	for j := range out {
		var r, b float64
		for i := j * per; i < (j+1)*per; i++ {
			r += requests[i]
			b += bad[i]
		}
		out[j] = percent(b, r)
	}
	return out
}

// samplesPer is how many sub-steps make one sample step for a window of
// window: metrics.SampleStep (the interval, or the window split into the
// judge's minimum number of samples) rounded to whole sub-steps.
func samplesPer(s *Scenario, window time.Duration, minSamples int) int {
	if minSamples == 0 {
		minSamples = judge.DefaultMinSamples
	}
	step := metrics.SampleStep(s.Interval, window, minSamples)
	sub := s.Interval / time.Duration(s.SubSteps)
	return max(1, int(math.Round(float64(step)/float64(sub))))
}

// inputs builds the judge's input for a window of intervals as
// functions/core measures it: the error rate with its counts
// (istio-error-rate); latency as the requests slower than the SLO bucket
// (istio-slow-requests) with the p99 of the same histogram as its value
// (istio-latency-p99, for the max guard), or, for a scenario with a
// LatencyQuantile, the histogram itself (istio-latency-buckets) with the
// same value. Requests is the canary's request
// count in the window. With samples, each version also gets one value per
// sample step (metrics.Samples of the metric's template: the percentage of
// errors, or of slow requests, per step). states are the carried evidence
// per metric, in the order of configs.
func inputs(w *windowData, configs []judge.MetricConfig, states []*judge.State, samples bool) []judge.Input {
	canary := totals(w.intervals, func(d *intervalData) *versionData { return &d.canary }, len(w.bounds))
	baseline := totals(w.intervals, func(d *intervalData) *versionData { return &d.baseline }, len(w.bounds))
	w.applyScrape(&canary, &baseline)
	out := make([]judge.Input, len(configs))
	for i, cfg := range configs {
		in := judge.Input{Config: cfg, Requests: canary.requests, State: states[i]}
		if cfg.Name == MetricErrors {
			in.Canary = judge.Series{Value: percent(canary.errors, canary.requests), Bad: canary.errors,
				Total: canary.requests, HasCounts: true}
			in.Baseline = judge.Series{Value: percent(baseline.errors, baseline.requests), Bad: baseline.errors,
				Total: baseline.requests, HasCounts: true}
		} else if cfg.Quantile > 0 {
			in.Canary = judge.Series{Value: histogramQuantile(0.99, w.bounds, canary.cumulative),
				Buckets: histogram(w.bounds, canary.cumulative), HasBuckets: true}
			in.Baseline = judge.Series{Value: histogramQuantile(0.99, w.bounds, baseline.cumulative),
				Buckets: histogram(w.bounds, baseline.cumulative), HasBuckets: true}
		} else {
			in.Canary = judge.Series{Value: histogramQuantile(0.99, w.bounds, canary.cumulative), Bad: canary.slow,
				Total: canary.requests, HasCounts: true}
			in.Baseline = judge.Series{Value: histogramQuantile(0.99, w.bounds, baseline.cumulative), Bad: baseline.slow,
				Total: baseline.requests, HasCounts: true}
		}
		if samples {
			per := samplesPer(w.scenario, w.duration, cfg.MinSamples)
			cBad, bBad := canary.stepErrors, baseline.stepErrors
			if cfg.Name != MetricErrors {
				cBad, bBad = canary.stepSlow, baseline.stepSlow
			}
			in.Canary.Samples = stepValues(canary.stepRequests, cBad, per)
			in.Baseline.Samples = stepValues(baseline.stepRequests, bBad, per)
		}
		out[i] = in
	}
	return out
}

// windowData is a window of simulated intervals with what reading it needs.
type windowData struct {
	scenario  *Scenario
	intervals []intervalData
	duration  time.Duration
	bounds    []float64
	// history is the whole rollout so far and [from, to) the window's
	// intervals in it; scrapePhase is the sub-step of the first scrape.
	// Only scenarios that scrape (Production.Scrape) read them.
	history     []intervalData
	from, to    int
	scrapePhase int
}
