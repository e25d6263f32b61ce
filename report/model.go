package report

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// Report is one canary's rollout as people see it: where it stands, every
// recorded decision, the last analysis per metric and, when fetched, each
// metric's canary and baseline series over the rollout. Every renderer
// (Mermaid and Markdown, PNG charts, HTML, terminal) takes it by value; it
// holds no I/O handle and is safe to share once built.
type Report struct {
	// Canary is "namespace/name"; Service the service name in queries.
	Canary, Service string
	// Generation is the canary version of the rollout (the spec's canary
	// when not started).
	Generation string
	// Stable is the baseline version the canary is compared with.
	Stable string
	Phase  spec.Phase
	// Step is the 0-based index of the step being executed (Steps when all
	// are done); Steps is the number of steps in the spec.
	Step, Steps int
	// Weight is the canary's committed traffic share in percent.
	Weight  int
	Message string
	// Start is the first recorded decision and End the last one of a
	// finished rollout, or the report's time for a running one; both zero
	// when the rollout has not started.
	Start, End time.Time
	// Events are the recorded decisions, oldest first (at most
	// spec.HistoryLimit: the oldest may be gone from a long rollout).
	Events []Event
	// Analysis is the last analysis; nil when there was none.
	Analysis *Analysis
	// Metrics are the spec's metrics, in spec order.
	Metrics []MetricReport
	// SeriesStep is the time between two series points and SeriesWindow
	// what each point aggregates over; zero when no series were fetched.
	SeriesStep, SeriesWindow time.Duration
}

// Event is one recorded decision.
type Event struct {
	At time.Time
	// Action is a rollout.Action value: start, synced, hold, advance, pause,
	// resume, promote, rollback, freeze.
	Action string
	// Step and Weight are the step index and the canary weight (percent)
	// after the decision.
	Step, Weight    int
	Trigger, Reason string
}

// Analysis is the summary of the last judged window.
type Analysis struct {
	At, WindowStart time.Time
	Judge, Verdict  string
	// Score is 0 to 100.
	Score float64
}

// MetricReport is one metric: its limits, the last analysis' verdict on
// it and its series over the rollout.
type MetricReport struct {
	Name string
	// Unit is the template's unit: "percent", "ms", ...; "" when unknown.
	Unit string
	// Description says what the value means, from the template.
	Description string
	Critical    bool
	// Direction is which change is harmful: increase, decrease or either.
	Direction string
	// Max and Min are the absolute guards; nil when not set.
	Max, Min *float64
	// Classification is the last analysis' result (Pass, High, Low, NoData,
	// Error); "" when the metric was not analysed yet.
	Classification string
	// Canary and Baseline are the last analysis' values; NaN when unknown.
	Canary, Baseline float64
	// EValue is the sequential evidence against the canary; 0 when unknown
	// (the status file keeps it only inside Reason).
	EValue float64
	Reason string
	// CanarySeries and BaselineSeries are the metric over the rollout,
	// oldest first; nil when not fetched or not available.
	CanarySeries, BaselineSeries []metrics.Point
	// SeriesErr says why the series are missing or partial; "" otherwise.
	SeriesErr string
	// SeriesUnavailable says the metrics backend did not answer (rather
	// than answering with no data, or rejecting the query).
	SeriesUnavailable bool
}

// FromStatus builds the report of canary c from its status st (nil: not
// started) as read from Git at time now. It does no I/O; series are left
// empty (see Build).
func FromStatus(c *spec.Canary, st *spec.Status, now time.Time) Report {
	r := Report{Canary: c.Key(), Service: c.Spec.Service, Stable: c.Spec.Stable, Steps: len(c.Spec.Steps)}
	if r.Service == "" {
		r.Service = c.Metadata.Name
	}
	for _, m := range c.Spec.Analysis.Metrics {
		mr := MetricReport{Name: m.Name, Critical: m.Critical, Direction: m.Direction, Max: m.Max, Min: m.Min,
			Canary: math.NaN(), Baseline: math.NaN()}
		if t, err := metricTemplate(m); err == nil {
			mr.Unit, mr.Description = t.Unit, t.Description
		}
		r.Metrics = append(r.Metrics, mr)
	}
	if st == nil {
		r.Generation = c.Spec.Canary
		return r
	}
	r.Generation, r.Stable, r.Phase, r.Step, r.Weight, r.Message = st.Generation, st.Stable, st.Phase, st.Step, st.Weight, st.Message
	for _, h := range st.History {
		r.Events = append(r.Events, Event{At: h.At, Action: h.Decision, Step: h.Step, Weight: h.Weight, Trigger: h.Trigger, Reason: h.Reason})
	}
	r.Stable = baselineVersion(st)
	r.Start, r.End = span(r.Events, st.Phase, now)
	if a := st.LastAnalysis; a != nil {
		r.Analysis = &Analysis{At: a.At, WindowStart: a.WindowStart, Judge: a.Judge, Verdict: a.Verdict, Score: a.Score}
		for _, rec := range a.Metrics {
			if m := r.metric(rec.Name); m != nil {
				m.Classification, m.Reason = rec.Classification, rec.Reason
				m.Canary, m.Baseline = value(rec.Canary), value(rec.Baseline)
				if rec.Unit != "" {
					m.Unit = rec.Unit
				}
			}
		}
	}
	return r
}

// baselineVersion is the version the canary was compared with, as the
// status records it (spec.ParseStatus fills it in for old status files).
func baselineVersion(st *spec.Status) string {
	if st.Baseline != "" {
		return st.Baseline
	}
	return st.Stable
}

