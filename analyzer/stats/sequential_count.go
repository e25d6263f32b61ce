package stats

import (
	"fmt"
	"math"
)

// CountTest is an anytime-valid sequential test on counts of bad events
// (errors, or requests slower than an SLO bucket) against requests, canary
// versus baseline, looked at after every interval (Lindon et al., "Rapid
// Regression Detection in Software Deployments through Sequential Testing",
// KDD 2022). The zero value is not usable: Alpha must be set. Its methods
// are pure functions of their arguments, safe for concurrent use.
//
// Model: conditional on the E_i bad events of interval i, the canary's share
// is binomial,
//
//	e_c ~ Binomial(E_i, p_i(d)),   p_i(d) = d*r_c / (d*r_c + r_b)
//
// where r_c, r_b are the interval's request counts and d is the rate ratio
// (canary bad-rate)/(baseline bad-rate). p_i changes as traffic shifts; no
// independence between intervals is needed. The model does assume that,
// given the interval's totals, each bad event falls on the canary
// independently with probability p_i(d), as when requests fail independently
// at a rate per version; a burst of failures that hits one version only is
// (rightly) evidence against that version.
//
// Hypotheses, with tol = Tolerance (a relative change, as Kayenta's allowed
// increase/decrease):
//
//	Increase: H0: d <= d0 = 1+tol        Decrease: H0: d >= d0 = 1-tol
//	Either:   H0: 1-tol <= d <= 1+tol
//
// The decrease side uses 1-tol (not 1/(1+tol)) so that a tolerance of 0.25
// tolerates a 25% change either way, as the Canary spec reads.
//
// E-value: a mixture over d beyond d0 of the likelihood ratios
// prod_i L_i(d)/L_i(d0), with a half-normal prior on |log(d/d0)| of scale 2.5
// discretised on 32 grid points (see sequential_grid.go). By the monotone
// likelihood ratio of the binomial in d, each ratio is a nonnegative
// supermartingale under every d in H0, so the mixture is too, and by Ville's
// inequality P(sup_t E_t >= 1/Alpha) <= Alpha: Decide may be called after
// every interval and rejects a canary within tolerance with probability at
// most Alpha over the whole rollout. This is exact (non-asymptotic) given the
// binomial model; the grid changes power, not validity. Either averages the
// two one-sided e-values, which splits Alpha evenly.
//
// Futility: with FutilityAlpha > 0 a second e-process tests H1: d >= d1 with
// d1 = d0^2 (for Increase; d <= (1-tol)^2 for Decrease), the mirror image of
// the test above, so it is valid the same way. When it reaches
// 1/FutilityAlpha, Decide returns Accept: the probability of ever accepting
// a canary that is worse than d1 is at most FutilityAlpha. Between d0 and d1
// either verdict is acceptable (the indifference zone). Either accepts only
// when both sides accept (an intersection-union test, so each side keeps the
// full FutilityAlpha).
type CountTest struct {
	// Tolerance is the relative change of the bad-event rate tolerated:
	// 0.25 tolerates a canary rate up to 1.25 (Increase) or down to 0.75
	// (Decrease) times the baseline's. Zero tolerates no change.
	Tolerance float64
	// Alpha is the false-rejection bound over the whole sequence of looks,
	// in (0, 1); e.g. 0.01.
	Alpha float64
	// Direction says which change is bad; the zero value is Increase.
	Direction Direction
	// FutilityAlpha, in [0, 1), enables the early Accept with that error
	// bound; zero disables it and Decide never returns Accept.
	FutilityAlpha float64
	// Dispersion allows for extra-binomial variation of the canary's share
	// between intervals: by the profile e-value with Profile (see
	// sequential_profile.go), else by discounting each interval's evidence
	// with the variation estimated from the earlier intervals (see
	// sequential_dispersion.go). The test then stays near Alpha when errors
	// are overdispersed or clustered, and is still exactly valid on
	// independent requests. False trusts every event (the plain binomial
	// test).
	Dispersion bool
	// TunedPrior mixes the wide prior on the rate ratio with one scaled to
	// the tolerance (see tunedLogWeights): more power against regressions
	// just beyond the tolerance, a little less against huge ones. False
	// keeps the wide half-normal alone.
	TunedPrior bool
	// Profile, with Dispersion, handles dispersion by the beta-binomial
	// universal-inference e-value (sequential_profile.go) instead of
	// tempering every interval: the same validity, much less evidence
	// thrown away on independent requests. The state then keeps every
	// informative interval. The futility processes keep tempering.
	Profile bool
}

// logWeights returns the prior log weights of the e-process with null
// boundary ref.
func (t CountTest) logWeights(g *mixtureGrid, ref float64) *[gridSize]float64 {
	if !t.TunedPrior {
		return &g.logW
	}
	w := g.tunedLogWeights(ref)
	return &w
}

