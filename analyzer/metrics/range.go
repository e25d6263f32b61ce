package metrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/birdwatch-gitops/birdwatch/templates"
)

// ErrInvalidRange means a range query's span or step cannot be asked for:
// a non-positive step, an end before the start, or more than MaxRangePoints
// points. (Kept beside its only user; it belongs in errors.go.)
var ErrInvalidRange = errors.New("invalid query range")

// MaxRangePoints is the largest number of points one range query may ask
// for; Prometheus refuses more than 11,000 per series.
const MaxRangePoints = 11000

// Point is one value of a range query: V at time T. V may be NaN (for
// example a quantile of no observations, or a ratio over zero requests).
type Point struct {
	T time.Time
	V float64
}

// Range is the span and resolution of a range query: points at Start,
// Start+Step, ... up to End.
type Range struct {
	Start, End time.Time
	Step       time.Duration
}

// validate checks r against the rules of ErrInvalidRange.
func (r Range) validate() error {
	switch {
	case r.Step <= 0:
		return fmt.Errorf("%w: step %s must be positive", ErrInvalidRange, r.Step)
	case r.End.Before(r.Start):
		return fmt.Errorf("%w: end %s is before start %s", ErrInvalidRange, r.End.Format(time.RFC3339), r.Start.Format(time.RFC3339))
	case r.End.Sub(r.Start)/r.Step+1 > MaxRangePoints:
		return fmt.Errorf("%w: %s at step %s is more than %d points", ErrInvalidRange, r.End.Sub(r.Start), r.Step, MaxRangePoints)
	}
	return nil
}

// RangeProvider runs range queries, for charts. *Prometheus implements it.
type RangeProvider interface {
	// QueryRange evaluates expr at every step of r and returns the points of
	// its single series, oldest first; steps where the series has no value
	// are left out. No series is ErrNoData, more than one ErrTooManySeries.
	QueryRange(ctx context.Context, expr string, r Range) ([]Point, error)
}

// QueryRange implements RangeProvider with Prometheus' /api/v1/query_range,
// retried like QueryResult. Errors wrap ErrInvalidRange, ErrNoData,
// ErrTooManySeries, ErrQuery or ErrUnavailable. Warnings go to the Logger.
func (p *Prometheus) QueryRange(ctx context.Context, expr string, r Range) ([]Point, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	var pts []Point
	err := p.retry(ctx, expr, func(ctx context.Context) error {
		val, warnings, infos, err := p.api.QueryRange(ctx, expr, v1.Range{Start: r.Start, End: r.End, Step: r.Step}, v1.WithTimeout(p.timeout))
		p.logWarnings(ctx, expr, append(append([]string(nil), warnings...), prefixed("info: ", infos)...))
		if err != nil {
			return classify(err)
		}
		pts, err = singleSeries(val)
		return err
	})
	return pts, err
}

// retry runs one attempt after another, as QueryResult does: only
// ErrUnavailable is retried, with p's backoff, until p.attempts are spent.
func (p *Prometheus) retry(ctx context.Context, expr string, once func(ctx context.Context) error) error {
	var lastErr error
	for attempt := range p.attempts {
		if attempt > 0 {
			if err := sleep(ctx, p.retryWait(attempt)); err != nil {
				return fmt.Errorf("error querying %q: %w: %w (last error: %w)", expr, ErrUnavailable, err, lastErr)
			}
		}
		actx, cancel := context.WithTimeout(ctx, p.timeout)
		err := once(actx)
		cancel()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("error querying %q: %w: %w", expr, ErrUnavailable, ctx.Err())
		case !errors.Is(err, ErrUnavailable):
			return fmt.Errorf("error querying %q: %w", expr, err)
		}
		lastErr = err
	}
	return fmt.Errorf("error querying %q after %d attempts: %w", expr, p.attempts, lastErr)
}

// singleSeries extracts the one series of a range-query result.
func singleSeries(val model.Value) ([]Point, error) {
	m, ok := val.(model.Matrix)
	if !ok {
		if val == nil {
			return nil, fmt.Errorf("%w: empty result", ErrQuery)
		}
		return nil, fmt.Errorf("%w: result type %s, want a range vector", ErrQuery, val.Type())
	}
	switch {
	case len(m) == 0:
		return nil, ErrNoData
	case len(m) > 1:
		return nil, fmt.Errorf("%w: got %d, want 1 (first: %s); aggregate with sum() or similar", ErrTooManySeries, len(m), m[0].Metric)
	case len(m[0].Histograms) > 0:
		return nil, fmt.Errorf("%w: result holds native histograms, want floats", ErrQuery)
	}
	pts := make([]Point, len(m[0].Values))
	for i, s := range m[0].Values {
		pts[i] = Point{T: s.Timestamp.Time().UTC(), V: float64(s.Value)}
	}
	return pts, nil
}

// RangeMeasurement is one metric measured for one version at every step of
// a range: what Measurement is for one window, as series for charts.
type RangeMeasurement struct {
	// Values is the metric in the template's unit at each step where it is
	// known. For a template without query it is 100*errors/requests, NaN
	// where requests is 0 or errors has no value.
	Values []Point
	// Requests is the request count per window; nil unless the template has
	// a requests query.
	Requests []Point
	// Queries are the resolved PromQL expressions, as in Measurement.
	Queries []string
	// Raw, Notes, Dropped and Skipped are as in Measurement, over all the
	// points, each reason prefixed with its point's time: a point whose
	// counts are not evidence has NaN counts (and a NaN ratio).
	Raw     bool
	Notes   []string
	Dropped []string
	Skipped []string
}

