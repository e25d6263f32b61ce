package simulate

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
	"github.com/birdwatch-gitops/birdwatch/rollout/step"
)

// Trace is one simulated rollout written out: the Canary spec it ran, each
// decision and the traffic of each interval, so that the same rollout can
// be replayed elsewhere (functions/core replays it on a real Git
// repository and a real Prometheus and must decide alike).
type Trace struct {
	// Canary is the spec the rollout ran, defaults applied.
	Canary *spec.Canary
	// Start is the time of the first decision; decision k is at
	// Start + k*Interval, and interval i covers (Start+i*Interval,
	// Start+(i+1)*Interval].
	Start    time.Time
	Interval time.Duration
	// Ticks are the decisions, one per interval boundary, in order.
	Ticks []Tick
	// Intervals are the traffic of each interval, in order.
	Intervals []TracedInterval
}

// Tick is one decision of a traced rollout (see NewTick).
type Tick struct {
	At     time.Time      `json:"at"`
	Action rollout.Action `json:"action"`
	Commit bool           `json:"commit"`
	Phase  spec.Phase     `json:"phase"`
	Step   int            `json:"step"`
	Weight int            `json:"weight"`
}

// String is the tick as one line: time, action, phase, step and weight.
func (t Tick) String() string {
	return fmt.Sprintf("%s %s commit=%t %s step %d weight %d", t.At.Format(time.TimeOnly), t.Action, t.Commit,
		t.Phase, t.Step, t.Weight)
}

// TracedInterval is one interval of a traced rollout: the canary weight
// during it and what each version served.
type TracedInterval struct {
	Weight           int
	Canary, Baseline Counts
}

// Counts is what one version served in one interval, per sub-step
// (Scenario.SubSteps of them): requests, 5xx errors and requests slower
// than the scenario's SLO.
type Counts struct {
	Requests, Errors, Slow []float64
}

// TraceRollout runs one rollout of s as Run does (the same spec, the
// shared decision step, traffic drawn from PCG(seed, run)) and returns its
// trace.
func TraceRollout(s Scenario, j judge.Judge, alpha float64, guards bool, seed, run uint64) (*Trace, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	c := canarySpec(&s, j.Name(), alpha, guards)
	if err := spec.Validate(c, spec.Checks{}); err != nil {
		return nil, fmt.Errorf("scenario %q makes an invalid spec: %w: %w", s.Name, err, ErrInvalidConfig)
	}
	tr := &Trace{Canary: c, Start: origin(), Interval: s.Interval}
	if _, err := traceRollout(&s, c, j, rand.New(rand.NewPCG(seed, run)), true, tr); err != nil {
		return nil, err
	}
	return tr, nil
}

// record appends the decision res made at now, and the intervals of
// history not recorded yet; a nil Trace records nothing.
func (tr *Trace) record(now time.Time, res *step.Result, history []intervalData) {
	if tr == nil {
		return
	}
	for _, d := range history[len(tr.Intervals):] {
		tr.Intervals = append(tr.Intervals, TracedInterval{Weight: d.weight, Canary: counts(d.canary), Baseline: counts(d.baseline)})
	}
	tr.Ticks = append(tr.Ticks, NewTick(now, res.Decision))
}

// NewTick is the Tick of decision d made at at: the status's phase, step
// and weight only when d commits (a decision that commits nothing has no
// new status).
func NewTick(at time.Time, d rollout.Decision) Tick {
	t := Tick{At: at, Action: d.Action, Commit: d.Commit}
	if d.Commit {
		t.Phase, t.Step, t.Weight = d.Status.Phase, d.Status.Step, d.Status.Weight
	}
	return t
}

func counts(v versionData) Counts {
	return Counts{Requests: slices.Clone(v.stepRequests), Errors: slices.Clone(v.stepErrors), Slow: slices.Clone(v.stepSlow)}
}
