package stats

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// ExceedanceResult is the outcome of ExceedanceTest.
type ExceedanceResult struct {
	// Threshold splits the pooled sample: an observation is "above" when it
	// is greater than Threshold, "below" otherwise.
	Threshold float64
	// Level is the share of the pooled sample at or below Threshold: the
	// split's quantile level, as near to the requested one as ties allow.
	Level float64
	// XAbove and YAbove count the observations of x and of y above
	// Threshold.
	XAbove, YAbove int
	// N and M are the sizes of x and y.
	N, M int
	// PValue is Fisher's exact p-value of the table of the counts above
	// and below (see FisherExact), for the alternative asked.
	PValue float64
}

// XShare returns the share of x above the threshold, XAbove/N.
func (r ExceedanceResult) XShare() float64 { return float64(r.XAbove) / float64(r.N) }

// YShare returns the share of y above the threshold, YAbove/M.
func (r ExceedanceResult) YShare() float64 { return float64(r.YAbove) / float64(r.M) }

// ExceedanceTest asks whether x and y put different shares of their
// observations above a split of the pooled sample near its q-quantile: a
// test on one quantile of the two distributions, which generalizes Mood's
// median test (q = 0.5) to the tails, such as q = 0.9 for the upper tail.
//
// Let z_(1) <= ... <= z_(N+M) be the pooled sample. The split after
// position k is allowed where z_(k) < z_(k+1), so that ties are never cut;
// the allowed k nearest to q·(N+M) is taken (the smaller one if two are
// equally near), Threshold = z_(k), and the table
//
//	         x                  y
//	above    XAbove             YAbove
//	below    N - XAbove         M - YAbove
//
// is tested with FisherExact. Greater is the alternative that x has the
// larger share above (x has the heavier upper tail at that level), Less that
// it has the smaller share (the heavier lower tail), TwoSided either.
//
// The split depends on the pooled sample only, not on which observation
// came from which sample. Under the null hypothesis that x and y come from
// one distribution every assignment of the labels is equally likely given
// the pooled sample, so XAbove is hypergeometric given the margins and the
// p-value is exact, with any ties and any distribution, discrete or zero
// inflated included; nothing is approximated.
//
// Special cases: an empty x or y gives ErrEmptySample; NaN or ±Inf gives
// ErrNonFinite; q outside (0, 1) or an unknown alt gives ErrInvalidOption; a
// pooled sample of one repeated value has no split and gives ErrAllTied.
//
// Cost: O((N+M) log(N+M)) to sort copies of the samples (the inputs are not
// modified), then O(N+M) for the split and FisherExact's sum. Safe for
// concurrent use.
//
// Sources: A. M. Mood (1954), "On the asymptotic efficiency of certain
// nonparametric two-sample tests", Ann. Math. Statist. 25(3), 514-522;
// Conover (1999), Practical Nonparametric Statistics, 3rd ed., section 4.3
// (the median test and its extension to other quantiles).
func ExceedanceTest(x, y []float64, q float64, alt Alternative) (ExceedanceResult, error) {
	if !(q > 0 && q < 1) {
		return ExceedanceResult{}, fmt.Errorf("exceedance test: quantile %v not in (0, 1): %w", q, ErrInvalidOption)
	}
	if err := checkSample("x", x); err != nil {
		return ExceedanceResult{}, fmt.Errorf("exceedance test: %w", err)
	}
	if err := checkSample("y", y); err != nil {
		return ExceedanceResult{}, fmt.Errorf("exceedance test: %w", err)
	}
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	return ExceedanceTestSorted(xs, ys, q, alt)
}

// ExceedanceTestSorted is ExceedanceTest for samples already sorted in
// ascending order and checked to be finite and non-empty; it neither copies
// nor sorts, so a caller running several tests on the same data sorts once.
// Unsorted input gives a wrong answer, not an error.
func ExceedanceTestSorted(xs, ys []float64, q float64, alt Alternative) (ExceedanceResult, error) {
	if !(q > 0 && q < 1) {
		return ExceedanceResult{}, fmt.Errorf("exceedance test: quantile %v not in (0, 1): %w", q, ErrInvalidOption)
	}
	if len(xs) == 0 || len(ys) == 0 {
		return ExceedanceResult{}, fmt.Errorf("exceedance test: %w", ErrEmptySample)
	}
	threshold, k, ok := pooledSplit(xs, ys, q)
	if !ok {
		return ExceedanceResult{}, fmt.Errorf("exceedance test: every observation equals %g: %w", xs[0], ErrAllTied)
	}
	n, m := len(xs), len(ys)
	res := ExceedanceResult{
		Threshold: threshold,
		Level:     float64(k) / float64(n+m),
		XAbove:    n - sort.Search(n, func(i int) bool { return xs[i] > threshold }),
		YAbove:    m - sort.Search(m, func(i int) bool { return ys[i] > threshold }),
		N:         n,
		M:         m,
	}
	p, err := FisherExact(int64(res.XAbove), int64(res.YAbove), int64(n-res.XAbove), int64(m-res.YAbove), alt)
	if err != nil {
		return ExceedanceResult{}, fmt.Errorf("exceedance test: %w", err)
	}
	res.PValue = p
	return res, nil
}

// pooledSplit returns the value z_(k) and the position k of the allowed
// split of the merged samples nearest to q·(n+m); ok is false when all
// values are equal. It walks the merge once and keeps O(1) state.
func pooledSplit(xs, ys []float64, q float64) (threshold float64, k int, ok bool) {
	total := len(xs) + len(ys)
	target := q * float64(total)
	best := math.Inf(1)
	i, j := 0, 0
	next := func() float64 {
		if j >= len(ys) || (i < len(xs) && xs[i] <= ys[j]) {
			i++
			return xs[i-1]
		}
		j++
		return ys[j-1]
	}
	prev := next()
	for pos := 1; pos < total; pos++ {
		v := next()
		if prev < v {
			d := math.Abs(float64(pos) - target)
			if d < best {
				best, threshold, k, ok = d, prev, pos, true
			} else if float64(pos) > target {
				break // splits further right are further away
			}
		}
		prev = v
	}
	return threshold, k, ok
}
