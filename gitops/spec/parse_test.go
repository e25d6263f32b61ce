package spec

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// base is a valid spec; invalid cases replace one line of it.
const base = `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata:
  name: aleph
  namespace: games
spec:
  stable: v03
  canary: v04
  traffic:
    provider: istio
    file: apps/vs.yaml
    stableSubset: production
    canarySubset: canary
  steps:
    - setWeight: 10
    - analyze: 5m
    - setWeight: 50
  analysis:
    metrics:
      - name: error-rate
        template: istio-error-rate
`

func replaceLine(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(base, old) {
		t.Fatalf("base has no %q", old)
	}
	return strings.Replace(base, old, new, 1)
}

var testChecks = Checks{
	Provider: func(n string) error {
		if n != "istio" {
			return fmt.Errorf("unknown provider %q", n)
		}
		return nil
	},
	Template: func(n string) error {
		if n != "istio-error-rate" && n != "istio-latency-p99" {
			return fmt.Errorf("unknown template %q", n)
		}
		return nil
	},
}

func TestParseCanariesValidFiles(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		assertions func(t *testing.T, got []*Canary)
	}{
		{
			name: "aleph from DESIGN.md",
			file: "testdata/valid-aleph.yaml",
			assertions: func(t *testing.T, got []*Canary) {
				if len(got) != 1 {
					t.Fatalf("got %d canaries, want 1", len(got))
				}
				c := got[0]
				if c.Key() != "games/aleph" || c.Spec.Service != "aleph" || len(c.Spec.Steps) != 7 {
					t.Errorf("key %s service %s steps %d", c.Key(), c.Spec.Service, len(c.Spec.Steps))
				}
				if c.Spec.Steps[1].Analyze.D() != 5*time.Minute || c.Spec.Steps[5].Pause == nil {
					t.Errorf("steps decoded wrong: %+v", c.Spec.Steps)
				}
				m := c.Spec.Analysis.Metrics[1]
				if m.Direction != "increase" || *m.Tolerance != 0.25 || m.Critical {
					t.Errorf("latency metric defaults: %+v", m)
				}
				if c.StatusPath() != ".birdwatch/status/games/aleph.yaml" || c.Line != 2 {
					t.Errorf("status path %s line %d", c.StatusPath(), c.Line)
				}
			},
		},
		{
			name: "flagger style and two documents",
			file: "testdata/valid-flagger-style.yaml",
			assertions: func(t *testing.T, got []*Canary) {
				if len(got) != 2 {
					t.Fatalf("got %d canaries, want 2", len(got))
				}
				c := got[0]
				if c.Metadata.Namespace != "default" || c.Spec.Analysis.Judge != "sequential" || c.Spec.Analysis.Alpha != 0.01 {
					t.Errorf("defaults not applied: %+v", c.Metadata)
				}
				var weights []int
				for _, s := range c.Spec.Steps {
					if s.SetWeight != nil {
						weights = append(weights, *s.SetWeight)
					} else if s.Analyze.D() != 30*time.Second {
						t.Errorf("expanded analyze = %v, want the 30s interval", s.Analyze)
					}
				}
				if fmt.Sprint(weights) != "[10 20 30]" {
					t.Errorf("expanded weights %v", weights)
				}
				if got[1].Key() != "web/frontend" || got[1].Line != 18 {
					t.Errorf("second doc %s at line %d", got[1].Key(), got[1].Line)
				}
				// Defaults are idempotent and keep the spec valid.
				SetDefaults(c)
				if err := Validate(c, testChecks); err != nil {
					t.Errorf("re-validate: %v", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseCanaries(tt.file, data, testChecks)
			if err != nil {
				t.Fatalf("ParseCanaries: %v", err)
			}
			tt.assertions(t, got)
		})
	}
}

func TestParseCanariesProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each must appear as one problem line
	}{
		{"unknown field", replaceLine(t, "    canarySubset: canary\n", "    canarySubset: canary\n    weight: 3\n"),
			[]string{"c.yaml:14: spec.traffic.weight: unknown field"}},
		{"wrong type", replaceLine(t, "    - setWeight: 10", "    - setWeight: ten"),
			[]string{`c.yaml:15: spec.steps[0].setWeight: want an integer, got str "ten"`}},
		{"bad duration", replaceLine(t, "analyze: 5m", "analyze: 5 minutes"),
			[]string{`c.yaml:16: spec.steps[1].analyze: want a duration such as 5m, got "5 minutes"`}},
		{"weight out of range", replaceLine(t, "setWeight: 50", "setWeight: 150"),
			[]string{"c.yaml:17: spec.steps[2].setWeight: must be between 0 and 100, got 150"}},
		{"weights must increase", replaceLine(t, "setWeight: 50", "setWeight: 5"),
			[]string{"c.yaml:17: spec.steps[2].setWeight: weights must increase: 5 follows 10"}},
		{"unknown provider", replaceLine(t, "provider: istio", "provider: linkerd"),
			[]string{`c.yaml:10: spec.traffic.provider: unknown provider "linkerd"`}},
		{"unknown template", replaceLine(t, "template: istio-error-rate", "template: nope"),
			[]string{`c.yaml:21: spec.analysis.metrics[0].template: unknown template "nope"`}},
		{"path traversal", replaceLine(t, "file: apps/vs.yaml", "file: ../../etc/passwd"),
			[]string{`c.yaml:11: spec.traffic.file: must be a clean path inside the repository, got "../../etc/passwd"`}},
		{"git dir", replaceLine(t, "file: apps/vs.yaml", "file: .git/config"),
			[]string{`c.yaml:11: spec.traffic.file: must not point into .git, got ".git/config"`}},
		{"missing canary and bad name", strings.Replace(replaceLine(t, "  canary: v04\n", ""), "name: aleph", "name: Aleph_1", 1),
			[]string{`c.yaml:4: metadata.name: must be a DNS label (lowercase letters, digits, '-'), got "Aleph_1"`, "c.yaml:6: spec.canary: required"}},
		{"two kinds of step", replaceLine(t, "    - analyze: 5m", "    - analyze: 5m\n      setWeight: 20"),
			[]string{"c.yaml:16: spec.steps[1]: a step is exactly one of setWeight, setHeaderRoute, setMirrorRoute, analyze or pause"}},
		{"injection in version", replaceLine(t, "canary: v04", `canary: 'v04"} or vector(1)'`),
			[]string{`c.yaml:8: spec.canary: must be a Kubernetes label value`}},
		{"syntax error", base + "  bad: [\n", []string{"c.yaml:22: did not find expected node content"}},
		{"wrong kind", replaceLine(t, "kind: Canary", "kind: Rollout"), []string{`c.yaml:2: kind: want "Canary", got "Rollout"`}},
		{"mannwhitney options", replaceLine(t, "        template: istio-error-rate\n", "        template: istio-error-rate\n        confidence: 1.5\n        nanStrategy: drop\n"),
			[]string{"c.yaml:22: spec.analysis.metrics[0].confidence: must be in (0, 1), got 1.5",
				`c.yaml:23: spec.analysis.metrics[0].nanStrategy: want one of remove, replace, got "drop"`}},
		{"quantile out of range", replaceLine(t, "        template: istio-error-rate\n", "        template: istio-error-rate\n        quantile: 99\n"),
			[]string{"c.yaml:22: spec.analysis.metrics[0].quantile: must be in (0, 1), got 99"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCanaries("c.yaml", []byte(tt.yaml), testChecks)
			if err == nil {
				t.Fatalf("no error; got %d canaries", len(got))
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestMannWhitneyOptionsParse(t *testing.T) {
	doc := strings.Replace(base, "        template: istio-error-rate\n", `        template: istio-error-rate
        group: errors
        confidence: 0.95
        nanStrategy: replace
        outliers: remove
        outlierFactor: 2
        effectSize: {allowedIncrease: 1.1, criticalIncrease: 2}
        minSamples: 20
        optional: true
        locationOnly: true
    scoring: {pass: 90, marginal: 60, groupWeights: {errors: 100}}
`, 1)
	cs, err := ParseCanaries("c.yaml", []byte(doc), testChecks)
	if err != nil {
		t.Fatal(err)
	}
	m, s := cs[0].Spec.Analysis.Metrics[0], cs[0].Spec.Analysis.Scoring
	if m.Group != "errors" || m.Confidence != 0.95 || m.NaNStrategy != "replace" || m.Outliers != "remove" ||
		m.OutlierFactor != 2 || m.EffectSize.AllowedIncrease != 1.1 || m.EffectSize.CriticalIncrease != 2 ||
		m.MinSamples != 20 || !m.Optional || !m.LocationOnly || s.Pass != 90 || s.Marginal != 60 || s.GroupWeights["errors"] != 100 {
		t.Errorf("decoded %+v %+v", m, s)
	}
}

func TestStatusRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	canary, baseline := 0.5, 0.1
	in := &Status{
		Generation: "v04", Stable: "v03", Baseline: "v03", Phase: PhaseWaitingForSync, Step: 3, Weight: 10,
		WeightSetAt: &now, Failures: 1,
		Evidence: map[string]Evidence{"error-rate": {Kind: "counts", Values: []float64{0.5, -1.25}}},
		LastAnalysis: &AnalysisRecord{At: now, WindowStart: now.Add(-time.Minute), Judge: "threshold", Verdict: "Pass",
			Metrics: []MetricRecord{{Name: "error-rate", Classification: "Pass", Canary: &canary, Baseline: &baseline}}},
		History: []HistoryEntry{{At: now, Decision: "advance", Step: 3, Weight: 10}},
	}
	b, err := MarshalStatus(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "# Written by birdwatch") || !strings.Contains(string(b), "values: [0.5, -1.25]") {
		t.Errorf("status file:\n%s", b)
	}
	out, err := ParseStatus("s.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := MarshalStatus(out)
	if string(b) != string(b2) {
		t.Errorf("round trip differs:\n%s\n---\n%s", b, b2)
	}
	if _, err := ParseStatus("s.yaml", []byte("phase: Progressing\nbogus: 1\n")); err == nil || !strings.Contains(err.Error(), "s.yaml:2: bogus: unknown field") {
		t.Errorf("strict status parse: %v", err)
	}
}

func TestIsSpecPath(t *testing.T) {
	for p, want := range map[string]bool{
		".birdwatch/aleph.yaml": true, ".birdwatch/games/aleph.yml": true, ".birdwatch/status/games/aleph.yaml": false,
		"apps/aleph.yaml": false, ".birdwatch/README.md": false,
	} {
		if got := IsSpecPath(p); got != want {
			t.Errorf("IsSpecPath(%q) = %v", p, got)
		}
	}
}

func FuzzParseCanaries(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte("a: [\n"))
	f.Add([]byte("---\n---\nkind: Canary\n"))
	for _, body := range []string{
		"  strategy: abTesting\n  abTesting:\n    match: [{cookie: user, exact: developer}, {header: x-a, regex: \"^b\"}]\n    iterations: 3\n",
		"  strategy: blueGreen\n  blueGreen: {match: [{queryParam: beta, prefix: \"1\"}], mirrorPercentage: 50, autoPromote: false}\n",
		"  strategy: mirror\n  mirror: {percentage: 25, iterations: 2}\n  stepWeight: 10\n  maxWeight: 30\n",
		"  steps:\n    - setHeaderRoute: {name: a, match: [{header: x, exact: y}]}\n    - setMirrorRoute: {name: m, percentage: 5}\n    - setMirrorRoute: {name: m}\n    - setHeaderRoute: {name: a}\n",
	} {
		f.Add([]byte(strategyDoc("", body, "")))
		f.Add([]byte(strategyDoc("    mirrorAlpha: 0.05\n", body, smiTraffic)))
	}
	checks := testChecks
	checks.Routing = routingChecks.Routing
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := ParseCanaries("f.yaml", data, checks)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		for _, c := range cs {
			if verr := Validate(c, checks); verr != nil {
				t.Fatalf("parsed canary fails validation: %v", verr)
			}
			steps := c.Spec.Steps
			if SetDefaults(c); !reflect.DeepEqual(steps, c.Spec.Steps) {
				t.Fatalf("SetDefaults is not idempotent: %q then %q", describeSteps(steps), describeSteps(c.Spec.Steps))
			}
		}
	})
}
