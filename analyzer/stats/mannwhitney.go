package stats

import (
	"fmt"
	"math"
	"slices"
)

// Alternative is the alternative hypothesis of a two-sample location test,
// with the meaning R's wilcox.test gives it. The zero value is TwoSided.
type Alternative int

const (
	// TwoSided is the alternative that x and y differ in location (R
	// "two.sided"); the interval is two-sided.
	TwoSided Alternative = iota
	// Less is the alternative that x is shifted to the left of y, i.e. the
	// shift x - y is negative (R "less"); the interval is (-Inf, Upper].
	Less
	// Greater is the alternative that x is shifted to the right of y, i.e.
	// the shift x - y is positive (R "greater"); the interval is
	// [Lower, +Inf).
	Greater
)

// String returns R's name of the alternative: "two.sided", "less" or
// "greater"; an unknown value prints as "Alternative(n)".
func (a Alternative) String() string {
	switch a {
	case TwoSided:
		return "two.sided"
	case Less:
		return "less"
	case Greater:
		return "greater"
	}
	return fmt.Sprintf("Alternative(%d)", int(a))
}

// ParseAlternative returns the Alternative named s, one of R's names
// "two.sided", "less" or "greater". Any other string yields ErrInvalidOption.
func ParseAlternative(s string) (Alternative, error) {
	for _, a := range []Alternative{TwoSided, Less, Greater} {
		if a.String() == s {
			return a, nil
		}
	}
	return 0, fmt.Errorf("parse alternative %q: %w", s, ErrInvalidOption)
}

// DefaultTolRoot is the absolute tolerance, in the units of the data, of
// the root finding that gives the estimate and the confidence bounds in the
// normal-approximation branch. It is R's default tol.root = 1e-4.
const DefaultTolRoot = 1e-4

// MannWhitneyOptions holds the settings of MannWhitneyWith. They mirror the
// arguments of R's wilcox.test; the ones not listed are fixed at R's
// defaults: mu = 0, paired = FALSE, exact = NULL (exact when both samples
// have fewer than 50 observations and there are no ties), correct = TRUE,
// conf.int = TRUE.
type MannWhitneyOptions struct {
	// Alternative is the alternative hypothesis; the zero value is TwoSided.
	Alternative Alternative
	// ConfLevel is the confidence level of the interval, in (0, 1), e.g.
	// 0.95. Zero is not a default: it is out of range and an error.
	ConfLevel float64
	// TolRoot is R's tol.root: the absolute tolerance, in data units, of
	// the estimate and the bounds in the normal-approximation branch. Zero
	// means DefaultTolRoot. Data on a small scale (ratios near 0.001, say)
	// want a smaller value, since R's default is absolute.
	TolRoot float64
}

// MannWhitneyResult is the outcome of a two-sample Mann-Whitney U (Wilcoxon
// rank-sum) test with the Hodges-Lehmann shift estimate and its confidence
// interval. Each field matches the component of R's htest object named in
// its comment.
type MannWhitneyResult struct {
	// W is the Mann-Whitney statistic (R statistic): the number of pairs
	// (x_i, y_j) with x_i > y_j plus half the number of tied pairs, in
	// [0, N*M].
	W float64
	// PValue is the p-value for the chosen alternative, in [0, 1].
	PValue float64
	// Estimate is the Hodges-Lehmann estimate of the shift x - y (R
	// estimate "difference in location"), in data units. In the exact
	// branch it is the median of all N*M differences x_i - y_j; in the
	// normal branch it is the root of the uncorrected standardized
	// statistic as a function of the shift, found to within TolRoot.
	Estimate float64
	// Lower and Upper bound the confidence interval of the shift (R
	// conf.int), in data units. Lower is -Inf for Less and Upper is +Inf
	// for Greater.
	Lower, Upper float64
	// ConfLevel is the confidence level of [Lower, Upper] as R reports it
	// (attr(conf.int, "conf.level")): the requested level, or in the exact
	// branch the achieved level 1 - alpha when ConfLevelAchieved is false.
	ConfLevel float64
	// Exact reports whether the p-value and interval come from the exact
	// distribution of W (R's "exact test") rather than the normal
	// approximation with continuity correction.
	Exact bool
	// N and M are the sizes of x and y.
	N, M int
	// ConfLevelAchieved is false when the requested level cannot be
	// reached. In the exact branch this is R's warning "Requested
	// conf.level not achievable", and ConfLevel holds the achieved level. In
	// the normal branch it means a bound was clamped to the smallest or
	// largest difference min(x)-max(y) or max(x)-min(y) because the
	// statistic never reaches the critical value (R does this silently and
	// keeps the requested ConfLevel); the true interval is then wider.
	ConfLevelAchieved bool
}

// MannWhitney runs the two-sample Mann-Whitney U test of x against y and
// computes the Hodges-Lehmann estimate of the shift x - y with its
// confidence interval at level confLevel, exactly as R's
//
//	wilcox.test(x, y, alternative = alt, conf.int = TRUE, conf.level = confLevel)
//
// It is MannWhitneyWith with the default root tolerance; see there for the
// formulas, special cases and costs. The inputs are not modified.
func MannWhitney(x, y []float64, alt Alternative, confLevel float64) (MannWhitneyResult, error) {
	return MannWhitneyWith(x, y, MannWhitneyOptions{Alternative: alt, ConfLevel: confLevel})
}

