package schema_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/schema"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

var update = flag.Bool("update", false, "rewrite comments.json from gitops/spec's doc comments")

// TestCommentsUpToDate: comments.json holds gitops/spec's current doc comments.
func TestCommentsUpToDate(t *testing.T) {
	r := schema.Reflector(nil)
	if err := r.AddGoComments("github.com/birdwatch-gitops/birdwatch/gitops/schema", "../spec"); err != nil {
		t.Fatal(err)
	}
	for k := range r.CommentMap {
		if strings.HasSuffix(k, "_test") || !strings.HasPrefix(k, "github.com/birdwatch-gitops/birdwatch/gitops/spec.") {
			delete(r.CommentMap, k)
		}
	}
	want, err := json.MarshalIndent(r.CommentMap, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if *update {
		if err := os.WriteFile("comments.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("comments.json")
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("comments.json is stale: go test ./gitops/schema -update (%v)", err)
	}
}

// compile compiles the schema gen generates, published at id.
func compile(t *testing.T, id string, gen func() ([]byte, error)) *jsonschema.Schema {
	t.Helper()
	data, err := gen()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// yamlToJSONValue decodes one YAML document into the generic values the validator takes.
func yamlToJSONValue(t *testing.T, data []byte) []any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []any
	for {
		var v any
		if err := dec.Decode(&v); err != nil {
			break
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		j, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, j)
	}
	return out
}

// TestPublishedSchemaUpToDate: canary.json and metrictemplate.json, the
// files CanaryID and MetricTemplateID name, are what the package generates.
func TestPublishedSchemaUpToDate(t *testing.T) {
	for file, gen := range map[string]func() ([]byte, error){"canary.json": schema.Canary, "metrictemplate.json": schema.MetricTemplate} {
		want, err := gen()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		if *update {
			if err := os.WriteFile(file, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := os.ReadFile(file); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale: go test ./gitops/schema -update (%v)", file, err)
		}
	}
}

// TestExamplesMatchSchema: every shipped example document validates
// against its kind's schema, and each file carries the yaml-language-server
// modeline of the kind of its first document.
func TestExamplesMatchSchema(t *testing.T) {
	schemas := map[string]*jsonschema.Schema{
		spec.Kind:               compile(t, schema.CanaryID, schema.Canary),
		spec.KindMetricTemplate: compile(t, schema.MetricTemplateID, schema.MetricTemplate),
	}
	modelines := map[string]string{spec.Kind: schema.Modeline, spec.KindMetricTemplate: schema.MetricTemplateModeline}
	n := map[string]int{}
	err := fs.WalkDir(templates.Examples, "examples", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		data, err := fs.ReadFile(templates.Examples, p)
		if err != nil {
			return err
		}
		first := ""
		for i, v := range yamlToJSONValue(t, data) {
			kind, _ := v.(map[string]any)["kind"].(string)
			s, ok := schemas[kind]
			if !ok {
				continue // a manifest
			}
			if i == 0 {
				first = kind
			}
			n[kind]++
			if err := s.Validate(v); err != nil {
				t.Errorf("%s: document %d: %v", p, i, err)
			}
		}
		if first != "" && !bytes.HasPrefix(data, []byte(modelines[first]+"\n")) {
			t.Errorf("%s: first line is not %q", p, modelines[first])
		}
		return nil
	})
	if err != nil || n[spec.Kind] < 6 || n[spec.KindMetricTemplate] < 2 {
		t.Fatalf("examples checked by kind: %v, %v", n, err)
	}
}

// TestSchemaRefusesWhatTheParserRefuses: misplaced and mistyped fields fail.
func TestSchemaRefusesWhatTheParserRefuses(t *testing.T) {
	s := compile(t, schema.CanaryID, schema.Canary)
	base := "apiVersion: " + spec.APIVersion + "\nkind: Canary\nmetadata: {name: a}\nspec:\n  stable: v1\n  canary: v2\n  traffic: {provider: istio, file: vs.yaml}\n  analysis:\n    metrics: [{name: e, template: istio-error-rate}]\n"
	tests := []struct {
		name, doc string
		ok        bool
	}{
		{"minimal", base, true},
		{"moved field", base + "  analysis2: {}\n", false},
		{"unknown field", strings.Replace(base, "stable: v1", "stable: v1\n  stepWeigth: 5", 1), false},
		{"bad duration", strings.Replace(base, "analysis:\n", "analysis:\n    interval: 5 minutes\n", 1), false},
		{"weight not a number", strings.Replace(base, "stable: v1", "stable: v1\n  steps: [{setWeight: ten}]", 1), false},
		{"wrong kind", strings.Replace(base, "kind: Canary", "kind: Rollout", 1), false},
		{"missing traffic", strings.Replace(base, "  traffic: {provider: istio, file: vs.yaml}\n", "", 1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Validate(yamlToJSONValue(t, []byte(tc.doc))[0])
			if (err == nil) != tc.ok {
				t.Errorf("valid %v, want %v: %v", err == nil, tc.ok, err)
			}
		})
	}
}

// TestMetricTemplateSchemaRefusesWhatTheParserRefuses: the same for a MetricTemplate.
func TestMetricTemplateSchemaRefusesWhatTheParserRefuses(t *testing.T) {
	s := compile(t, schema.MetricTemplateID, schema.MetricTemplate)
	base := "apiVersion: " + spec.APIVersion + "\nkind: MetricTemplate\nmetadata: {name: errors}\nspec:\n  query: sum(x{version=\"{{ .Version }}\"})\n  args: {env: prod}\n"
	tests := []struct {
		name, doc string
		ok        bool
	}{
		{"minimal", base, true},
		{"with a provider", base + "  provider: {type: datadog, secretRef: dd}\n", true},
		{"misspelt query", strings.Replace(base, "query:", "querry:", 1), false},
		{"Flagger's secretRef", base + "  provider: {type: prometheus, secretRef: {name: prom}}\n", false},
		{"Argo's list of args", strings.Replace(base, "args: {env: prod}", "args: [{name: env}]", 1), false},
		{"a Canary's kind", strings.Replace(base, "kind: MetricTemplate", "kind: Canary", 1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Validate(yamlToJSONValue(t, []byte(tc.doc))[0])
			if (err == nil) != tc.ok {
				t.Errorf("valid %v, want %v: %v", err == nil, tc.ok, err)
			}
		})
	}
}
