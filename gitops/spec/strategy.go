package spec

import (
	"math"
	"slices"
	"time"
)

// Defaults of the strategy blocks, applied by SetDefaults.
const (
	// DefaultStrategy is the strategy of a spec that names none.
	DefaultStrategy = StrategyCanary
	// DefaultIterations is how many analysis intervals abTesting, blueGreen
	// and mirror analyse before they move on.
	DefaultIterations = 10
	// DefaultMirrorPercentage is spec.mirror.percentage when unset.
	DefaultMirrorPercentage = 100.0
	// DefaultAutoPromote is spec.blueGreen.autoPromote when unset.
	DefaultAutoPromote = true
)

// Names of the routes the strategies add; in a manifest each is prefixed
// with "birdwatch-" (traffic.RoutePrefix).
const (
	// ABRouteName is the header route of strategy abTesting.
	ABRouteName = "ab"
	// PreviewRouteName is the header route and the mirror of strategy blueGreen.
	PreviewRouteName = "preview"
	// MirrorRouteName is the mirror of strategy mirror.
	MirrorRouteName = "mirror"
)

// originStrategy is the origin of steps that no field but spec.strategy asks for.
const originStrategy = "spec.strategy"

// strategyBlock returns the field name of the block that describes
// strategy ("abTesting", "blueGreen", "mirror"), or "" for canary and
// unknown strategies.
func strategyBlock(strategy string) string {
	switch strategy {
	case StrategyABTesting, StrategyBlueGreen, StrategyMirror:
		return strategy
	}
	return ""
}

// generatesAllSteps reports whether strategy writes every step itself, so
// that spec.steps and spec.stepWeight must be left out.
func generatesAllSteps(strategy string) bool {
	return strategy == StrategyABTesting || strategy == StrategyBlueGreen
}

// setStrategyDefaults fills the fields the strategy blocks left empty. A
// block that is absent stays absent: expandSteps uses the defaults for it
// and points its steps at spec.strategy, so SetDefaults stays idempotent.
func setStrategyDefaults(s *CanarySpec) {
	if s.Strategy == "" {
		s.Strategy = DefaultStrategy
	}
	if b := s.ABTesting; b != nil && b.Iterations == 0 {
		b.Iterations = DefaultIterations
	}
	if b := s.BlueGreen; b != nil {
		if b.Iterations == 0 {
			b.Iterations = DefaultIterations
		}
		if b.AutoPromote == nil {
			b.AutoPromote = ptr(DefaultAutoPromote)
		}
	}
	if b := s.Mirror; b != nil {
		if b.Iterations == 0 {
			b.Iterations = DefaultIterations
		}
		if b.Percentage == 0 {
			b.Percentage = DefaultMirrorPercentage
		}
	}
}

// expandSteps returns the steps the rollout runs: the steps the human wrote
// (origin "") and those the strategy or stepWeight generate (with their
// origin). Generated steps found in s.Steps are dropped first, so calling
// it again gives the same steps.
//
//	canary:    spec.steps, or stepWeight's weights and intervals
//	abTesting: setHeaderRoute ab; analyze I
//	blueGreen: [setHeaderRoute preview] [setMirrorRoute preview] analyze I
//	           [pause] [stop the mirror] setWeight 100
//	mirror:    setMirrorRoute mirror; analyze I; stop the mirror; then as
//	           canary, or setWeight 100 without steps and stepWeight
//
// where I is iterations times spec.analysis.interval. For abTesting and
// blueGreen any step the human wrote is kept after the generated ones, for
// validation to refuse.
func expandSteps(s *CanarySpec) []Step {
	var user []Step
	for _, st := range s.Steps {
		if st.origin == "" {
			user = append(user, st)
		}
	}
	interval := s.Analysis.Interval
	var out []Step
	switch s.Strategy {
	case StrategyABTesting:
		out = expandABTesting(s.ABTesting, interval)
	case StrategyBlueGreen:
		out = expandBlueGreen(s.BlueGreen, interval)
	case StrategyMirror:
		out = expandMirror(s.Mirror, interval)
	}
	if generatesAllSteps(s.Strategy) {
		return append(out, user...)
	}
	switch {
	case len(user) > 0:
		out = append(out, user...)
	case s.StepWeight > 0:
		out = append(out, expandStepWeights(s.StepWeight, s.MaxWeight, interval)...)
	case s.Strategy == StrategyMirror:
		out = append(out, Step{SetWeight: ptr(100), origin: blockOrigin(s.Mirror != nil, StrategyMirror, "")})
	}
	return out
}

