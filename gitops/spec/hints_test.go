package spec

import (
	"errors"
	"slices"
	"testing"
)

// TestOnePassWithHints: a spec written with Flagger's or Argo Rollouts'
// habits gets every problem of the file in one pass (shapes, unknown
// fields and the checks of what did decode), each at file:line: field,
// unknown fields with where the field lives ("moved to", "did you mean",
// or the birdwatch spelling of a Flagger/Argo field), and no noise from a
// field that failed to decode.
func TestOnePassWithHints(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		template bool // a MetricTemplate, not a Canary
		yaml     string
		want     []string // exactly the problems, in order
	}{
		{name: "Flagger's analysis block", file: ".birdwatch/podinfo.yaml", yaml: `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  stable: v1
  canary: v2
  traffic:
    provider: istio
    file: apps/podinfo/virtualservice.yaml
    stableSubset: primary
    canarySubset: canary
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
      - name: request-success-rate
        template: istio-error-rate
        thresholdRange:
          min: 99
        interval: 1m
`, want: []string{
			".birdwatch/podinfo.yaml:16: spec.analysis.threshold: unknown field; Flagger's threshold: N (roll back at the Nth failed check) is spec.analysis.failureLimit: N-1 (failures tolerated)",
			".birdwatch/podinfo.yaml:17: spec.analysis.maxWeight: unknown field; moved to spec.maxWeight",
			".birdwatch/podinfo.yaml:18: spec.analysis.stepWeight: unknown field; moved to spec.stepWeight",
			".birdwatch/podinfo.yaml:22: spec.analysis.metrics[0].thresholdRange: unknown field; Flagger's thresholdRange.max/min are this metric's max/min (absolute guards), with tolerance for the change against the baseline",
			".birdwatch/podinfo.yaml:24: spec.analysis.metrics[0].interval: unknown field; every metric is queried over spec.analysis.interval",
			".birdwatch/podinfo.yaml:6: spec.steps: required (or stepWeight and maxWeight)",
		}},
		{name: "Argo's strategy, a pause in seconds, typos and a wrong type", file: ".birdwatch/demo.yaml", yaml: `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata:
  name: rollouts-demo
spec:
  stable: v1
  canary: v2
  traffic:
    provider: istio
    file: apps/demo/virtualservice.yaml
    stableSubset: stable
    canarySubst: canary
  strategy:
    canary:
      canaryService: demo-canary
  steps:
    - setWeight: 20
    - pause: {duration: 600}
    - setWeight: fifty
    - analyze: 5m
  analysis:
    intervall: 1m
    templates:
      - templateName: success-rate
    metrics:
      - name: success-rate
        template: istio-error-rate
`, want: []string{
			".birdwatch/demo.yaml:12: spec.traffic.canarySubst: unknown field; did you mean canarySubset?",
			".birdwatch/demo.yaml:13: spec.strategy: want a string, got a mapping; birdwatch's strategy is one word (canary, abTesting, blueGreen, mirror); Argo's strategy.canary.steps are spec.steps, trafficRouting is spec.traffic",
			`.birdwatch/demo.yaml:18: spec.steps[1].pause.duration: want a duration such as 5m, got "600": a bare number has no unit (Argo Rollouts reads it as seconds: write 600s)`,
			`.birdwatch/demo.yaml:19: spec.steps[2].setWeight: want an integer, got str "fifty"`,
			".birdwatch/demo.yaml:22: spec.analysis.intervall: unknown field; did you mean interval?",
			".birdwatch/demo.yaml:23: spec.analysis.templates: unknown field; Argo's analysis templates are spec.analysis.metrics[].templateRef (a MetricTemplate under .birdwatch/)",
			".birdwatch/demo.yaml:8: spec.traffic.canarySubset: required for istio",
		}},
		{name: "Flagger's MetricTemplate", file: ".birdwatch/templates.yaml", template: true, yaml: `apiVersion: birdwatch.dev/v1alpha1
kind: MetricTemplate
metadata:
  name: not-found-percentage
  namespace: test
spec:
  provider:
    type: prometheus
    address: http://prometheus.istio-system:9090
    insecureSkipVerify: true
    secretRef:
      name: prom-auth
  querry: |
    sum(rate(istio_requests_total{response_code="404"}[{{ interval }}]))
`, want: []string{
			".birdwatch/templates.yaml:10: spec.provider.insecureSkipVerify: unknown field; no equivalent: birdwatch verifies TLS",
			".birdwatch/templates.yaml:11: spec.provider.secretRef: want a string, got a mapping; secretRef is a string naming the deployment's secret (a file, variable or AWS secret), not a Kubernetes Secret reference",
			".birdwatch/templates.yaml:13: spec.querry: unknown field; did you mean query?",
			".birdwatch/templates.yaml:6: spec: set query (one value), bad and total (event counts), or buckets (a histogram)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCanaries(tt.file, []byte(tt.yaml), testChecks)
			if tt.template {
				_, err = ParseMetricTemplates(tt.file, []byte(tt.yaml), testChecks)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			var got []string
			for _, p := range e.Problems {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestFieldHint covers the three kinds of hint and their limits.
func TestFieldHint(t *testing.T) {
	tests := []struct{ path, want string }{
		{"spec.analysis.stepWeight", "moved to spec.stepWeight"},
		{"spec.stepweight", "moved to spec.stepWeight"},
		{"spec.canaryService", "moved to spec.traffic.canaryService"},
		{"spec.traffic.stableSubst", "did you mean stableSubset?"},
		{"spec.steps[3].setWieght", "did you mean setWeight?"},
		{"spec.analysis.metrics[0].tolerence", "did you mean tolerance?"},
		{"spec.analysis.threshold", "Flagger's threshold: N (roll back at the Nth failed check) is spec.analysis.failureLimit: N-1 (failures tolerated)"},
		{"spec.steps[0].analysis", "an inline analysis step is an analyze: DURATION step; its metrics are spec.analysis.metrics"},
		{"spec.frobnicate", ""},     // nothing close
		{"spec.traffic.xy", ""},     // too short to guess
		{"spec.notify.slack.x", ""}, // nothing close
	}
	for _, tt := range tests {
		if got := fieldHint(canaryType, tt.path); got != tt.want {
			t.Errorf("fieldHint(%s) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