// span is the charted time range: from the first event to the last one of
// a finished rollout, or to now; never empty.
func span(events []Event, phase spec.Phase, now time.Time) (start, end time.Time) {
	if len(events) == 0 {
		return time.Time{}, time.Time{}
	}
	start, end = events[0].At, now
	if phase.Terminal() || phase == spec.PhaseFrozen || now.Before(events[len(events)-1].At) {
		end = events[len(events)-1].At
	}
	if !end.After(start) {
		end = start.Add(time.Minute)
	}
	return start, end
}

// SetAnalysis overlays a just-judged result on r: classifications, values,
// reasons and the sequential e-values, which the status file does not keep.
// at is when it was judged. A nil res changes nothing.
func (r *Report) SetAnalysis(res *judge.Result, at time.Time) {
	if res == nil {
		return
	}
	r.Analysis = &Analysis{At: at, Judge: res.Judge, Verdict: string(res.Verdict), Score: res.Score}
	for _, mr := range res.Metrics {
		if m := r.metric(mr.Name); m != nil {
			m.Classification, m.Reason, m.EValue = string(mr.Classification), mr.Reason, mr.EValue
			m.Canary, m.Baseline = mr.Canary, mr.Baseline
			if mr.Unit != "" {
				m.Unit = mr.Unit
			}
		}
	}
}

// metric returns r's metric called name; nil when there is none.
func (r *Report) metric(name string) *MetricReport {
	for i := range r.Metrics {
		if r.Metrics[i].Name == name {
			return &r.Metrics[i]
		}
	}
	return nil
}

// WeightAt returns the canary weight committed at time t: the weight after
// the last event at or before t; 0 before the first event.
func (r Report) WeightAt(t time.Time) int {
	w := 0
	for _, e := range r.Events {
		if e.At.After(t) {
			break
		}
		w = e.Weight
	}
	return w
}

// Finished reports whether nothing more happens in this rollout without a
// new canary version (promoted, rolled back or failed).
func (r Report) Finished() bool { return r.Phase.Terminal() }

// Build is FromStatus plus the series: it measures each metric for the
// canary and the baseline over [Start, End] through p (see SeriesOptions).
// A metric that cannot be measured keeps its SeriesErr and no series; the
// report is usable whatever happened. A nil p or a not-started rollout
// fetches nothing.
func Build(ctx context.Context, c *spec.Canary, st *spec.Status, p metrics.RangeProvider, o SeriesOptions) Report {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	r := FromStatus(c, st, now)
	if p == nil || st == nil || r.Start.IsZero() {
		return r
	}
	FetchSeries(ctx, &r, c, p, o)
	return r
}

// SeriesOptions tune how series are fetched.
type SeriesOptions struct {
	// Points is the number of points wanted per series; 0 means 90. The
	// step is the span divided by Points, in whole seconds, at least 1s.
	Points int
	// MinWindow is the shortest window a point aggregates over; 0 means the
	// spec's analysis interval. Each point aggregates over max(step,
	// MinWindow): points share data when the step is the shorter, which
	// smooths the chart (the judge uses its own, non-overlapping windows).
	MinWindow time.Duration
	// Now is the end of a running rollout's chart; zero means time.Now().
	Now time.Time
}

// FetchSeries fills each metric's CanarySeries and BaselineSeries in r
// from p over [r.Start, r.End], rendering the spec's templates exactly as
// the analysis does (same variables, Window = the point's window).
func FetchSeries(ctx context.Context, r *Report, c *spec.Canary, p metrics.RangeProvider, o SeriesOptions) {
	points := o.Points
	if points <= 0 {
		points = 90
	}
	step := (r.End.Sub(r.Start) / time.Duration(points)).Round(time.Second)
	step = max(step, time.Second)
	window := max(step, o.MinWindow)
	if o.MinWindow == 0 {
		window = max(step, c.Spec.Analysis.Interval.D())
	}
	r.SeriesStep, r.SeriesWindow = step, window
	rng := metrics.Range{Start: r.Start, End: r.End, Step: step}
	for i, m := range c.Spec.Analysis.Metrics {
		mr := r.metric(m.Name)
		if mr == nil {
			continue
		}
		t, err := metricTemplate(m)
		if err != nil {
			mr.SeriesErr = err.Error()
			continue
		}
		vars := func(version string) metrics.Vars {
			return metrics.Vars{Service: r.Service, Namespace: c.Metadata.Namespace, Version: version, Stable: r.Stable,
				Canary: r.Generation, Interval: c.Spec.Analysis.Interval.D(), Window: window, Args: c.Spec.Analysis.Metrics[i].Args}
		}
		canary, cerr := metrics.MeasureRange(ctx, p, t, vars(r.Generation), rng)
		baseline, berr := metrics.MeasureRange(ctx, p, t, vars(r.Stable), rng)
		mr.CanarySeries, mr.BaselineSeries = canary.Values, baseline.Values
		mr.SeriesErr = joinErrs(cerr, berr)
		mr.SeriesUnavailable = errors.Is(cerr, metrics.ErrUnavailable) || errors.Is(berr, metrics.ErrUnavailable)
	}
}

// joinErrs returns the messages of the non-nil errors, "; "-separated.
func joinErrs(errs ...error) string {
	s := ""
	for _, err := range errs {
		if err == nil {
			continue
		}
		if s != "" {
			s += "; "
		}
		s += err.Error()
	}
	return s
}

// metricTemplate resolves a spec metric to its query template, as the
// analysis does: an inline query, or an embedded template.
func metricTemplate(m spec.Metric) (templates.Template, error) {
	if m.Query != "" {
		return templates.Template{Name: m.Name, Unit: "value", Query: m.Query}, nil
	}
	return templates.Metric(m.Template)
}

// value turns an optional status value into NaN when absent.
func value(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}
