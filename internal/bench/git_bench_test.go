//go:build benchgit

package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/sync"
)

// scaleRepo is the repository of the "Git at scale" figures: 10,000
// commits, 5,000 manifests, and the aleph canary.
func scaleRepo(b *testing.B) string {
	spec := DefaultSpec()
	spec.Extra = fleetFiles(b, analyzeSpec)
	return fixture(b, "scale-10000x5000", spec)
}

// BenchmarkGitScale measures gitops/repo on the 10,000-commit repository
// over file:// (git-upload-pack and git-receive-pack run as processes), next
// to the git CLI's depth-1 clone of the same repository.
func BenchmarkGitScale(b *testing.B) {
	upstream := scaleRepo(b)
	url := "file://" + upstream
	ctx := context.Background()
	b.Run("clone-depth1/gitops-repo", func(b *testing.B) {
		var size int64
		for b.Loop() {
			cache := b.TempDir()
			r, err := repo.Open(ctx, repo.Options{URL: url, CacheDir: cache})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.Fetch(ctx); err != nil {
				b.Fatal(err)
			}
			r.Close()
			size = dirSize(b, cache)
		}
		b.ReportMetric(float64(size)/(1<<20), "cache-MiB")
	})
	b.Run("clone-depth1/git-cli", func(b *testing.B) {
		for b.Loop() {
			runGit(b, "", "clone", "--quiet", "--bare", "--depth=1", "--single-branch", "--branch=main", url, filepath.Join(b.TempDir(), "c.git"))
		}
	})
	benchWarm(b, url)
}

// benchWarm measures gitops/repo on a warm cache of url: fetches, a read,
// commits and pushes.
func benchWarm(b *testing.B, url string) {
	ctx := context.Background()
	r, err := repo.Open(ctx, repo.Options{URL: url, CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	snap, err := r.Fetch(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fetch-unchanged", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.Fetch(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read-file", func(b *testing.B) {
		for b.Loop() {
			if _, err := snap.ReadFile(ManifestPath(4321)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("commit", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := r.Commit(ctx, snap, change(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("push", func(b *testing.B) {
		parent, err := r.Fetch(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			c, err := r.Commit(ctx, parent, change(i))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := r.Push(ctx, c, parent); err != nil {
				b.Fatal(err)
			}
			parent = c
		}
	})
	work := filepath.Join(b.TempDir(), "human")
	runGit(b, "", "clone", "--quiet", url, work)
	b.Run("fetch-after-human-commit", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			humanCommit(b, work, i)
			b.StartTimer()
			if _, err := r.Fetch(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecisionCycle compares one warm decision cycle of the loop
// (fetch, parse, gate, two metrics measured on a real Prometheus for canary
// and baseline, sequential judge, commit, push) with the git CLI doing only
// a fetch, a fast-forward, a one-file commit and a push in a warm full clone
// of the same repository. "after-human-commit" variants have someone else
// push a commit before each cycle (outside the timer), so the fetch brings it.
// Both reach the repository through `git daemon`.
func BenchmarkDecisionCycle(b *testing.B) {
	upstream := scaleRepo(b)
	url := startDaemon(b, filepath.Dir(upstream)) + "/" + filepath.Base(upstream)
	prom := startPrometheus(b)
	humanWork := filepath.Join(b.TempDir(), "human")
	runGit(b, "", "clone", "--quiet", url, humanWork)
	cli := filepath.Join(b.TempDir(), "cli")
	runGit(b, "", "clone", "--quiet", url, cli)

	e, clock := engine(b, url, prom)
	for _, human := range []bool{false, true} {
		suffix := ""
		if human {
			suffix = "-after-human-commit"
		}
		b.Run("birdwatch"+suffix, func(b *testing.B) {
			commits := 0
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				if human {
					humanCommit(b, humanWork, i)
				}
				*clock = clock.Add(time.Minute)
				b.StartTimer()
				out, err := e.Run(context.Background(), core.Request{Trigger: "bench"})
				if err != nil || len(out) != 1 || out[0].Err != nil {
					b.Fatalf("run: %v %+v", err, out)
				}
				if out[0].Commit != "" {
					commits++
				}
			}
			b.ReportMetric(float64(commits)/float64(b.N), "commits/op")
		})
		b.Run("git-cli"+suffix, func(b *testing.B) {
			runGit(b, cli, "pull", "--quiet", "--ff-only", "origin", "main")
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				if human {
					humanCommit(b, humanWork, i)
				}
				b.StartTimer()
				cliCycle(b, cli, suffix, i)
			}
		})
	}
}

// cliCycle is the git CLI's share of a decision: fetch, fast-forward,
// commit one file, push.
func cliCycle(b *testing.B, dir, label string, i int) {
	runGit(b, dir, "fetch", "--quiet", "origin", "main")
	runGit(b, dir, "merge", "--quiet", "--ff-only", "FETCH_HEAD")
	p := filepath.Join(dir, "cli", "status.yaml")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(p, fmt.Appendf(nil, "look: %d%s\n", i, label), 0o644); err != nil {
		b.Fatal(err)
	}
	runGit(b, dir, "add", "cli/status.yaml")
	runGit(b, dir, "commit", "--quiet", "-m", fmt.Sprintf("cli look %d", i))
	runGit(b, dir, "push", "--quiet", "origin", "HEAD:main")
}

// engine wires the loop like cmd/birdwatch does, on a clock in the metrics'
// range, and makes the rollout's first two decisions (start, first look).
func engine(b *testing.B, url, prom string) (*core.Engine, *time.Time) {
	ctx := context.Background()
	r, err := repo.Open(ctx, repo.Options{URL: url, CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	p, err := metrics.NewPrometheus(metrics.PrometheusConfig{URL: prom, Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	clock := dataEnd.Add(-170 * time.Minute)
	e := &core.Engine{Repo: r, Metrics: p, Judges: map[string]judge.Judge{"sequential": judge.Sequential{}},
		Sync: sync.Engines{"none": sync.None{}}, Now: func() time.Time { return clock }}
	for range 2 {
		clock = clock.Add(time.Minute)
		if out, err := e.Run(ctx, core.Request{Trigger: "bench"}); err != nil || len(out) != 1 || out[0].Err != nil {
			b.Fatalf("warm-up run: %v %+v", err, out)
		}
	}
	return e, &clock
}

func change(i int) repo.Change {
	return repo.Change{
		Files: map[string][]byte{
			ManifestPath(1234):                   fmt.Appendf(nil, "weight: %d\n", i),
			".birdwatch/status/games/aleph.yaml": fmt.Appendf(nil, "step: %d\n", i),
		},
		Message: repo.Message{Subject: fmt.Sprintf("birdwatch: bench %d", i)},
	}
}

func dirSize(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}
