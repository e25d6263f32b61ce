//go:build benchgit

package bench

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// The benchmarks of this file's build tag (benchgit) run with `make
// bench-git`. Generated repositories are kept in $BIRDWATCH_BENCH_DIR (set
// by the Makefile) and reused by later runs; without it they go to a
// temporary folder removed at the end.

// dataEnd is the end of the backfilled metrics; the cycle's clock runs
// in the three hours before it.
var dataEnd = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// analyzeSpec is a canary whose every look measures on Prometheus, judges
// with the sequential judge and commits its evidence.
const analyzeSpec = `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata: {name: aleph, namespace: games}
spec:
  stable: v03
  canary: v05
  traffic: {provider: istio, file: apps/games/aleph/virtualservice.yaml, stableSubset: production, canarySubset: canary}
  steps:
    - setWeight: 10
    - analyze: 3h
    - setWeight: 100
  analysis:
    interval: 1m
    judge: sequential
    metrics:
      - {name: error-rate, template: istio-error-rate, direction: increase, tolerance: 0.25, critical: true}
      - {name: latency-p99, template: istio-latency-p99, direction: increase, max: 500}
  sync: {engine: none}
`

// pauseSpec is a canary that needs no metrics: each run past a one-second
// pause commits the next weight. The binary runs it in the RSS benchmark.
const pauseSpec = `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata: {name: aleph, namespace: games}
spec:
  stable: v03
  canary: v05
  traffic: {provider: istio, file: apps/games/aleph/virtualservice.yaml, stableSubset: production, canarySubset: canary}
  steps:
    - setWeight: 5
    - pause: {duration: 1s}
    - setWeight: 10
    - pause: {duration: 1s}
    - setWeight: 20
    - pause: {duration: 1s}
    - setWeight: 40
  analysis:
    metrics:
      - {name: error-rate, template: istio-error-rate, max: 1}
  sync: {engine: none}
`

// fleetFiles are the aleph example's manifests plus a Canary spec.
func fleetFiles(tb testing.TB, spec string) map[string][]byte {
	tb.Helper()
	files := map[string][]byte{".birdwatch/aleph.yaml": []byte(spec)}
	err := fs.WalkDir(templates.Examples, "examples/aleph", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, "examples/aleph/.birdwatch/") {
			return err
		}
		b, err := fs.ReadFile(templates.Examples, p)
		files[strings.TrimPrefix(p, "examples/aleph/")] = b
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// fixture returns a copy of the generated repository name (generated once
// into $BIRDWATCH_BENCH_DIR), so that pushes never change the kept one.
func fixture(tb testing.TB, name string, spec Spec) string {
	return copyFixture(tb, name, spec, "--no-local")
}

// linkedFixture is fixture with the copy's packs hard-linked to the kept
// ones (packs are never rewritten; pushes only add objects and move refs),
// for repositories too big to copy for every benchmark.
func linkedFixture(tb testing.TB, name string, spec Spec) string {
	return copyFixture(tb, name, spec, "--local")
}

func copyFixture(tb testing.TB, name string, spec Spec, how string) string {
	tb.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		tb.Skip("needs git")
	}
	keep := os.Getenv("BIRDWATCH_BENCH_DIR")
	if keep == "" {
		keep = tb.TempDir()
	}
	src := filepath.Join(keep, name+".git")
	if _, err := os.Stat(src); err != nil {
		start := time.Now()
		if err := Generate(context.Background(), src+".tmp", spec); err != nil {
			tb.Fatal(err)
		}
		if err := os.Rename(src+".tmp", src); err != nil {
			tb.Fatal(err)
		}
		tb.Logf("generated %s (%d commits, %d files) in %s", src, spec.Commits, spec.Files, time.Since(start).Round(time.Second))
	}
	dst := filepath.Join(tb.TempDir(), name+".git")
	runGit(tb, "", "clone", "--quiet", "--bare", how, src, dst)
	return dst
}

// startPrometheus backfills healthy Istio traffic for v03 and v05.
func startPrometheus(tb testing.TB) string {
	tb.Helper()
	gen := promtest.Istio{Service: "aleph", Namespace: "games", Start: dataEnd.Add(-3 * time.Hour), End: dataEnd,
		Step: 15 * time.Second, Seed: 3, Versions: []promtest.IstioVersion{
			{Version: "v03", RPS: 100, ErrorRatio: 0.001, LatencyMedianMs: 40, LatencySigma: 0.3},
			{Version: "v05", RPS: 20, ErrorRatio: 0.001, LatencyMedianMs: 40, LatencySigma: 0.3},
		}}
	fams, err := gen.Generate()
	if err != nil {
		tb.Fatal(err)
	}
	om, err := promtest.OpenMetrics(fams)
	if err != nil {
		tb.Fatal(err)
	}
	return promtest.Start(tb, promtest.Options{OpenMetrics: om}).URL()
}

// startDaemon serves every repository under base over git:// (pushes
// allowed) from a `git daemon` process, so the server is not part of the
// measured process.
func startDaemon(tb testing.TB, base string) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("git", "daemon", "--export-all", "--enable=receive-pack", "--reuseaddr",
		"--listen=127.0.0.1", fmt.Sprintf("--port=%d", port), "--base-path="+base, base)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for range 100 {
		if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
			c.Close()
			return fmt.Sprintf("git://127.0.0.1:%d", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatal("git daemon did not listen")
	return ""
}

// runGit runs the git CLI in dir and returns its output.
func runGit(tb testing.TB, dir string, args ...string) string {
	tb.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=dev", "GIT_COMMITTER_EMAIL=dev@example.com")
	if err := cmd.Run(); err != nil {
		tb.Fatalf("git %v: %v: %s", args, err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// humanCommit edits one manifest in the work clone and pushes it.
func humanCommit(tb testing.TB, work string, i int) {
	tb.Helper()
	runGit(tb, work, "pull", "--quiet", "--rebase", "origin", "main")
	p := filepath.Join(work, ManifestPath(i%100))
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, append(b, fmt.Sprintf("# human edit %d\n", i)...), 0o644); err != nil {
		tb.Fatal(err)
	}
	runGit(tb, work, "commit", "--quiet", "-am", fmt.Sprintf("human edit %d", i))
	runGit(tb, work, "push", "--quiet", "origin", "HEAD:main")
}
