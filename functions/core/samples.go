package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// measureSamples fills in.Canary.Samples and in.Baseline.Samples with one
// value per step of w, for both versions: range queries at the step
// metrics.SampleStep picks (the analysis interval, or the window split into
// the metric's minimum number of samples), each sample over its own step so
// that no two share data. A version without any series gets no samples (the
// judge says NoData); any other failure becomes in.Err, unless measuring the
// window already failed.
func (e *Engine) measureSamples(ctx context.Context, c *spec.Canary, st *spec.Status, m *spec.Metric, w rollout.Window, in *judge.Input) {
	if in.Err != nil {
		return
	}
	provider, err := e.metricProvider(ctx, m)
	if err != nil {
		in.Err = err
		return
	}
	rp, ok := provider.(metrics.RangeProvider)
	if !ok {
		in.Err = fmt.Errorf("metric %s: the metrics provider %T cannot run range queries", m.Name, provider)
		return
	}
	tmpl, err := metricTemplate(m)
	if err != nil {
		in.Err = err
		return
	}
	minSamples := in.Config.MinSamples
	if minSamples == 0 {
		minSamples = judge.DefaultMinSamples
	}
	step := metrics.SampleStep(c.Spec.Analysis.Interval.D(), w.End.Sub(w.Start), minSamples)
	fetch := func(version string, s *judge.Series) ([]float64, error) {
		v := metrics.Vars{Service: c.Spec.Service, Namespace: c.Metadata.Namespace, Version: version,
			Stable: st.Stable, Canary: st.Generation, Interval: c.Spec.Analysis.Interval.D(), Args: m.TemplateArgs()}
		set, err := metrics.Samples(ctx, rp, tmpl, v, w.Start, w.End, step)
		if errors.Is(err, metrics.ErrNoData) {
			return nil, nil
		}
		// Steps whose counts were not evidence are NaN samples (the NaN
		// strategy decides); what was left out, and why, goes to the status.
		s.Dropped = append(s.Dropped, prefixed("sample ", set.Dropped)...)
		s.Dropped = append(s.Dropped, prefixed("sample window skipped: ", set.Skipped)...)
		return set.Values, err
	}
	canary, cerr := fetch(st.Generation, &in.Canary)
	baseline, berr := fetch(st.Stable, &in.Baseline)
	if err := errors.Join(cerr, berr); err != nil {
		in.Err = fmt.Errorf("metric %s samples at step %s: %w", m.Name, step, err)
		return
	}
	in.Canary.Samples, in.Baseline.Samples = canary, baseline
}

// prefixed returns each of ss after p.
func prefixed(p string, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = p + s
	}
	return out
}
