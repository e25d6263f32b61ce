package core

import (
	"context"
	"errors"
	"fmt"
	"math"
	gosync "sync"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// analyze measures every metric of c for the canary and the baseline
// (the stable version) over w, concurrently, and judges them. Metric errors
// become Error classifications, never a pass: no data is not good data.
func (e *Engine) analyze(ctx context.Context, c *spec.Canary, st *spec.Status, w rollout.Window) (*judge.Result, error) {
	a := c.Spec.Analysis
	j, ok := e.Judges[a.Judge]
	if !ok {
		return nil, fmt.Errorf("%s: judge %q is not available", c.File, a.Judge)
	}
	if inc, ok := j.(interface{ Incremental() bool }); ok && inc.Incremental() {
		w.Start = w.Since
	}
	inputs := make([]judge.Input, len(a.Metrics))
	samples := needsSamples(j)
	var wg gosync.WaitGroup
	for i := range a.Metrics {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inputs[i] = e.measureMetric(ctx, c, st, &a.Metrics[i], w)
			if samples {
				e.measureSamples(ctx, c, st, &a.Metrics[i], w, &inputs[i])
			}
		}()
	}
	wg.Wait()
	res := j.Judge(judge.Request{Metrics: inputs, MinRequests: float64(a.MinRequests), Alpha: windowAlpha(a, w), Final: w.Final, Last: w.Last,
		Scoring: judge.Scoring{Pass: a.Scoring.Pass, Marginal: a.Scoring.Marginal, GroupWeights: a.Scoring.GroupWeights}})
	return &res, nil
}

// windowAlpha is the level a window is judged at: analysis.mirrorAlpha when
// the canary serves mirrored copies only (their responses reach no user),
// analysis.alpha otherwise. With one e-process per metric, rejecting at
// 1/alpha in some looks and 1/mirrorAlpha in others keeps the
// false-rollback rate below max(alpha, mirrorAlpha) by Ville's inequality.
func windowAlpha(a spec.Analysis, w rollout.Window) float64 {
	if w.Traffic == rollout.TrafficMirrored && a.MirrorAlpha > 0 {
		return a.MirrorAlpha
	}
	return a.Alpha
}

// measureMetric fetches one metric for both versions.
func (e *Engine) measureMetric(ctx context.Context, c *spec.Canary, st *spec.Status, m *spec.Metric, w rollout.Window) judge.Input {
	in := judge.Input{Config: metricConfig(m), Requests: -1}
	if ev, ok := st.Evidence[m.Name]; ok {
		in.State = &judge.State{Kind: ev.Kind, Values: ev.Values}
	}
	tmpl, err := metricTemplate(m)
	if err != nil {
		in.Err = err
		return in
	}
	if e.Metrics == nil {
		in.Err = ErrNoMetricsProvider
		return in
	}
	in.Config.Unit = tmpl.Unit
	if m.Query != "" {
		in.Config.Unit = m.Unit
	}
	window := w.End.Sub(w.Start).Round(time.Second)
	vars := func(version string) metrics.Vars {
		return metrics.Vars{Service: c.Spec.Service, Namespace: c.Metadata.Namespace, Version: version,
			Stable: st.Stable, Canary: st.Generation, Interval: c.Spec.Analysis.Interval.D(), Window: window, Args: m.Args}
	}
	canary, cerr := metrics.Measure(ctx, e.Metrics, tmpl, vars(st.Generation), w.End)
	baseline, berr := metrics.Measure(ctx, e.Metrics, tmpl, vars(st.Stable), w.End)
	in.Canary, cerr = toSeries(canary, cerr)
	in.Baseline, berr = toSeries(baseline, berr)
	if canary.HasRequests {
		in.Requests = canary.Requests
	} else if errors.Is(cerr, metrics.ErrNoData) {
		in.Requests = 0
	}
	if err := errors.Join(cerr, berr); err != nil && !errors.Is(err, metrics.ErrNoData) {
		in.Err = err
	}
	return in
}

// toSeries turns a measurement into judge input; no data becomes NaN.
func toSeries(m metrics.Measurement, err error) (judge.Series, error) {
	s := judge.Series{Value: m.Value, Bad: m.Errors, Total: m.Requests, HasCounts: m.HasCounts}
	if err != nil {
		s.Value = math.NaN()
	}
	return s, err
}

// metricTemplate resolves a spec metric to a query template.
func metricTemplate(m *spec.Metric) (templates.Template, error) {
	if m.Query != "" {
		unit := m.Unit
		if unit == "" {
			unit = "value"
		}
		t := templates.Template{Name: "inline", Description: "inline query of metric " + m.Name, Unit: unit, Query: m.Query}
		return t, t.Validate()
	}
	return templates.Metric(m.Template)
}

func metricConfig(m *spec.Metric) judge.MetricConfig {
	e := m.EffectSize
	return judge.MetricConfig{Name: m.Name, Direction: judge.Direction(m.Direction), Tolerance: *m.Tolerance,
		Critical: m.Critical, Max: m.Max, Min: m.Min,
		Group: m.Group, Confidence: m.Confidence, NaNStrategy: judge.NaNStrategy(m.NaNStrategy),
		Outliers: judge.OutlierStrategy(m.Outliers), OutlierFactor: m.OutlierFactor,
		AllowedIncrease: e.AllowedIncrease, AllowedDecrease: e.AllowedDecrease,
		CriticalIncrease: e.CriticalIncrease, CriticalDecrease: e.CriticalDecrease,
		MinSamples: m.MinSamples, Optional: m.Optional, LocationOnly: m.LocationOnly}
}

// toRolloutAnalysis keeps what the state machine and the status need.
func toRolloutAnalysis(r *judge.Result, now time.Time, w rollout.Window) *rollout.Analysis {
	rec := &spec.AnalysisRecord{At: now, WindowStart: w.Start, Judge: r.Judge, Traffic: string(w.Traffic),
		Verdict: string(r.Verdict), Score: r.Score}
	var evidence map[string]spec.Evidence
	for _, m := range r.Metrics {
		rec.Metrics = append(rec.Metrics, spec.MetricRecord{Name: m.Name, Classification: string(m.Classification),
			Canary: finite(m.Canary), Baseline: finite(m.Baseline), Unit: m.Unit, Reason: m.Reason})
		if m.State != nil {
			if evidence == nil {
				evidence = map[string]spec.Evidence{}
			}
			evidence[m.Name] = spec.Evidence{Kind: m.State.Kind, Values: m.State.Values}
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
