package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/stats"
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
	// requests, errors, query, buckets (each only if the template has it). They are
	// filled even when Measure returns an error, for the report.
	Queries []string
	// Warnings are the warnings Prometheus attached to any of the queries.
	Warnings []string
	// Raw is true when Errors and Requests (those the template has) were
	// counted from raw counter samples (CountWindow): what happened, not
	// increase()'s extrapolation. False when the provider cannot fetch raw
	// samples or a count query is not of the shape countExpr reads; the
	// queries then ran as written, and Notes says why.
	Raw bool
	// Notes say how the counts were read: series that started in the
	// window, counter resets, series without a sample in the window, or
	// why a count ran as written. Nil when there is nothing to say.
	Notes []string
	// Dropped says, per pod left out of both counts of this window, why:
	// it appeared or vanished mid-window, its counter was reset, it had
	// a NaN or negative sample, or more errors than requests (see
	// CountWindow). Errors and Requests count the other pods. Nil when
	// none.
	Dropped []string
	// Skipped, when not empty, says why this window's counts are not
	// evidence at all: a series without a pod label with a NaN, infinite
	// or negative value, more errors than requests in all, or every pod
	// with samples left out (Dropped). Errors and Requests are then NaN
	// (and so is a Value computed from them), so a count test skips the
	// window (and counts it as skipped) instead of judging it. A histogram
	// that is not evidence (see BucketWindow) is named here too, with
	// Buckets empty.
	Skipped string
	// Buckets is the window's latency histogram when the template has a
	// buckets query (HasBuckets), read from raw samples (BucketWindow).
	Buckets    stats.Histogram
	HasBuckets bool
}

// step is one query of a measurement: its field (requests, errors or
// query), its rendered text and where its value goes.
type step struct {
	field, text string
	dst         *float64
}

// Measure renders the template t for v and runs its queries through p at
// time at: requests first, then errors, then query. A missing template query
// is skipped; a template without query gets Value = 100*Errors/Requests.
//
// Counts are what happened: when p is a CounterProvider speaking PromQL
// (*Prometheus), errors and requests queries written as
// sum(increase(SELECTOR[WINDOW])) terms joined by + or -, optionally
// "or vector(0)", are not sent as written; each selector's raw samples are
// fetched and counted by CountWindow over (at-WINDOW, at], a pod whose
// window is partial or whose counts are impossible left out of both
// counts (Dropped). When one count query is not of that shape both run as
// written (increase() extrapolates) and Notes says so. Counts that are
// not evidence at all are NaN with the reason in Skipped.
// It stops at the first error and returns it wrapped with the metric and
// field, together with the Measurement so far (Queries always set when
// rendering succeeded). Errors wrap ErrTemplate, ErrInvalidValue, ErrNoData,
// ErrTooManySeries, ErrQuery or ErrUnavailable.
func Measure(ctx context.Context, p Provider, t templates.Template, v Vars, at time.Time) (Measurement, error) {
	if err := t.Validate(); err != nil {
		return Measurement{}, fmt.Errorf("%w: %w", ErrTemplate, err)
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
	m.HasBuckets = t.Buckets != "" // set before any query, so a failed look still says what the metric is
	var skipped []string
	raw, err := measureCounts(ctx, p, steps, at, &m, &skipped)
	if err != nil {
		return m, fmt.Errorf("error measuring %s for version %q: %w", t.Name, v.Version, err)
	}
	m.Raw = raw
	for _, s := range steps {
		if raw && s.field != "query" {
			continue
		}
		val, warnings, err := query(ctx, p, s.text, at, v.Window)
		m.Warnings = append(m.Warnings, warnings...)
		if err != nil {
			return m, fmt.Errorf("error measuring %s %s for version %q: %w", t.Name, s.field, v.Version, err)
		}
		*s.dst = val
	}
	if m.HasCounts && m.Errors > m.Requests {
		skipped = append(skipped, fmt.Sprintf("more errors (%.6g) than requests (%.6g): the two queries do not count the same events", m.Errors, m.Requests))
	}
	if len(skipped) > 0 {
		m.Skipped = strings.Join(skipped, "; ")
		m.Errors, m.Requests = math.NaN(), math.NaN()
	}
	if t.Buckets != "" {
		expr, err := RenderDialect(DialectOf(p), t.Buckets, v)
		if err != nil {
			return m, fmt.Errorf("error rendering %s buckets for version %q: %w", t.Name, v.Version, err)
		}
		m.Queries = append(m.Queries, expr)
		if err := measureBuckets(ctx, p, expr, at, &m); err != nil {
			return m, fmt.Errorf("error measuring %s buckets for version %q: %w", t.Name, v.Version, err)
		}
	}
	if t.Query == "" {
		m.Value = ratioPercent(m.Errors, m.Requests)
	}
	return m, nil
}

// rawCounter returns p as a CounterProvider when Measure should count raw
// samples with it: a PromQL provider that can fetch them and is not
// configured to run counts as written.
func rawCounter(p any) (CounterProvider, bool) {
	cp, ok := p.(CounterProvider)
	if !ok || DialectOf(p) != PromQL {
		return nil, false
	}
	if pp, ok := p.(*Prometheus); ok && pp.asWritten {
		return nil, false
	}
	return cp, true
}

// rawCountExprs reads the count queries (fields requests and errors) of
// steps as countExprs. ok is false when a count runs as written: the
// provider cannot count raw samples, there is no requests query, or one
// of them is not a countExpr (then none is read raw, so that errors and
// requests stay counts of the same events; a note says why).
func rawCountExprs(p any, steps []step) (cp CounterProvider, exprs map[string]*countExpr, notes []string, ok bool) {
	cp, ok = rawCounter(p)
	exprs = map[string]*countExpr{}
	for _, s := range steps {
		if s.field == "query" {
			continue
		}
		ce, err := parseCountExpr(s.text)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: run as written, so increase() extrapolates (%v)", s.field, err))
			continue
		}
		exprs[s.field] = ce
	}
	if !ok || exprs["requests"] == nil {
		return nil, nil, notes, false
	}
	if len(notes) > 0 {
		for f := range exprs {
			notes = append(notes, fmt.Sprintf("%s: run as written too, so that both counts are read alike", f))
		}
		return nil, nil, notes, false
	}
	return cp, exprs, nil, true
}

