package metrics

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// CounterLookback is how far before a window's start the raw samples of a
// counter are fetched, to find each series' value at the start: Prometheus'
// default lookback delta, the age after which an instant query no longer
// sees a series either. A series with no sample in it is taken as created
// in the window (see CountWindow).
const CounterLookback = 5 * time.Minute

// CounterSeries is the raw samples of one counter series, oldest first,
// as Prometheus stored them (a range selector's answer, not rate() or
// increase() of it).
type CounterSeries struct {
	// Labels names the series for reasons and notes, for example
	// {pod="aleph-v04-1",response_code="503"}.
	Labels string
	// Points are the samples, oldest first.
	Points []Point
}

// CounterCount is what happened to a set of counter series in one window
// (since, end]: the events counted, and how each series was read.
type CounterCount struct {
	// Value is the number of events: for each series counted, the sum of
	// its increases from its last sample at or before since to its last
	// sample at or before end, a decrease being a counter reset (the
	// counter restarted from 0, so the new value is all increase). NaN
	// when Skipped is not empty.
	Value float64
	// Series is how many series had a sample in the fetched range. A
	// count query whose series are all Silent measured nothing: Measure
	// reports that as no data, not as 0 events.
	Series int
	// Started counts the series with no sample at or before since (within
	// CounterLookback): created in the window, so counted from 0.
	Started int
	// Resets counts the decreases taken as counter resets.
	Resets int
	// Silent counts the series with no sample in the window itself (a pod
	// gone, or a target not scraped): they add 0.
	Silent int
	// Skipped says, per series that cannot be read as a counter (a NaN or
	// infinite sample, a negative value), why; nil when none. Such a
	// series cannot be taken out of the other count of the same metric,
	// so its window is not evidence at all: Value is NaN.
	Skipped []string
}

// CountWindow counts the events of series in the window (since, end] from
// their raw samples. Each event is attributed to the first scrape that saw
// it, so consecutive windows (a, b], (b, c] count every event exactly once
// and their counts add up to the count over (a, c]: nothing is extrapolated,
// unlike increase(), which scales the growth between the window's first and
// last samples up to the window's length.
//
// Per series: the start value is its last sample at or before since, or 0
// when there is none (the series was created in the window: a new pod, the
// first 5xx of a response code); the series then adds every increase up to
// its last sample at or before end, a decrease counting as a reset (the
// value after it is all increase), as Prometheus' increase() reads resets.
// Samples after end are ignored.
//
// Special cases:
//   - no series: Series is 0 and Value 0 (the caller decides whether that
//     is no data);
//   - a NaN, infinite or negative sample at or before end: the series is
//     named in Skipped and Value is NaN.
//
// Written by hand: Prometheus has no function for it (increase()
// extrapolates; the "anchored" modifier of Prometheus 3.7 is experimental
// and missing from Prometheus 2 and most compatible backends).
func CountWindow(series []CounterSeries, since, end time.Time) CounterCount {
	var c CounterCount
	for _, s := range series {
		c.Series++
		n, why := countSeries(s.Points, since, end, &c)
		if why != "" {
			c.Skipped = append(c.Skipped, fmt.Sprintf("series %s: %s", s.Labels, why))
			continue
		}
		c.Value += n
	}
	if len(c.Skipped) > 0 {
		c.Value = math.NaN()
	}
	return c
}

// countSeries is CountWindow for one series, tallying into c; why is
// non-empty when the series cannot be read as a counter.
func countSeries(pts []Point, since, end time.Time, c *CounterCount) (n float64, why string) {
	prev, seen, inWindow, resets := 0.0, false, false, 0
	for _, p := range pts {
		if p.T.After(end) {
			break
		}
		switch {
		case math.IsNaN(p.V) || math.IsInf(p.V, 0):
			return 0, fmt.Sprintf("value %v at %s is not a counter value", p.V, p.T.UTC().Format(time.RFC3339))
		case p.V < 0:
			return 0, fmt.Sprintf("negative value %v at %s", p.V, p.T.UTC().Format(time.RFC3339))
		}
		if !p.T.After(since) {
			prev, seen = p.V, true
			continue
		}
		inWindow = true
		if p.V < prev {
			resets++
			n += p.V
		} else {
			n += p.V - prev
		}
		prev = p.V
	}
	if !seen && inWindow {
		c.Started++
	}
	if !inWindow {
		c.Silent++
	}
	c.Resets += resets
	return n, ""
}

// notes describes how c was read, for Measurement.Notes: "" when every
// series had samples before and in the window and none was reset.
func (c CounterCount) notes(field string) string {
	var parts []string
	if c.Started > 0 {
		parts = append(parts, fmt.Sprintf("%d started in the window (counted from 0)", c.Started))
	}
	if c.Silent > 0 {
		parts = append(parts, fmt.Sprintf("%d without a sample in the window (added 0)", c.Silent))
	}
	if c.Resets > 0 {
		parts = append(parts, fmt.Sprintf("%d counter resets", c.Resets))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %d series, %s", field, c.Series, strings.Join(parts, ", "))
}
