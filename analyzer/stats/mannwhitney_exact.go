package stats

import "math"

// wilcoxDist is the null distribution of the Mann-Whitney statistic W for
// samples of sizes m and n without ties: P(W = k) = c(k; m, n) / C(m+n, n),
// where c(k; m, n) counts the ways to split the ranks 1..m+n so that W = k.
// The counts satisfy
//
//	c(k; i, j) = c(k - j; i-1, j) + c(k; i, j-1),  c(k; i, 0) = c(k; 0, j) = [k = 0]
//
// (the largest rank belongs either to x, adding j to W, or to y), with
// c(k) = c(ij - k) and c(k; i, j) = c(k; i, k) for k < j. They exceed 2^53
// from m + n ≈ 56 on, so their rounding depends on the order of the
// additions; to reproduce R's probabilities bit for bit (qwilcox compares
// their running sum with the level), they are computed by R's own memoized
// recursion cwilcox, in the same order. At m = n = 49, the largest exact
// case, that fills about 750,000 entries in a few milliseconds.
// Source: R src/nmath/wilcox.c; Mann & Whitney (1947), Ann. Math. Statist.
// 18(1), 50-60.
type wilcoxDist struct {
	m, n  int
	memo  [][][]float64 // memo[i][j][k] = c(k; i, j), i <= j, k <= ij/2; -1 = unknown
	total float64       // C(m+n, n) as R's choose() computes it
}

func newWilcoxDist(m, n int) *wilcoxDist {
	lo, hi := min(m, n), max(m, n)
	memo := make([][][]float64, lo+1)
	for i := range memo {
		memo[i] = make([][]float64, hi+1)
	}
	return &wilcoxDist{m: m, n: n, memo: memo, total: rChoose(m+n, n)}
}

// count is c(k; m, n) for any k, 0 outside [0, mn].
func (w *wilcoxDist) count(k int) float64 { return w.cwilcox(k, w.m, w.n) }

// cwilcox is R's cwilcox(k, m, n), step for step.
func (w *wilcoxDist) cwilcox(k, m, n int) float64 {
	u := m * n
	if k < 0 || k > u {
		return 0
	}
	c := u / 2
	if k > c {
		k = u - k
	}
	i, j := n, m
	if m < n {
		i, j = m, n
	}
	if j == 0 {
		return 1 // k == 0 here
	}
	if k < j {
		return w.cwilcox(k, i, k)
	}
	row := w.memo[i][j]
	if row == nil {
		row = make([]float64, c+1)
		for l := range row {
			row[l] = -1
		}
		w.memo[i][j] = row
	}
	if row[k] < 0 {
		row[k] = w.cwilcox(k-j, i-1, j) + w.cwilcox(k, i, j-1)
	}
	return row[k]
}

// cdf is R's pwilcox(q, m, n, lower.tail): P(W <= q), or P(W > q) when
// lower is false, summed over the shorter tail as R does.
func (w *wilcoxDist) cdf(q float64, lower bool) float64 {
	mn := float64(w.m * w.n)
	q = math.Floor(q + 1e-7)
	if q < 0 {
		return tail(0, lower)
	}
	if q >= mn {
		return tail(1, lower)
	}
	p := 0.0
	if q <= mn/2 {
		for i := 0; i <= int(q); i++ {
			p += w.count(i) / w.total
		}
	} else {
		q = mn - q
		for i := 0; i < int(q); i++ {
			p += w.count(i) / w.total
		}
		lower = !lower
	}
	return tail(p, lower)
}

// tail is R's R_DT_val: p, or 1 - p computed as 0.5 - p + 0.5.
func tail(p float64, lower bool) float64 {
	if lower {
		return p
	}
	return 0.5 - p + 0.5
}

// quantile is R's qwilcox(x, m, n) for 0 < x < 1: the smallest q with
// P(W <= q) >= x, with R's 10ε slack against rounding.
func (w *wilcoxDist) quantile(x float64) int {
	const eps = 0x1p-52
	u := w.m * w.n // the loops end well before u; the bound only guards against rounding
	p := 0.0
	if x <= 0.5 {
		x -= 10 * eps
		for q := 0; q < u; q++ {
			p += w.count(q) / w.total
			if p >= x {
				return q
			}
		}
		return u
	}
	x = 1 - x + 10*eps
	for q := 0; q < u; q++ {
		p += w.count(q) / w.total
		if p > x {
			return u - q
		}
	}
	return 0
}

// exactTest fills the p-value, interval and estimate of the exact branch, as
// wilcox.test does when both samples are below 50 and nothing ties.
func exactTest(res *MannWhitneyResult, xs, ys []float64, opt MannWhitneyOptions) {
	nx, ny := len(xs), len(ys)
	w := newWilcoxDist(nx, ny)
	nm := float64(nx * ny)
	switch opt.Alternative {
	case TwoSided:
		var p float64
		if res.W > nm/2 {
			p = w.cdf(res.W-1, false)
		} else {
			p = w.cdf(res.W, true)
		}
		res.PValue = math.Min(2*p, 1)
	case Greater:
		res.PValue = w.cdf(res.W-1, false)
	case Less:
		res.PValue = w.cdf(res.W, true)
	}

	d := newPairDiffs(xs, ys)
	alpha := 1 - opt.ConfLevel
	var achieved float64
	switch opt.Alternative {
	case TwoSided:
		qu := max(w.quantile(alpha/2), 1)
		achieved = 2 * w.cdf(float64(qu-1), true)
		res.Lower = d.kth(int64(qu))
		res.Upper = d.kth(int64(nx*ny - qu + 1))
	case Greater:
		qu := max(w.quantile(alpha), 1)
		achieved = w.cdf(float64(qu-1), true)
		res.Lower, res.Upper = d.kth(int64(qu)), math.Inf(1)
	case Less:
		qu := max(w.quantile(alpha), 1)
		achieved = w.cdf(float64(qu-1), true)
		res.Lower, res.Upper = math.Inf(-1), d.kth(int64(nx*ny-qu+1))
	}
	if achieved-alpha > alpha/2 {
		res.ConfLevelAchieved = false
		res.ConfLevel = 1 - achieved
	}
	res.Estimate = d.median()
}
