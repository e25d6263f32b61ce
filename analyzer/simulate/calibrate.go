package simulate

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// Calibration is the level at which MannWhitneyReference, peeked every
// interval, spends a false-rollback budget.
type Calibration struct {
	Scenario string `json:"scenario"`
	// Level is the per-look, per-metric significance level.
	Level float64 `json:"level"`
	// Target is the false-rollback rate aimed at.
	Target float64 `json:"target"`
	// FalseRollbackRate is what Level gives on the calibration runs.
	FalseRollbackRate Rate `json:"falseRollbackRate"`
}

// Calibrate finds the largest per-look level at which MannWhitneyReference
// (with cfg's other settings; cfg.Judge is ignored) rolls back at most a
// share target of cfg's rollouts. cfg.Scenario should be a healthy one.
//
// It needs one pass: the reference judge at a level that never rejects
// reports, through EValue, each look's smallest p-value. A rollout peeked at
// level L follows that same path until its first p-value below L, so it is
// rolled back exactly when its smallest p-value is below L or when the
// never-rejecting path itself was rolled back (by the inconclusive limit).
// The level returned is therefore exact for these runs and this seed
// (Run with it reproduces FalseRollbackRate), not an estimate.
func Calibrate(ctx context.Context, cfg Config, target float64) (*Calibration, error) {
	if !(target >= 0 && target < 1) {
		return nil, fmt.Errorf("target %v not in [0, 1): %w", target, ErrInvalidConfig)
	}
	ref := MannWhitneyReference{Level: math.SmallestNonzeroFloat64}
	if r, ok := cfg.Judge.(MannWhitneyReference); ok {
		ref.MinSamples = r.MinSamples
	}
	cfg.Judge = ref
	outcomes, err := Outcomes(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("calibrate on %s: %w", cfg.Scenario.Name, err)
	}
	n := len(outcomes)
	base := 0
	var minP []float64
	for _, o := range outcomes {
		switch {
		case o.End != Promoted:
			base++ // rolled back (or stuck) whatever the level
		case o.MaxEValue > 0:
			minP = append(minP, 1/o.MaxEValue)
		}
	}
	allowed := int(math.Floor(target*float64(n)+1e-9)) - base
	if allowed < 0 {
		return nil, fmt.Errorf("calibrate on %s: %d of %d rollouts end without a promotion at any level, over the target %v: %w",
			cfg.Scenario.Name, base, n, target, ErrInvalidConfig)
	}
	slices.Sort(minP)
	level := math.Nextafter(1, 0)
	if allowed < len(minP) {
		level = max(minP[allowed], math.SmallestNonzeroFloat64) // zero would mean "use alpha"
	}
	rolled := base
	for _, p := range minP {
		if p < level {
			rolled++
		}
	}
	return &Calibration{Scenario: cfg.Scenario.Name, Level: level, Target: target, FalseRollbackRate: NewRate(rolled, n)}, nil
}
