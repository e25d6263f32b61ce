package core

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
	"github.com/birdwatch-gitops/birdwatch/rollout/step"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// Checks returns the spec validations that know this build: its traffic
// providers, the given judges, the embedded templates, query syntax, YAML
// paths and which routes (header routes, mirrors) each provider can hold.
// The CLI's validate and the loop use the same checks.
func Checks(judges map[string]judge.Judge) spec.Checks {
	return spec.Checks{
		Provider: func(name string) error {
			kinds := slices.Sorted(maps.Keys(traffic.Providers()))
			if !slices.Contains(kinds, name) {
				return fmt.Errorf("unknown traffic provider %q (have %s)", name, strings.Join(kinds, ", "))
			}
			return nil
		},
		Judge: func(name string) error {
			if _, ok := judges[name]; !ok {
				return fmt.Errorf("judge %q is not available (have %s)", name, strings.Join(slices.Sorted(maps.Keys(judges)), ", "))
			}
			return nil
		},
		Template: func(name string) error {
			t, err := templates.Metric(name)
			if err == nil && t.ProviderType() != "prometheus" {
				return fmt.Errorf("%s is a %s template: copy it into a MetricTemplate under .birdwatch/ (birdwatch templates %s), set its provider, and use templateRef",
					name, t.ProviderType(), name)
			}
			return err
		},
		Query: func(query string, args map[string]string) error {
			return metrics.Check(query, slices.Sorted(maps.Keys(args))...)
		},
		Path: func(p string) error {
			_, err := yamledit.ParsePath(p)
			return err
		},
		Routing: checkRouting,
		Weight:  traffic.SupportsWeight,
	}
}

// ReadWeights reads c's weights from doc, its traffic manifest, with the
// provider the loop uses; validate calls it so that a manifest the loop
// could not read is reported before a rollout freezes on it.
func ReadWeights(c *spec.Canary, doc []byte) error {
	prov, err := traffic.New(step.TrafficConfig(c))
	if err != nil {
		return err
	}
	_, err = prov.Weights(doc)
	return err
}
