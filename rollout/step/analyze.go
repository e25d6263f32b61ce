package step

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// analyze measures window w of c through the Metrics port and judges it.
// Metric errors become Error classifications, never a pass.
func (p Ports) analyze(ctx context.Context, c *spec.Canary, st *spec.Status, w rollout.Window) (*judge.Result, error) {
	a := c.Spec.Analysis
	j, ok := p.Judges[a.Judge]
	if !ok {
		return nil, fmt.Errorf("%s: judge %q is not available", c.File, a.Judge)
	}
	if inc, ok := j.(interface{ Incremental() bool }); ok && inc.Incremental() {
		w.Start = w.Since
	}
	look := Look{Canary: c, Status: st, Window: w, Inputs: make([]judge.Input, len(a.Metrics))}
	if s, ok := j.(interface{ NeedsSamples() bool }); ok && s.NeedsSamples() {
		look.Samples = true
	}
	for i := range a.Metrics {
		m := &a.Metrics[i]
		look.Inputs[i] = judge.Input{Config: MetricConfig(m), Requests: -1}
		if ev, ok := st.Evidence[m.Name]; ok {
			look.Inputs[i].State = &judge.State{Kind: ev.Kind, Values: ev.Values}
		}
	}
	inputs := look.Inputs
	if p.Metrics != nil {
		inputs = p.Metrics.Measure(ctx, look)
	} else {
		for i := range inputs {
			inputs[i].Err = ErrNoMetrics
		}
	}
	res := j.Judge(judge.Request{Metrics: inputs, MinRequests: float64(a.MinRequests), Alpha: WindowAlpha(a, w),
		Final: w.Final, Last: w.Last,
		Scoring: judge.Scoring{Pass: a.Scoring.Pass, Marginal: a.Scoring.Marginal, GroupWeights: a.Scoring.GroupWeights}})
	for i := range res.Metrics {
		for _, in := range inputs {
			if in.Config.Name == res.Metrics[i].Name {
				res.Metrics[i].LeftOut = judge.LeftOutOf(in)
			}
		}
	}
	return &res, nil
}

// WindowAlpha is the level a window is judged at: analysis.mirrorAlpha when
// the canary serves mirrored copies only (their responses reach no user),
// analysis.alpha otherwise. With one e-process per metric, rejecting at
// 1/alpha in some looks and 1/mirrorAlpha in others keeps the
// false-rollback rate below max(alpha, mirrorAlpha) by Ville's inequality.
func WindowAlpha(a spec.Analysis, w rollout.Window) float64 {
	if w.Traffic == rollout.TrafficMirrored && a.MirrorAlpha > 0 {
		return a.MirrorAlpha
	}
	return a.Alpha
}

// MetricConfig is how the judges see metric m: every setting of the spec.
func MetricConfig(m *spec.Metric) judge.MetricConfig {
	e := m.EffectSize
	return judge.MetricConfig{Name: m.Name, Direction: judge.Direction(m.Direction), Tolerance: *m.Tolerance,
		Critical: m.Critical, Max: m.Max, Min: m.Min, Quantile: m.Quantile,
		Group: m.Group, Confidence: m.Confidence, NaNStrategy: judge.NaNStrategy(m.NaNStrategy),
		Outliers: judge.OutlierStrategy(m.Outliers), OutlierFactor: m.OutlierFactor,
		AllowedIncrease: e.AllowedIncrease, AllowedDecrease: e.AllowedDecrease,
		CriticalIncrease: e.CriticalIncrease, CriticalDecrease: e.CriticalDecrease,
		MinSamples: m.MinSamples, Optional: m.Optional, LocationOnly: m.LocationOnly}
}

// toRolloutAnalysis keeps what the state machine and the status need; the
// data left out of the evidence is added to what st's evidence carries.
func toRolloutAnalysis(r *judge.Result, st *spec.Status, now time.Time, w rollout.Window) *rollout.Analysis {
	rec := &spec.AnalysisRecord{At: now, WindowStart: w.Start, Judge: r.Judge, Traffic: string(w.Traffic),
		Verdict: string(r.Verdict), Score: r.Score}
	var evidence map[string]spec.Evidence
	for _, m := range r.Metrics {
		rec.Metrics = append(rec.Metrics, spec.MetricRecord{Name: m.Name, Classification: string(m.Classification),
			Canary: finite(m.Canary), Baseline: finite(m.Baseline), Unit: m.Unit, Reason: m.Reason, LeftOut: m.LeftOut})
		if m.State != nil {
			if evidence == nil {
				evidence = map[string]spec.Evidence{}
			}
			var skips *spec.Skips
			if st != nil {
				skips = st.Evidence[m.Name].Skips
			}
			evidence[m.Name] = spec.Evidence{Kind: m.State.Kind, Values: m.State.Values, Skips: skips.Add(now, m.LeftOut)}
		}
	}
	return &rollout.Analysis{Verdict: r.Verdict, Critical: r.Critical, Record: rec, Evidence: evidence, Reason: r.Reason}
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
