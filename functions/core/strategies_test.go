package core

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/rollout"
	"github.com/birdwatch-gitops/birdwatch/rollout/step"
)

// strategySpec is testSpec judged sequentially, with its steps replaced by
// a strategy block.
func strategySpec(canary, strategy string) string {
	s := strings.NewReplacer("judge: threshold", "judge: sequential\n    mirrorAlpha: 0.05", "canary: v04", "canary: "+canary).Replace(testSpec)
	steps := "  steps:\n    - setWeight: 10\n    - analyze: 3m\n    - setWeight: 50\n    - analyze: 3m\n"
	return strings.Replace(s, steps, strategy, 1)
}

// walk runs the loop once a minute until the rollout ends and returns every outcome.
func walk(t *testing.T, f *fleet.Repo, prom string) []Outcome {
	t.Helper()
	c := newClock(dataEnd.Add(-time.Hour))
	e := newEngine(t, openRepo(t, f.URL()), prom, c)
	e.Judges["sequential"] = judge.Sequential{}
	var outcomes []Outcome
	for range 40 {
		o := runOnce(t, e)
		outcomes = append(outcomes, o)
		if o.Decision.Status.Phase.Terminal() {
			return outcomes
		}
		c.advance(time.Minute)
	}
	t.Fatalf("rollout did not end in 40 looks: %s", outcomes[len(outcomes)-1].Decision.Reason)
	return nil
}

// commitOf returns the revision (main~n) whose subject matches re.
func commitOf(t *testing.T, f *fleet.Repo, re string) string {
	t.Helper()
	for i, s := range subjects(t, f) {
		if regexp.MustCompile(re).MatchString(s) {
			return fmt.Sprintf("main~%d", i)
		}
	}
	t.Fatalf("no commit matches %q in\n%s", re, strings.Join(subjects(t, f), "\n"))
	return ""
}

