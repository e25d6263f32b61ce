package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// podinfoWithFlaggerHabits is a Canary written the way a Flagger user
// would at first: the schedule inside analysis, Flagger's threshold and
// thresholdRange, a misspelt subset field and a pause in bare seconds.
const podinfoWithFlaggerHabits = `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  stable: 6.0.0
  canary: 6.0.1
  traffic:
    provider: istio
    file: virtualservice.yaml
    stableSubset: primary
    canarySubst: canary
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
      - name: request-success-rate
        template: istio-error-rate
        thresholdRange:
          min: 99
`

// TestValidateTargets: validate takes a checkout, its .birdwatch/ folder,
// one spec file (under .birdwatch/ or not), a folder of examples without
// .birdwatch/, and reports every problem of a file in one pass, each as
// file:line: field with where an unknown field lives.
func TestValidateTargets(t *testing.T) {
	tests := []struct {
		name   string
		target func(t *testing.T) string
		code   int      // exit code
		want   []string // exactly these problem lines on stderr, in order
		ok     string   // the ok line on stdout, when code is 0
	}{
		{name: "the shipped strategy examples, a folder without .birdwatch/",
			target: func(t *testing.T) string { return "../../templates/examples/strategies" },
			ok:     "ok: 5 canaries in 5 files"},
		{name: "one strategy example file",
			target: func(t *testing.T) string { return "../../templates/examples/strategies/blue-green.yaml" },
			ok:     "ok: 1 canaries in 1 files"},
		{name: "a checkout's .birdwatch folder",
			target: func(t *testing.T) string { return filepath.Join(exampleCheckout(t), ".birdwatch") },
			ok:     "ok: 1 canaries in 1 files"},
		{name: "a file under .birdwatch, a broken file beside it",
			target: func(t *testing.T) string {
				dir := exampleCheckout(t)
				noErr(t, os.WriteFile(filepath.Join(dir, ".birdwatch", "other.yaml"), []byte("kind: Canary\nspec: {stabel: v1}\n"), 0o644))
				return filepath.Join(dir, ".birdwatch", "aleph.yaml")
			},
			ok: "ok: 1 canaries in 1 files"},
		{name: "a file with Flagger's habits, every problem at once",
			target: func(t *testing.T) string {
				dir := t.TempDir()
				noErr(t, os.WriteFile(filepath.Join(dir, "podinfo.yaml"), []byte(podinfoWithFlaggerHabits), 0o644))
				return filepath.Join(dir, "podinfo.yaml")
			},
			code: 1, want: []string{
				"podinfo.yaml:13: spec.traffic.canarySubst: unknown field; did you mean canarySubset?",
				"podinfo.yaml:16: spec.analysis.threshold: unknown field; Flagger's threshold: N (roll back at the Nth failed check) is spec.analysis.failureLimit: N-1 (failures tolerated)",
				"podinfo.yaml:17: spec.analysis.maxWeight: unknown field; moved to spec.maxWeight",
				"podinfo.yaml:18: spec.analysis.stepWeight: unknown field; moved to spec.stepWeight",
				"podinfo.yaml:22: spec.analysis.metrics[0].thresholdRange: unknown field; Flagger's thresholdRange.max/min are this metric's max/min (absolute guards), with tolerance for the change against the baseline",
				"podinfo.yaml:9: spec.traffic.canarySubset: required for istio",
				"podinfo.yaml:6: spec.steps: required (or stepWeight and maxWeight)",
			}},
		{name: "a folder with nothing to validate",
			target: func(t *testing.T) string { return t.TempDir() }, code: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := tt.target(t)
			stdout, stderr, err := run(t, "validate", target)
			var ee exitError
			switch {
			case tt.code == 0 && err != nil, tt.code != 0 && (!errors.As(err, &ee) || ee.code != tt.code):
				t.Fatalf("exit: %v, want code %d\n%s%s", err, tt.code, stdout, stderr)
			}
			if tt.ok != "" && strings.TrimSpace(stdout) != tt.ok {
				t.Errorf("stdout %q, want %q", stdout, tt.ok)
			}
			if tt.want == nil {
				return
			}
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if strings.Contains(l, ": ") && !strings.Contains(l, "problem(s) in") {
					got = append(got, strings.TrimPrefix(l, filepath.Dir(target)+"/"))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestValidateRepo: --repo clones the branch into a temporary cache,
// validates what the loop would read at its head, and removes the cache.
func TestValidateRepo(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := exampleCheckout(t)
	gitRun := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	gitRun("init", "-q", "-b", "main")
	gitRun("add", "-A")
	gitRun("commit", "-q", "-m", "aleph")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	url := "file://" + dir
	stdout, stderr, err := run(t, "validate", "--repo", url, "-o", "json")
	var v struct {
		OK       bool
		Canaries int
		Problems []problemJSON
	}
	if err != nil || json.Unmarshal([]byte(stdout), &v) != nil || !v.OK || v.Canaries != 1 {
		t.Fatalf("valid repository: %v %+v\n%s%s", err, v, stdout, stderr)
	}
	editSpec(t, dir, "judge: sequential", "judge: coinflip\n    stepweight: 10")
	gitRun("commit", "-q", "-am", "break it")
	stdout, stderr, err = run(t, "validate", "--repo", url)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("broken repository: %v\n%s%s", err, stdout, stderr)
	}
	for _, w := range []string{".birdwatch/aleph.yaml:27: spec.analysis.judge: ", ".birdwatch/aleph.yaml:28: spec.analysis.stepweight: unknown field; moved to spec.stepWeight"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("validate --repo left %d entries in TMPDIR (%s...)", len(left), left[0].Name())
	}
	_, _, err = run(t, "validate", "--repo", "file://"+filepath.Join(t.TempDir(), "missing.git"))
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("a repository that cannot be cloned: %v, want exit 2", err)
	}
}
