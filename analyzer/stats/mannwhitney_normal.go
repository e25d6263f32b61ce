package stats

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"

	"gonum.org/v1/gonum/mathext"
)

// shiftStat evaluates the rank statistic of x - d against y for any shift d,
// the function W(d) inside R's wilcox.test, in O(n+m) per call by merging the
// sorted samples (R re-ranks the pooled sample with rank(), O((n+m) log(n+m))).
type shiftStat struct {
	xs, ys []float64 // sorted ascending
	nx, ny float64
}

func newShiftStat(xs, ys []float64) *shiftStat {
	return &shiftStat{xs: xs, ys: ys, nx: float64(len(xs)), ny: float64(len(ys))}
}

// rankSums holds the pooled ranking of x - d and y.
type rankSums struct {
	sum  float64 // Σ mid-rank of x_i - d: R's sum(dr[seq_along(x)])
	tie  float64 // Σ (t³ - t) over groups of t tied values: R's sum(NTIES^3 - NTIES)
	ties bool    // some group has t > 1
}

// ranks ranks x - d within the pooled sample. Values are compared exactly as
// R compares them: x_i - d is computed in float64, and subtraction of d is
// monotone, so the shifted x stay sorted and one merge with y finds every
// group of ties.
func (s *shiftStat) ranks(d float64) rankSums {
	xs, ys := s.xs, s.ys
	n, m := len(xs), len(ys)
	var twice uint64 // 2 Σ ranks of x: mid-ranks are halves, so this is exact
	var acc tieAcc
	i, j, pos := 0, 0, 0
	for i < n || j < m {
		// The next group holds the smallest remaining value v: ci shifted x
		// and cj y equal to it, with ranks pos+1 .. pos+t.
		ci, cj := 0, 0
		if j == m || (i < n && xs[i]-d <= ys[j]) {
			v := xs[i] - d
			for i < n && xs[i]-d == v {
				i++
				ci++
			}
			for j < m && ys[j] == v {
				j++
				cj++
			}
		} else {
			v := ys[j]
			for j < m && ys[j] == v {
				j++
				cj++
			}
		}
		t := ci + cj
		// Each of the group's x gets the mid-rank (2 pos + t + 1) / 2.
		twice += uint64(ci) * uint64(2*pos+t+1)
		if t > 1 {
			acc.add(t)
		}
		pos += t
	}
	return rankSums{sum: float64(twice) / 2, tie: acc.value(), ties: acc.any}
}

// tieAcc sums t³ - t the way R does: each term is the double t^3 - t, and the
// sum runs in long double, which is exact for these integers, then rounds once.
// A 128-bit integer accumulator reproduces that rounding; groups of 2^21 or
// more tied values (t³ beyond 2^63) go through math/big.
type tieAcc struct {
	hi, lo uint64
	large  *big.Int // sum of the terms of groups with t >= 2^21, or nil
	any    bool
}

func (a *tieAcc) add(t int) {
	a.any = true
	if t < 1<<21 { // t³ < 2^63: exact in uint64, then rounded once as pow() is
		ut := uint64(t)
		term := float64(ut*ut*ut) - float64(t) // an integer-valued double below 2^64
		var carry uint64
		a.lo, carry = bits.Add64(a.lo, uint64(term), 0)
		a.hi += carry
		return
	}
	t3, _ := new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(int64(t)), big.NewInt(3), nil)).Float64()
	term, _ := big.NewFloat(t3 - float64(t)).Int(nil)
	if a.large == nil {
		a.large = new(big.Int)
	}
	a.large.Add(a.large, term)
}

func (a *tieAcc) value() float64 {
	if a.hi == 0 && a.large == nil {
		return float64(a.lo)
	}
	v := new(big.Int).Lsh(new(big.Int).SetUint64(a.hi), 64)
	v.Or(v, new(big.Int).SetUint64(a.lo))
	if a.large != nil {
		v.Add(v, a.large)
	}
	f, _ := new(big.Float).SetInt(v).Float64()
	return f
}

// sigma is R's SIGMA: sqrt((nx ny/12) ((nx+ny+1) - tie/((nx+ny)(nx+ny-1)))).
func (s *shiftStat) sigma(tie float64) float64 {
	n := s.nx + s.ny
	return math.Sqrt(float64(s.nx*s.ny/12) * ((n + 1) - tie/float64(n*(n-1))))
}

// correction is R's continuity correction for the centred statistic dz.
func correction(alt Alternative, dz float64) float64 {
	switch alt {
	case Greater:
		return 0.5
	case Less:
		return -0.5
	}
	switch {
	case dz > 0:
		return 0.5
	case dz < 0:
		return -0.5
	}
	return 0
}

