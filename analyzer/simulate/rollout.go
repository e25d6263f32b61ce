package simulate

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
	"github.com/birdwatch-gitops/birdwatch/rollout/step"
)

// End is how a simulated rollout ended.
type End string

// Ends.
const (
	Promoted   End = "promoted"    // every step passed
	RolledBack End = "rolled-back" // a failed analysis (or the failure limit) rolled it back
	NoData     End = "no-data"     // rolled back by the inconclusive limit
	Unfinished End = "unfinished"  // frozen, or still running after the time limit
)

// Outcome is one simulated rollout.
type Outcome struct {
	End End `json:"end"`
	// Intervals is the number of intervals of canary traffic before the
	// end (for a rollback: the intervals to detection).
	Intervals int `json:"intervals"`
	// Looks is the number of analyses the judge made.
	Looks int `json:"looks"`
	// MaxEValue is the largest MetricResult.EValue of any look: for the
	// sequential judge the closest the rollout came to 1/alpha.
	MaxEValue float64 `json:"maxEValue"`
	// Reason is the state machine's reason for the last decision.
	Reason string `json:"reason,omitempty"`
}

// origin is the simulated clock's start; any fixed time will do.
func origin() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// rolloutSim is one rollout's working state.
type rolloutSim struct {
	s   *Scenario
	c   *spec.Canary
	gen *generator
	// snap is the rollout's repository: the Canary's traffic manifest and
	// its status, as the shared decision step reads them.
	snap *memSnapshot
	// ports are the shared step's ports: simulated metrics, the sync gate
	// of engine none, the judge.
	ports step.Ports
	// roundTrip marshals and parses the status after every commit, as the
	// status file in Git would.
	roundTrip bool
	history   []intervalData
}

// simulateRollout runs one rollout of c, judged by j, on traffic drawn from
// rng, until it ends or runs for four times its planned intervals plus the
// inconclusive limit. Every tick is one call of the decision step the loop
// uses (rollout/step), on an in-memory snapshot. It errors only if the
// step cannot decide or the status cannot round-trip.
func simulateRollout(s *Scenario, c *spec.Canary, j judge.Judge, rng *rand.Rand, roundTrip bool) (Outcome, error) {
	return traceRollout(s, c, j, rng, roundTrip, nil)
}

// traceRollout is simulateRollout that, with tr not nil, records every
// tick's decision and every interval's traffic in tr.
func traceRollout(s *Scenario, c *spec.Canary, j judge.Judge, rng *rand.Rand, roundTrip bool, tr *Trace) (Outcome, error) {
	// The spec lives in the snapshot too: promotion sets its spec.stable.
	cp := *c
	cp.File = ".birdwatch/simulate.yaml"
	c = &cp
	r := &rolloutSim{s: s, c: c, gen: newGenerator(s, rng), roundTrip: roundTrip,
		snap: &memSnapshot{files: map[string][]byte{c.Spec.Traffic.File: []byte("0"),
			c.File: []byte("kind: Canary\nspec:\n  stable: stable\n  canary: canary\n")}}}
	r.ports = step.Ports{Sync: noneGate{}, Metrics: simMetrics{r}, Judges: map[string]judge.Judge{c.Spec.Analysis.Judge: j},
		Traffic: func(*spec.Canary) (traffic.Provider, error) { return memTraffic{}, nil },
		// Webhooks are not called: they answer as hooks letting the
		// rollout go on (issue 20).
		Hooks: step.AssumedHooks{}}
	limit := 4*s.Intervals() + *c.Spec.Analysis.InconclusiveLimit + 2*len(c.Spec.Steps)
	weight, looks, maxE := 0, 0, 0.0
	now := origin()
	for tick := 0; tick <= limit; tick++ {
		if tick > 0 {
			r.history = append(r.history, r.gen.interval(weight))
			now = now.Add(s.Interval)
		}
		res, err := r.ports.Decide(context.Background(), r.snap, c, step.Request{Now: now, Trigger: "simulate"})
		if err != nil {
			return Outcome{}, err
		}
		tr.record(now, res, r.history)
		if res.Analysis != nil {
			looks++
			for _, m := range res.Analysis.Metrics {
				maxE = max(maxE, m.EValue)
			}
		}
		if res.Effects.Commit {
			if err := r.commit(res.Effects); err != nil {
				return Outcome{}, err
			}
			if res.Effects.Weight != nil {
				weight = *res.Effects.Weight
			}
		}
		if o, done := r.ended(r.snap.status, res.Analysis, res.Decision.Reason); done {
			o.Looks, o.MaxEValue = looks, maxE
			return o, nil
		}
	}
	return Outcome{End: Unfinished, Intervals: r.trafficIntervals(), Looks: looks, MaxEValue: maxE,
		Reason: "time limit"}, nil
}

// commit lands a decision's effects in the in-memory snapshot.
func (r *rolloutSim) commit(ef step.Effects) error {
	next := ef.Status
	st, err := r.store(&next)
	if err != nil {
		return err
	}
	r.snap.status = st
	if b, ok := ef.Files[r.c.Spec.Traffic.File]; ok {
		r.snap.files[r.c.Spec.Traffic.File] = b
	}
	return nil
}

