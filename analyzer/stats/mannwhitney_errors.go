package stats

import "errors"

// Sentinel errors of MannWhitney and HodgesLehmann. They are returned wrapped
// with context; compare with errors.Is.
var (
	// ErrEmptySample means x or y has no observations. R's wilcox.test
	// stops with "not enough observations" in the same case.
	ErrEmptySample = errors.New("empty sample")

	// ErrNonFinite means a sample holds NaN or ±Inf. R silently drops NA and
	// NaN; we refuse instead, so that a gap in the metric data is never
	// mistaken for a smaller sample: drop or impute it before calling.
	ErrNonFinite = errors.New("non-finite observation")

	// ErrRange means the observations are so large (|x|+|y| near
	// math.MaxFloat64) that pairwise differences could overflow.
	ErrRange = errors.New("observations too large for pairwise differences")

	// ErrAllTied means that the normal approximation has zero variance at the
	// edge of the range of shifts: both samples are constant (all
	// observations tie once x is shifted onto y), so no confidence interval
	// or estimate exists. R's wilcox.test(conf.int = TRUE) stops with an
	// error here. A judge typically treats it as "no detectable shift".
	ErrAllTied = errors.New("all observations tied: no confidence interval")

	// ErrNoRoot means the uncorrected rank statistic has the same sign at
	// both ends of the range of shifts, min(x)-max(y) and max(x)-min(y), so
	// the estimate has no bracket. That needs rounding: x_i - (max(x)-min(y))
	// can land just above min(y) (x = 8, 8; y = 8, -3.333333333333333,
	// -3.333333333333333). R's uniroot stops with "f() values at end points
	// not of opposite sign".
	ErrNoRoot = errors.New("rank statistic does not change sign over the range of shifts")

	// ErrInvalidOption means an option is out of range: an unknown
	// Alternative, a confidence level outside (0, 1), or a root tolerance
	// that is not positive and finite.
	ErrInvalidOption = errors.New("invalid option")
)
