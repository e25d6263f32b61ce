//go:build benchgit

package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
)

// rssSteps is a rollout of many one-second pauses, so that every run of
// the binary has a weight to commit.
func rssSteps() string {
	var b strings.Builder
	for w := 2; w <= 98; w += 4 {
		fmt.Fprintf(&b, "    - setWeight: %d\n    - pause: {duration: 1s}\n", w)
	}
	return b.String()
}

// BenchmarkPeakRSS runs the real binary (`birdwatch run --once`, built with
// the Lambda package's flags for this machine's architecture) against a
// ~100 MB repository (5,000 manifests of 20 KB of incompressible data, 2,000
// commits) served by `git daemon`, and reports the process's peak resident
// set size (/usr/bin/time's %M): "cold" with an empty cache (the depth-1
// clone), "warm" with the cache of the previous run, "warm-after-human-commit"
// after someone else pushed (the fetch brings the new tree).
func BenchmarkPeakRSS(b *testing.B) {
	spec := Spec{Commits: 2000, Files: 5000, Padding: 20000, Seed: 2, Extra: fleetFiles(b, rssSpec())}
	upstream := fixture(b, "rss-100mb", spec)
	url := startDaemon(b, filepath.Dir(upstream)) + "/" + filepath.Base(upstream)
	bin := buildBinary(b)
	b.Logf("repository: %d MiB packed", dirSize(b, upstream)>>20)
	human := filepath.Join(b.TempDir(), "human")
	runGit(b, "", "clone", "--quiet", "file://"+upstream, human)
	cache := b.TempDir()
	for _, mode := range []string{"cold", "warm", "warm-after-human-commit"} {
		b.Run(mode, func(b *testing.B) {
			if mode != "cold" {
				time.Sleep(1100 * time.Millisecond)
				runBinary(b, bin, url, cache) // warm the cache outside the measurement
			}
			var peak int64
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				dir := cache
				switch mode {
				case "cold":
					dir = b.TempDir()
				case "warm-after-human-commit":
					humanCommit(b, human, i)
				}
				time.Sleep(1100 * time.Millisecond) // the one-second pause of the current step
				b.StartTimer()
				peak = max(peak, runBinary(b, bin, url, dir))
			}
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
		})
	}
}

// rssSpec is pauseSpec with rssSteps as its steps.
func rssSpec() string {
	head, _, _ := strings.Cut(pauseSpec, "  steps:\n")
	_, tail, _ := strings.Cut(pauseSpec, "    - setWeight: 40\n")
	return head + "  steps:\n" + rssSteps() + tail
}

// buildBinary builds cmd/birdwatch as `make package` does, for this machine.
func buildBinary(b *testing.B) string {
	out := filepath.Join(b.TempDir(), "birdwatch")
	root := runGit(b, "", "rev-parse", "--show-toplevel")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags=-s -w -buildid=", "-o", out, "./cmd/birdwatch")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v: %s", err, msg)
	}
	return out
}

// runBinary runs one decision cycle in a new process and returns its peak
// RSS in KiB, as /usr/bin/time reports it. The process's own rusage is not
// used: Go starts children with CLONE_VM, and Linux then counts the parent's
// peak RSS (this benchmark's) into the child's ru_maxrss at exec.
func runBinary(b *testing.B, bin, url, cache string) int64 {
	timeBin, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		b.Skip("needs /usr/bin/time (Debian package time) to read the peak RSS")
	}
	var out bytes.Buffer
	report := filepath.Join(b.TempDir(), "rss")
	cmd := exec.Command(timeBin, "-f", "%M", "-o", report, bin, "run", "--once", "--repo", url, "--cache-dir", cache, "--log-format", "json")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = []string{"HOME=" + b.TempDir(), "PATH=" + os.Getenv("PATH")}
	if v := os.Getenv("BIRDWATCH_BENCH_GOMEMLIMIT"); v != "" { // e.g. 100MiB
		cmd.Env = append(cmd.Env, "GOMEMLIMIT="+v)
	}
	if err := cmd.Run(); err != nil {
		b.Fatalf("birdwatch run: %v: %s", err, out.String())
	}
	if !strings.Contains(out.String(), "weight") {
		b.Fatalf("the run decided nothing: %s", out.String())
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		b.Fatal(err)
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil {
		b.Fatalf("/usr/bin/time wrote %q: %v", raw, err)
	}
	return kib
}

// BenchmarkCacheGrowth measures what a long-lived process (a warm Lambda
// instance keeps its repositories open) adds to its Git cache per fetch
// that brings someone else's commit, on the ~100 MB repository: go-git's
// depth-1 fetch is not incremental, and the cache is only rebuilt by Open.
func BenchmarkCacheGrowth(b *testing.B) {
	spec := Spec{Commits: 2000, Files: 5000, Padding: 20000, Seed: 2, Extra: fleetFiles(b, rssSpec())}
	upstream := fixture(b, "rss-100mb", spec)
	human := filepath.Join(b.TempDir(), "human")
	runGit(b, "", "clone", "--quiet", "file://"+upstream, human)
	cache := b.TempDir()
	ctx := context.Background()
	r, err := repo.Open(ctx, repo.Options{URL: "file://" + upstream, CacheDir: cache})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Fetch(ctx); err != nil {
		b.Fatal(err)
	}
	start := dirSize(b, cache)
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		humanCommit(b, human, i)
		b.StartTimer()
		if _, err := r.Fetch(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(start)/(1<<20), "cache-after-clone-MiB")
	b.ReportMetric(float64(dirSize(b, cache)-start)/(1<<20)/float64(b.N), "cache-growth-MiB/fetch")
}
