package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/rollout"
	"github.com/birdwatch-gitops/birdwatch/rollout/step"
)

// diffDeadProm is a Prometheus URL nothing listens on: the decisions in these
// tests need no measurement, and one that did would fail, not pass.
const diffDeadProm = "http://127.0.0.1:1"

// diffSpec rolls the aleph example out in two steps: 10%, then a pause.
const diffSpec = `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata:
  name: aleph
  namespace: games
spec:
  stable: v03
  canary: v04
  traffic:
    provider: istio
    file: apps/games/aleph/virtualservice.yaml
    stableSubset: production
    canarySubset: canary
  steps:
    - setWeight: 10
    - pause: {}
  analysis:
    judge: threshold
    metrics:
      - name: error-rate
        template: istio-error-rate
        max: 1
  promote:
    - file: apps/games/aleph/destinationrule.yaml
      path: spec.subsets[name=production].labels.version
      value: "{{ .Canary }}"
`

// diffFleet creates a fleet repository with the aleph example's manifests,
// extra files and the spec.
func diffFleet(t *testing.T, spec string, extra map[string]string) *fleet.Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	files[".birdwatch/aleph.yaml"] = spec
	for p, content := range extra {
		files[p] = content
	}
	f, err := fleet.CreateFiles(t.Context(), t.TempDir(), files, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// diffEngine wires the engine as the binary does, on a fixed clock.
func diffEngine(t *testing.T, f *fleet.Repo, now time.Time) *core.Engine {
	t.Helper()
	r, err := repo.Open(t.Context(), repo.Options{URL: f.URL(), Branch: "main", CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	p, err := metrics.NewPrometheus(metrics.PrometheusConfig{URL: diffDeadProm, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &core.Engine{Repo: r, Metrics: p, Judges: judges(), Sync: syncEngines(newConfig(modeCLI)), Now: func() time.Time { return now }}
}

// diffLoop runs one cycle of the loop and fails the test on any error.
func diffLoop(t *testing.T, e *core.Engine) {
	t.Helper()
	out, err := e.Run(t.Context(), core.Request{Trigger: "test"})
	if err != nil || len(out) != 1 || out[0].Err != nil {
		t.Fatalf("Run = %+v, %v", out, err)
	}
}

// diffText runs runDiff and returns its output, checking that it committed
// nothing.
func diffText(t *testing.T, e *core.Engine, f *fleet.Repo, req core.Request) string {
	t.Helper()
	before, err := f.Subjects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runDiff(t.Context(), e, req, &out); err != nil {
		t.Fatalf("runDiff: %v\n%s", err, out.String())
	}
	if after, err := f.Subjects(t.Context()); err != nil || len(after) != len(before) {
		t.Fatalf("diff committed: %v (%v)", after, err)
	}
	return out.String()
}

// diffGitApply brings the developer's clone to main and applies a diff to
// it with the real git CLI.
func diffGitApply(t *testing.T, f *fleet.Repo, diff string) {
	t.Helper()
	for _, args := range [][]string{{"pull", "--quiet", "--ff-only", "origin", "main"}, {"apply", "--whitespace=nowarn", "-"}} {
		cmd := exec.CommandContext(t.Context(), "git", args...)
		cmd.Dir = f.Work
		cmd.Stdin = strings.NewReader(diff)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s\ndiff:\n%s", args[0], err, out, diff)
		}
	}
}

// diffFiles returns the paths a diff changes, in order.
func diffFiles(diff string) []string {
	var files []string
	for _, l := range strings.Split(diff, "\n") {
		if p, ok := strings.CutPrefix(l, "+++ b/"); ok {
			files = append(files, p)
		}
	}
	return files
}

// TestDiffIsWhatRunCommits applies the printed diff to a clone at the same
// commit with `git apply`, lets the loop commit the same decision, and
// checks that both give the same files.
func TestDiffIsWhatRunCommits(t *testing.T) {
	f := diffFleet(t, diffSpec, nil)
	e := diffEngine(t, f, time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	diff := diffText(t, e, f, core.Request{Trigger: "test"})
	for _, want := range []string{
		"# games/aleph: advance would commit on ", "# birdwatch: games/aleph v04 advance, weight 0 -> 10 (step 1/2)", "# Birdwatch-Decision: advance",
		"diff --git a/.birdwatch/status/games/aleph.yaml b/.birdwatch/status/games/aleph.yaml\nnew file mode 100644\n",
		"--- /dev/null\n+++ b/.birdwatch/status/games/aleph.yaml\n",
		"--- a/apps/games/aleph/virtualservice.yaml\n+++ b/apps/games/aleph/virtualservice.yaml\n",
		"-          weight: 100\n+          weight: 90\n", "-          weight: 0 # set by birdwatch\n+          weight: 10 # set by birdwatch\n",
	} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, diff)
		}
	}
	diffGitApply(t, f, diff)
	diffLoop(t, e)
	for _, p := range diffFiles(diff) {
		committed, err := f.Show(t.Context(), "main", p)
		if err != nil {
			t.Fatal(err)
		}
		applied, err := os.ReadFile(filepath.Join(f.Work, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		if committed != string(applied) {
			t.Errorf("%s: the diff applied gives\n%s\nthe loop committed\n%s", p, applied, committed)
		}
	}
}

func TestDiffDecisions(t *testing.T) {
	const status = ".birdwatch/status/games/aleph.yaml"
	const vs = "apps/games/aleph/virtualservice.yaml"
	tests := []struct {
		name    string
		spec    string
		runs    int // loop cycles before the diff
		command rollout.CommandKind
		files   []string // files the diff changes, in order
		want    []string // substrings of the output
	}{
		{name: "abort rolls back and keeps the canary workload", spec: diffSpec, runs: 1, command: rollout.CmdAbort,
			files: []string{status, vs},
			want:  []string{"# birdwatch: games/aleph v04 rollback, weight 10 -> 0", "-          weight: 90\n+          weight: 100\n", "+phase: RolledBack\n"}},
		{name: "promote at the pause edits the promote files and spec.stable", spec: diffSpec, runs: 2, command: rollout.CmdPromote,
			files: []string{".birdwatch/aleph.yaml", status, "apps/games/aleph/destinationrule.yaml", vs},
			want: []string{"# birdwatch: games/aleph v04 promoted, weight 10 -> 0, stable v04", "-  stable: v03\n+  stable: v04\n",
				"-        version: v03 # promotion moves this to the canary's version\n+        version: v04 # promotion moves this to the canary's version\n",
				"-          weight: 10 # set by birdwatch\n+          weight: 0 # set by birdwatch\n"}},
		{name: "waiting for the applier commits nothing", spec: diffSpec + "  sync: {engine: none, applyDelay: 1h}\n", runs: 1,
			want: []string{"# games/aleph v04: wait, nothing to commit: waiting for the applier to apply weight 10\n"}},
		{name: "a refused command is shown", spec: diffSpec, runs: 1, command: rollout.CmdResume,
			files: []string{status}, want: []string{"# resume refused: it does not apply while WaitingForSync"}},
		{name: "nginx canary Ingress", runs: 0, files: []string{status, "apps/games/aleph/ingress.yaml"},
			spec: strings.Replace(diffSpec, "    provider: istio\n    file: apps/games/aleph/virtualservice.yaml\n    stableSubset: production\n    canarySubset: canary\n",
				"    provider: nginx\n    file: apps/games/aleph/ingress.yaml\n    route: aleph-canary\n", 1),
			want: []string{"-    nginx.ingress.kubernetes.io/canary-weight: \"0\"\n+    nginx.ingress.kubernetes.io/canary-weight: \"10\"\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := diffFleet(t, tt.spec, map[string]string{"apps/games/aleph/ingress.yaml": diffIngress})
			e := diffEngine(t, f, time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
			for range tt.runs {
				diffLoop(t, e)
			}
			req := core.Request{Canary: "games/aleph", Trigger: "test"}
			if tt.command != "" {
				req.Command = &rollout.Command{Kind: tt.command, Actor: "alice"}
			}
			diff := diffText(t, e, f, req)
			if got := diffFiles(diff); strings.Join(got, " ") != strings.Join(tt.files, " ") {
				t.Errorf("diff changes %v, want %v:\n%s", got, tt.files, diff)
			}
			for _, w := range tt.want {
				if !strings.Contains(diff, w) {
					t.Errorf("diff lacks %q:\n%s", w, diff)
				}
			}
			if len(tt.files) > 0 {
				diffGitApply(t, f, diff)
			}
		})
	}
}

// diffIngress is an ingress-nginx canary Ingress for aleph.
const diffIngress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: aleph-canary
  namespace: games
  annotations:
    nginx.ingress.kubernetes.io/canary: "true"
    nginx.ingress.kubernetes.io/canary-weight: "0"
spec:
  ingressClassName: nginx
  rules:
    - host: aleph.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: aleph-canary, port: {number: 80}}}}
`

// TestDiffCommandLine runs `birdwatch diff` and `birdwatch run --dry-run`
// as a user would.
func TestDiffCommandLine(t *testing.T) {
	f := diffFleet(t, diffSpec, nil)
	tests := []struct {
		name string
		args []string
		err  string // "" for success
		want string
	}{
		{name: "diff", args: []string{"diff", "--prometheus", diffDeadProm}, want: "+          weight: 90\n"},
		{name: "run --dry-run", args: []string{"run", "--dry-run", "--prometheus", diffDeadProm}, want: "+          weight: 90\n"},
		{name: "diff for one canary with a command", args: []string{"diff", "--prometheus", diffDeadProm, "--canary", "games/aleph", "--command", "abort"},
			want: "# games/aleph: rollback would commit on "},
		{name: "unknown canary", args: []string{"diff", "--prometheus", diffDeadProm, "--canary", "games/beta"}, err: "games/beta: no such canary"},
		{name: "dry run of a loop", args: []string{"run", "--dry-run", "--every", "1m"}, err: "--dry-run plans one cycle"},
		{name: "diff without Prometheus", args: []string{"diff"}, err: "no Prometheus: give --prometheus"},
		{name: "run --dry-run without Prometheus", args: []string{"run", "--dry-run"}, err: "no Prometheus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("BIRDWATCH_PROMETHEUS_URL", "") // flags read it when they are made
			root := newRootCommand()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(append(tt.args, "--repo", f.URL(), "--cache-dir", t.TempDir()))
			err := root.ExecuteContext(t.Context())
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("birdwatch %v: %v\n%s", tt.args, err, out.String())
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out.String())
			}
			if s, err := f.Subjects(t.Context()); err != nil || len(s) != 1 {
				t.Errorf("history %v (%v): want only the initial commit", s, err)
			}
		})
	}
}

// TestPrintPlanNamesTheHooks checks that a plan lists the webhooks its
// decision would have called and what it assumed they answer.
func TestPrintPlanNamesTheHooks(t *testing.T) {
	p := core.Planned{Canary: "games/aleph", Commit: "0123456789abcdef", Decision: rollout.Decision{Action: rollout.ActionStart, Reason: "new canary v05"},
		Hooks: []step.HookCall{
			{Hook: spec.Webhook{Name: "gate", Type: spec.HookConfirmRollout, URL: "https://gate.example/confirm"}},
			{Hook: spec.Webhook{Name: "undo", Type: spec.HookRollback, URL: "https://gate.example/rollback"}},
		}}
	var b bytes.Buffer
	if err := printPlan(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# would call confirm-rollout hook gate: POST https://gate.example/confirm (not called: a dry run assumes 200)",
		"# would call rollback hook undo: POST https://gate.example/rollback (not called: a dry run assumes no rollback is asked)",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, b.String())
		}
	}
}
