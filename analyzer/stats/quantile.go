package stats

import (
	"fmt"
	"math"
	"slices"
)

// Histogram is one version's latency histogram over one interval, as
// Prometheus keeps it: cumulative counts per bucket upper bound (the le
// label), the last bound +Inf, whose count is every request.
type Histogram struct {
	// Bounds are the bucket upper bounds, strictly ascending, the last
	// +Inf.
	Bounds []float64 `json:"bounds" yaml:"bounds,flow"`
	// Counts are the cumulative counts per bound: requests at or below it.
	Counts []float64 `json:"counts" yaml:"counts,flow"`
}

// Total is the histogram's request count (the +Inf bucket); 0 when empty.
func (h Histogram) Total() float64 {
	if len(h.Counts) == 0 {
		return 0
	}
	return h.Counts[len(h.Counts)-1]
}

// Above returns the count above bound b and true, or false when h has no
// bucket with upper bound b.
func (h Histogram) Above(b float64) (float64, bool) {
	i, ok := slices.BinarySearch(h.Bounds, b)
	if !ok || i >= len(h.Counts) {
		return 0, false
	}
	return h.Total() - h.Counts[i], true
}

// Quantile returns h's q-quantile as PromQL's histogram_quantile
// interpolates it (promql/quantile.go bucketQuantile): linearly within the
// bucket holding rank q*Total, the first bucket starting at 0 (or at its
// bound when that is not positive), a rank in the +Inf bucket giving the
// highest finite bound. NaN when h is empty, has no finite bound or fails
// Check.
func (h Histogram) Quantile(q float64) float64 {
	n := len(h.Counts)
	if n < 2 || h.Check() != nil || !(h.Total() > 0) || !(q >= 0 && q <= 1) {
		return math.NaN()
	}
	rank := q * h.Total()
	b, _ := slices.BinarySearchFunc(h.Counts, rank, func(c, r float64) int {
		if c < r {
			return -1
		}
		return 1
	})
	if b == n-1 {
		return h.Bounds[n-2]
	}
	if b == 0 && h.Bounds[0] <= 0 {
		return h.Bounds[0]
	}
	start, end, count := 0.0, h.Bounds[b], h.Counts[b]
	if b > 0 {
		start = h.Bounds[b-1]
		count -= h.Counts[b-1]
		rank -= h.Counts[b-1]
	}
	return start + (end-start)*(rank/count)
}

// Check returns why h cannot be a histogram of one interval, or nil: no
// bucket, bounds not strictly ascending or without +Inf last, counts that
// are NaN, infinite or negative, or that decrease from one bound to the
// next (a cumulative histogram never does).
func (h Histogram) Check() error {
	n := len(h.Bounds)
	switch {
	case n == 0:
		return fmt.Errorf("no bucket")
	case len(h.Counts) != n:
		return fmt.Errorf("%d bounds but %d counts", n, len(h.Counts))
	case !math.IsInf(h.Bounds[n-1], 1):
		return fmt.Errorf("no +Inf bucket (last bound %v)", h.Bounds[n-1])
	}
	for i, b := range h.Bounds {
		c := h.Counts[i]
		switch {
		case math.IsNaN(b) || (i > 0 && !(b > h.Bounds[i-1])):
			return fmt.Errorf("bound %v at position %d is not above the previous one", b, i+1)
		case math.IsNaN(c) || math.IsInf(c, 0) || c < 0:
			return fmt.Errorf("count %v at le=%v is not a count", c, b)
		case i > 0 && c < h.Counts[i-1]:
			return fmt.Errorf("cumulative count decreases from %v at le=%v to %v at le=%v", h.Counts[i-1], h.Bounds[i-1], c, b)
		}
	}
	return nil
}