// rangeCounts counts the errors and requests queries of steps from raw
// samples at every step of r, as Measure does for one window, into
// series by field; raw is false when they run as written (a note says
// why).
func rangeCounts(ctx context.Context, p RangeProvider, steps []step, r Range, m *RangeMeasurement, series map[string][]Point) (raw bool, err error) {
	cp, exprs, notes, ok := rawCountExprs(p, steps)
	if !ok {
		if _, can := rawCounter(p); can {
			m.Notes = append(m.Notes, notes...)
		}
		return false, nil
	}
	var ends []time.Time
	for t := r.Start; !t.After(r.End); t = t.Add(r.Step) {
		ends = append(ends, t)
	}
	looks, _, err := countLooks(ctx, cp, exprs, ends)
	if errors.Is(err, ErrQuery) {
		m.Notes = append(m.Notes, fmt.Sprintf("counts run as written, so increase() extrapolates (raw samples refused: %v)", err))
		return false, nil
	}
	if err != nil {
		return true, err
	}
	for i, l := range looks {
		at := ends[i].UTC()
		stamp := func(whys []string) []string {
			out := make([]string, len(whys))
			for j, why := range whys {
				out[j] = at.Format(time.RFC3339) + " " + why
			}
			return out
		}
		m.Dropped = append(m.Dropped, stamp(l.dropped)...)
		skipped := l.skipped
		fields := slices.Sorted(maps.Keys(exprs))
		for _, f := range fields {
			if !l.present[f] && l.observed && len(l.dropped) > 0 {
				skipped = append(skipped, f+": every pod with samples in the window was left out")
			}
		}
		m.Skipped = append(m.Skipped, stamp(skipped)...)
		for _, f := range fields {
			switch {
			case len(skipped) > 0:
				series[f] = append(series[f], Point{T: at, V: math.NaN()})
			case l.present[f]:
				series[f] = append(series[f], Point{T: at, V: l.value[f]})
			}
		}
	}
	for f, e := range exprs {
		if len(series[f]) == 0 {
			return true, fmt.Errorf("%s: counting %s: %w", f, e.sums()[0].selector, ErrNoData)
		}
	}
	return true, nil
}

// MeasureRange renders the template t for v and runs its queries as range
// queries over r through p: the windowed counterpart of Measure, for charts.
// v.Window is the window each point aggregates over; zero means r.Step, so
// that points do not share data (a larger window smooths the series).
// Counts are read from raw samples as Measure reads them (one fetch per
// selector for the whole range), each point counting its window
// (t-Window, t]. It fails on the first query that fails; errors wrap those of QueryRange,
// ErrTemplate or ErrInvalidValue.
func MeasureRange(ctx context.Context, p RangeProvider, t templates.Template, v Vars, r Range) (RangeMeasurement, error) {
	if err := t.Validate(); err != nil {
		return RangeMeasurement{}, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	if err := r.validate(); err != nil {
		return RangeMeasurement{}, err
	}
	if v.Window == 0 {
		v.Window = r.Step
	}
	var m RangeMeasurement
	var steps []step
	for _, q := range []struct{ field, text string }{{"requests", t.Requests}, {"errors", t.Errors}, {"query", t.Query}} {
		if q.text == "" {
			continue
		}
		expr, err := RenderDialect(DialectOf(p), q.text, v)
		if err != nil {
			return m, fmt.Errorf("error rendering %s %s for version %q: %w", t.Name, q.field, v.Version, err)
		}
		m.Queries = append(m.Queries, expr)
		steps = append(steps, step{field: q.field, text: expr})
	}
	series := map[string][]Point{}
	raw, err := rangeCounts(ctx, p, steps, r, &m, series)
	if err != nil {
		return m, fmt.Errorf("error measuring %s for version %q over a range: %w", t.Name, v.Version, err)
	}
	m.Raw = raw
	for _, s := range steps {
		if raw && s.field != "query" {
			continue
		}
		pts, err := p.QueryRange(ctx, s.text, r)
		if err != nil {
			return m, fmt.Errorf("error measuring %s %s for version %q over a range: %w", t.Name, s.field, v.Version, err)
		}
		series[s.field] = pts
	}
	m.Requests = series["requests"]
	m.Values = series["query"]
	if t.Query == "" {
		m.Values = ratioSeries(series["errors"], series["requests"])
	}
	return m, nil
}

// ratioSeries is 100*errors/requests at each time requests has a value;
// NaN where requests is 0 or errors is missing.
func ratioSeries(errs, requests []Point) []Point {
	byTime := make(map[int64]float64, len(errs))
	for _, e := range errs {
		byTime[e.T.UnixMilli()] = e.V
	}
	out := make([]Point, len(requests))
	for i, r := range requests {
		e, ok := byTime[r.T.UnixMilli()]
		out[i] = Point{T: r.T, V: math.NaN()}
		if ok {
			out[i].V = ratioPercent(e, r.V)
		}
	}
	return out
}