// memTraffic is the simulator's traffic provider (the step's traffic
// port): the manifest is the canary weight as a decimal number. It
// supports weights only, as the simulated scenarios split traffic by
// weight; the Istio manifest edits themselves are the loop's, tested there.
type memTraffic struct{}

func (memTraffic) Weights(doc []byte) (traffic.Weights, error) {
	w, err := strconv.Atoi(string(doc))
	if err != nil || w < 0 || w > 100 {
		return traffic.Weights{}, fmt.Errorf("simulated manifest %q is not a weight", doc)
	}
	return traffic.Weights{Stable: 100 - w, Canary: w}, nil
}

func (memTraffic) SetWeights(_ []byte, w traffic.Weights) ([]byte, error) {
	return []byte(strconv.Itoa(w.Canary)), nil
}

// memSnapshot is a repository in memory: files, and the status kept parsed
// (step.StatusReader), so the simulator does not parse YAML every tick.
type memSnapshot struct {
	files  map[string][]byte
	status *spec.Status
}

func (m *memSnapshot) ReadFile(path string) ([]byte, error) {
	b, ok := m.files[path]
	if !ok {
		return nil, fmt.Errorf("read %s: %w", path, fs.ErrNotExist)
	}
	return b, nil
}

func (m *memSnapshot) Status(*spec.Canary) (*spec.Status, error) { return m.status, nil }

// noneGate is the sync gate of engine none (gitops/sync.None, restated
// here so that analyzer/ does not depend on gitops/sync and its Kubernetes
// client): a weight counts as applied applyDelay after the commit that set it.
type noneGate struct{}

func (noneGate) Observe(_ context.Context, c *spec.Canary, st *spec.Status, now time.Time) (*time.Time, string, error) {
	if st.WeightSetAt == nil {
		return nil, "", nil
	}
	t := st.WeightSetAt.Add(c.Spec.Sync.ApplyDelay.D())
	if now.Before(t) {
		return nil, "", nil
	}
	return &t, "", nil
}

// simMetrics is the step's metrics port on the simulated traffic: the
// window's intervals summed as Prometheus would sum them.
type simMetrics struct{ r *rolloutSim }

func (m simMetrics) Measure(_ context.Context, look step.Look) []judge.Input {
	r, w := m.r, look.Window
	configs := make([]judge.MetricConfig, len(look.Inputs))
	states := make([]*judge.State, len(look.Inputs))
	for i, in := range look.Inputs {
		configs[i], states[i] = in.Config, in.State
		configs[i].Unit = "percent"
		if in.Config.Name == MetricLatency {
			configs[i].Unit = "ms"
		}
	}
	from, to := r.indexOf(w.Start, true), r.indexOf(w.End, false)
	win := &windowData{scenario: r.s, duration: w.End.Sub(w.Start), bounds: r.gen.bounds,
		history: r.history, from: from, to: max(from, to)}
	if r.gen.noise != nil {
		win.scrapePhase = r.gen.noise.scrapePhase
	}
	if from < to {
		win.intervals = r.history[from:to]
	}
	return inputs(win, configs, states, look.Samples)
}

// indexOf maps a time to an interval boundary: interval i covers
// (origin+i*I, origin+(i+1)*I]. A time between boundaries is rounded into
// the window (up for its start, down for its end).
func (r *rolloutSim) indexOf(t time.Time, up bool) int {
	d := t.Sub(origin())
	i := int(d / r.s.Interval)
	if up && d%r.s.Interval != 0 {
		i++
	}
	return max(0, min(i, len(r.history)))
}

// store returns the status as the next invocation reads it.
func (r *rolloutSim) store(st *spec.Status) (*spec.Status, error) {
	if !r.roundTrip {
		return st, nil
	}
	data, err := spec.MarshalStatus(st)
	if err != nil {
		return nil, fmt.Errorf("marshal status: %w", err)
	}
	parsed, err := spec.ParseStatus("status.yaml", data)
	if err != nil {
		return nil, fmt.Errorf("parse status: %w", err)
	}
	return parsed, nil
}

// ended reports whether the rollout is over and how.
func (r *rolloutSim) ended(st *spec.Status, res *judge.Result, reason string) (Outcome, bool) {
	if st == nil {
		return Outcome{}, false
	}
	o := Outcome{Intervals: r.trafficIntervals(), Reason: reason}
	switch st.Phase {
	case spec.PhaseSucceeded:
		o.End = Promoted
	case spec.PhaseRolledBack:
		o.End = RolledBack
		if res != nil && res.Verdict == judge.VerdictInconclusive {
			o.End = NoData
		}
	case spec.PhaseFrozen, spec.PhaseFailed:
		o.End = Unfinished
	default:
		return Outcome{}, false
	}
	return o, true
}

// trafficIntervals counts the intervals in which the canary had traffic.
func (r *rolloutSim) trafficIntervals() int {
	n := 0
	for _, d := range r.history {
		if d.weight > 0 {
			n++
		}
	}
	return n
}
