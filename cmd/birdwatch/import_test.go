package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/schema"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// TestImportThenValidate is the adoption path: a Flagger or Argo user runs
// import, then validate, and nothing needs a hand edit in between.
func TestImportThenValidate(t *testing.T) {
	tests := []struct {
		tool, testdata string
		files          []string
		want           string
	}{
		{"flagger", "flagger-istio", []string{"apps/podinfo/canary.yaml", "flagger/metrictemplate.yaml"}, "wrote         .birdwatch/istio-system-not-found-percentage.metrictemplate.yaml"},
		{"flagger", "flagger-nginx", []string{"apps/podinfo/canary.yaml"}, "wrote         .birdwatch/test-latency.metrictemplate.yaml"},
		{"flagger", "flagger-providers", []string{"apps/podinfo/canary.yaml", "flagger/metrictemplates.yaml"}, "MetricTemplate test/newrelic-workload-error-rate, used with templateRef"},
		{"flagger", "flagger-contour", []string{"apps/podinfo/canary.yaml"}, "wrote         apps/podinfo/podinfo-traffic.yaml: HTTPProxy podinfo"},
		{"flagger", "flagger-traefik", []string{"apps/podinfo/canary.yaml"}, "wrote         apps/podinfo/podinfo-traffic.yaml: TraefikService podinfo"},
		{"flagger", "flagger-apisix", []string{"apps/podinfo/canary.yaml"}, "wrote         apps/podinfo/podinfo-traffic.yaml: ApisixRoute podinfo-canary"},
		{"argo", "argo-canary-nginx", []string{"apps/demo/rollout.yaml"}, "wrote         .birdwatch/demo-success-rate.metrictemplate.yaml"},
		{"argo", "argo-canary-istio", []string{"apps/rollouts-demo/rollout.yaml", "apps/rollouts-demo/analysis.yaml"}, "pause {duration: 600} is pause {duration: 10m0s}"},
		{"argo", "argo-canary-istio-host", []string{"apps/rollouts-demo/rollout.yaml", "apps/rollouts-demo/analysis.yaml"}, "split by host"},
		{"argo", "argo-canary-alb", []string{"apps/rollouts-demo/rollout.yaml", "apps/rollouts-demo/analysis.yaml"}, "provider alb"},
		{"argo", "argo-bluegreen", []string{"apps/bluegreen/rollout.yaml"}, "wrote         .birdwatch/default-error-rate.metrictemplate.yaml: MetricTemplate default/error-rate"},
	}
	for _, tc := range tests {
		t.Run(tc.testdata, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(filepath.Join("../../gitops/importer/testdata", tc.testdata))); err != nil {
				t.Fatal(err)
			}
			args := []string{"import", tc.tool, "--dir", dir}
			for _, f := range tc.files {
				args = append(args, filepath.Join(dir, f))
			}
			stdout, stderr, err := run(t, args...)
			if err != nil || !strings.Contains(stdout, tc.want) {
				t.Fatalf("import: %v\n%s%s", err, stdout, stderr)
			}
			stdout, stderr, err = run(t, "validate", dir)
			if err != nil || stdout != "ok: 1 canaries in 1 files\n" {
				t.Errorf("validate: %v\n%s%s", err, stdout, stderr)
			}
		})
	}
}

func TestImportRefusesWhatItCannotMap(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../gitops/importer/testdata/argo-canary-istio")); err != nil {
		t.Fatal(err)
	}
	rollout := filepath.Join(dir, "apps/rollouts-demo/rollout.yaml")
	data, err := os.ReadFile(rollout)
	if err != nil {
		t.Fatal(err)
	}
	appMesh := strings.Replace(string(data), "        istio:\n", "        appMesh:\n          virtualService: {name: rollouts-demo-vsvc}\n        x-istio:\n", 1)
	if err := os.WriteFile(rollout, []byte(appMesh), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = run(t, "import", "argo", "--dir", dir, rollout)
	if err == nil || !strings.Contains(err.Error(), "trafficRouting: want istio, smi, nginx or alb") {
		t.Fatalf("err %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".birdwatch")); !os.IsNotExist(err) {
		t.Errorf("a refused import wrote .birdwatch: %v", err)
	}
}

func TestSchemaCommand(t *testing.T) {
	out, _, err := run(t, "schema")
	if err != nil || !strings.Contains(out, `"$id": "https://raw.githubusercontent.com/birdwatch-gitops/birdwatch/main/gitops/schema/canary.json"`) ||
		!strings.Contains(out, `"stepWeight"`) {
		t.Errorf("schema: %v\n%.300s", err, out)
	}
	out, _, err = run(t, "schema", "metrictemplate")
	if err != nil || !strings.Contains(out, `"$id": "`+schema.MetricTemplateID+`"`) || !strings.Contains(out, `"bad"`) {
		t.Errorf("schema metrictemplate: %v\n%.300s", err, out)
	}
	if _, _, err = run(t, "schema", "rollout"); err == nil {
		t.Error("schema rollout: no error")
	}
	// Every embedded template, printed as a MetricTemplate, carries the
	// modeline and validates against the schema.
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schema.MetricTemplateID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(schema.MetricTemplateID)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range templates.Names() {
		out, _, err := run(t, "templates", name)
		if err != nil || !strings.HasPrefix(out, schema.MetricTemplateModeline+"\n") {
			t.Errorf("templates %s: %v, first line not the modeline:\n%.200s", name, err, out)
			continue
		}
		var v any
		if err := yaml.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		j, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err := s.Validate(j); err != nil {
			t.Errorf("templates %s: %v", name, err)
		}
	}
}

// TestValidateWarnsWhenAnApplierWouldApplyBirdwatch: a Flux Kustomization
// over the repository root without the .sourceignore line is named.
func TestValidateWarnsWhenAnApplierWouldApplyBirdwatch(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../gitops/appliers/testdata/fleet")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "clusters/argocd.yaml")); err != nil {
		t.Fatal(err)
	}
	_, stderr, _ := run(t, "validate", dir)
	if !strings.Contains(stderr, "warning: clusters/flux.yaml: Kustomization flux-system/fleet would apply .birdwatch/") {
		t.Errorf("stderr %q", stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, ".sourceignore"), []byte("/.birdwatch/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, _ := run(t, "validate", dir); strings.Contains(stderr, "warning") {
		t.Errorf("stderr %q", stderr)
	}
}

// TestValidateJSONAndExitCodes: -o json for CI, exit 0 / 1 / 2.
func TestValidateJSONAndExitCodes(t *testing.T) {
	out, _, err := run(t, "validate", "-o", "json", "../../templates/examples/aleph")
	var v struct {
		OK       bool
		Canaries int
		Problems []struct {
			File, Field, Message string
			Line                 int
		}
	}
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || !v.OK || v.Canaries != 1 {
		t.Errorf("valid: %v %+v\n%s", err, v, out)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../templates/examples/aleph")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, ".birdwatch/aleph.yaml")
	data, _ := os.ReadFile(p)
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), "judge: sequential", "judge: coinflip", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(t, "validate", "-o", "json", dir)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 || json.Unmarshal([]byte(out), &v) != nil || v.OK || len(v.Problems) != 1 ||
		v.Problems[0].Field != "spec.analysis.judge" || v.Problems[0].Line != 27 {
		t.Errorf("invalid: %v %+v\n%s", err, v, out)
	}
	_, _, err = run(t, "validate", t.TempDir())
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("no .birdwatch: %v", err)
	}
}