// MannWhitneyWith is MannWhitney with all options. With n = len(x),
// m = len(y) and R_i the rank of x_i in the pooled sample (mid-ranks for
// ties), the statistic is
//
//	W = Σ R_i - n(n+1)/2.
//
// Exact branch (n < 50, m < 50, no ties): the p-value comes from the
// distribution of W under H0 (counts by the recursion of R's cwilcox), the
// interval [d_(qu), d_(nm-qu+1)] from the sorted differences d = x_i - y_j
// with qu = qwilcox(alpha/2, n, m) (alpha for one-sided), and the estimate is
// the median of the d.
//
// Normal branch (otherwise): with t_k the sizes of the groups of ties,
//
//	z = (W - nm/2 - CORRECTION) / σ,  σ² = nm/12 · ((n+m+1) - Σ(t_k³-t_k)/((n+m)(n+m-1)))
//
// with CORRECTION = sign(W - nm/2)/2 (TwoSided), 1/2 (Greater) or -1/2
// (Less). The bounds are the shifts d where z(d), the same statistic
// computed from x - d and y (ties and correction included), crosses the
// normal quantiles, found by R's zeroin (Brent's method) to within TolRoot;
// the estimate is the root of z(d) without the correction.
//
// Special cases:
//   - an empty x or y gives ErrEmptySample, NaN or ±Inf gives ErrNonFinite
//     (R drops NaN silently), |x|+|y| beyond MaxFloat64/4 gives ErrRange;
//   - a bad Alternative, ConfLevel outside (0, 1) or a bad TolRoot gives
//     ErrInvalidOption;
//   - both samples constant in the normal branch gives ErrAllTied, and a
//     statistic without a sign change over the range of shifts gives
//     ErrNoRoot: R stops with an error in both cases;
//   - a level the data cannot reach sets ConfLevelAchieved = false;
//   - in the normal branch the estimate and the bounds are each accurate to
//     about TolRoot, so when the interval is about as narrow as TolRoot the
//     estimate can lie just outside it, or Lower just above Upper, exactly
//     as R reports them.
//
// Cost: O((n+m) log(n+m)) to sort, then O(n+m) per evaluation of z(d) by a
// merge of the sorted samples (R re-ranks in O((n+m) log(n+m))); Brent's
// method needs a few dozen evaluations in all. The exact branch selects order
// statistics of the differences without forming all nm of them (see
// HodgesLehmann). It allocates O(n+m) and is safe for concurrent use. Source: R 4.2 src/library/stats/R/wilcox.test.R, src/nmath/wilcox.c,
// src/library/stats/src/zeroin.c; Hollander & Wolfe (1973), Nonparametric
// Statistical Methods, ch. 4.
func MannWhitneyWith(x, y []float64, opt MannWhitneyOptions) (MannWhitneyResult, error) {
	if err := checkOptions(opt); err != nil {
		return MannWhitneyResult{}, fmt.Errorf("mann-whitney: %w", err)
	}
	if opt.TolRoot == 0 {
		opt.TolRoot = DefaultTolRoot
	}
	if err := checkSample("x", x); err != nil {
		return MannWhitneyResult{}, fmt.Errorf("mann-whitney: %w", err)
	}
	if err := checkSample("y", y); err != nil {
		return MannWhitneyResult{}, fmt.Errorf("mann-whitney: %w", err)
	}
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	if err := checkRange(xs, ys); err != nil {
		return MannWhitneyResult{}, fmt.Errorf("mann-whitney: %w", err)
	}
	s := newShiftStat(xs, ys)
	rs := s.ranks(0)
	res := MannWhitneyResult{
		W:                 rs.sum - s.nx*(s.nx+1)/2,
		ConfLevel:         opt.ConfLevel,
		N:                 len(x),
		M:                 len(y),
		ConfLevelAchieved: true,
	}
	if len(x) < 50 && len(y) < 50 && !rs.ties {
		res.Exact = true
		exactTest(&res, xs, ys, opt)
		return res, nil
	}
	if err := normalTest(&res, s, rs, opt); err != nil {
		return MannWhitneyResult{}, fmt.Errorf("mann-whitney: %w", err)
	}
	return res, nil
}

func checkOptions(opt MannWhitneyOptions) error {
	switch opt.Alternative {
	case TwoSided, Less, Greater:
	default:
		return fmt.Errorf("alternative %v: %w", opt.Alternative, ErrInvalidOption)
	}
	if !(opt.ConfLevel > 0 && opt.ConfLevel < 1) {
		return fmt.Errorf("confidence level %v not in (0, 1): %w", opt.ConfLevel, ErrInvalidOption)
	}
	if opt.TolRoot < 0 || math.IsNaN(opt.TolRoot) || math.IsInf(opt.TolRoot, 0) {
		return fmt.Errorf("root tolerance %v not positive and finite: %w", opt.TolRoot, ErrInvalidOption)
	}
	return nil
}

func checkSample(name string, v []float64) error {
	if len(v) == 0 {
		return fmt.Errorf("sample %s: %w", name, ErrEmptySample)
	}
	for i, f := range v {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("sample %s[%d] = %v: %w", name, i, f, ErrNonFinite)
		}
	}
	return nil
}

// checkRange refuses data where x_i - d could overflow for a shift d between
// the extreme differences: it needs max|x| + max|y| <= MaxFloat64/4.
func checkRange(xs, ys []float64) error {
	ax := math.Max(math.Abs(xs[0]), math.Abs(xs[len(xs)-1]))
	ay := math.Max(math.Abs(ys[0]), math.Abs(ys[len(ys)-1]))
	if ax/4+ay/4 > math.MaxFloat64/16 {
		return fmt.Errorf("max |x| = %g, max |y| = %g: %w", ax, ay, ErrRange)
	}
	return nil
}
