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
	"github.com/birdwatch-gitops/birdwatch/rollout/step"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// measurer is the step's metrics port on the engine's metrics provider:
// every metric of a look for the canary and the baseline (the stable
// version), concurrently. Metric errors stay per metric (Input.Err).
type measurer struct{ e *Engine }

func (m measurer) Measure(ctx context.Context, look step.Look) []judge.Input {
	c, a := look.Canary, look.Canary.Spec.Analysis
	inputs := look.Inputs
	var wg gosync.WaitGroup
	for i := range a.Metrics {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.e.measureMetric(ctx, c, look.Status, &a.Metrics[i], look.Window, &inputs[i])
			if look.Samples {
				m.e.measureSamples(ctx, c, look.Status, &a.Metrics[i], look.Window, &inputs[i])
			}
		}()
	}
	wg.Wait()
	return inputs
}

// measureMetric fetches one metric for both versions.
func (e *Engine) measureMetric(ctx context.Context, c *spec.Canary, st *spec.Status, m *spec.Metric, w rollout.Window, in *judge.Input) {
	tmpl, err := metricTemplate(m)
	if err != nil {
		in.Err = err
		return
	}
	provider, err := e.metricProvider(ctx, m)
	if err != nil {
		in.Err = err
		return
	}
	in.Config.Unit = tmpl.Unit
	if m.Query != "" {
		in.Config.Unit = m.Unit
	}
	window := w.End.Sub(w.Start).Round(time.Second)
	vars := func(version string) metrics.Vars {
		return metrics.Vars{Service: c.Spec.Service, Namespace: c.Metadata.Namespace, Version: version,
			Stable: st.Stable, Canary: st.Generation, Interval: c.Spec.Analysis.Interval.D(), Window: window, Args: m.TemplateArgs()}
	}
	canary, cerr := metrics.Measure(ctx, provider, tmpl, vars(st.Generation), w.End)
	baseline, berr := metrics.Measure(ctx, provider, tmpl, vars(st.Stable), w.End)
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
}

// toSeries turns a measurement into judge input; no data becomes NaN.
func toSeries(m metrics.Measurement, err error) (judge.Series, error) {
	s := judge.Series{Value: m.Value, Bad: m.Errors, Total: m.Requests, HasCounts: m.HasCounts, Skipped: m.Skipped,
		Dropped: m.Dropped, Buckets: m.Buckets, HasBuckets: m.HasBuckets}
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
	if m.Resolved != nil {
		return TemplateOf(m.Resolved), nil
	}
	if m.TemplateRef != nil {
		return templates.Template{}, fmt.Errorf("metric %s: templateRef %s is not resolved", m.Name, m.TemplateRef.Name)
	}
	return templates.Metric(m.Template)
}
