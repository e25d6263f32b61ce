package core

import (
	"context"
	"fmt"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// metricProvider returns the provider m's queries run on: the one its
// MetricTemplate names, else the engine's Metrics (Prometheus).
func (e *Engine) metricProvider(ctx context.Context, m *spec.Metric) (metrics.Provider, error) {
	if m.Resolved == nil || m.Resolved.Spec.Provider == nil {
		if e.Metrics == nil {
			return nil, ErrNoMetricsProvider
		}
		return e.Metrics, nil
	}
	if e.Providers == nil {
		return nil, fmt.Errorf("metric %s: %w: MetricTemplate %s needs provider %s, and this deployment has only Prometheus",
			m.Name, ErrNoMetricsProvider, m.Resolved.Key(), m.Resolved.ProviderType())
	}
	p, err := e.Providers.Provider(ctx, ProviderRef(m.Resolved))
	if err != nil {
		return nil, fmt.Errorf("metric %s: %w", m.Name, err)
	}
	return p, nil
}

// ProviderRef is the provider a MetricTemplate names.
func ProviderRef(t *spec.MetricTemplate) metrics.ProviderRef {
	ref := metrics.ProviderRef{Type: t.ProviderType()}
	if p := t.Spec.Provider; p != nil {
		ref.Address, ref.SecretRef, ref.Region, ref.Headers = p.Address, p.SecretRef, p.Region, p.Headers
	}
	return ref
}

// TemplateOf is a MetricTemplate as the query template metrics.Measure
// runs: bad and total are its errors and requests.
func TemplateOf(t *spec.MetricTemplate) templates.Template {
	return templates.Template{Name: t.Metadata.Name, Description: t.Spec.Description, Unit: t.Spec.Unit,
		Query: t.Spec.Query, Errors: t.Spec.Bad, Requests: t.Spec.Total, Buckets: t.Spec.Buckets}
}

// WithMetricChecks adds to c the checks of MetricTemplates against the
// provider types of reg: known type, queries that render in its dialect
// with the given arguments and tell the versions apart. A nil reg knows
// prometheus only.
func WithMetricChecks(c spec.Checks, reg *metrics.Registry) spec.Checks {
	if reg == nil {
		reg = metrics.NewRegistry(nil, 0)
		reg.Add("prometheus", metrics.Kind{Dialect: metrics.PromQL})
	}
	c.MetricProvider = func(name string) error {
		_, err := reg.Kind(name)
		return err
	}
	c.MetricQuery = reg.CheckQuery
	return c
}

// checks are the spec checks of this engine: Checks(e.Judges) with the
// MetricTemplate checks of its providers.
func (e *Engine) checks() spec.Checks { return WithMetricChecks(Checks(e.Judges), e.Providers) }