// z is R's W(d) in wilcox.test: the standardized rank statistic of x - d
// against y, with the continuity correction when correct is true.
func (s *shiftStat) z(d float64, alt Alternative, correct bool) float64 {
	r := s.ranks(d)
	dz := r.sum - s.nx*(s.nx+1)/2 - s.nx*s.ny/2
	c := 0.0
	if correct {
		c = correction(alt, dz)
	}
	return (dz - c) / s.sigma(r.tie)
}

// normalTest fills the p-value, interval and estimate of the normal branch.
func normalTest(res *MannWhitneyResult, s *shiftStat, rs rankSums, opt MannWhitneyOptions) error {
	alt := opt.Alternative
	lo := s.xs[0] - s.ys[len(s.ys)-1]
	hi := s.xs[len(s.xs)-1] - s.ys[0]
	// R stops when W(mumin) or W(mumax) is NaN: every value tied, σ = 0.
	if s.sigma(s.ranks(lo).tie) == 0 || s.sigma(s.ranks(hi).tie) == 0 {
		return fmt.Errorf("x in [%g, %g], y in [%g, %g]: %w",
			s.xs[0], s.xs[len(s.xs)-1], s.ys[0], s.ys[len(s.ys)-1], ErrAllTied)
	}
	dz := res.W - s.nx*s.ny/2
	res.PValue = normalPValue(alt, (dz-correction(alt, dz))/s.sigma(rs.tie))

	alpha := 1 - opt.ConfLevel
	f := func(d float64) float64 { return s.z(d, alt, true) }
	b := bracket{lo: lo, hi: hi, flo: f(lo), fhi: f(hi), tol: opt.TolRoot}
	var okL, okU bool
	switch alt {
	case TwoSided:
		res.Lower, okL = b.root(f, qnormUpper(alpha/2))
		res.Upper, okU = b.root(f, qnormLower(alpha/2))
	case Greater:
		res.Lower, okL = b.root(f, qnormUpper(alpha))
		res.Upper, okU = math.Inf(1), true
	case Less:
		res.Lower, okL = math.Inf(-1), true
		res.Upper, okU = b.root(f, qnormLower(alpha))
	}
	res.ConfLevelAchieved = okL && okU

	// R then sets correct <- FALSE and calls uniroot(W, c(mumin, mumax)),
	// which stops unless W changes sign (or is zero) at the ends.
	g := func(d float64) float64 { return s.z(d, alt, false) }
	glo, ghi := g(lo), g(hi)
	if sign(glo)*sign(ghi) > 0 {
		return fmt.Errorf("statistic %g at shift %g and %g at shift %g: %w", glo, lo, ghi, hi, ErrNoRoot)
	}
	res.Estimate = zeroin(g, lo, hi, glo, ghi, opt.TolRoot)
	return nil
}

// sign is R's sign(): -1, 0 or 1.
func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// bracket is R's root() closure: the range of shifts [lo, hi] with the
// corrected statistic at both ends.
type bracket struct {
	lo, hi, flo, fhi, tol float64
}

// root returns the shift where f(d) = zq, or the end of the range when f
// does not cross zq inside it, in which case ok is false.
func (b bracket) root(f func(float64) float64, zq float64) (d float64, ok bool) {
	fl := b.flo - zq
	if fl <= 0 {
		return b.lo, false
	}
	fu := b.fhi - zq
	if fu >= 0 {
		return b.hi, false
	}
	g := func(d float64) float64 { return f(d) - zq }
	return zeroin(g, b.lo, b.hi, fl, fu, b.tol), true
}

// normalPValue is R's p-value from the standardized statistic z.
func normalPValue(alt Alternative, z float64) float64 {
	switch alt {
	case Less:
		return pnormLower(z)
	case Greater:
		return pnormLower(-z)
	}
	return 2 * math.Min(pnormLower(z), pnormLower(-z))
}

// pnormLower is the standard normal CDF Φ(z) = erfc(-z/√2)/2, with R's
// cut-off: Φ(z) = 0 for z <= -37.5193, where R's pnorm stops. Hand-written
// on math.Erfc because gonum's Normal.Survival computes 1 - erf(z) and loses
// the upper tail.
func pnormLower(z float64) float64 {
	if z <= -37.5193 {
		return 0
	}
	return 0.5 * math.Erfc(-z/math.Sqrt2)
}

// qnormLower is R's qnorm(p): Wichura's AS 241, as gonum implements it.
func qnormLower(p float64) float64 {
	return mathext.NormalQuantile(p)
}

// qnormUpper is R's qnorm(p, lower.tail = FALSE). R evaluates the central
// region at 0.5 - p + 0.5 and the tails at p itself, and so do we, so the
// critical values agree with R to the last bit the algorithm allows.
func qnormUpper(p float64) float64 {
	if c := 0.5 - p + 0.5; math.Abs(c-0.5) <= 0.425 {
		return mathext.NormalQuantile(c)
	}
	return -mathext.NormalQuantile(p)
}
