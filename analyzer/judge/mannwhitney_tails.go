package judge

import (
	"fmt"
	"math"
	"slices"

	"github.com/birdwatch-gitops/birdwatch/analyzer/stats"
)

// TailSide names the side of the distribution a tail test looks at.
type TailSide string

// Tail sides.
const (
	UpperTail TailSide = "upper" // samples above the split, or bad events: harmful for Increase
	LowerTail TailSide = "lower" // samples at or below the split, or bad events: harmful for Decrease
)

// TailKind says what a tail test counted.
type TailKind string

// Tail test kinds.
const (
	// TailQuantile counts samples beyond a split of the pooled samples
	// (stats.ExceedanceTest on the per-step values).
	TailQuantile TailKind = "quantile"
	// TailEvents counts the window's bad events among its requests (Fisher's
	// exact test on the error and request counts of a count metric).
	TailEvents TailKind = "events"
)

// TailResult is one tail test of the mannwhitney judge: the canary's share
// of samples beyond a split (TailQuantile), or of requests that were bad
// events (TailEvents), against the baseline's, by Fisher's exact test.
type TailResult struct {
	Kind TailKind
	Side TailSide
	// Quantile is the pooled quantile level asked for; the split is the
	// nearest one that cuts no tie. 0 for TailEvents.
	Quantile float64
	// Threshold is the split: the upper side counts samples above it, the
	// lower side samples at or below it. 0 for TailEvents.
	Threshold float64
	// Canary and Baseline count the samples on Side of Threshold (or the
	// bad events), of CanaryTotal and BaselineTotal samples (or requests).
	Canary, Baseline           int
	CanaryTotal, BaselineTotal int
	// CanaryShare and BaselineShare are those counts over the totals.
	CanaryShare, BaselineShare float64
	// Ratio is CanaryShare/BaselineShare: +Inf when only the baseline's is
	// 0, NaN when both are.
	Ratio float64
	// PValue is Fisher's exact one-sided p-value for an excess of canary
	// samples on Side (for TailEvents on the lower side: a deficit of bad
	// events).
	PValue float64
	// Alpha is the level PValue is compared with: this side's share of
	// 1 - Confidence (see MannWhitney).
	Alpha float64
	// Significant is PValue <= Alpha.
	Significant bool
}

// String describes the tail test for a reason, e.g. "upper tail: 7 of 20
// canary vs 0 of 20 baseline samples above 1 (p=0.0042 <= 0.01)".
func (t TailResult) String() string {
	cmp := ">"
	if t.Significant {
		cmp = "<="
	}
	if t.Kind == TailEvents {
		return fmt.Sprintf("bad events: %d of %d canary vs %d of %d baseline requests (%s, p=%.2g %s %.2g)",
			t.Canary, t.CanaryTotal, t.Baseline, t.BaselineTotal, map[TailSide]string{UpperTail: "more", LowerTail: "fewer"}[t.Side],
			t.PValue, cmp, t.Alpha)
	}
	where := "above"
	if t.Side == LowerTail {
		where = "at or below"
	}
	return fmt.Sprintf("%s tail: %d of %d canary vs %d of %d baseline samples %s %.4g (p=%.2g %s %.2g)",
		t.Side, t.Canary, t.CanaryTotal, t.Baseline, t.BaselineTotal, where, t.Threshold, t.PValue, cmp, t.Alpha)
}

// testTails runs the tail tests of the harmful sides: on the window's event
// counts when both series have usable ones, else on the sorted samples.
func testTails(canary, baseline []float64, cs, bs Series, c mwConfig) ([]TailResult, error) {
	alpha := (1 - c.confidence) / 2
	if cb, ct, ok := eventCounts(cs); ok {
		if bb, bt, ok := eventCounts(bs); ok {
			return eventTests(cb, ct, bb, bt, c, alpha), nil
		}
	}
	var out []TailResult
	if c.harmsUp() {
		t, err := sideTests(canary, baseline, UpperTail, []float64{0.5, 0.9}, alpha)
		if err != nil {
			return nil, err
		}
		out = append(out, t...)
	}
	if c.harmsDown() {
		t, err := sideTests(canary, baseline, LowerTail, []float64{0.5, 0.1}, alpha)
		if err != nil {
			return nil, err
		}
		out = append(out, t...)
	}
	return out, nil
}

// eventCounts returns a count series' bad events and requests rounded to
// whole numbers (Prometheus' increase() extrapolates); ok is false when the
// series has no usable counts.
func eventCounts(s Series) (bad, total int64, ok bool) {
	b, t := math.Round(s.Bad), math.Round(s.Total)
	if !s.HasCounts || !(b >= 0 && t > 0 && b <= t && t < 1<<50) {
		return 0, 0, false
	}
	return int64(b), int64(t), true
}

// eventTests compares the share of bad events among the window's requests
// by Fisher's exact test on each harmful side, at alpha each. Unlike
// per-step rates, whose noise grows as a version's traffic shrinks, the
// test stays exact when the canary gets a tenth of the baseline's traffic.
func eventTests(cb, ct, bb, bt int64, c mwConfig, alpha float64) []TailResult {
	var out []TailResult
	for _, side := range []TailSide{UpperTail, LowerTail} {
		if (side == UpperTail && !c.harmsUp()) || (side == LowerTail && !c.harmsDown()) {
			continue
		}
		alt := stats.Greater
		if side == LowerTail {
			alt = stats.Less
		}
		p, err := stats.FisherExact(cb, bb, ct-cb, bt-bb, alt)
		if err != nil { // counts are checked above; never happens
			p = math.NaN()
		}
		t := TailResult{Kind: TailEvents, Side: side, Canary: int(cb), CanaryTotal: int(ct), Baseline: int(bb), BaselineTotal: int(bt),
			CanaryShare: float64(cb) / float64(ct), BaselineShare: float64(bb) / float64(bt), PValue: p, Alpha: alpha}
		t.Ratio = t.CanaryShare / t.BaselineShare
		t.Significant = p <= alpha
		out = append(out, t)
	}
	return out
}

// sideTests tests one side at the given pooled levels, skipping a level
// whose split equals an earlier one's, and splits alpha evenly over the
// distinct splits (Bonferroni).
func sideTests(canary, baseline []float64, side TailSide, levels []float64, alpha float64) ([]TailResult, error) {
	alt := stats.Greater
	if side == LowerTail {
		alt = stats.Less
	}
	var out []TailResult
	for _, q := range levels {
		r, err := stats.ExceedanceTestSorted(canary, baseline, q, alt)
		if err != nil {
			return nil, fmt.Errorf("%s tail test: %w", side, err)
		}
		if slices.ContainsFunc(out, func(t TailResult) bool { return t.Threshold == r.Threshold }) {
			continue
		}
		t := TailResult{Kind: TailQuantile, Side: side, Quantile: q, Threshold: r.Threshold, Canary: r.XAbove, Baseline: r.YAbove,
			CanaryTotal: r.N, BaselineTotal: r.M, PValue: r.PValue}
		if side == LowerTail {
			t.Canary, t.Baseline = r.N-r.XAbove, r.M-r.YAbove
		}
		t.CanaryShare, t.BaselineShare = float64(t.Canary)/float64(r.N), float64(t.Baseline)/float64(r.M)
		t.Ratio = t.CanaryShare / t.BaselineShare
		out = append(out, t)
	}
	for i := range out {
		out[i].Alpha = alpha / float64(len(out))
		out[i].Significant = out[i].PValue <= out[i].Alpha
	}
	return out, nil
}