func show(t *testing.T, f *fleet.Repo, rev, path string) string {
	t.Helper()
	s, err := f.Show(t.Context(), rev, path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// trafficOfLooks lists the window traffic of every look recorded in a commit.
func trafficOfLooks(outcomes []Outcome) []string {
	var kinds []string
	for _, o := range outcomes {
		if o.Analysis != nil && o.Decision.Status.LastAnalysis != nil {
			kinds = append(kinds, o.Decision.Status.LastAnalysis.Traffic)
		}
	}
	return slices.Compact(kinds)
}

const vsFile = "apps/games/aleph/virtualservice.yaml"

// TestStrategiesThroughTheLoop runs blue-green and mirroring end to end:
// real Git, a real Prometheus, the sequential judge, every routing change a
// commit of the VirtualService.
func TestStrategiesThroughTheLoop(t *testing.T) {
	prom := startPrometheus(t)
	original := func(t *testing.T, f *fleet.Repo) string {
		return show(t, f, "main~"+fmt.Sprint(len(subjects(t, f))-1), vsFile)
	}

	t.Run("blue-green with a mirror preview switches 0 -> 100 in one commit, then promotes", func(t *testing.T) {
		f := newFleet(t, strategySpec("v05", "  strategy: blueGreen\n  blueGreen:\n    mirrorPercentage: 50\n    iterations: 3\n"))
		outcomes := walk(t, f, prom)
		if st := statusAt(t, f, "main"); st.Phase != spec.PhaseSucceeded || !st.Routes.Empty() {
			t.Fatalf("phase %s, routes %+v", st.Phase, st.Routes)
		}
		mirror := show(t, f, commitOf(t, f, `v05 advance at weight 0, routes: mirror preview 50% \(step 1/`), vsFile)
		if !strings.Contains(mirror, "mirror:") || !strings.Contains(mirror, "subset: canary") || !strings.Contains(mirror, "mirrorPercentage:") {
			t.Errorf("mirror commit's VirtualService:\n%s", mirror)
		}
		sw := commitOf(t, f, `v05 advance, weight 0 -> 100, routes: none \(step`)
		if vs := show(t, f, sw, vsFile); strings.Contains(vs, "mirror") || weightsAt(t, f, sw) != "0/100" {
			t.Errorf("switch commit's VirtualService:\n%s", vs)
		}
		if vs := show(t, f, "main", vsFile); vs != original(t, f) {
			t.Errorf("after promotion the VirtualService differs from the original:\n%s", vs)
		}
		if got := trafficOfLooks(outcomes); !slices.Contains(got, string(rollout.TrafficMirrored)) {
			t.Errorf("looks judged %v traffic, want mirrored among them", got)
		}
	})

	t.Run("blue-green with a cookie preview rolls back a bad version, removing its route", func(t *testing.T) {
		f := newFleet(t, strategySpec("v04", "  strategy: blueGreen\n  blueGreen:\n    match:\n      - cookie: user\n        exact: developer\n    iterations: 3\n"))
		outcomes := walk(t, f, prom)
		if st := statusAt(t, f, "main"); st.Phase != spec.PhaseRolledBack || !st.Routes.Empty() {
			t.Fatalf("phase %s, routes %+v", st.Phase, st.Routes)
		}
		preview := show(t, f, commitOf(t, f, `v04 advance at weight 0, routes: header preview \(step 1/`), vsFile)
		if !strings.Contains(preview, "name: birdwatch-preview") || !strings.Contains(preview, "user=") {
			t.Errorf("preview commit's VirtualService:\n%s", preview)
		}
		commitOf(t, f, `v04 rollback at weight 0, routes: none`)
		if vs := show(t, f, "main", vsFile); vs != original(t, f) {
			t.Errorf("after rollback the VirtualService differs from the original:\n%s", vs)
		}
		if got := trafficOfLooks(outcomes); !slices.Equal(got, []string{string(rollout.TrafficMatched)}) {
			t.Errorf("looks judged %v traffic, want matched", got)
		}
	})

	t.Run("mirror, then weights", func(t *testing.T) {
		f := newFleet(t, strategySpec("v05", "  strategy: mirror\n  mirror:\n    percentage: 20\n    iterations: 2\n  stepWeight: 50\n  maxWeight: 50\n"))
		outcomes := walk(t, f, prom)
		if st := statusAt(t, f, "main"); st.Phase != spec.PhaseSucceeded {
			t.Fatalf("phase %s", st.Phase)
		}
		commitOf(t, f, `v05 advance at weight 0, routes: mirror mirror 20% \(step 1/`)
		if vs := show(t, f, commitOf(t, f, `v05 advance, weight 0 -> 50, routes: none`), vsFile); strings.Contains(vs, "mirror") {
			t.Errorf("mirror not stopped with the first weight:\n%s", vs)
		}
		if got := trafficOfLooks(outcomes); len(got) < 2 || got[0] != string(rollout.TrafficMirrored) || got[len(got)-1] != string(rollout.TrafficLive) {
			t.Errorf("looks judged %v traffic, want mirrored then live", got)
		}
	})
}

func TestWindowAlpha(t *testing.T) {
	tests := []struct {
		name    string
		mirror  float64
		traffic rollout.Traffic
		want    float64
	}{
		{"live looks use alpha", 0.05, rollout.TrafficLive, 0.01},
		{"matched looks use alpha", 0.05, rollout.TrafficMatched, 0.01},
		{"mirrored looks use mirrorAlpha", 0.05, rollout.TrafficMirrored, 0.05},
		{"mirrored looks without mirrorAlpha use alpha", 0, rollout.TrafficMirrored, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := spec.Analysis{Alpha: 0.01, MirrorAlpha: tt.mirror}
			if got := step.WindowAlpha(a, rollout.Window{Traffic: tt.traffic}); got != tt.want {
				t.Errorf("got %g, want %g", got, tt.want)
			}
		})
	}
}

// exampleFleet is a fleet holding the aleph example's manifests, the
// strategies example's Gateway API and NGINX manifests, and the strategies
// example spec file as aleph's Canary, with canary set to version.
func exampleFleet(t *testing.T, file, version string) *fleet.Repo {
	t.Helper()
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	strategies, err := fleet.ExampleFiles("strategies")
	if err != nil {
		t.Fatal(err)
	}
	for p, content := range strategies {
		if strings.HasPrefix(p, "apps/") {
			files[p] = content
		}
	}
	c, ok := strategies[file]
	if !ok {
		t.Fatalf("no example %s", file)
	}
	files[".birdwatch/aleph.yaml"] = strings.Replace(c, "canary: v04", "canary: "+version, 1)
	r, err := fleet.CreateFiles(t.Context(), t.TempDir(), files, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestGatewayAPIBlueGreenExampleThroughTheLoop walks the shipped example
// templates/examples/strategies/blue-green.yaml (Gateway API, every request
// mirrored before the switch) as it is: v05 is promoted through the switch,
// v04 is rolled back while mirrored, and the HTTPRoute ends as it began.
func TestGatewayAPIBlueGreenExampleThroughTheLoop(t *testing.T) {
	prom := startPrometheus(t)
	const route = "apps/games/aleph/httproute.yaml"
	tests := []struct {
		version string
		phase   spec.Phase
		commits []string // subjects that must be on main, as regexps
	}{
		{"v05", spec.PhaseSucceeded, []string{`v05 advance at weight 0, routes: mirror preview 100% \(step 1/4\)`,
			`v05 advance, weight 0 -> 100, routes: none \(step 4/4\)`, `v05 promoted, weight 100 -> 0, stable v05`}},
		{"v04", spec.PhaseRolledBack, []string{`v04 advance at weight 0, routes: mirror preview 100% \(step 1/4\)`,
			`v04 rollback at weight 0, routes: none`}},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			f := exampleFleet(t, "blue-green.yaml", tt.version)
			initial := show(t, f, "main", route)
			walk(t, f, prom)
			if st := statusAt(t, f, "main"); st.Phase != tt.phase {
				t.Fatalf("phase %s: %s", st.Phase, st.Message)
			}
			for _, re := range tt.commits {
				commitOf(t, f, re)
			}
			mirrored := show(t, f, commitOf(t, f, tt.commits[0]), route)
			if !strings.Contains(mirrored, "type: RequestMirror") || !strings.Contains(mirrored, "name: aleph-canary") {
				t.Errorf("mirror commit's HTTPRoute:\n%s", mirrored)
			}
			if got := show(t, f, "main", route); got != initial {
				t.Errorf("the HTTPRoute did not end as it began:\n%s", got)
			}
		})
	}
}
