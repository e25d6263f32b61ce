package stats

import (
	"fmt"
	"math"
)

const (
	// DefaultMeanMinSamples is MeanTest's MinSamples when that is zero: the
	// values each version needs before a bound is finite.
	DefaultMeanMinSamples = 30
	// DefaultMeanHorizon is MeanTest's Horizon when that is zero: the
	// effective sample size where the boundary is tightest.
	DefaultMeanHorizon = 1000
)

// MeanTest is an anytime-valid one-sided confidence sequence (CS) for the
// difference in means of a continuous metric (latency), canary minus
// baseline, looked at after every interval. The zero value is not usable:
// Alpha must be set. Its methods are pure functions of their arguments, safe
// for concurrent use.
//
// With tol = Tolerance and kappa = 1+tol (Increase) or 1-tol (Decrease), the
// CS bounds delta = mean_c - kappa*mean_b. With N canary and M baseline values
// so far, sample means and variances x, y, s_c^2, s_b^2:
//
//	delta_hat = x - kappa*y
//	v_b       = kappa^2 * s_b^2
//	v_c       = max(s_c^2, v_b)                  (variance floor, see below)
//	SE^2      = v_c/N + v_b/M
//	n_eff     = (v_c + v_b) / SE^2               (effective sample size)
//	lower     = delta_hat - SE * margin(a, rho^2 * n_eff)
//
// where margin is the one-sided normal-mixture boundary at level a (Alpha, or
// Alpha/2 per side for Either) and rho^2 is tuned for Horizon (see
// mixtureMargin and mixtureRho2). Whatever the traffic split per interval,
// I = 1/SE^2 is the information and I*(delta_hat - delta) is, by the central
// limit theorem, a Brownian motion in I, so the Gaussian mixture boundary of
// Howard et al. (2021) holds over all looks at once; plugging in the sample
// variances makes it the asymptotic CS of Waudby-Smith, Arbour, Sinha,
// Kennedy & Ramdas (2021), "Time-uniform central limit theory and asymptotic
// confidence sequences".
//
// It is ASYMPTOTIC, not exact: coverage holds as the sample sizes grow. The
// values are assumed independent and identically distributed per version
// while the test runs. Small samples of skewed data are the danger: the
// canary has few values at 1% traffic, and a right-skewed sample whose mean
// falls short also has a small variance, so the plain plug-in bound is too
// tight on the Decrease side (simulated: about 10% false rejections at Alpha
// 5% for log-normal latencies with sdlog 1). Two guards: MinSamples values
// per version before any bound, and the variance floor v_c >= v_b, which is
// the canary's variance at the null boundary if it is shaped like the
// baseline. The floor only ever widens the bound, so the asymptotic
// guarantee stands, and it brings the simulated error rates back under Alpha
// (confseq_sim_test.go). No bound on a mean holds for every distribution
// from few values (Bahadur & Savage 1956): a canary with a much heavier tail
// than the baseline's and a lower mean can still be falsely rejected on the
// Decrease side. For an exact guarantee on latency, count the requests above
// an SLO bucket with CountTest instead.
//
// Decide rejects when the lower bound of mean_c - (1+tol)*mean_b is above 0
// (Increase) or the upper bound of mean_c - (1-tol)*mean_b is below 0
// (Decrease); tolerances are relative to the baseline mean, which is assumed
// positive.
type MeanTest struct {
	// Tolerance is the relative change of the mean tolerated: 0.1 tolerates
	// a canary mean up to 1.1 (Increase) or down to 0.9 (Decrease) times the
	// baseline's. Zero tolerates no change.
	Tolerance float64
	// Alpha is the false-rejection bound over the whole sequence of looks,
	// in (0, 1).
	Alpha float64
	// Direction says which change is bad; the zero value is Increase.
	Direction Direction
	// MinSamples is the number of values each version needs before the
	// bounds are finite, >= 2; zero means DefaultMeanMinSamples.
	MinSamples int
	// Horizon is the effective sample size (values) where the boundary is
	// tightest, > 0; zero means DefaultMeanHorizon. Any value keeps the
	// guarantee; it only moves where the bound is sharpest.
	Horizon float64
}

// MeanState is everything a MeanTest carries from one look to the next: the
// running moments of each version. It round-trips through JSON and YAML
// exactly. The zero value means no values yet. It does not depend on the
// test's settings.
type MeanState struct {
	Canary   Moments `json:"canary" yaml:"canary"`
	Baseline Moments `json:"baseline" yaml:"baseline"`
	// Intervals counts the Update calls whose values were used.
	Intervals int `json:"intervals,omitempty" yaml:"intervals,omitempty"`
	// Skipped counts the Update calls refused (ErrSkipped).
	Skipped int `json:"skipped,omitempty" yaml:"skipped,omitempty"`
}