// merge returns the sum of a and b on the bounds they share (a cumulative
// histogram restricted to some of its bounds is still one); a zero a gives b.
func (a Histogram) merge(b Histogram) Histogram {
	if len(a.Bounds) == 0 {
		return Histogram{Bounds: slices.Clone(b.Bounds), Counts: slices.Clone(b.Counts)}
	}
	var out Histogram
	for i, bound := range a.Bounds {
		if j, ok := slices.BinarySearch(b.Bounds, bound); ok {
			out.Bounds = append(out.Bounds, bound)
			out.Counts = append(out.Counts, a.Counts[i]+b.Counts[j])
		}
	}
	return out
}

// QuantileTest is an anytime-valid sequential test on a latency quantile
// from histogram buckets, canary versus baseline, looked at after every
// interval: does the canary put more than (1+tol) times the baseline's
// share of its requests above the baseline's q-quantile?
//
// At each look the threshold is a bucket bound chosen from the baseline's
// histogram of the EARLIER looks only (Threshold): the bound whose share of
// the baseline's requests above it is nearest to 1-q on the log scale, the
// bucket bound nearest its q-quantile. The interval's requests
// above it, canary and baseline, are then bad events of Count, a CountTest:
// its e-process on the canary's share of those events with the rate ratio
// d = P_c(latency > x) / P_b(latency > x).
//
// Validity: the threshold x_i of interval i is fixed before interval i is
// seen (predictable), so given the past each interval's count factor is a
// likelihood ratio of a binomial whose rate ratio is d_i = d(x_i); by the
// monotone likelihood ratio it has expectation at most 1 whenever d_i <= d0.
// The product is therefore a test supermartingale under the composite null
// "at every threshold used, the canary's exceedance is at most (1+tol)
// times the baseline's", and Ville's inequality bounds the false rejections
// over all looks by Alpha, as for CountTest (Ramdas, Grünwald, Vovk & Shafer
// 2023, "Game-theoretic statistics and safe anytime-valid inference", on
// predictable choices inside an e-process). Choosing the threshold from the
// current interval's baseline counts would not be predictable; the first
// look therefore only builds the reference. Count's dispersion handling
// (CountTest.Dispersion, Profile) applies as it does to error counts; a
// threshold that moves between looks is, to the profile e-value's common
// rate ratio, one more source of dispersion, so its guarantee there is the
// approximate one of the dispersion model (once the threshold settles, as
// it does after a few looks on steady traffic, it is the count test's).
//
// What it tests is a share, not the quantile's value: with coarse buckets
// the threshold may lie well below the q-quantile (Istio's buckets jump from
// 250 to 500 ms), and the null then concerns the share above that bound.
// A canary whose tail moves only between two bounds is invisible to it, as
// it is to histogram_quantile's interpolation.
type QuantileTest struct {
	// Quantile is the baseline quantile q whose bucket bound is the
	// threshold, in (0, 1); e.g. 0.99.
	Quantile float64
	// Count is the count test the requests above the threshold feed.
	Count CountTest
}

// QuantileState is everything a QuantileTest carries from one look to the
// next. The zero value means no look yet. States are values: Update never
// modifies the state it is given.
type QuantileState struct {
	// Reference is the baseline's histogram summed over the looks used so
	// far (on the bounds they share): what the next threshold is chosen
	// from.
	Reference Histogram `json:"reference" yaml:"reference"`
	// Threshold is the bucket bound of the last look used; 0 before one.
	Threshold float64 `json:"threshold,omitempty" yaml:"threshold,omitempty"`
	// Count is the count test's state.
	Count CountState `json:"count" yaml:"count"`
}

// Validate reports whether t is usable; the error wraps ErrInvalidTest.
func (t QuantileTest) Validate() error {
	if !(t.Quantile > 0 && t.Quantile < 1) {
		return fmt.Errorf("quantile test: quantile %v not in (0, 1): %w", t.Quantile, ErrInvalidTest)
	}
	if err := t.Count.Validate(); err != nil {
		return fmt.Errorf("quantile test: %w", err)
	}
	return nil
}

