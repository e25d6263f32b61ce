package stats

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// HodgesLehmann returns the two-sample Hodges-Lehmann estimate of the shift
// of x relative to y, in data units:
//
//	Δ̂ = median{ x_i - y_j : 1 <= i <= n, 1 <= j <= m }
//
// the median of all n·m pairwise differences (the mean of the two middle
// ones when n·m is even), which is R's median(outer(x, y, "-")) and the
// estimate wilcox.test reports in its exact branch. It is unbiased for a pure
// shift, robust to a fraction of 1 - 1/√2 ≈ 29% of outliers, and efficient
// (95.5% of the mean difference under normality).
//
// The differences are never all formed: the order statistics are selected
// from the implicit sorted matrix by Monahan's (1984) random-pivot variant of
// Johnson & Mizoguchi (1978), in O((n+m) log(nm)) expected time and O(n+m)
// memory after an O((n+m) log(n+m)) sort. The pivots come from a generator
// with a fixed seed, so the result (which does not depend on them) is
// computed identically every time.
//
// Special cases: an empty x or y gives ErrEmptySample; NaN or ±Inf gives
// ErrNonFinite; values large enough for a difference to overflow give
// ErrRange. The inputs are not modified.
//
// Sources: D. B. Johnson, T. Mizoguchi (1978), "Selecting the Kth element in
// X+Y and X1+X2+...+Xm", SIAM J. Comput. 7(2), 147-153; J. F. Monahan (1984),
// "Algorithm 616: Fast computation of the Hodges-Lehmann location
// estimator", ACM TOMS 10(3), 265-270; Hodges & Lehmann (1963), Ann. Math.
// Statist. 34(2), 598-611.
func HodgesLehmann(x, y []float64) (float64, error) {
	for _, s := range []struct {
		name string
		v    []float64
	}{{"x", x}, {"y", y}} {
		if err := checkSample(s.name, s.v); err != nil {
			return 0, fmt.Errorf("hodges-lehmann: %w", err)
		}
	}
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	if err := checkRange(xs, ys); err != nil {
		return 0, fmt.Errorf("hodges-lehmann: %w", err)
	}
	return newPairDiffs(xs, ys).median(), nil
}

// pairDiffs is the n×m matrix of float64 differences a(i, j) = x_i - y_(m-1-j)
// over x and y sorted ascending. Rounding is monotone, so every row and every
// column of the computed values is non-decreasing, which is all selection
// needs; the values are exactly those R sorts in sort(outer(x, y, "-")).
type pairDiffs struct {
	xs, ys []float64
}

func newPairDiffs(xs, ys []float64) pairDiffs { return pairDiffs{xs: xs, ys: ys} }

func (p pairDiffs) at(i, j int) float64 { return p.xs[i] - p.ys[len(p.ys)-1-j] }

// median is R's median() of all differences.
func (p pairDiffs) median() float64 {
	nm := int64(len(p.xs)) * int64(len(p.ys))
	if nm%2 == 1 {
		return p.kth((nm + 1) / 2)
	}
	return (p.kth(nm/2) + p.kth(nm/2+1)) / 2
}

// kth returns the k-th smallest difference, 1 <= k <= n·m.
//
// Row i keeps candidates in columns [lo[i], hi[i]): lo[i] counts the row's
// values <= the largest pivot known to lie below the answer and hi[i] those
// < the smallest pivot known to lie above it. Each round picks a uniformly
// random candidate as pivot, counts the values < and <= it in every row with
// one monotone sweep (O(n+m)), and either returns it or discards the rows'
// parts on the wrong side. Once at most n+m candidates remain they are sorted.
func (p pairDiffs) kth(k int64) float64 {
	n, m := len(p.xs), len(p.ys)
	lo, hi := make([]int, n), make([]int, n)
	lt, le := make([]int, n), make([]int, n)
	for i := range hi {
		hi[i] = m
	}
	below, left := int64(0), int64(n)*int64(m)
	rng := rand.New(rand.NewPCG(0x9e3779b97f4a7c15, uint64(k)))
	for left > int64(n+m) {
		pivot := p.pick(lo, hi, rng.Int64N(left))
		nlt, nle := p.countBelow(pivot, lt, le)
		switch {
		case k <= nlt:
			copy(hi, lt)
		case k > nle:
			copy(lo, le)
		default:
			return pivot
		}
		below, left = 0, 0
		for i := range lo {
			below += int64(lo[i])
			left += int64(hi[i] - lo[i])
		}
	}
	rest := make([]float64, 0, left)
	for i := range lo {
		for j := lo[i]; j < hi[i]; j++ {
			rest = append(rest, p.at(i, j))
		}
	}
	slices.Sort(rest)
	return rest[k-below-1]
}

// pick returns the r-th remaining candidate in row-major order, for
// 0 <= r < Σ(hi[i] - lo[i]).
func (p pairDiffs) pick(lo, hi []int, r int64) float64 {
	last := 0
	for i := range lo {
		w := int64(hi[i] - lo[i])
		if r < w {
			return p.at(i, lo[i]+int(r))
		}
		if w > 0 {
			last = i
		}
		r -= w
	}
	return p.at(last, hi[last]-1) // not reached while r is in range
}

// countBelow sets lt[i] and le[i] to the number of values in row i that are
// < t and <= t, and returns their totals. Both counts fall as i grows, so
// each needs one sweep of the columns.
func (p pairDiffs) countBelow(t float64, lt, le []int) (nlt, nle int64) {
	m := len(p.ys)
	j, k := m, m
	for i := range p.xs {
		for j > 0 && p.at(i, j-1) >= t {
			j--
		}
		for k > 0 && p.at(i, k-1) > t {
			k--
		}
		lt[i], le[i] = j, k
		nlt += int64(j)
		nle += int64(k)
	}
	return nlt, nle
}
