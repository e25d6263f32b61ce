package metrics

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/birdwatch-gitops/birdwatch/templates"
)

// SampleSet is one metric measured for one version at every step of a
// window, for judges that compare distributions (Mann-Whitney): sample i
// aggregates the step (Times[i]-Step, Times[i]] and nothing else.
type SampleSet struct {
	// Step is the length of each sample's window and the distance between
	// samples.
	Step time.Duration
	// Times are the ends of the steps, oldest first.
	Times []time.Time
	// Values holds the metric at each time, in the template's unit; NaN
	// where Prometheus has no value (a scrape gap, no series yet) or the
	// value is undefined (a ratio over no requests). The judge's NaN
	// strategy decides what NaN means.
	Values []float64
	// Requests is the request count of each step, NaN where unknown; nil
	// unless the template has a requests query.
	Requests []float64
	// Queries are the resolved PromQL expressions, for the report.
	Queries []string
	// Dropped and Skipped are MeasureRange's: per step, the pods left out
	// of its counts and why the step's counts are not evidence (NaN), each
	// reason after its step's end time.
	Dropped, Skipped []string
}

// Samples measures template t for v at every step of the window
// (start, end]: the queries are rendered with v.Window = step, so each
// sample is the count (from raw samples, see MeasureRange) or rate(x[step])
// over its own step, and run as range queries at that step from start+step
// to the last whole step before end. Samples that overlapped (a 1m window at a 10s step) would share
// most of their data, and a rank test on them would reject healthy canaries
// far too often.
//
// Every step has a value in the result; the ones Prometheus left out are
// NaN. Errors wrap those of MeasureRange (ErrNoData when a query matches
// no series at all) or ErrInvalidRange when the window holds no whole step.
func Samples(ctx context.Context, p RangeProvider, t templates.Template, v Vars, start, end time.Time, step time.Duration) (SampleSet, error) {
	if step <= 0 || step%time.Second != 0 {
		return SampleSet{}, fmt.Errorf("%w: step %s must be a positive number of whole seconds", ErrInvalidRange, step)
	}
	n := int(end.Sub(start) / step)
	if n < 1 {
		return SampleSet{}, fmt.Errorf("%w: window %s holds no whole step of %s", ErrInvalidRange, end.Sub(start), step)
	}
	v.Window = step
	r := Range{Start: start.Add(step), End: start.Add(time.Duration(n) * step), Step: step}
	m, err := MeasureRange(ctx, p, t, v, r)
	set := SampleSet{Step: step, Queries: m.Queries, Times: make([]time.Time, n), Dropped: m.Dropped, Skipped: m.Skipped}
	if err != nil {
		return set, err
	}
	for i := range set.Times {
		set.Times[i] = r.Start.Add(time.Duration(i) * step).UTC()
	}
	set.Values = onGrid(m.Values, set.Times)
	if t.Requests != "" {
		set.Requests = onGrid(m.Requests, set.Times)
	}
	return set, nil
}

// onGrid returns the values of pts at times, NaN where pts has none.
func onGrid(pts []Point, times []time.Time) []float64 {
	byTime := make(map[int64]float64, len(pts))
	for _, p := range pts {
		byTime[p.T.UnixMilli()] = p.V
	}
	out := make([]float64, len(times))
	for i, t := range times {
		v, ok := byTime[t.UnixMilli()]
		if !ok {
			v = math.NaN()
		}
		out[i] = v
	}
	return out
}

// SampleStep is the step of per-step samples for a window: the analysis
// interval when the window holds at least minSamples of them, else the
// window split into minSamples steps (whole seconds, at least one).
// minSamples below 1 counts as 1.
func SampleStep(interval, window time.Duration, minSamples int) time.Duration {
	minSamples = max(minSamples, 1)
	if interval >= time.Second && window >= time.Duration(minSamples)*interval {
		return interval.Truncate(time.Second)
	}
	return max(time.Second, (window / time.Duration(minSamples)).Truncate(time.Second))
}