// Validate reports whether t is usable; the error wraps ErrInvalidTest.
func (t MeanTest) Validate() error {
	if err := seqValidate(t.Tolerance, t.Alpha, t.Direction); err != nil {
		return fmt.Errorf("mean test: %w", err)
	}
	if t.MinSamples != 0 && t.MinSamples < 2 {
		return fmt.Errorf("mean test: min samples %d < 2: %w", t.MinSamples, ErrInvalidTest)
	}
	if t.Horizon != 0 && !(t.Horizon > 0 && !math.IsInf(t.Horizon, 0)) {
		return fmt.Errorf("mean test: horizon %v not finite and > 0: %w", t.Horizon, ErrInvalidTest)
	}
	return nil
}

// Update returns the state after one more interval's values of each
// version. Either slice may be empty (that version had no traffic).
//
// Special cases:
//   - A NaN or infinite value, or values so large their squares overflow:
//     the whole interval is skipped; Update returns s with Skipped+1 and an
//     error wrapping ErrSkipped. Keep that state.
//   - An invalid t (ErrInvalidTest) or s (ErrInvalidState): s is returned
//     unchanged with the error.
func (t MeanTest) Update(s MeanState, canary, baseline []float64) (MeanState, error) {
	if err := t.Validate(); err != nil {
		return s, err
	}
	if !s.Canary.valid() || !s.Baseline.valid() || s.Intervals < 0 || s.Skipped < 0 {
		return s, fmt.Errorf("mean state %+v: %w", s, ErrInvalidState)
	}
	if !seqFinite(canary...) || !seqFinite(baseline...) {
		s.Skipped++
		return s, fmt.Errorf("mean test update: non-finite value: %w", ErrSkipped)
	}
	next := s
	next.Canary = s.Canary.add(canary)
	next.Baseline = s.Baseline.add(baseline)
	if !next.Canary.valid() || !next.Baseline.valid() {
		s.Skipped++
		return s, fmt.Errorf("mean test update: values overflow float64: %w", ErrSkipped)
	}
	next.Intervals++
	return next, nil
}

// Bounds returns the confidence sequence's bounds after the looks so far:
// lower bounds mean_c - (1+tol)*mean_b and upper bounds mean_c -
// (1-tol)*mean_b, in the metric's unit; with zero tolerance both bound the
// plain difference. A side the Direction does not test is -Inf (lower) or
// +Inf (upper); both are infinite until each version has MinSamples values
// and a positive variance. Both are NaN if t or s is invalid.
func (t MeanTest) Bounds(s MeanState) (lower, upper float64) {
	if t.Validate() != nil || !s.Canary.valid() || !s.Baseline.valid() {
		return math.NaN(), math.NaN()
	}
	lower, upper = math.Inf(-1), math.Inf(1)
	a := seqSideAlpha(t.Alpha, t.Direction)
	if t.Direction.up() {
		if est, margin, ok := t.estimate(s, 1+t.Tolerance, a); ok {
			lower = est - margin
		}
	}
	if t.Direction.down() {
		if est, margin, ok := t.estimate(s, 1-t.Tolerance, a); ok {
			upper = est + margin
		}
	}
	return lower, upper
}

// estimate returns delta_hat = mean_c - kappa*mean_b and the one-sided
// margin at level a; ok is false while the data are too few.
func (t MeanTest) estimate(s MeanState, kappa, a float64) (est, margin float64, ok bool) {
	minN := t.MinSamples
	if minN == 0 {
		minN = DefaultMeanMinSamples
	}
	horizon := t.Horizon
	if horizon == 0 {
		horizon = DefaultMeanHorizon
	}
	c, b := s.Canary, s.Baseline
	if c.N < minN || b.N < minN {
		return 0, 0, false
	}
	vb := kappa * kappa * b.Variance()
	vc := math.Max(c.Variance(), vb) // the variance floor, see MeanTest
	se2 := vc/float64(c.N) + vb/float64(b.N)
	if !(se2 > 0) || math.IsInf(se2, 0) {
		return 0, 0, false // constant values: the CLT says nothing yet
	}
	nEff := (vc + vb) / se2
	margin = math.Sqrt(se2) * mixtureMargin(a, mixtureRho2(a, horizon)*nEff)
	return c.Mean - kappa*b.Mean, margin, true
}

// Decide returns Reject when Bounds excludes 0 on a tested side (lower > 0
// or upper < 0), else Continue. It never returns Accept. An invalid t or s
// gives Continue: bad configuration is never evidence.
func (t MeanTest) Decide(s MeanState) SeqDecision {
	lower, upper := t.Bounds(s)
	if lower > 0 || upper < 0 {
		return Reject
	}
	return Continue
}
