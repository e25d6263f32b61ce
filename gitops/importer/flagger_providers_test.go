package importer

import (
	"errors"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

func TestFlaggerProviderMetric(t *testing.T) {
	nm := flaggerNames{ns: "test", target: "podinfo", primary: "podinfo-primary"}
	tests := []struct {
		name, typ, query string
		assertions       func(t *testing.T, m *spec.Metric, r *Result, err error)
	}{
		{
			name: "datadog kube_deployment tag is the version tag of unified service tagging", typ: "datadog",
			query: `avg:trace.http.request.duration{kube_deployment:{{ .Args.target }},env:prod}`,
			assertions: func(t *testing.T, m *spec.Metric, r *Result, err error) {
				f := r.Files[".birdwatch/test-t.metrictemplate.yaml"]
				if err != nil || m.TemplateRef == nil || m.TemplateRef.Name != "t" || m.TemplateRef.Namespace != "" ||
					!strings.Contains(string(f), "kube_deployment:{{ .Args.target }}*,version:{{ .Version }},env:prod") {
					t.Fatalf("%v %+v\n%s", err, m, f)
				}
			},
		},
		{
			name: "datadog without a workload tag", typ: "datadog",
			query: `avg:trace.http.request.duration{service:podinfo}`,
			assertions: func(t *testing.T, m *spec.Metric, r *Result, err error) {
				var no *refusal
				if !errors.As(err, &no) || !strings.Contains(err.Error(), "no tag filter of the query is KEY:{{ target }}") ||
					!strings.Contains(err.Error(), "write a MetricTemplate with provider datadog") || len(r.Files) != 0 {
					t.Fatalf("got %v", err)
				}
			},
		},
		{
			name: "skywalking", typ: "skywalking", query: `query queryData($duration: Duration!) { x }`,
			assertions: func(t *testing.T, m *spec.Metric, r *Result, err error) {
				if err == nil || !strings.Contains(err.Error(), "birdwatch has no SkyWalking provider") {
					t.Fatalf("got %v", err)
				}
			},
		},
		{
			name: "unknown type", typ: "frobnicate", query: `x`,
			assertions: func(t *testing.T, m *spec.Metric, r *Result, err error) {
				if err == nil || !strings.Contains(err.Error(), "provider frobnicate: unknown Flagger provider type") {
					t.Fatalf("got %v", err)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := &Object{File: "mt.yaml", Body: map[string]any{"kind": "MetricTemplate",
				"metadata": map[string]any{"name": "t", "namespace": "test"}, "spec": map[string]any{"provider": map[string]any{"type": tc.typ}}}}
			r := &Result{Files: map[string][]byte{}}
			m := &spec.Metric{Name: "m"}
			err := flaggerProviderMetric(tmpl, tc.typ, tc.query, map[string]string{"target": "podinfo"}, m, nm, r, "f", "MetricTemplate test/t")
			tc.assertions(t, m, r, err)
		})
	}
}
