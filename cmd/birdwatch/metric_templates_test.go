package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
