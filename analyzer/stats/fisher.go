package stats

import (
	"fmt"
	"math"
)

// FisherExact returns the p-value of Fisher's exact test for the 2×2 table
//
//	         x   y
//	first    a   b
//	second   c   d
//
// of counts (a+c observations of x, b+d of y), for the alternative alt on
// the odds ratio (a·d)/(b·c): Greater means that x has the larger share in
// the first row, Less the smaller. It is R's
//
//	fisher.test(matrix(c(a, c, b, d), 2), alternative = alt)$p.value
//
// Conditional on the margins, a follows the hypergeometric distribution
//
//	P(A = j) = C(a+c, j) C(b+d, k-j) / C(N, k),  k = a+b, N = a+b+c+d,
//
// so the one-sided p-values are P(A >= a) (Greater) and P(A <= a) (Less),
// and the two-sided one sums P(A = j) over every j with
// P(A = j) <= P(A = a)·(1 + 1e-7), R's tolerance for ties in probability.
//
// Each tail is summed outward from its end nearest the mode, with the ratio
// of successive terms, starting from a log-probability computed with
// math.Lgamma; a tail that holds the mode is one minus the other tail. The
// cost is O(terms above 1e-17 of the sum), at most O(N), with no allocation;
// the relative error is about 1e-14 for tables of thousands and 1e-8 for
// tables of millions (the rounding of the log-gamma terms). Safe for
// concurrent use.
//
// Special cases: negative counts, or a total above 2^52, give
// ErrInvalidOption; so does an unknown alt. A table with an empty row or
// column has one possible value of a, and the p-value is 1.
//
// Source: R 4.2 src/library/stats/R/fisher.test.R; R. A. Fisher (1935),
// "The logic of inductive inference", J. Roy. Statist. Soc. 98(1), 39-82;
// Agresti (2002), Categorical Data Analysis, 2nd ed., section 3.5.
func FisherExact(a, b, c, d int64, alt Alternative) (float64, error) {
	if a < 0 || b < 0 || c < 0 || d < 0 {
		return math.NaN(), fmt.Errorf("fisher exact: table [%d %d; %d %d] has a negative count: %w", a, b, c, d, ErrInvalidOption)
	}
	const maxTotal = 1 << 52
	if a > maxTotal || b > maxTotal || c > maxTotal || d > maxTotal || a+b+c+d > maxTotal {
		return math.NaN(), fmt.Errorf("fisher exact: table total above 2^52: %w", ErrInvalidOption)
	}
	h := newHyper(a+c, b+d, a+b)
	switch alt {
	case Greater:
		return h.upper(a), nil
	case Less:
		return h.lower(a), nil
	case TwoSided:
		return h.twoSided(a), nil
	}
	return math.NaN(), fmt.Errorf("fisher exact: alternative %v: %w", alt, ErrInvalidOption)
}

// hyper is the hypergeometric distribution of the number of the m white
// balls among k drawn from m white and n black ones (R's dhyper(j, m, n, k)).
type hyper struct {
	m, n, k  int64
	lo, hi   int64 // support
	mode     int64
	logTotal float64 // lchoose(m+n, k)
}

func newHyper(m, n, k int64) hyper {
	h := hyper{m: m, n: n, k: k, lo: max(0, k-n), hi: min(k, m)}
	h.mode = int64(math.Floor((float64(k) + 1) * (float64(m) + 1) / (float64(m+n) + 2)))
	h.mode = min(max(h.mode, h.lo), h.hi)
	h.logTotal = lchoose(m+n, k)
	return h
}

// lchoose is log C(n, k) for 0 <= k <= n.
func lchoose(n, k int64) float64 {
	a, _ := math.Lgamma(float64(n) + 1)
	b, _ := math.Lgamma(float64(k) + 1)
	c, _ := math.Lgamma(float64(n-k) + 1)
	return a - b - c
}

// logd is log P(A = j) for j in the support.
func (h hyper) logd(j int64) float64 {
	return lchoose(h.m, j) + lchoose(h.n, h.k-j) - h.logTotal
}

// ratioUp is P(A = j+1) / P(A = j).
func (h hyper) ratioUp(j int64) float64 {
	return float64(h.m-j) * float64(h.k-j) / (float64(j+1) * float64(h.n-h.k+j+1))
}

// sumUp returns Σ_{i>=j} P(A = i) / P(A = j) for j at or past the mode,
// where the terms only shrink.
func (h hyper) sumUp(j int64) float64 {
	s, t := 1.0, 1.0
	for i := j; i < h.hi; i++ {
		t *= h.ratioUp(i)
		s += t
		if t < s*1e-17 {
			break
		}
	}
	return s
}

// sumDown returns Σ_{i<=j} P(A = i) / P(A = j) for j at or before the mode.
func (h hyper) sumDown(j int64) float64 {
	s, t := 1.0, 1.0
	for i := j; i > h.lo; i-- {
		t /= h.ratioUp(i - 1)
		s += t
		if t < s*1e-17 {
			break
		}
	}
	return s
}

// upper is P(A >= j).
func (h hyper) upper(j int64) float64 {
	switch {
	case j <= h.lo:
		return 1
	case j > h.hi:
		return 0
	case j > h.mode:
		return math.Min(1, math.Exp(h.logd(j))*h.sumUp(j))
	}
	return math.Max(0, 1-h.lower(j-1))
}

// lower is P(A <= j).
func (h hyper) lower(j int64) float64 {
	switch {
	case j >= h.hi:
		return 1
	case j < h.lo:
		return 0
	case j < h.mode:
		return math.Min(1, math.Exp(h.logd(j))*h.sumDown(j))
	}
	return math.Max(0, 1-h.upper(j+1))
}

// relErr is R's fisher.test tolerance: terms within this factor of the
// observed one count as equally likely.
const relErr = 1 + 1e-7

// twoSided is Σ P(A = i) over the i with P(A = i) <= P(A = j)·relErr. The
// distribution is unimodal, so those i form a lower tail and an upper tail;
// the tail on j's side starts at j (or a step past it when a neighbour is
// equally likely), the other is found by bisection on the log-probability.
func (h hyper) twoSided(j int64) float64 {
	if h.lo == h.hi {
		return 1
	}
	limit := h.logd(j) + math.Log(relErr)
	if limit >= h.logd(h.mode) {
		return 1
	}
	in := func(i int64) bool { return h.logd(i) <= limit }
	if j < h.mode {
		for j+1 < h.mode && in(j+1) {
			j++
		}
		// the first i in (mode, hi] with in(i); in() is monotone there.
		first := bisect(h.mode+1, h.hi+1, in)
		return math.Min(1, h.lower(j)+h.upper(first))
	}
	for j-1 > h.mode && in(j-1) {
		j--
	}
	// the last i in [lo, mode) with in(i) is one before the first without.
	last := bisect(h.lo, h.mode, func(i int64) bool { return !in(i) }) - 1
	return math.Min(1, h.upper(j)+h.lower(last))
}

// bisect returns the first i in [lo, hi) with f(i), or hi if none; f must
// be false then true over the range.
func bisect(lo, hi int64, f func(int64) bool) int64 {
	for lo < hi {
		mid := lo + (hi-lo)/2
		if f(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}
