package metrics

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/birdwatch-gitops/birdwatch/templates"
)

// Provider runs instant queries against a metrics backend. *Prometheus
// implements it; the analysis loop depends only on this interface.
type Provider interface {
	// Query evaluates expr at time at (zero: the backend's now) and returns
	// its value, which must be a scalar or exactly one series. An empty
	// result is ErrNoData and more than one series ErrTooManySeries; a NaN
	// value is returned as NaN, not as an error.
	Query(ctx context.Context, expr string, at time.Time) (float64, error)
}

// warningProvider is implemented by providers that can also report
// warnings; Measure uses it when available (*Prometheus does).
type warningProvider interface {
	QueryResult(ctx context.Context, expr string, at time.Time) (Result, error)
}

// Measurement is one metric measured for one version over one window.
type Measurement struct {
	// Value is the metric in the template's unit. For a template without a
	// query it is 100*Errors/Requests, NaN when Requests is 0. A query
	// result of NaN (for example a quantile of no observations) stays NaN.
	Value float64
	// Errors and Requests are the event counts over the window; each is 0
	// unless the template has that query (see HasCounts, HasRequests).
	Errors, Requests float64
	// HasCounts is true when the template has both errors and requests, so
	// Errors and Requests can feed a count test.
	HasCounts bool
	// HasRequests is true when the template has a requests query, so
	// Requests can be checked against minRequests.
	HasRequests bool
	// Queries are the resolved PromQL expressions in the order they ran:
	// requests, errors, query (each only if the template has it). They are
	// filled even when Measure returns an error, for the report.
	Queries []string
	// Warnings are the warnings Prometheus attached to any of the queries.
	Warnings []string
}

// Measure renders the template t for v and runs its queries through p at
// time at: requests first, then errors, then query. A missing template query
// is skipped; a template without query gets Value = 100*Errors/Requests.
// It stops at the first error and returns it wrapped with the metric and
// field, together with the Measurement so far (Queries always set when
// rendering succeeded). Errors wrap ErrTemplate, ErrInvalidValue, ErrNoData,
// ErrTooManySeries, ErrQuery or ErrUnavailable.
func Measure(ctx context.Context, p Provider, t templates.Template, v Vars, at time.Time) (Measurement, error) {
	if err := t.Validate(); err != nil {
		return Measurement{}, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	type step struct {
		field, text string
		dst         *float64
	}
	var m Measurement
	var steps []step
	for _, s := range []step{{"requests", t.Requests, &m.Requests}, {"errors", t.Errors, &m.Errors}, {"query", t.Query, &m.Value}} {
		if s.text == "" {
			continue
		}
		expr, err := RenderDialect(DialectOf(p), s.text, v)
		if err != nil {
			return Measurement{}, fmt.Errorf("error rendering %s %s for version %q: %w", t.Name, s.field, v.Version, err)
		}
		m.Queries = append(m.Queries, expr)
		steps = append(steps, step{s.field, expr, s.dst})
	}
	m.HasRequests = t.Requests != ""
	m.HasCounts = m.HasRequests && t.Errors != ""
	for _, s := range steps {
		val, warnings, err := query(ctx, p, s.text, at, v.Window)
		m.Warnings = append(m.Warnings, warnings...)
		if err != nil {
			return m, fmt.Errorf("error measuring %s %s for version %q: %w", t.Name, s.field, v.Version, err)
		}
		*s.dst = val
	}
	if t.Query == "" {
		m.Value = ratioPercent(m.Errors, m.Requests)
	}
	return m, nil
}

func query(ctx context.Context, p Provider, expr string, at time.Time, window time.Duration) (float64, []string, error) {
	if wp, ok := p.(WindowProvider); ok {
		if at.IsZero() {
			at = time.Now()
		}
		v, err := wp.QueryWindow(ctx, expr, at.Add(-window), at)
		return v, nil, err
	}
	if wp, ok := p.(warningProvider); ok {
		r, err := wp.QueryResult(ctx, expr, at)
		return r.Value, r.Warnings, err
	}
	v, err := p.Query(ctx, expr, at)
	return v, nil, err
}

// ratioPercent returns 100*errors/requests, or NaN when requests is 0 (no
// events: the rate is undefined, which is not the same as 0%).
func ratioPercent(errors, requests float64) float64 {
	if requests == 0 {
		return math.NaN()
	}
	return 100 * errors / requests
}