// measureCounts counts the errors and requests queries of steps from raw
// counter samples into their destinations, adding to m's warnings, notes
// and Dropped and to skipped. raw is false when they must run as written
// (rawCountExprs, or a backend refusing raw samples); a note says why.
func measureCounts(ctx context.Context, p Provider, steps []step, at time.Time, m *Measurement, skipped *[]string) (raw bool, err error) {
	cp, exprs, notes, ok := rawCountExprs(p, steps)
	if !ok {
		if _, can := rawCounter(p); can {
			m.Notes = append(m.Notes, notes...)
		}
		return false, nil
	}
	if at.IsZero() {
		at = time.Now()
	}
	looks, warnings, err := countLooks(ctx, cp, exprs, []time.Time{at})
	m.Warnings = append(m.Warnings, warnings...)
	if errors.Is(err, ErrQuery) {
		// A backend that cannot answer a range selector with raw samples:
		// the queries as written still count, extrapolated.
		m.Notes = append(m.Notes, fmt.Sprintf("counts run as written, so increase() extrapolates (raw samples refused: %v)", err))
		return false, nil
	}
	if err != nil {
		return true, err
	}
	l := looks[0]
	m.Notes = append(m.Notes, l.notes...)
	m.Dropped = l.dropped
	*skipped = append(*skipped, l.skipped...)
	var empty []string
	for _, s := range steps {
		if s.field == "query" {
			continue
		}
		switch {
		case l.present[s.field]:
			*s.dst = l.value[s.field]
		case l.observed && len(l.dropped) > 0:
			empty = append(empty, s.field)
		default:
			return true, fmt.Errorf("%s: counting %q: %w", s.field, s.text, ErrNoData)
		}
	}
	if len(empty) > 0 {
		*skipped = append(*skipped, strings.Join(empty, ", ")+": every pod with samples in the window was left out")
	}
	return true, nil
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