// CountObservation holds the counts of one interval. Counts are increases
// over the interval and may be non-integer (Prometheus increase()
// extrapolates); bad counts are rounded to the nearest integer because the
// likelihood is binomial.
type CountObservation struct {
	CanaryBad     float64 // canary bad events (errors, slow requests)
	CanaryTotal   float64 // canary requests
	BaselineBad   float64 // baseline bad events
	BaselineTotal float64 // baseline requests
}

// CountState is everything a CountTest carries from one look to the next.
// It is small (up to 4x32 numbers) and round-trips through JSON and YAML
// exactly. The zero value means no evidence yet. States are values: Update
// never modifies the state it is given.
type CountState struct {
	// Tolerance is the CountTest.Tolerance the log-likelihood ratios were
	// computed for; Update refuses a state made with another tolerance.
	Tolerance float64 `json:"tolerance" yaml:"tolerance"`
	// Intervals counts the observations used (including those without
	// events, which add no evidence).
	Intervals int `json:"intervals,omitempty" yaml:"intervals,omitempty"`
	// Skipped counts the observations refused as evidence (ErrSkipped).
	Skipped int `json:"skipped,omitempty" yaml:"skipped,omitempty"`
	// CanaryBad .. BaselineTotal are the sums of the used observations, for
	// reports (rates = bad / total).
	CanaryBad     float64 `json:"canaryBad,omitempty" yaml:"canaryBad,omitempty"`
	CanaryTotal   float64 `json:"canaryTotal,omitempty" yaml:"canaryTotal,omitempty"`
	BaselineBad   float64 `json:"baselineBad,omitempty" yaml:"baselineBad,omitempty"`
	BaselineTotal float64 `json:"baselineTotal,omitempty" yaml:"baselineTotal,omitempty"`
	// Up, Down, UpFutility and DownFutility are the accumulated natural-log
	// likelihood ratios of each e-process, one per grid point; empty when
	// the process is not in use (or not started: it then starts at zero).
	Up           []float64 `json:"up,omitempty" yaml:"up,omitempty,flow"`
	Down         []float64 `json:"down,omitempty" yaml:"down,omitempty,flow"`
	UpFutility   []float64 `json:"upFutility,omitempty" yaml:"upFutility,omitempty,flow"`
	DownFutility []float64 `json:"downFutility,omitempty" yaml:"downFutility,omitempty,flow"`
	// MHNum and MHDen are the Mantel-Haenszel sums of the rate ratio,
	// Informative the intervals with events on some side and requests on
	// both, ResidualExcess and ResidualInfo the sums of r^2-1 and of the
	// binomial information of the Pearson residuals: the dispersion
	// estimate's statistics (sequential_dispersion.go). Kept whatever
	// Dispersion is.
	MHNum          float64 `json:"mhNum,omitempty" yaml:"mhNum,omitempty"`
	MHDen          float64 `json:"mhDen,omitempty" yaml:"mhDen,omitempty"`
	Informative    int     `json:"informative,omitempty" yaml:"informative,omitempty"`
	ResidualExcess float64 `json:"residualExcess,omitempty" yaml:"residualExcess,omitempty"`
	ResidualInfo   float64 `json:"residualInfo,omitempty" yaml:"residualInfo,omitempty"`
	ResidualInfoSq float64 `json:"residualInfoSq,omitempty" yaml:"residualInfoSq,omitempty"`
	// History is every informative interval as (canary bad, all bad,
	// canary/baseline requests), and UpProfile and DownProfile the log
	// denominators of the profile e-value (CountTest.Profile only).
	History     []float64 `json:"history,omitempty" yaml:"history,omitempty,flow"`
	UpProfile   float64   `json:"upProfile,omitempty" yaml:"upProfile,omitempty"`
	DownProfile float64   `json:"downProfile,omitempty" yaml:"downProfile,omitempty"`
}

// Validate reports whether t is usable; the error wraps ErrInvalidTest.
func (t CountTest) Validate() error {
	if err := seqValidate(t.Tolerance, t.Alpha, t.Direction); err != nil {
		return fmt.Errorf("count test: %w", err)
	}
	if !(t.FutilityAlpha >= 0 && t.FutilityAlpha < 1) {
		return fmt.Errorf("count test: futility alpha %v not in [0, 1): %w", t.FutilityAlpha, ErrInvalidTest)
	}
	return nil
}

// countProcess is one e-process of a CountTest: its log-likelihood ratios
// in the previous state (old) and where the new ones go (dst), the null
// boundary ref and the side of its mixture (+1: alternatives above ref, -1:
// below).
type countProcess struct {
	old      []float64
	dst      *[]float64
	ref      float64
	sign     float64
	futility bool
	den      *float64 // the profile denominator of a rejection process
}

