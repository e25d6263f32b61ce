package importer_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics/cloudwatch"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/importer"
	"github.com/birdwatch-gitops/birdwatch/gitops/schema"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/spectree"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// importCase is one upstream-shaped spec imported into its checkout.
type importCase struct {
	name  string
	dir   string   // under testdata
	files []string // the foreign specs, relative to dir
	run   func(*importer.Checkout, []*importer.Object) (*importer.Result, error)
	// notes must each appear in the report; spec checks the Canary.
	notes []string
	check func(t *testing.T, c *spec.Canary)
}

// importInto copies testdata/dir to a temporary checkout, imports files
// and writes the result, as the CLI does.
func importInto(t *testing.T, tc importCase) (string, *importer.Result) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", tc.dir))); err != nil {
		t.Fatal(err)
	}
	co, err := importer.LoadCheckout(dir)
	if err != nil {
		t.Fatal(err)
	}
	var objs []*importer.Object
	for _, f := range tc.files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		o, err := importer.ParseObjects(f, data)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o...)
	}
	res, err := tc.run(co, objs)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	for p, data := range res.Files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, res
}

// checkRegistry has the metric provider types and dialects of
// cmd/birdwatch's registry, for validation (no provider is built).
func checkRegistry() *metrics.Registry {
	r := metrics.NewRegistry(nil, 0)
	for name, d := range map[string]metrics.Dialect{"prometheus": metrics.PromQL, "gcm": metrics.PromQL,
		"datadog": metrics.Plain, "newrelic": metrics.Plain, "influxdb": metrics.Plain, "graphite": metrics.Plain, "web": metrics.Plain} {
		r.Add(name, metrics.Kind{Dialect: d})
	}
	r.Add("cloudwatch", metrics.Kind{Dialect: metrics.Plain, Check: cloudwatch.Check})
	return r
}

func judges() map[string]judge.Judge {
	return map[string]judge.Judge{"sequential": judge.Sequential{}, "threshold": judge.Threshold{}, "mannwhitney": judge.MannWhitney{}}
}

// loadCanaries validates every spec under .birdwatch/ the way the loop parses them.
func loadCanaries(t *testing.T, dir string) []*spec.Canary {
	t.Helper()
	// As the loop reads .birdwatch/: Canaries and the MetricTemplates their
	// templateRefs name, with this build's metric providers' checks.
	cs, err := spectree.Load(spectree.Dir(dir), core.WithMetricChecks(core.Checks(judges()), checkRegistry()))
	if err != nil {
		t.Errorf("validate:\n%v", err)
	}
	return cs
}

// checkLoop does what the loop does with the manifests: reads and sets the
// weights with the provider, resolves and applies each promote edit.
func checkLoop(t *testing.T, dir string, c *spec.Canary) {
	t.Helper()
	tr := c.Spec.Traffic
	doc, err := os.ReadFile(filepath.Join(dir, tr.File))
	if err != nil {
		t.Fatalf("traffic file: %v", err)
	}
	p, err := traffic.New(traffic.Config{Provider: tr.Provider, File: tr.File, Route: tr.Route, Host: tr.Host,
		StableSubset: tr.StableSubset, CanarySubset: tr.CanarySubset, StableService: tr.StableService, CanaryService: tr.CanaryService,
		CanaryWeightPath: tr.CanaryWeightPath, StableWeightPath: tr.StableWeightPath})
	if err != nil {
		t.Fatal(err)
	}
	w, err := p.Weights(doc)
	if err != nil || w != (traffic.Weights{Stable: 100, Canary: 0}) {
		t.Fatalf("weights of %s: %v, %v\n%s", tr.File, w, err, doc)
	}
	out, err := p.SetWeights(doc, traffic.Weights{Stable: 90, Canary: 10})
	if err != nil {
		t.Fatalf("set weights: %v", err)
	}
	decodeKubernetes(t, tr.File, out)
	for _, e := range c.Spec.Promote {
		data, err := os.ReadFile(filepath.Join(dir, e.File))
		if err != nil {
			t.Fatalf("promote file: %v", err)
		}
		if _, err := yamledit.Get(data, e.Path); err != nil {
			t.Errorf("promote %s %s: %v", e.File, e.Path, err)
		}
		value := strings.ReplaceAll(e.Value, "{{ .Canary }}", "6.0.1")
		if _, err := yamledit.Set(data, e.Path, value); err != nil {
			t.Errorf("promote %s %s = %s: %v", e.File, e.Path, value, err)
		}
	}
}

