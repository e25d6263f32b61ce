package templates_test

import (
	"errors"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

const strategiesDir = "examples/strategies"

// validateChecks are the checks `birdwatch validate` uses: this build's
// providers, templates and routing capabilities, and cmd/birdwatch's judges.
func validateChecks() spec.Checks {
	js := map[string]judge.Judge{}
	for _, j := range []judge.Judge{judge.Sequential{}, judge.Threshold{}, judge.MannWhitney{}} {
		js[j.Name()] = j
	}
	return core.Checks(js)
}

// exampleFile reads a repository path of the strategy examples: from
// examples/strategies, else from the aleph example they extend.
func exampleFile(t *testing.T, p string) []byte {
	t.Helper()
	for _, dir := range []string{strategiesDir, "examples/aleph"} {
		b, err := fs.ReadFile(templates.Examples, path.Join(dir, p))
		if err == nil {
			return b
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	t.Fatalf("%s is in neither %s nor examples/aleph", p, strategiesDir)
	return nil
}

// TestStrategyExamples parses each strategy example with the real checks,
// asserts the steps it expands to, and checks its manifests: the provider
// reads the weights 100/0, holds every routing state the steps reach, and
// the promote paths exist.
func TestStrategyExamples(t *testing.T) {
	tests := []struct {
		name string   // the example's file name
		want []string // the expanded steps, with the field each comes from
	}{
		{"ab-testing.yaml", []string{
			"setHeaderRoute ab: cookie user=developer @spec.abTesting.match",
			"analyze 10m0s @spec.abTesting.iterations"}},
		{"blue-green.yaml", []string{
			"setMirrorRoute preview 100% @spec.blueGreen.mirrorPercentage",
			"analyze 10m0s @spec.blueGreen.iterations",
			"setMirrorRoute preview (stop) @spec.blueGreen.mirrorPercentage",
			"setWeight 100 @spec.blueGreen"}},
		{"mirror.yaml", []string{
			"setMirrorRoute mirror 50% @spec.mirror.percentage",
			"analyze 10m0s @spec.mirror.iterations",
			"setMirrorRoute mirror (stop) @spec.mirror.percentage",
			"setWeight 20 @spec.stepWeight", "analyze 2m0s @spec.stepWeight",
			"setWeight 40 @spec.stepWeight", "analyze 2m0s @spec.stepWeight",
			"setWeight 60 @spec.stepWeight", "analyze 2m0s @spec.stepWeight",
			"setWeight 80 @spec.stepWeight", "analyze 2m0s @spec.stepWeight",
			"setWeight 100 @spec.stepWeight", "analyze 2m0s @spec.stepWeight"}},
		{"canary-header-route.yaml", []string{
			"setHeaderRoute developers: cookie user=developer", "analyze 10m0s",
			"setWeight 10", "analyze 10m0s", "setWeight 50", "analyze 10m0s", "setWeight 100"}},
		{"nginx-ab-testing.yaml", []string{
			"setHeaderRoute ab: header x-canary=insider @spec.abTesting.match",
			"analyze 10m0s @spec.abTesting.iterations"}},
	}
	entries, err := fs.ReadDir(templates.Examples, strategiesDir)
	if err != nil {
		t.Fatal(err)
	}
	tested := map[string]bool{}
	for _, tt := range tests {
		tested[tt.name] = true
	}
	for _, e := range entries {
		if !e.IsDir() && !tested[e.Name()] {
			t.Errorf("%s/%s is not tested here", strategiesDir, e.Name())
		}
	}
	checks := validateChecks()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := spec.ParseCanaries(tt.name, exampleFile(t, tt.name), checks)
			if err != nil {
				t.Fatalf("ParseCanaries: %v", err)
			}
			if len(cs) != 1 {
				t.Fatalf("%d canaries, want 1", len(cs))
			}
			c := cs[0]
			var got []string
			for _, s := range c.Spec.Steps {
				d := s.String()
				if s.Origin() != "" {
					d += " @" + s.Origin()
				}
				got = append(got, d)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("steps\n got %q\nwant %q", got, tt.want)
			}
			if c.Key() != "games/aleph" || c.Spec.Stable != "v03" || c.Spec.Canary != "v04" {
				t.Errorf("not the aleph rollout of templates/examples/aleph: %s %s -> %s", c.Key(), c.Spec.Stable, c.Spec.Canary)
			}
			checkExampleManifests(t, c)
		})
	}
}

// checkExampleManifests opens the example's traffic manifest with its
// provider and its promote files with their paths.
func checkExampleManifests(t *testing.T, c *spec.Canary) {
	tr := c.Spec.Traffic
	doc := exampleFile(t, tr.File)
	p, err := traffic.New(traffic.Config{Provider: tr.Provider, File: tr.File, Route: tr.Route, Host: tr.Host,
		StableSubset: tr.StableSubset, CanarySubset: tr.CanarySubset, StableService: tr.StableService, CanaryService: tr.CanaryService})
	if err != nil {
		t.Fatal(err)
	}
	if w, err := p.Weights(doc); err != nil || w != (traffic.Weights{Stable: 100, Canary: 0}) {
		t.Errorf("%s: weights %v, %v; want 100/0", tr.File, w, err)
	}
	for i, s := range c.Spec.Steps {
		if s.SetHeaderRoute == nil && s.SetMirrorRoute == nil {
			continue
		}
		want := core.TrafficRoutes(spec.RoutingAt(c.Spec.Steps, i+1))
		r, ok := p.(traffic.Router)
		if !ok {
			t.Fatalf("validation accepted step %d (%s), but %s is not a traffic.Router", i, s, tr.Provider)
		}
		out, err := r.SetRoutes(doc, want)
		if err != nil {
			t.Errorf("step %d (%s): SetRoutes: %v", i, s, err)
			continue
		}
		if got, err := r.Routes(out); err != nil || !sameRoutes(got, want) {
			t.Errorf("step %d (%s): Routes after SetRoutes = %+v, %v; want %+v", i, s, got, err, want)
		}
	}
	for _, e := range c.Spec.Promote {
		if v, err := yamledit.Get(exampleFile(t, e.File), e.Path); err != nil || v != c.Spec.Stable {
			t.Errorf("promote %s %s: %q, %v; want the stable version %s", e.File, e.Path, v, err, c.Spec.Stable)
		}
	}
}

// sameRoutes compares Routes read back from a manifest with the ones
// written: nil and empty lists alike, and mirror names left out (manifests
// have no place for them).
func sameRoutes(got, want traffic.Routes) bool {
	if len(got.Headers) == 0 && len(want.Headers) == 0 {
		got.Headers, want.Headers = nil, nil
	}
	if got.Mirror != nil && want.Mirror != nil {
		g, w := *got.Mirror, *want.Mirror
		g.Name, w.Name = "", ""
		got.Mirror, want.Mirror = &g, &w
	}
	return reflect.DeepEqual(got, want)
}

// TestStrategyExamplesHaveHeaders wants each example to open with a comment
// saying what it does.
func TestStrategyExamplesHaveHeaders(t *testing.T) {
	err := fs.WalkDir(templates.Examples, strategiesDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templates.Examples, p)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(string(b), "# ") {
			t.Errorf("%s does not open with a comment", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