// Threshold returns the bucket bound the next look tests, from the
// reference histogram ref: the finite bound whose share of ref's requests
// above it is nearest to 1-q on the log scale (the lower bound on a tie),
// or ref's lowest finite bound when no request lies above any. ok is false
// when ref has no requests or no finite bound.
func (t QuantileTest) Threshold(ref Histogram) (bound float64, ok bool) {
	total := ref.Total()
	if !(total > 0) || len(ref.Bounds) < 2 {
		return 0, false
	}
	bound, best := ref.Bounds[0], math.Inf(1)
	for i, b := range ref.Bounds[:len(ref.Bounds)-1] {
		share := (total - ref.Counts[i]) / total
		if !(share > 0) {
			break // no request above b, nor above any higher bound
		}
		if d := math.Abs(math.Log(share / (1 - t.Quantile))); d < best {
			bound, best = b, d
		}
	}
	return bound, true
}

// checkState verifies that s can be continued by t.
func (t QuantileTest) checkState(s QuantileState) error {
	if len(s.Reference.Bounds) > 0 {
		if err := s.Reference.Check(); err != nil {
			return fmt.Errorf("quantile state: reference histogram: %v: %w", err, ErrInvalidState)
		}
	}
	if s.Threshold < 0 || math.IsNaN(s.Threshold) || math.IsInf(s.Threshold, 0) {
		return fmt.Errorf("quantile state: threshold %v: %w", s.Threshold, ErrInvalidState)
	}
	return t.Count.checkState(s.Count)
}

// Update returns the state after one more interval's histograms.
//
// Special cases:
//   - A histogram that fails Check (no +Inf bucket, bounds out of order,
//     NaN, infinite or negative counts, counts decreasing with the bound),
//     or a canary histogram without the threshold's bucket: the interval is
//     skipped; Update returns s with Count.Skipped+1 and an error wrapping
//     ErrSkipped that says why. Keep that state.
//   - No reference yet (the first look, or a baseline without requests so
//     far): the interval only builds the reference; no evidence.
//   - Otherwise the counts above the threshold go to Count.Update, whose
//     special cases apply.
//   - An invalid t (ErrInvalidTest) or s (ErrInvalidState): s is returned
//     unchanged with the error.
func (t QuantileTest) Update(s QuantileState, canary, baseline Histogram) (QuantileState, error) {
	if err := t.Validate(); err != nil {
		return s, err
	}
	if err := t.checkState(s); err != nil {
		return s, err
	}
	skip := func(format string, args ...any) (QuantileState, error) {
		s.Count.Skipped++
		return s, fmt.Errorf("quantile test update: %s: %w", fmt.Sprintf(format, args...), ErrSkipped)
	}
	if err := canary.Check(); err != nil {
		return skip("canary histogram: %v", err)
	}
	if err := baseline.Check(); err != nil {
		return skip("baseline histogram: %v", err)
	}
	next := s
	next.Reference = s.Reference.merge(baseline) // both end in +Inf, so they share that bound at least
	bound, ok := t.Threshold(s.Reference)
	if !ok {
		return next, nil // the reference is being built: no evidence yet
	}
	cAbove, cOK := canary.Above(bound)
	bAbove, bOK := baseline.Above(bound)
	if !cOK || !bOK {
		return skip("no bucket le=%v (the threshold) in the canary's %v or the baseline's %v", bound, canary.Bounds, baseline.Bounds)
	}
	count, err := t.Count.Update(s.Count, CountObservation{CanaryBad: cAbove, CanaryTotal: canary.Total(),
		BaselineBad: bAbove, BaselineTotal: baseline.Total()})
	if err != nil {
		s.Count = count // counts the skip, if any
		return s, fmt.Errorf("quantile test update at le=%v: %w", bound, err)
	}
	next.Count, next.Threshold = count, bound
	return next, nil
}

// EValue returns Count's e-value for s (see CountTest.EValue).
func (t QuantileTest) EValue(s QuantileState) float64 { return t.Count.EValue(s.Count) }

// Decide returns Count's decision for s (see CountTest.Decide).
func (t QuantileTest) Decide(s QuantileState) SeqDecision { return t.Count.Decide(s.Count) }