// checkSchema validates an imported Canary file against `birdwatch schema`
// and checks it starts with the editor modeline.
func checkSchema(t *testing.T, file string, data []byte) {
	t.Helper()
	modeline, id, gen := schema.Modeline, schema.CanaryID, schema.Canary
	if strings.Contains(string(data), "\nkind: "+spec.KindMetricTemplate+"\n") {
		modeline, id, gen = schema.MetricTemplateModeline, schema.MetricTemplateID, schema.MetricTemplate
	}
	if !strings.HasPrefix(string(data), modeline+"\n") {
		t.Errorf("%s: no modeline", file)
	}
	raw, err := gen()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
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
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(v)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s does not match the schema: %v", file, err)
	}
}

var strictCodecs = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict)

// decodeKubernetes decodes the core Kubernetes objects of a file strictly
// with client-go's scheme (Deployments, Services, HPAs, Ingresses).
func decodeKubernetes(t *testing.T, file string, data []byte) {
	t.Helper()
	objs, err := importer.ParseObjects(file, data)
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(data), "\n---\n")
	for i, o := range objs {
		switch o.APIVersion() {
		case "v1", "apps/v1", "autoscaling/v2", "networking.k8s.io/v1":
		default:
			continue
		}
		if _, _, err := strictCodecs.UniversalDeserializer().Decode([]byte(docs[o.Doc]), nil, nil); err != nil {
			t.Errorf("%s document %d (%s %s): %v", file, i+1, o.Kind(), o.Name(), err)
		}
	}
}

func TestImport(t *testing.T) {
	for _, tc := range importCases {
		t.Run(tc.name, func(t *testing.T) {
			dir, res := importInto(t, tc)
			var report strings.Builder
			for _, n := range res.Notes {
				report.WriteString(n.String() + "\n")
			}
			for _, want := range tc.notes {
				if !strings.Contains(report.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, report.String())
				}
			}
			for p, data := range res.Files {
				decodeKubernetes(t, p, data)
				if spec.IsSpecPath(p) {
					checkSchema(t, p, data)
				}
			}
			cs := loadCanaries(t, dir)
			if len(cs) != 1 {
				t.Fatalf("%d canaries", len(cs))
			}
			checkLoop(t, dir, cs[0])
			if tc.check != nil {
				tc.check(t, cs[0])
			}
			if t.Failed() {
				t.Logf("report:\n%s", report.String())
			}
		})
	}
}

func TestFlaggerRefusals(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(string) string
		assertions func(t *testing.T, err error)
	}{
		{
			name: "contour has no header routes",
			edit: func(s string) string {
				return strings.Replace(s, "    maxWeight: 50\n", "    iterations: 10\n    match:\n      - headers:\n          x-canary:\n            exact: insider\n", 1)
			},
			assertions: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), "spec.analysis.match: birdwatch's contour provider splits by weight only") {
					t.Fatalf("got %v", err)
				}
			},
		},
		{
			name: "a mesh the import does not map",
			edit: func(s string) string { return strings.Replace(s, "provider: contour", "provider: kuma", 1) },
			assertions: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), `spec.provider "kuma": the import maps istio, linkerd, smi, nginx, gatewayapi, contour, traefik and apisix`) {
					t.Fatalf("got %v", err)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS("testdata/flagger-contour")); err != nil {
				t.Fatal(err)
			}
			co, err := importer.LoadCheckout(dir)
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(dir, "apps/podinfo/canary.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			objs, err := importer.ParseObjects("apps/podinfo/canary.yaml", []byte(tc.edit(string(data))))
			if err != nil {
				t.Fatal(err)
			}
			_, err = importer.Flagger(co, objs)
			tc.assertions(t, err)
		})
	}
}
