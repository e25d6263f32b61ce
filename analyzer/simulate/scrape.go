package simulate

import (
	"math"
	"time"
)

// scrapeCounts returns one version's events over the window of sub-steps
// [start, end) as read from a counter scraped every `every` sub-steps, the
// first scrape at sub-step boundary phase: bad and total counts per picked
// series (requests, errors, slow) of the history. stepsOf lists each
// sub-step's events of the series in question over the whole history.
//
// Raw (extrapolate false): the counter's difference between the last scrape
// at or before end and the last at or before start: every event counted
// exactly once over consecutive windows, shifted to the scrape that saw it.
//
// increase() (extrapolate true): PromQL's extrapolatedRate
// (promql/functions.go) over the samples inside (start, end]: the
// difference between the first and last sample, extrapolated to the
// window's edges when they are within 1.1 average sample gaps, else by half
// a gap; NaN with fewer than two samples (Prometheus returns no series).
// The counter is taken to have started long before, so the zero-point
// limit never applies.
func scrapeCount(stepsOf []float64, start, end, every, phase int, extrapolate bool) float64 {
	cum := func(b int) float64 { // counter value at sub-step boundary b
		s := 0.0
		for _, v := range stepsOf[:max(0, min(b, len(stepsOf)))] {
			s += v
		}
		return s
	}
	lastAtOrBefore := func(b int) int {
		if b < phase {
			return 0 // before the first scrape: the counter was at its start value
		}
		return phase + (b-phase)/every*every
	}
	if !extrapolate {
		return cum(lastAtOrBefore(end)) - cum(lastAtOrBefore(start))
	}
	first := lastAtOrBefore(start) + every
	if start < phase {
		first = phase
	}
	last := lastAtOrBefore(end)
	if last < first || last == first {
		return math.NaN()
	}
	samples := float64((last-first)/every + 1)
	raw := cum(last) - cum(first)
	sampled := float64(last - first)
	avg := sampled / (samples - 1)
	toStart, toEnd := float64(first-start), float64(end-last)
	threshold := 1.1 * avg
	extended := sampled
	for _, d := range []float64{toStart, toEnd} {
		if d < threshold {
			extended += d
		} else {
			extended += avg / 2
		}
	}
	return raw * extended / sampled
}

// applyScrape replaces the window's event counts of both versions by what a
// scraped counter gives (see scrapeCount), when the scenario scrapes.
func (w *windowData) applyScrape(canary, baseline *windowTotals) {
	p := &w.scenario.Production
	if p.Scrape == 0 || w.history == nil {
		return
	}
	k := w.scenario.SubSteps
	every := int(p.Scrape / (w.scenario.Interval / time.Duration(k)))
	start, end := w.from*k, w.to*k
	for _, v := range []struct {
		t    *windowTotals
		pick func(*intervalData) *versionData
	}{{canary, func(d *intervalData) *versionData { return &d.canary }},
		{baseline, func(d *intervalData) *versionData { return &d.baseline }}} {
		var req, errs, slow []float64
		for i := range w.history[:w.to] {
			d := v.pick(&w.history[i])
			req, errs, slow = append(req, d.stepRequests...), append(errs, d.stepErrors...), append(slow, d.stepSlow...)
		}
		v.t.requests = scrapeCount(req, start, end, every, w.scrapePhase, p.Extrapolate)
		v.t.errors = scrapeCount(errs, start, end, every, w.scrapePhase, p.Extrapolate)
		v.t.slow = scrapeCount(slow, start, end, every, w.scrapePhase, p.Extrapolate)
	}
}
