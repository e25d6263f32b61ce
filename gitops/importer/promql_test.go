package importer

import (
	"errors"
	"strings"
	"testing"
)

// Queries are Flagger's documented MetricTemplate queries (docs:
// usage/metrics, tutorials) after translateFlaggerQuery.
func TestSplitByVersion(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		assertions func(t *testing.T, out string, rs []rewrite, err error)
	}{
		{
			name: "istio destination_workload",
			query: `100 - sum(rate(istio_requests_total{reporter="destination", destination_workload_namespace="{{ .Namespace }}", destination_workload="{{ .Args.target }}", response_code!="404"}[{{ .Window }}]))
			/ sum(rate(istio_requests_total{reporter="destination", destination_workload_namespace="{{ .Namespace }}", destination_workload="{{ .Args.target }}"}[{{ .Window }}])) * 100`,
			assertions: func(t *testing.T, out string, rs []rewrite, err error) {
				if err != nil || len(rs) != 2 || rs[0].stable != `destination_workload="{{ .Args.primary }}"` {
					t.Fatalf("%v %+v", err, rs)
				}
				for _, want := range []string{`destination_workload="{{ .Args.target }}"`, `destination_workload="{{ .Args.primary }}"`, "[{{ .Window }}]",
					"and on()", "unless on()", `"{{ .Version }}"`, `"{{ .Canary }}"`} {
					if !strings.Contains(out, want) {
						t.Errorf("lacks %s:\n%s", want, out)
					}
				}
				if !strings.HasPrefix(out, "(\n    100\n  -\n") || !strings.Contains(out, "\nor\n(\n") {
					t.Errorf("layout:\n%s", out)
				}
			},
		},
		{
			name:  "pod name regex of go-grpc-prometheus",
			query: `100 - sum(rate(grpc_server_handled_total{grpc_code!="OK", kubernetes_namespace="{{ .Namespace }}", kubernetes_pod_name=~"{{ .Args.target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[{{ .Window }}])) / sum(rate(grpc_server_started_total{kubernetes_namespace="{{ .Namespace }}", kubernetes_pod_name=~"{{ .Args.target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[{{ .Window }}])) * 100`,
			assertions: func(t *testing.T, out string, rs []rewrite, err error) {
				if err != nil || !strings.Contains(out, `kubernetes_pod_name=~"{{ .Args.primary }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"`) {
					t.Fatalf("%v\n%s", err, out)
				}
			},
		},
		{
			name:  "linkerd deployment with a template variable and a fixed range",
			query: `histogram_quantile(0.99, sum(rate(response_latency_ms_bucket{namespace="{{ .Namespace }}", deployment=~"{{ .Args.target }}", direction="{{ .Args.direction }}"}[1m])) by (le))`,
			assertions: func(t *testing.T, out string, rs []rewrite, err error) {
				if err != nil || len(rs) != 1 || !strings.Contains(out, `deployment=~"{{ .Args.primary }}",direction="{{ .Args.direction }}"`) || !strings.Contains(out, "[1m]") {
					t.Fatalf("%v %+v\n%s", err, rs, out)
				}
			},
		},
		{
			name:  "ingress-nginx canary label",
			query: `sum(rate(nginx_ingress_controller_requests{namespace="{{ .Namespace }}", ingress="{{ .Args.ingress }}", canary!="", status!~"5.*"}[{{ .Window }}])) / sum(rate(nginx_ingress_controller_requests{namespace="{{ .Namespace }}", ingress="{{ .Args.ingress }}", canary!=""}[{{ .Window }}])) * 100`,
			assertions: func(t *testing.T, out string, rs []rewrite, err error) {
				if err != nil || !strings.Contains(out, `canary!~"-?"`) || !strings.Contains(out, `canary=~"-?"`) || strings.Contains(out, `canary!=""`) {
					t.Fatalf("%v\n%s", err, out)
				}
			},
		},
		{
			name:  "the canary Service (Gateway API, Envoy clusters)",
			query: `sum(rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"{{ .Namespace }}_{{ .Service }}-canary_.*"}[{{ .Window }}]))`,
			assertions: func(t *testing.T, out string, rs []rewrite, err error) {
				if err != nil || !strings.Contains(out, `envoy_cluster_name=~"{{ .Namespace }}_{{ .Service }}-primary_.*"`) {
					t.Fatalf("%v\n%s", err, out)
				}
			},
		},
		{
			name:  "a name in label_replace follows the matchers",
			query: `label_replace(sum(rate(http_requests_total{pod=~"{{ .Args.target }}-.*"}[{{ .Window }}])), "workload", "{{ .Args.target }}", "", "")`,
			assertions: func(t *testing.T, out string, rs []rewrite, err error) {
				if err != nil || len(rs) != 1 || !strings.Contains(out, `"{{ .Args.primary }}",`) || !strings.Contains(out, `"{{ .Args.target }}",`) {
					t.Fatalf("%v %+v\n%s", err, rs, out)
				}
			},
		},
		{
			name:  "a name only in a string argument selects nothing",
			query: `label_replace(sum(rate(http_requests_total{namespace="{{ .Namespace }}"}[{{ .Window }}])), "workload", "{{ .Args.target }}", "", "")`,
			assertions: func(t *testing.T, out string, rs []rewrite, err error) {
				if !errors.Is(err, errNoNameSelector) {
					t.Fatalf("got %v\n%s", err, out)
				}
			},
		},
		{
			name:  "the canary Service written {{ target }}-canary (Flagger's Contour and Gateway API templates)",
			query: `sum(rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"{{ .Namespace }}_{{ .Args.target }}-canary_[0-9a-zA-Z-]+"}[{{ .Window }}]))`,
			assertions: func(t *testing.T, out string, rs []rewrite, err error) {
				if err != nil || !strings.Contains(out, `envoy_cluster_name=~"{{ .Namespace }}_{{ .Args.target }}-primary_[0-9a-zA-Z-]+"`) || strings.Contains(out, "{{ .Args.primary }}") {
					t.Fatalf("%v\n%s", err, out)
				}
			},
		},
		{
			name:  "selects no workload",
			query: `sum(rate(http_requests_total{namespace="{{ .Namespace }}"}[{{ .Window }}]))`,
			assertions: func(t *testing.T, out string, rs []rewrite, err error) {
				if !errors.Is(err, errNoNameSelector) {
					t.Fatalf("got %v", err)
				}
			},
		},
		{
			name:  "a scalar cannot be picked by a set operation",
			query: `scalar(sum(rate(http_requests_total{pod=~"{{ .Args.target }}-.*"}[{{ .Window }}])))`,
			assertions: func(t *testing.T, out string, rs []rewrite, err error) {
				if err == nil || !strings.Contains(err.Error(), "instant vector") {
					t.Fatalf("got %v", err)
				}
			},
		},
		{
			name:  "not PromQL",
			query: `sum(rate(http_requests_total{pod="{{ .Args.target }}"}[{{ .Window }}])`,
			assertions: func(t *testing.T, out string, rs []rewrite, err error) {
				if err == nil || !strings.Contains(err.Error(), "Prometheus parser") {
					t.Fatalf("got %v", err)
				}
			},
		},
		{
			name:  "a variable outside a string does not parse",
			query: `histogram_quantile({{ .Args.quantile }}, sum(rate(x_bucket{pod="{{ .Args.target }}"}[{{ .Window }}])) by (le))`,
			assertions: func(t *testing.T, out string, rs []rewrite, err error) {
				if err == nil {
					t.Fatalf("got %s", out)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, rs, err := splitByVersion(tc.query, flaggerSwaps)
			tc.assertions(t, out, rs, err)
		})
	}
}