// processes lists the e-processes t runs, continuing prev into next.
func (t CountTest) processes(prev CountState, next *CountState) ([4]countProcess, int) {
	var ps [4]countProcess
	n := 0
	add := func(old []float64, dst *[]float64, ref, sign float64, den *float64) {
		ps[n] = countProcess{old, dst, ref, sign, den == nil, den}
		n++
	}
	futility := t.FutilityAlpha > 0
	if t.Direction.up() {
		d0 := 1 + t.Tolerance
		add(prev.Up, &next.Up, d0, +1, &next.UpProfile)
		if futility {
			add(prev.UpFutility, &next.UpFutility, d0*d0, -1, nil)
		}
	}
	if t.Direction.down() {
		d0 := 1 - t.Tolerance
		add(prev.Down, &next.Down, d0, -1, &next.DownProfile)
		if futility {
			add(prev.DownFutility, &next.DownFutility, d0*d0, +1, nil)
		}
	}
	return ps, n
}

// checkState verifies that s can be continued by t.
func (t CountTest) checkState(s CountState) error {
	started := false
	for _, llr := range [][]float64{s.Up, s.Down, s.UpFutility, s.DownFutility} {
		if len(llr) != 0 && len(llr) != gridSize {
			return fmt.Errorf("count state: %d log-likelihood ratios, want %d: %w", len(llr), gridSize, ErrInvalidState)
		}
		if !seqFinite(llr...) {
			return fmt.Errorf("count state: non-finite log-likelihood ratio: %w", ErrInvalidState)
		}
		started = started || len(llr) > 0
	}
	if started && s.Tolerance != t.Tolerance {
		return fmt.Errorf("count state: made for tolerance %v, test has %v: %w", s.Tolerance, t.Tolerance, ErrInvalidState)
	}
	if s.Informative < 0 || s.MHNum < 0 || s.MHDen < 0 || s.ResidualInfo < 0 || s.ResidualInfoSq < 0 ||
		!seqFinite(s.MHNum, s.MHDen, s.ResidualExcess, s.ResidualInfo, s.ResidualInfoSq) {
		return fmt.Errorf("count state: negative or non-finite dispersion statistics: %w", ErrInvalidState)
	}
	if len(s.History)%3 != 0 || !seqFinite(s.History...) || !seqFinite(s.UpProfile, s.DownProfile) ||
		s.UpProfile < 0 || s.DownProfile < 0 || slicesMin(s.History) < 0 {
		return fmt.Errorf("count state: bad profile history or denominators: %w", ErrInvalidState)
	}
	if s.Intervals < 0 || s.Skipped < 0 || !seqFinite(s.CanaryBad, s.CanaryTotal, s.BaselineBad, s.BaselineTotal) {
		return fmt.Errorf("count state: negative or non-finite totals: %w", ErrInvalidState)
	}
	return nil
}

// seqCheckCounts returns why o cannot be evidence, or nil.
func seqCheckCounts(o CountObservation) error {
	switch {
	case !seqFinite(o.CanaryBad, o.CanaryTotal, o.BaselineBad, o.BaselineTotal):
		return fmt.Errorf("non-finite count in %+v: %w", o, ErrSkipped)
	case o.CanaryBad < 0 || o.CanaryTotal < 0 || o.BaselineBad < 0 || o.BaselineTotal < 0:
		return fmt.Errorf("negative count (counter reset?) in %+v: %w", o, ErrSkipped)
	case o.CanaryBad > o.CanaryTotal || o.BaselineBad > o.BaselineTotal:
		return fmt.Errorf("more bad events than requests in %+v: %w", o, ErrSkipped)
	}
	return nil
}