// expandABTesting generates strategy abTesting's steps. Without a block or
// a match it generates no route: validation reports the missing match.
func expandABTesting(b *ABTesting, interval Duration) []Step {
	if b == nil {
		return nil
	}
	var out []Step
	if len(b.Match) > 0 {
		out = append(out, Step{SetHeaderRoute: &HeaderRoute{Name: ABRouteName, Match: slices.Clone(b.Match)},
			origin: "spec.abTesting.match"})
	}
	return append(out, Step{Analyze: ptr(times(b.Iterations, interval)), origin: "spec.abTesting.iterations"})
}

// expandBlueGreen generates strategy blueGreen's steps; a nil block is the
// defaults: analyse with no routed traffic, then switch.
func expandBlueGreen(b *BlueGreen, interval Duration) []Step {
	present := b != nil
	if b == nil {
		b = &BlueGreen{Iterations: DefaultIterations}
	}
	var out []Step
	if len(b.Match) > 0 {
		out = append(out, Step{SetHeaderRoute: &HeaderRoute{Name: PreviewRouteName, Match: slices.Clone(b.Match)},
			origin: "spec.blueGreen.match"})
	}
	mirroring := b.MirrorPercentage > 0
	if mirroring {
		out = append(out, Step{SetMirrorRoute: &MirrorRoute{Name: PreviewRouteName, Percentage: b.MirrorPercentage},
			origin: "spec.blueGreen.mirrorPercentage"})
	}
	out = append(out, Step{Analyze: ptr(times(b.Iterations, interval)), origin: blockOrigin(present, StrategyBlueGreen, "iterations")})
	if b.AutoPromote != nil && !*b.AutoPromote {
		out = append(out, Step{Pause: &Pause{}, origin: "spec.blueGreen.autoPromote"})
	}
	if mirroring {
		out = append(out, Step{SetMirrorRoute: &MirrorRoute{Name: PreviewRouteName},
			origin: "spec.blueGreen.mirrorPercentage"})
	}
	return append(out, Step{SetWeight: ptr(100), origin: blockOrigin(present, StrategyBlueGreen, "")})
}

// expandMirror generates the mirror phase of strategy mirror; a nil block
// is the defaults.
func expandMirror(b *Mirroring, interval Duration) []Step {
	present := b != nil
	if b == nil {
		b = &Mirroring{Iterations: DefaultIterations, Percentage: DefaultMirrorPercentage}
	}
	pct := blockOrigin(present, StrategyMirror, "percentage")
	return []Step{
		{SetMirrorRoute: &MirrorRoute{Name: MirrorRouteName, Percentage: b.Percentage}, origin: pct},
		{Analyze: ptr(times(b.Iterations, interval)), origin: blockOrigin(present, StrategyMirror, "iterations")},
		{SetMirrorRoute: &MirrorRoute{Name: MirrorRouteName}, origin: pct},
	}
}

// blockOrigin names the field a generated step comes from: spec.BLOCK.FIELD
// (spec.BLOCK when field is ""), or spec.strategy when the block is absent.
func blockOrigin(present bool, block, field string) string {
	switch {
	case !present:
		return originStrategy
	case field == "":
		return "spec." + block
	}
	return "spec." + block + "." + field
}

// times returns n intervals, saturating instead of overflowing (validation
// reports iterations that large).
func times(n int, interval Duration) Duration {
	if n > 0 && interval > 0 && int64(n) > math.MaxInt64/int64(interval) {
		return Duration(math.MaxInt64)
	}
	return Duration(time.Duration(n) * time.Duration(interval))
}

// expandStepWeights turns Flagger-style stepWeight/maxWeight into steps:
// setWeight w, analyze one interval, for w = step, 2*step, ... <= max.
func expandStepWeights(step, max int, interval Duration) []Step {
	if max <= 0 || max > 100 {
		max = 100
	}
	var steps []Step
	for w := step; w <= max; w += step {
		steps = append(steps, Step{SetWeight: ptr(w), origin: "spec.stepWeight"},
			Step{Analyze: ptr(interval), origin: "spec.stepWeight"})
	}
	return steps
}
