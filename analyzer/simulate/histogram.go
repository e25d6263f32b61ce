package simulate

import (
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/birdwatch-gitops/birdwatch/analyzer/stats"
)

// istioBuckets returns Istio's default bucket upper bounds of
// istio_request_duration_milliseconds, ascending, without +Inf.
func istioBuckets() []float64 {
	return []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
		300000, 600000, 1800000, 3600000}
}

// formatBound spells a bucket bound as Prometheus' le label does ("250", "0.5").
func formatBound(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// latencyCDF is P(latency <= x) for behaviour b: a log-normal mixture, the
// tail part scaled by TailFactor.
func latencyCDF(b Behaviour, x float64) float64 {
	if x <= 0 {
		return 0
	}
	logNormal := func(median float64) float64 {
		if b.LatencySigma == 0 {
			if x >= median {
				return 1
			}
			return 0
		}
		return 0.5 * math.Erfc(-(math.Log(x)-math.Log(median))/(b.LatencySigma*math.Sqrt2))
	}
	p := logNormal(b.LatencyMedian)
	if b.TailShare > 0 {
		p = (1-b.TailShare)*p + b.TailShare*logNormal(b.LatencyMedian*b.TailFactor)
	}
	return p
}

// bucketProbabilities returns the probability of each bucket of bounds
// (non-cumulative), with one more entry for +Inf; they sum to 1.
func bucketProbabilities(b Behaviour, bounds []float64) []float64 {
	out := make([]float64, len(bounds)+1)
	prev := 0.0
	for i, le := range bounds {
		c := latencyCDF(b, le)
		out[i] = max(c-prev, 0)
		prev = max(c, prev)
	}
	out[len(bounds)] = max(1-prev, 0)
	return out
}

// histogramQuantile is PromQL's histogram_quantile(q, ...) over one
// histogram: counts are cumulative per bound of bounds, the last entry being
// +Inf. It interpolates linearly within the bucket holding rank q*total, as
// Prometheus' bucketQuantile does (promql/quantile.go): the first bucket
// starts at 0, a rank in the +Inf bucket gives the highest finite bound, and
// no observations give NaN.
func histogramQuantile(q float64, bounds, cumulative []float64) float64 {
	n := len(cumulative)
	if n < 2 || len(bounds) != n-1 {
		return math.NaN()
	}
	total := cumulative[n-1]
	if !(total > 0) {
		return math.NaN()
	}
	rank := q * total
	b := sort.Search(n-1, func(i int) bool { return cumulative[i] >= rank })
	if b == n-1 {
		return bounds[n-2]
	}
	start, end, count := 0.0, bounds[b], cumulative[b]
	if b > 0 {
		start = bounds[b-1]
		count -= cumulative[b-1]
		rank -= cumulative[b-1]
	}
	return start + (end-start)*(rank/count)
}

// histogram is a window's cumulative counts on bounds (+Inf last) as the
// judge's histogram, as metrics.BucketWindow reads it from Prometheus.
func histogram(bounds, cumulative []float64) stats.Histogram {
	return stats.Histogram{Bounds: append(slices.Clone(bounds), math.Inf(1)), Counts: slices.Clone(cumulative)}
}
