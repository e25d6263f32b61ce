package metrics

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/stats"
)

// bucketQuery matches a template's buckets query: sum by (le) around one
// increase() of a range selector; the group is the increase() call.
var bucketQuery = regexp.MustCompile(`(?s)^\s*sum\s*by\s*\(\s*le\s*\)\s*\((.*)\)\s*$`)

// parseBucketExpr reads a buckets query, sum by (le) (increase(SELECTOR[WINDOW])),
// as the selector and window of its one counter term.
func parseBucketExpr(q string) (countExpr, error) {
	m := bucketQuery.FindStringSubmatch(q)
	if m == nil {
		return countExpr{}, fmt.Errorf("%w: buckets must be sum by (le) (increase(SELECTOR[WINDOW])), got %q", ErrTemplate, q)
	}
	e, err := parseCountExpr("sum(" + m[1] + ")")
	if err != nil || e.op != opSum {
		return countExpr{}, fmt.Errorf("%w: buckets must be sum by (le) (increase(SELECTOR[WINDOW])), got %q", ErrTemplate, q)
	}
	return *e, nil
}

// leLabel finds the le label's value in a series' label text, as
// model.Metric.String spells it: name{a="b", le="250"}.
var leLabel = regexp.MustCompile(`[{,\s]le="([^"\\]*)"`)

// BucketCount is what happened to a histogram's bucket counters in one
// window (since, end]: the cumulative histogram of the requests counted,
// and how the series were read.
type BucketCount struct {
	// Histogram is the requests per bucket bound, cumulative, +Inf last:
	// for each le, CountWindow of its series. Empty when Skipped is not.
	Histogram stats.Histogram
	// Series and Silent count the bucket series, and those without a
	// sample in the window; Counts holds each le's CounterCount, for the
	// bound of the same index of Les (ascending), for notes.
	Series, Silent int
	Les            []float64
	Counts         []CounterCount
	// Dropped says, per pod left out of every bucket, why (CountWindow).
	Dropped []string
	// Skipped says why the window's histogram is not evidence: a series
	// without an le label or with an le that is not a number, a series
	// that is not a counter (CountWindow's reasons), or counts no
	// histogram can have (no +Inf bucket, a count that decreases with the
	// bound; stats.Histogram.Check). Nil when none.
	Skipped []string
}

// BucketWindow counts a histogram's bucket series (one or more series per
// le label value, e.g. one per pod) over the window (since, end] from their
// raw samples, with CountWindow for each le: raw counter differences, resets
// handled per series, nothing extrapolated. Series of the same le are summed,
// as sum by (le) does.
func BucketWindow(series []CounterSeries, since, end time.Time) BucketCount {
	var out BucketCount
	groups := map[float64][]CounterSeries{}
	for _, s := range series {
		m := leLabel.FindStringSubmatch(s.Labels)
		if m == nil {
			out.Skipped = append(out.Skipped, fmt.Sprintf("series %s has no le label", s.Labels))
			continue
		}
		le, err := strconv.ParseFloat(m[1], 64)
		if err != nil || math.IsNaN(le) {
			out.Skipped = append(out.Skipped, fmt.Sprintf("series %s: le %q is not a number", s.Labels, m[1]))
			continue
		}
		groups[le] = append(groups[le], s)
	}
	bounds := slices.Sorted(func(yield func(float64) bool) {
		for le := range groups {
			if !yield(le) {
				return
			}
		}
	})
	h := stats.Histogram{Bounds: bounds, Counts: make([]float64, len(bounds))}
	byLe := make([][]CounterSeries, len(bounds))
	for i, le := range bounds {
		byLe[i] = groups[le]
	}
	counts, dropped := countGroups(byLe, since, end)
	out.Dropped = dropped
	for i, le := range bounds {
		c := counts[i]
		out.Series += c.Series
		out.Silent += c.Silent
		out.Les, out.Counts = append(out.Les, le), append(out.Counts, c)
		for _, why := range c.Skipped {
			out.Skipped = append(out.Skipped, fmt.Sprintf("le=%s: %s", formatLe(le), why))
		}
		h.Counts[i] = c.Value
	}
	if len(out.Skipped) == 0 && len(bounds) > 0 {
		if err := h.Check(); err != nil {
			out.Skipped = append(out.Skipped, "histogram: "+err.Error())
		}
	}
	if len(out.Skipped) == 0 {
		out.Histogram = h
	}
	return out
}

// formatLe spells a bound as the le label does ("250", "+Inf").
func formatLe(le float64) string {
	if math.IsInf(le, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(le, 'g', -1, 64)
}

// measureBuckets reads the rendered buckets query expr into m from raw
// samples of p over (at-WINDOW, at]. A window whose histogram is not
// evidence is named in m.Skipped (with m.Buckets empty); no bucket series
// with a sample in the window is ErrNoData.
func measureBuckets(ctx context.Context, p Provider, expr string, at time.Time, m *Measurement) error {
	term, err := parseBucketExpr(expr)
	if err != nil {
		return err
	}
	cp, ok := rawCounter(p)
	if !ok {
		return fmt.Errorf("%w: buckets are read from raw samples, which only a Prometheus provider gives", ErrQuery)
	}
	if at.IsZero() {
		at = time.Now()
	}
	since := at.Add(-term.window)
	series, warnings, err := cp.CounterSamples(ctx, term.selector, since.Add(-CounterLookback), at)
	m.Warnings = append(m.Warnings, warnings...)
	if err != nil {
		return err
	}
	c := BucketWindow(series, since, at)
	if c.Series == c.Silent && len(c.Skipped) == 0 {
		return fmt.Errorf("buckets %q: no series with a sample in the window: %w", term.selector, ErrNoData)
	}
	for _, d := range c.Dropped {
		m.Dropped = append(m.Dropped, "buckets "+d)
	}
	for i, cc := range c.Counts {
		if n := cc.notes("buckets le=" + formatLe(c.Les[i])); n != "" {
			m.Notes = append(m.Notes, n)
		}
	}
	if len(c.Skipped) > 0 {
		why := "buckets: " + strings.Join(c.Skipped, "; ")
		if m.Skipped != "" {
			why = m.Skipped + "; " + why
		}
		m.Skipped = why
		return nil
	}
	m.Buckets = c.Histogram
	return nil
}
