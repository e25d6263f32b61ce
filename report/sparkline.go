package report

import (
	"math"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
)

// sparkBars are the eight block heights of a sparkline, lowest first.
var sparkBars = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws values as one block character each, scaled so that lo
// is the lowest bar and hi the highest; a NaN value is a space. Values
// outside [lo, hi] are clamped. When hi <= lo every value is a middle bar.
func Sparkline(values []float64, lo, hi float64) string {
	var b strings.Builder
	for _, v := range values {
		switch {
		case !finite(v):
			b.WriteByte(' ')
		case hi <= lo:
			b.WriteRune(sparkBars[len(sparkBars)/2-1])
		default:
			f := math.Min(1, math.Max(0, (v-lo)/(hi-lo)))
			b.WriteRune(sparkBars[int(math.Round(f*float64(len(sparkBars)-1)))])
		}
	}
	return b.String()
}

// Resample averages the finite values of pts into width equal time
// buckets over [from, to]; a bucket without a value is NaN. It is how a
// series becomes one sparkline cell per column.
func Resample(pts []metrics.Point, from, to time.Time, width int) []float64 {
	out := make([]float64, max(width, 0))
	if width <= 0 {
		return out
	}
	sum, cnt := make([]float64, width), make([]int, width)
	span := float64(to.Sub(from))
	for _, p := range pts {
		if !finite(p.V) || p.T.Before(from) || p.T.After(to) {
			continue
		}
		i := width - 1
		if span > 0 {
			i = min(int(float64(p.T.Sub(from))/span*float64(width)), width-1)
		}
		sum[i] += p.V
		cnt[i]++
	}
	for i := range out {
		out[i] = math.NaN()
		if cnt[i] > 0 {
			out[i] = sum[i] / float64(cnt[i])
		}
	}
	return out
}

// bounds is the smallest and largest finite value of all lists, so that
// canary and baseline share one scale; (0, 0) when there is none.
func bounds(lists ...[]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, l := range lists {
		for _, v := range l {
			if finite(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if lo > hi {
		return 0, 0
	}
	return lo, hi
}

// holdShortGaps carries each value into the following empty cells, at most
// maxGap of them: a series sampled more coarsely than the cells leaves
// holes that are not missing data.
func holdShortGaps(values []float64, maxGap int) {
	last, lastAt := math.NaN(), -1
	for i, v := range values {
		switch {
		case finite(v):
			last, lastAt = v, i
		case lastAt >= 0 && i-lastAt <= maxGap:
			values[i] = last
		}
	}
}
