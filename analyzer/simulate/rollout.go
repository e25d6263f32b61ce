package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
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
	s       *Scenario
	c       *spec.Canary
	j       judge.Judge
	configs []judge.MetricConfig
	gen     *generator
	// roundTrip marshals and parses the status after every commit, as the
	// status file in Git would.
	roundTrip bool
	// samples is true for judges that compare per-step samples.
	samples bool
	history []intervalData
}

// simulateRollout runs one rollout of c, judged by j, on traffic drawn from
// rng, until it ends or runs for four times its planned intervals plus the
// inconclusive limit. It errors only if the status cannot round-trip.
func simulateRollout(s *Scenario, c *spec.Canary, j judge.Judge, rng *rand.Rand, roundTrip bool) (Outcome, error) {
	r := &rolloutSim{s: s, c: c, j: j, configs: metricConfigs(c), gen: newGenerator(s, rng), roundTrip: roundTrip}
	if ns, ok := j.(interface{ NeedsSamples() bool }); ok && ns.NeedsSamples() {
		r.samples = true
	}
	limit := 4*s.Intervals() + *c.Spec.Analysis.InconclusiveLimit + 2*len(c.Spec.Steps)
	var st *spec.Status
	weight, looks, maxE := 0, 0, 0.0
	now := origin()
	for tick := 0; tick <= limit; tick++ {
		if tick > 0 {
			r.history = append(r.history, r.gen.interval(weight))
			now = now.Add(s.Interval)
		}
		d, res := r.decide(st, weight, now)
		if res != nil {
			looks++
			for _, m := range res.Metrics {
				maxE = max(maxE, m.EValue)
			}
		}
		if d.Commit {
			next := d.Status
			var err error
			if st, err = r.store(&next); err != nil {
				return Outcome{}, err
			}
			if d.SetWeight != nil {
				weight = *d.SetWeight
			}
		}
		if o, done := r.ended(st, res, d.Reason); done {
			o.Looks, o.MaxEValue = looks, maxE
			return o, nil
		}
	}
	return Outcome{End: Unfinished, Intervals: r.trafficIntervals(), Looks: looks, MaxEValue: maxE,
		Reason: "time limit"}, nil
}

// decide is one invocation of the loop: gate, decide, measure and judge if
// asked, decide again (functions/core's decide without Git).
func (r *rolloutSim) decide(st *spec.Status, weight int, now time.Time) (rollout.Decision, *judge.Result) {
	in := rollout.Input{Canary: r.c, Status: st, Now: now, ManifestWeight: weight, Trigger: "simulate"}
	if st != nil && st.Phase == spec.PhaseWaitingForSync && st.Generation == r.c.Spec.Canary {
		in.AppliedAt = appliedAt(r.c, st, now)
	}
	d := rollout.Decide(in)
	if !d.NeedsAnalysis {
		return d, nil
	}
	res := r.analyze(&d.Status, d.Window)
	in.Analysis = toAnalysis(&res, now, d.Window)
	return rollout.Decide(in), &res
}

// appliedAt is the sync gate of engine none (gitops/sync.None, restated
// here so that analyzer/ does not depend on gitops/sync and its Kubernetes
// client): a weight counts as applied applyDelay after the commit that set it.
func appliedAt(c *spec.Canary, st *spec.Status, now time.Time) *time.Time {
	if st.WeightSetAt == nil {
		return nil
	}
	t := st.WeightSetAt.Add(c.Spec.Sync.ApplyDelay.D())
	if now.Before(t) {
		return nil
	}
	return &t
}

// analyze judges window w, incremental for judges that ask for it, as
// functions/core's analyze does.
func (r *rolloutSim) analyze(st *spec.Status, w rollout.Window) judge.Result {
	if inc, ok := r.j.(interface{ Incremental() bool }); ok && inc.Incremental() {
		w.Start = w.Since
	}
	states := make([]*judge.State, len(r.configs))
	for i, cfg := range r.configs {
		if ev, ok := st.Evidence[cfg.Name]; ok {
			states[i] = &judge.State{Kind: ev.Kind, Values: ev.Values}
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
	a := r.c.Spec.Analysis
	return r.j.Judge(judge.Request{Metrics: inputs(win, r.configs, states, r.samples),
		MinRequests: float64(a.MinRequests), Alpha: a.Alpha, Final: w.Final, Last: w.Last})
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

// toAnalysis keeps what the state machine and the status need, as
// functions/core's toRolloutAnalysis does.
func toAnalysis(r *judge.Result, now time.Time, w rollout.Window) *rollout.Analysis {
	rec := &spec.AnalysisRecord{At: now, WindowStart: w.Start, Judge: r.Judge, Verdict: string(r.Verdict), Score: r.Score}
	var evidence map[string]spec.Evidence
	for _, m := range r.Metrics {
		rec.Metrics = append(rec.Metrics, spec.MetricRecord{Name: m.Name, Classification: string(m.Classification),
			Unit: m.Unit, Reason: m.Reason})
		if m.State != nil {
			if evidence == nil {
				evidence = map[string]spec.Evidence{}
			}
			evidence[m.Name] = spec.Evidence{Kind: m.State.Kind, Values: m.State.Values}
		}
	}
	return &rollout.Analysis{Verdict: r.Verdict, Critical: r.Critical, Record: rec, Evidence: evidence, Reason: r.Reason}
}
