package importer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/gitops/importer"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

var importCases = []importCase{
	{
		name: "flagger istio podinfo", dir: "flagger-istio", run: importer.Flagger,
		files: []string{"apps/podinfo/canary.yaml", "flagger/metrictemplate.yaml"},
		notes: []string{
			"threshold: 5 (rollback at the 5th failed check) is failureLimit: 4",
			"request-success-rate min 99% is error-rate max 1%",
			"request-duration max 500ms is latency (p99) max 500ms",
			`mapped        spec.analysis.metrics[2] (404s percentage).query: destination_workload="{{ .Args.target }}" selects the canary; the stable version's query has destination_workload="{{ .Args.primary }}"`,
			"wrote         .birdwatch/istio-system-not-found-percentage.metrictemplate.yaml: MetricTemplate istio-system/not-found-percentage",
			"MetricTemplate istio-system/not-found-percentage, used with templateRef and args map[primary:podinfo-primary target:podinfo]",
			"mapped        spec.analysis.webhooks[acceptance-test]: analysis.webhooks acceptance-test: pre-rollout http://flagger-loadtester.test/",
			"mapped        spec.analysis.webhooks[load-test]: analysis.webhooks load-test: rollout http://flagger-loadtester.test/",
			"notify.slack.channel on-call-alerts",
			"wrote         apps/podinfo/podinfo-traffic.yaml: VirtualService podinfo (route primary), DestinationRule podinfo (subsets primary, canary)",
			"changed       apps/podinfo/kustomization.yaml: resources += podinfo-primary.yaml, podinfo-traffic.yaml",
		},
		check: func(t *testing.T, c *spec.Canary) {
			s := c.Spec
			if s.Stable != "6.0.0" || s.Canary != "6.0.0" || s.StepWeight != 10 || s.MaxWeight != 50 || *s.Analysis.FailureLimit != 4 ||
				len(s.Analysis.Metrics) != 3 || s.Analysis.Judge != "threshold" || s.Notify.Slack == nil {
				t.Errorf("canary spec %+v", s)
			}
			if h := s.Analysis.Webhooks; len(h) != 2 || h[0].Type != spec.HookPreRollout || h[0].Timeout.D().Seconds() != 30 || h[0].Metadata["type"] != "bash" ||
				h[1].Type != spec.HookRollout || h[1].Name != "load-test" || h[1].URL != "http://flagger-loadtester.test/" {
				t.Errorf("webhooks %+v", h)
			}
		},
	},
	{
		name: "flagger linkerd podinfo", dir: "flagger-linkerd", run: importer.Flagger,
		files: []string{"apps/podinfo/canary.yaml"},
		notes: []string{"mapped        spec.provider: linkerd", "wrote         apps/podinfo/podinfo-traffic.yaml: TrafficSplit podinfo",
			"stepWeight: 5, maxWeight: 50", "analysis.interval: 30s"},
		check: func(t *testing.T, c *spec.Canary) {
			tr := c.Spec.Traffic
			if tr.Provider != "smi" || tr.StableService != "podinfo-primary" || tr.CanaryService != "podinfo-canary" || c.Spec.Analysis.Metrics[0].Args["workload"] != "podinfo" {
				t.Errorf("spec %+v", c.Spec)
			}
		},
	},
	{
		name: "flagger nginx podinfo", dir: "flagger-nginx", run: importer.Flagger,
		files: []string{"apps/podinfo/canary.yaml"},
		notes: []string{"threshold: 10 (rollback at the 10th failed check) is failureLimit: 9", "Ingress podinfo (apps/podinfo/ingress.yaml) stays the main Ingress",
			"wrote         apps/podinfo/podinfo-traffic.yaml: Ingress podinfo-canary", "MetricTemplate test/latency"},
		check: func(t *testing.T, c *spec.Canary) {
			m := c.Spec.Analysis.Metrics
			if c.Spec.Traffic.Route != "podinfo-canary" || m[0].Template != "nginx-error-rate" || m[0].Args["ingress"] != "podinfo" || *m[0].Max != 1 || m[1].Args["target"] != "podinfo" {
				t.Errorf("spec %+v", c.Spec)
			}
		},
	},
	{
		name: "flagger gateway api a/b testing", dir: "flagger-gatewayapi", run: importer.Flagger,
		files: []string{"apps/podinfo/canary.yaml"},
		notes: []string{"strategy abTesting, 10 iterations", "wrote         apps/podinfo/podinfo-traffic.yaml: HTTPRoute podinfo"},
		check: func(t *testing.T, c *spec.Canary) {
			ab := c.Spec.ABTesting
			if c.Spec.Strategy != "abTesting" || ab == nil || len(ab.Match) != 1 || ab.Match[0] != (spec.Match{Header: "x-canary", Exact: "insider"}) ||
				c.Spec.Traffic.Provider != "gatewayapi" {
				t.Errorf("spec %+v", c.Spec)
			}
		},
	},
	{
		name: "flagger contour podinfo", dir: "flagger-contour", run: importer.Flagger,
		files: []string{"apps/podinfo/canary.yaml"},
		notes: []string{"mapped        spec.provider: contour", "HTTPProxy timeoutPolicy.response 15s", "wrote         apps/podinfo/podinfo-traffic.yaml: HTTPProxy podinfo"},
		check: func(t *testing.T, c *spec.Canary) {
			tr, m := c.Spec.Traffic, c.Spec.Analysis.Metrics
			if tr.Provider != "contour" || tr.Route != "podinfo" || tr.StableService != "podinfo-primary" || tr.CanaryService != "podinfo-canary" ||
				m[0].Args["cluster"] != "test_podinfo-canary" {
				t.Errorf("spec %+v", c.Spec)
			}
		},
	},
	{
		name: "flagger traefik podinfo", dir: "flagger-traefik", run: importer.Flagger,
		files: []string{"apps/podinfo/canary.yaml"},
		notes: []string{"mapped        spec.provider: traefik", "wrote         apps/podinfo/podinfo-traffic.yaml: TraefikService podinfo"},
		check: func(t *testing.T, c *spec.Canary) {
			tr, m := c.Spec.Traffic, c.Spec.Analysis.Metrics
			if tr.Provider != "traefik" || tr.Route != "podinfo" || tr.CanaryService != "podinfo-canary" || m[0].Args["service"] != "test-podinfo-canary" {
				t.Errorf("spec %+v", c.Spec)
			}
		},
	},
	{
		name: "flagger apisix podinfo", dir: "flagger-apisix", run: importer.Flagger,
		files: []string{"apps/podinfo/canary.yaml"},
		notes: []string{"mapped        spec.provider: apisix", "its copy podinfo-canary (priority 10000) carries the split",
			"wrote         apps/podinfo/podinfo-traffic.yaml: ApisixRoute podinfo-canary", "APISIX's metrics name the route, not the backend"},
		check: func(t *testing.T, c *spec.Canary) {
			tr, m := c.Spec.Traffic, c.Spec.Analysis.Metrics
			if tr.Provider != "apisix" || tr.Route != "method" || tr.StableService != "podinfo-primary" || tr.CanaryService != "podinfo-canary" ||
				m[0].Args["route"] != "test_podinfo-canary" {
				t.Errorf("spec %+v", c.Spec)
			}
		},
	},
	{
		name: "flagger metric providers", dir: "flagger-providers", run: importer.Flagger,
		files: []string{"apps/podinfo/canary.yaml", "flagger/metrictemplates.yaml"},
		notes: []string{
			`mapped        spec.analysis.metrics[1] (404s percentage).provider: datadog (address "https://api.datadoghq.com")`,
			"secretRef datadog: the deployment provides BIRDWATCH_METRICS_SECRET_DATADOG as {\"apiKey\": ..., \"appKey\": ...}",
			"tag filters on {{ target }} (destination_workload -> destination_version) select both workloads",
			"wrote         .birdwatch/istio-system-not-found-percentage.metrictemplate.yaml: MetricTemplate istio-system/not-found-percentage",
			"WHERE conditions on {{ target }} select both workloads and tags.version = '{{ .Version }}'",
			"no equivalent spec.analysis.metrics[2] (error rate): MetricTemplate ingress-nginx/newrelic-error-rate (flagger/metrictemplates.yaml): provider newrelic: no WHERE condition of the query is ATTR = '{{ target }}'",
			"no equivalent spec.analysis.metrics[4] (app error rate): MetricTemplate test/cloudwatch-error-rate (flagger/metrictemplates.yaml): provider cloudwatch: a CloudWatch dimension value matches exactly",
			"no equivalent spec.analysis.metrics[5] (success rate): MetricTemplate test/graphite-request-success-rate (flagger/metrictemplates.yaml): provider graphite: a Graphite path",
			"no equivalent spec.analysis.metrics[6] (not found): MetricTemplate test/not-found (flagger/metrictemplates.yaml): provider influxdb: Flagger's Flux query sets its own range",
			"no equivalent spec.analysis.metrics[7] (latency): MetricTemplate test/bytes-sent (flagger/metrictemplates.yaml): provider stackdriver: the query is MQL",
			"provider dynatrace: birdwatch has no Dynatrace provider",
		},
		check: func(t *testing.T, c *spec.Canary) {
			m := c.Spec.Analysis.Metrics
			if len(m) != 3 || m[1].Resolved == nil || m[1].Resolved.ProviderType() != "datadog" || m[1].Resolved.Spec.Provider.SecretRef != "datadog" ||
				!strings.Contains(m[1].Resolved.Spec.Query, "destination_workload:{{ .Args.target }}*,destination_version:{{ .Version }},") ||
				m[2].Resolved == nil || m[2].Resolved.ProviderType() != "newrelic" || m[2].Args["primary"] != "podinfo-primary" ||
				!strings.Contains(m[2].Resolved.Spec.Query, "WHERE deploymentName IN ('{{ .Args.target }}', '{{ .Args.primary }}') AND tags.version = '{{ .Version }}'") {
				t.Errorf("metrics %+v", m)
			}
			// Rendered as the loop renders them, for each version.
			for _, v := range []string{"6.0.1", "6.0.0"} {
				vars := metrics.Vars{Service: "podinfo", Namespace: "test", Version: v, Stable: "6.0.0", Canary: "6.0.1", Window: time.Minute}
				vars.Args = m[1].TemplateArgs()
				dd, err := metrics.RenderDialect(metrics.Plain, m[1].Resolved.Spec.Query, vars)
				if err != nil || !strings.Contains(dd, "destination_workload_namespace:test,\n    destination_workload:podinfo*,destination_version:"+v+",\n") {
					t.Errorf("datadog query for %s: %v\n%s", v, err, dd)
				}
				vars.Args = m[2].TemplateArgs()
				nr, err := metrics.RenderDialect(metrics.Plain, m[2].Resolved.Spec.Query, vars)
				if err != nil || !strings.Contains(nr, "WHERE deploymentName IN ('podinfo', 'podinfo-primary') AND tags.version = '"+v+"' AND namespaceName = 'test'") {
					t.Errorf("NRQL for %s: %v\n%s", v, err, nr)
				}
			}
		},
	},
	{
		name: "argo canary istio with analysis args", dir: "argo-canary-istio", run: importer.Argo,
		files: []string{"apps/rollouts-demo/rollout.yaml", "apps/rollouts-demo/analysis.yaml"},
		notes: []string{"pause {duration: 600} is pause {duration: 10m0s}", "result[0] >= 0.95 is min 0.95",
			"analysis.failureLimit 3", "analyze: 15m0s",
			"changed       apps/rollouts-demo/istio.yaml: DestinationRule rollouts-demo-destrule: subsets stable and canary select birdwatch.dev/role",
			"changed       apps/rollouts-demo/kustomization.yaml: resources += rollouts-demo-deployments.yaml",
			`query: destination_service=~"{{ .Args.service_name }}" selects the canary; the stable version's query has destination_service=~"{{ .Args.service_name_stable }}"`,
			"wrote         .birdwatch/demo-success-rate.metrictemplate.yaml: MetricTemplate demo/success-rate"},
		check: func(t *testing.T, c *spec.Canary) {
			m := c.Spec.Analysis.Metrics
			if len(m) != 1 || m[0].Args["service_name"] != "rollouts-demo-canary.demo.svc.cluster.local" || c.Spec.Stable != "blue" ||
				m[0].Args["service_name_stable"] != "rollouts-demo-stable.demo.svc.cluster.local" || m[0].Resolved == nil || m[0].Query != "" {
				t.Errorf("spec %+v", c.Spec)
			}
			if p := c.Spec.Steps[1].Pause; p == nil || p.Duration == nil || p.Duration.D().Minutes() != 10 {
				t.Errorf("step 2 %+v", c.Spec.Steps[1])
			}
		},
	},
	{
		name: "argo canary istio split by host", dir: "argo-canary-istio-host", run: importer.Argo,
		files: []string{"apps/rollouts-demo/rollout.yaml", "apps/rollouts-demo/analysis.yaml"},
		notes: []string{"mapped        spec.strategy.canary.trafficRouting.istio: VirtualService rollouts-demo-vsvc (apps/rollouts-demo/istio.yaml), split by host: stableService rollouts-demo-stable, canaryService rollouts-demo-canary.demo.svc.cluster.local"},
		check: func(t *testing.T, c *spec.Canary) {
			tr := c.Spec.Traffic
			if tr.Provider != "istio" || tr.StableService != "rollouts-demo-stable" || tr.CanaryService != "rollouts-demo-canary.demo.svc.cluster.local" ||
				tr.StableSubset != "" || tr.Route != "primary" || tr.File != "apps/rollouts-demo/istio.yaml" {
				t.Errorf("traffic %+v", tr)
			}
		},
	},
	{
		name: "argo canary alb", dir: "argo-canary-alb", run: importer.Argo,
		files: []string{"apps/rollouts-demo/rollout.yaml", "apps/rollouts-demo/analysis.yaml"},
		notes: []string{"mapped        spec.strategy.canary.trafficRouting.alb: provider alb: Ingress rollouts-demo-ingress (apps/rollouts-demo/ingress.yaml), action rollouts-demo-root",
			"changed       apps/rollouts-demo/ingress.yaml: Ingress rollouts-demo-ingress: annotation alb.ingress.kubernetes.io/actions.rollouts-demo-root"},
		check: func(t *testing.T, c *spec.Canary) {
			tr := c.Spec.Traffic
			if tr.Provider != "alb" || tr.Route != "rollouts-demo-root" || tr.StableService != "rollouts-demo-stable" || tr.CanaryService != "rollouts-demo-canary" {
				t.Errorf("traffic %+v", tr)
			}
		},
	},
	{
		name: "argo blue-green with pre-promotion analysis", dir: "argo-bluegreen", run: importer.Argo,
		files: []string{"apps/bluegreen/rollout.yaml"},
		notes: []string{"blueGreen.autoPromote: false", "result[0] > 0.01 is max 0.01", "podTemplateHashValue Latest is {{ .Version }}",
			"wrote         .birdwatch/default-error-rate.metrictemplate.yaml: MetricTemplate default/error-rate",
			"mapped        AnalysisTemplate error-rate.metrics[error-rate]: MetricTemplate default/error-rate, used with templateRef and args map[service:rollout-bluegreen-preview]",
			"analysed for 5 interval(s) before the switch"},
		check: func(t *testing.T, c *spec.Canary) {
			bg := c.Spec.BlueGreen
			if c.Spec.Strategy != "blueGreen" || bg == nil || bg.AutoPromote == nil || *bg.AutoPromote || bg.Iterations != 5 || len(c.Spec.Promote) != 3 {
				t.Errorf("spec %+v", c.Spec)
			}
			// The AnalysisTemplate's query uses the version: a MetricTemplate, named by templateRef with the Rollout's args.
			m := c.Spec.Analysis.Metrics
			if len(m) != 1 || m[0].TemplateRef == nil || m[0].TemplateRef.Name != "error-rate" || m[0].Query != "" || m[0].Args["service"] != "rollout-bluegreen-preview" ||
				m[0].Resolved == nil || !strings.Contains(m[0].Resolved.Spec.Query, `code=~"5.."`) || strings.Contains(m[0].Resolved.Spec.Query, "rollouts_pod_template_hash") ||
				!strings.Contains(m[0].Resolved.Spec.Query, `version="{{ .Version }}"`) || *m[0].Max != 0.01 {
				t.Errorf("metrics %+v", m)
			}
		},
	},
	{
		name: "argo canary nginx with background analysis", dir: "argo-canary-nginx", run: importer.Argo,
		files: []string{"apps/demo/rollout.yaml"},
		notes: []string{"pause 10m with background analysis is analyze: 10m0s", "len(result) == 0 || result[0] >= 0.95 is min 0.95",
			"wrote         apps/demo/rollouts-demo-traffic.yaml: Ingress rollouts-demo-rollouts-demo-stable-canary",
			`query: canary!~"-?" selects the canary; the stable version's query has canary=~"-?"`},
	},
}
