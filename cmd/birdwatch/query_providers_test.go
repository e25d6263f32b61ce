package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// TestQueryProviders backtests templates with birdwatch query on providers
// other than Prometheus: the embedded web template, and a MetricTemplate
// file naming Datadog, each against a server that checks its credentials
// from the deployment's secret variables.
func TestQueryProviders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/requests" && r.Header.Get("Authorization") == "Bearer web-t0k" && r.URL.Query().Get("version") == "v2":
			_, _ = w.Write([]byte(`{"errors": 12, "requests": 400}`))
		case r.URL.Path == "/api/v1/query" && r.Header.Get("DD-API-KEY") == "a1" && r.Header.Get("DD-APPLICATION-KEY") == "b2":
			_, _ = w.Write([]byte(`{"status": "ok", "series": [{"pointlist": [[1, 3], [2, 4]]}]}`))
		default:
			http.Error(w, "forbidden", http.StatusForbidden)
		}
	}))
	defer srv.Close()
	t.Setenv("BIRDWATCH_METRICS_SECRET_STATS", "web-t0k")
	t.Setenv("BIRDWATCH_METRICS_SECRET_DATADOG", `{"apiKey": "a1", "appKey": "b2"}`)
	ddFile := filepath.Join(t.TempDir(), "dd.yaml")
	if err := os.WriteFile(ddFile, []byte(`apiVersion: birdwatch.dev/v1alpha1
kind: MetricTemplate
metadata: {name: dd-errors}
spec:
  provider: {type: datadog, address: `+srv.URL+`, secretRef: datadog}
  bad: sum:trace.http.request.errors{service:{{ .Service }},version:{{ .Version }},env:{{ args.env }}}.as_count()
  total: sum:trace.http.request.hits{service:{{ .Service }},version:{{ .Version }},env:{{ args.env }}}.as_count()
  args: {env: prod}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"web", []string{"--template", "web-error-rate", "--provider", "web", "--address", srv.URL, "--secret-ref", "stats"},
			[]string{"requests  400", "errors    12", "value     3 percent"}},
		{"datadog file", []string{"--template-file", ddFile},
			[]string{"env:prod}.as_count()", "requests  7", "errors    7", "value     100 percent"}},
		{"datadog file, arg overridden", []string{"--template-file", ddFile, "--arg", "env=staging"}, []string{"env:staging}.as_count()"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := run(t, append([]string{"query", "--service", "aleph", "--version", "v2"}, tc.args...)...)
			if err != nil {
				t.Fatalf("err %v\n%s%s", err, stdout, stderr)
			}
			flat := strings.Join(strings.Fields(stdout), " ")
			for _, w := range tc.want {
				if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
		})
	}
	_, _, err := run(t, "query", "--service", "aleph", "--version", "v2", "--template", "web-error-rate", "--provider", "web", "--address", srv.URL)
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("without the secret: %v", err)
	}
}

// TestTemplatesPrintsMetricTemplates prints every embedded template as a
// MetricTemplate and parses it back with the checks validate uses.
func TestTemplatesPrintsMetricTemplates(t *testing.T) {
	checks := core.WithMetricChecks(spec.Checks{}, newMetricsRegistry(nil, 0))
	for _, name := range templates.Names() {
		stdout, _, err := run(t, "templates", name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ts, err := spec.ParseMetricTemplates(name+".yaml", []byte(stdout), checks)
		if err != nil || len(ts) != 1 {
			t.Fatalf("%s does not parse back: %v\n%s", name, err, stdout)
		}
		tm, _ := templates.Metric(name)
		if ts[0].ProviderType() != tm.ProviderType() || ts[0].Spec.Bad != tm.Errors || ts[0].Spec.Query != tm.Query {
			t.Errorf("%s: printed %+v", name, ts[0].Spec)
		}
	}
	list, _, err := run(t, "templates")
	flat := strings.Join(strings.Fields(list), " ")
	for _, w := range []string{"datadog-apm-error-rate datadog counts", "influxdb-http-error-rate influxdb counts", "web-error-rate web counts", "istio-error-rate prometheus counts",
		"cloudwatch-lambda-error-rate cloudwatch counts", "cloudwatch-alb-error-rate cloudwatch counts", "cloudwatch-apigateway-error-rate cloudwatch counts",
		"cloudwatch-apprunner-error-rate cloudwatch counts", "cloudwatch-ecs-error-rate cloudwatch counts", "cloudwatch-lambda-latency-p99 cloudwatch value",
		"graphite-statsd-error-rate graphite counts", "graphite-statsd-latency-p99 graphite value", "gcm-cloud-run-error-rate gcm counts", "gcm-cloud-run-latency-p99 gcm value"} {
		if err != nil || !strings.Contains(flat, w) {
			t.Errorf("templates lacks %q: %v\n%s", w, err, list)
		}
	}
}
