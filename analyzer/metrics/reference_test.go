package metrics

import (
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
)

// This file computes, from the generated samples alone, what Prometheus 2.x
// should answer, so the tests compare Measure with an independent result.
// The formulas follow the Prometheus documentation and the 2.x source
// (promql/functions.go extrapolatedRate, promql/quantile.go bucketQuantile).

// refIncrease is increase(s[window]) evaluated at at: the counter's growth
// over the samples in the closed range [at-window, at] (Prometheus 2.x ranges
// include both ends), corrected for resets, then extrapolated towards the
// range ends: all the way if the gap to an end is below 1.1 times the average
// sample interval, else by half an interval; never before the counter's zero
// point. ok is false with fewer than two samples (no output series).
func refIncrease(s promtest.Series, at time.Time, window time.Duration) (float64, bool) {
	start := at.Add(-window)
	var pts []promtest.Sample
	for _, p := range s.Samples {
		if !p.T.Before(start) && !p.T.After(at) {
			pts = append(pts, p)
		}
	}
	if len(pts) < 2 {
		return 0, false
	}
	first, last := pts[0], pts[len(pts)-1]
	delta := last.V - first.V
	for i := 1; i < len(pts); i++ {
		if pts[i].V < pts[i-1].V { // reset: the counter restarted from 0
			delta += pts[i-1].V
		}
	}
	sampled := last.T.Sub(first.T).Seconds()
	avg := sampled / float64(len(pts)-1)
	toStart := first.T.Sub(start).Seconds()
	toEnd := at.Sub(last.T).Seconds()
	if delta > 0 && first.V >= 0 {
		toStart = math.Min(toStart, sampled*first.V/delta)
	}
	extrapolated := sampled
	for _, gap := range []float64{toStart, toEnd} {
		if gap < 1.1*avg {
			extrapolated += gap
		} else {
			extrapolated += avg / 2
		}
	}
	return delta * extrapolated / sampled, true
}

// refSumIncrease is sum(increase(...)) over series; ok is false when no
// series yields a value (sum of nothing is an empty result).
func refSumIncrease(series []promtest.Series, at time.Time, window time.Duration) (float64, bool) {
	total, found := 0.0, false
	for _, s := range series {
		if v, ok := refIncrease(s, at, window); ok {
			total += v
			found = true
		}
	}
	return total, found
}

// refRawCount is what Measure counts for sum(increase(series[window]))
// at at when it reads raw samples: per series, the value at the window's
// end (its last sample at or before at) minus its value at the start (its
// last sample at or before at-window, looking back CounterLookback; 0 for
// a series first seen in the window), plus the value before each decrease
// (a counter reset). ok is false when no series has a sample in the
// window itself.
func refRawCount(series []promtest.Series, at time.Time, window time.Duration) (float64, bool) {
	since, total, found := at.Add(-window), 0.0, false
	for _, s := range series {
		var startV, endV, lost float64
		seen, inWindow := false, false
		for i, p := range s.Samples {
			if !p.T.After(since.Add(-CounterLookback)) || p.T.After(at) {
				continue
			}
			seen = true
			if !p.T.After(since) {
				startV = p.V
				lost = 0
			} else if i > 0 && p.V < s.Samples[i-1].V && s.Samples[i-1].T.After(since.Add(-CounterLookback)) {
				lost += s.Samples[i-1].V
			}
			endV = p.V
			inWindow = inWindow || p.T.After(since)
		}
		if seen {
			found = found || inWindow
			total += endV + lost - startV
		}
	}
	return total, found
}

// refCount is refRawCount when the template's count queries are read raw
// (the shape countExpr accepts), else refSumIncrease.
func refCount(raw bool, series []promtest.Series, at time.Time, window time.Duration) (float64, bool) {
	if raw {
		return refRawCount(series, at, window)
	}
	return refSumIncrease(series, at, window)
}

// bucket is one cumulative histogram bucket.
type bucket struct {
	upper, count float64
}

// refQuantile is histogram_quantile(q, sum by (le) (rate(series[window]))):
// find the bucket holding rank q*total and interpolate linearly inside it,
// from 0 for the first bucket; a rank in the +Inf bucket gives the highest
// finite bound; no observations give NaN. ok is false when no bucket has a
// rate (empty result).
func refQuantile(t testing.TB, q float64, series []promtest.Series, at time.Time, window time.Duration) (float64, bool) {
	t.Helper()
	rates := map[float64]float64{}
	for _, s := range series {
		le, err := strconv.ParseFloat(s.Label("le"), 64)
		if err != nil {
			t.Fatalf("series %v: bad le: %v", s.Labels, err)
		}
		if v, ok := refIncrease(s, at, window); ok {
			rates[le] += v / window.Seconds()
		}
	}
	if len(rates) == 0 {
		return 0, false
	}
	var bs []bucket
	for le, c := range rates {
		bs = append(bs, bucket{le, c})
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmpFloat(a.upper, b.upper) })
	total := bs[len(bs)-1].count
	if !math.IsInf(bs[len(bs)-1].upper, 1) || len(bs) < 2 || total == 0 {
		return math.NaN(), true
	}
	rank := q * total
	b := 0
	for b < len(bs)-1 && bs[b].count < rank {
		b++
	}
	if b == len(bs)-1 {
		return bs[len(bs)-2].upper, true
	}
	lower, below := 0.0, 0.0
	if b > 0 {
		lower, below = bs[b-1].upper, bs[b-1].count
	}
	return lower + (bs[b].upper-lower)*(rank-below)/(bs[b].count-below), true
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// closeTo reports whether got equals want within a relative tolerance tol
// (absolute near zero); two NaNs are equal.
func closeTo(got, want, tol float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}
