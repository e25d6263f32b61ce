package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// teamTemplate is a MetricTemplate as a team keeps it in its repository.
const teamTemplate = `# our own error rate, from the mesh's counters
apiVersion: birdwatch.dev/v1alpha1
kind: MetricTemplate
metadata: {name: http-errors, namespace: games}
spec:
  description: 5xx share of the service's requests
  bad: sum(increase(http_requests_total{service="{{ args.service-name }}",version="{{ .Version }}",code=~"5.."}[{{ .Window }}]))
  total: sum(increase(http_requests_total{service="{{ args.service-name }}",version="{{ .Version }}"}[{{ .Window }}]))
  args: {service-name: ""}
`

func TestValidateMetricTemplates(t *testing.T) {
	example, err := os.ReadFile("../../templates/examples/aleph/.birdwatch/aleph.yaml")
	if err != nil {
		t.Fatal(err)
	}
	withRef := strings.Replace(string(example), "template: istio-latency-p99",
		"templateRef: {name: http-errors}\n        args: {service-name: aleph}", 1)
	cases := []struct {
		name             string
		canary, template string
		wantOut, wantErr string
	}{
		{"a canary uses the repository's template", withRef, teamTemplate, "ok: 1 canaries in 1 files\n", ""},
		{"unknown provider", withRef, strings.Replace(teamTemplate, "spec:\n", "spec:\n  provider: {type: splunk}\n", 1), "",
			`.birdwatch/templates/http.yaml:6: spec.provider.type: unknown metrics provider "splunk" (have `},
		{"missing arg", strings.Replace(withRef, "args: {service-name: aleph}", "args: {}", 1), teamTemplate, "",
			fmt.Sprintf(`.birdwatch/games/aleph.yaml:%d: spec.analysis.metrics[1].templateRef: missing argument "service-name"`, lineOf(withRef, "templateRef:"))},
		{"query without the version", withRef, strings.ReplaceAll(teamTemplate, `,version="{{ .Version }}"`, ""), "",
			".birdwatch/templates/http.yaml:7: spec.bad: invalid query template: the query does not use the canary's version"},
		{"argument not declared", withRef, strings.Replace(teamTemplate, "args: {service-name: \"\"}", "args: {}", 1), "",
			`.birdwatch/templates/http.yaml:7: spec.bad: invalid query template: template: query:1:46: executing "query" at <arg "service-name">: error calling arg: missing argument "service-name"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS("../../templates/examples/aleph")); err != nil { // the manifests the canary names
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(dir, ".birdwatch", "aleph.yaml")); err != nil {
				t.Fatal(err)
			}
			for p, content := range map[string]string{"games/aleph.yaml": tc.canary, "templates/http.yaml": tc.template} {
				path := filepath.Join(dir, ".birdwatch", p)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			stdout, stderr, err := run(t, "validate", dir)
			if tc.wantErr == "" {
				if err != nil || stdout != tc.wantOut {
					t.Fatalf("stdout %q stderr %q err %v", stdout, stderr, err)
				}
				return
			}
			if err == nil || !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("stderr %q lacks %q (err %v)", stderr, tc.wantErr, err)
			}
		})
	}
}

// lineOf is the 1-based line of the first occurrence of sub in s.
func lineOf(s, sub string) int {
	return strings.Count(s[:strings.Index(s, sub)], "\n") + 1
}

// TestValidateCloudTemplates checks MetricTemplates of the cloudwatch,
// graphite and gcm providers as validate does: a good one passes; a query
// without the version, a missing argument or (cloudwatch) a query CloudWatch
// could not take is an error at its file:line.
func TestValidateCloudTemplates(t *testing.T) {
	checks := core.WithMetricChecks(spec.Checks{}, newMetricsRegistry(nil, 0))
	const cw = `apiVersion: birdwatch.dev/v1alpha1
kind: MetricTemplate
metadata: {name: lambda-errors}
spec:
  provider: {type: cloudwatch, region: eu-west-1}
  bad: |
    - id: e
      metricStat:
        metric:
          namespace: AWS/Lambda
          metricName: Errors
          dimensions: [{name: FunctionName, value: "{{ args.function }}"}, {name: ExecutedVersion, value: "{{ .Version }}"}]
        stat: Sum
  total: |
    - id: n
      metricStat:
        metric:
          namespace: AWS/Lambda
          metricName: Invocations
          dimensions: [{name: FunctionName, value: "{{ args.function }}"}, {name: ExecutedVersion, value: "{{ .Version }}"}]
        stat: Sum
  args: {function: ""}
`
	const gr = `apiVersion: birdwatch.dev/v1alpha1
kind: MetricTemplate
metadata: {name: statsd-errors}
spec:
  provider: {type: graphite, address: "http://graphite:8080"}
  bad: sumSeries(stats_counts.{{ args.app }}.{{ .Version }}.errors)
  total: sumSeries(stats_counts.{{ args.app }}.{{ .Version }}.requests)
  args: {app: ""}
`
	const gcm = `apiVersion: birdwatch.dev/v1alpha1
kind: MetricTemplate
metadata: {name: run-errors}
spec:
  provider: {type: gcm, secretRef: google}
  bad: sum(increase(run_googleapis_com:request_count{service_name="{{ args.svc }}",revision_name="{{ args.svc }}-{{ .Version }}",response_code_class="5xx"}[{{ .Window }}]))
  total: sum(increase(run_googleapis_com:request_count{service_name="{{ args.svc }}",revision_name="{{ args.svc }}-{{ .Version }}"}[{{ .Window }}]))
  args: {svc: ""}
`
	cases := []struct {
		name, file, text, want string
	}{
		{"cloudwatch ok", "cw.yaml", cw, ""},
		{"graphite ok", "gr.yaml", gr, ""},
		{"gcm ok", "gcm.yaml", gcm, ""},
		{"cloudwatch without the version", "cw.yaml", strings.Replace(cw, `, {name: ExecutedVersion, value: "{{ .Version }}"}]`, "]", 1), "cw.yaml:6: spec.bad: invalid query template: the query does not use the canary's version"},
		{"cloudwatch misspelled field", "cw.yaml", strings.Replace(cw, "metricName: Errors", "metric_name: Errors", 1), "cw.yaml:6: spec.bad: invalid query template: query failed: cloudwatch query: "},
		{"cloudwatch undeclared arg", "cw.yaml", strings.Replace(cw, "args: {function: \"\"}", "args: {}", 1), `cw.yaml:6: spec.bad: invalid query template: template: query:6:52: executing "query" at <arg "function">: error calling arg: missing argument "function"`},
		{"graphite without the version", "gr.yaml", strings.Replace(gr, ".{{ .Version }}.errors", ".errors", 1), "gr.yaml:6: spec.bad: invalid query template: the query does not use the canary's version"},
		{"gcm without the version", "gcm.yaml", strings.Replace(gcm, `-{{ .Version }}",response_code_class`, `",response_code_class`, 1), "gcm.yaml:6: spec.bad: invalid query template: the query does not use the canary's version"},
		{"unknown provider", "gcm.yaml", strings.Replace(gcm, "type: gcm", "type: stackdriver", 1), `gcm.yaml:5: spec.provider.type: unknown metrics provider "stackdriver"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := spec.ParseMetricTemplates(tc.file, []byte(tc.text), checks)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