// Update returns the state after one more interval's counts.
//
// Special cases:
//   - NaN or infinite counts, negative counts (counter resets), or more bad
//     events than requests: the observation is skipped; Update returns s
//     with Skipped+1 and an error wrapping ErrSkipped. Keep that state.
//   - No bad events, no canary requests, or no baseline requests: the
//     interval carries no information about d; it is counted, adds nothing.
//   - Baseline without bad events: fine, every event is evidence.
//   - Counts so large that the log-likelihood overflows: skipped as above.
//   - An invalid t (ErrInvalidTest) or a state made for another tolerance
//     (ErrInvalidState): s is returned unchanged with the error.
func (t CountTest) Update(s CountState, obs CountObservation) (CountState, error) {
	if err := t.Validate(); err != nil {
		return s, err
	}
	if err := t.checkState(s); err != nil {
		return s, err
	}
	if err := seqCheckCounts(obs); err != nil {
		s.Skipped++
		return s, fmt.Errorf("count test update: %w", err)
	}
	next := s
	next.Tolerance = t.Tolerance
	next.Intervals++
	next.CanaryBad += obs.CanaryBad
	next.CanaryTotal += obs.CanaryTotal
	next.BaselineBad += obs.BaselineBad
	next.BaselineTotal += obs.BaselineTotal
	next.Up, next.Down, next.UpFutility, next.DownFutility = nil, nil, nil, nil

	ps, n := t.processes(s, &next)
	buf := make([]float64, n*gridSize) // one allocation for all processes
	for i, p := range ps[:n] {
		llr := buf[i*gridSize : (i+1)*gridSize : (i+1)*gridSize]
		copy(llr, p.old) // an empty old starts the process at zero
		*p.dst = llr
	}

	overflow := func() (CountState, error) {
		s.Skipped++
		return s, fmt.Errorf("count test update: counts %+v overflow float64: %w", obs, ErrSkipped)
	}
	if !seqFinite(next.CanaryBad, next.CanaryTotal, next.BaselineBad, next.BaselineTotal) {
		return overflow()
	}
	eC, eB := math.Round(obs.CanaryBad), math.Round(obs.BaselineBad)
	if eC+eB == 0 || obs.CanaryTotal == 0 || obs.BaselineTotal == 0 {
		return next, nil // no information about d in this interval
	}
	rho := obs.CanaryTotal / obs.BaselineTotal
	scale := t.discount(s, eC+eB, rho)
	profile := t.Dispersion && t.Profile
	g := countGrid()
	if profile {
		next.History = append(append([]float64(nil), s.History...), eC, eC+eB, rho)
	}
	for _, p := range ps[:n] {
		if profile && !p.futility {
			g.addProfileInterval(*p.dst, p.ref, p.sign, eC, eC+eB, rho, profileTau2(s))
			num := g.logMixture(t.logWeights(&g, p.ref), *p.dst)
			*p.den = profileHistory(next.History).logDenominator(math.Log(p.ref), p.sign, num, math.Log(1/t.Alpha))
			continue
		}
		g.addInterval(*p.dst, p.ref, p.sign, eC, eC+eB, rho, scale)
	}
	addDispersion(&next, eC, eB, obs.CanaryTotal, obs.BaselineTotal)
	if !seqFinite(buf...) || !seqFinite(next.MHNum, next.MHDen, next.ResidualExcess, next.ResidualInfo) {
		return overflow()
	}
	return next, nil
}

// SideEValues returns the e-values of the increase and decrease tests; a
// side that t does not test has e-value 1. Both are NaN if t or s is
// invalid. Use it to tell, for Either, which way the canary moved.
func (t CountTest) SideEValues(s CountState) (increase, decrease float64) {
	if t.Validate() != nil || t.checkState(s) != nil {
		return math.NaN(), math.NaN()
	}
	g := countGrid()
	increase, decrease = 1, 1
	if t.Direction.up() {
		increase = math.Exp(g.logMixture(t.logWeights(&g, 1+t.Tolerance), s.Up) - s.UpProfile)
	}
	if t.Direction.down() {
		decrease = math.Exp(g.logMixture(t.logWeights(&g, 1-t.Tolerance), s.Down) - s.DownProfile)
	}
	return increase, decrease
}

// EValue returns the e-value against "canary within tolerance": 1 with no
// evidence, large when the canary is bad; Decide rejects at >= 1/Alpha. For
// Either it is the mean of the two side e-values. It is +Inf when the
// evidence overflows float64 and NaN if t or s is invalid.
func (t CountTest) EValue(s CountState) float64 {
	inc, dec := t.SideEValues(s)
	switch t.Direction {
	case Increase:
		return inc
	case Decrease:
		return dec
	default:
		return (inc + dec) / 2
	}
}

// Decide returns Reject once EValue(s) >= 1/Alpha, else Accept if the
// futility test has reached 1/FutilityAlpha (on both sides for Either), else
// Continue. Reject wins when both are reached. An invalid t or s gives
// Continue: bad configuration is never evidence.
func (t CountTest) Decide(s CountState) SeqDecision {
	e := t.EValue(s)
	if math.IsNaN(e) {
		return Continue
	}
	if e >= 1/t.Alpha {
		return Reject
	}
	if t.FutilityAlpha == 0 {
		return Continue
	}
	g := countGrid()
	threshold := math.Log(1 / t.FutilityAlpha)
	if t.Direction.up() && g.logMixture(t.logWeights(&g, 1+t.Tolerance), s.UpFutility) < threshold {
		return Continue
	}
	if t.Direction.down() && g.logMixture(t.logWeights(&g, 1-t.Tolerance), s.DownFutility) < threshold {
		return Continue
	}
	return Accept
}

// slicesMin returns the smallest of xs, 0 for none.
func slicesMin(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = math.Min(m, x)
	}
	return m
}
