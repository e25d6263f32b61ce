//go:build benchgit

package bench

import (
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

// rss100Spec is the ~100 MB repository of the table and of
// BenchmarkPeakRSS: 5,000 manifests of 20 KB, 2,000 commits.
func rss100Spec(tb testing.TB) Spec {
	return Spec{Commits: 2000, Files: 5000, Padding: 20000, Seed: 2, Extra: fleetFiles(tb, rssSpec())}
}

// BenchmarkFetchVsGit puts gitops/repo and the git CLI side by side on the
// ~100 MB repository served by `git daemon`: a cold depth-1 fetch (`git
// clone --depth 1 --bare`; the two alternate in one sub-benchmark), a warm fetch of an unchanged branch, after one
// outside commit and after 100 (`git fetch --depth 1`), each into its own
// long-lived cache; then both caches' sizes. Outside commits are made on the
// server outside the timer.
func BenchmarkFetchVsGit(b *testing.B) {
	upstream := fixture(b, "rss-100mb", rss100Spec(b))
	url := startDaemon(b, filepath.Dir(upstream)) + "/" + filepath.Base(upstream)
	ctx := context.Background()
	// The two cold clones alternate, each timed on its own, so that both
	// see the same load (the server's pack-objects dominates on 2 cores).
	b.Run("cold/pair", func(b *testing.B) {
		var bwTime, cliTime time.Duration
		var bwSize, cliSize int64
		for b.Loop() {
			cache := b.TempDir()
			start := time.Now()
			r, err := repo.Open(ctx, repo.Options{URL: url, CacheDir: cache})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.Fetch(ctx); err != nil {
				b.Fatal(err)
			}
			bwTime += time.Since(start)
			r.Close()
			bwSize = dirSize(b, cache)
			dir := filepath.Join(b.TempDir(), "c.git")
			start = time.Now()
			runGit(b, "", "clone", "--quiet", "--bare", "--depth=1", "--single-branch", "--branch=main", url, dir)
			cliTime += time.Since(start)
			cliSize = dirSize(b, dir)
		}
		b.ReportMetric(bwTime.Seconds()/float64(b.N), "birdwatch-s/op")
		b.ReportMetric(cliTime.Seconds()/float64(b.N), "git-cli-s/op")
		b.ReportMetric(float64(bwTime)/float64(cliTime), "ratio")
		b.ReportMetric(float64(bwSize)/(1<<20), "birdwatch-cache-MiB")
		b.ReportMetric(float64(cliSize)/(1<<20), "git-cli-cache-MiB")
	})

	bwCache := b.TempDir()
	bw, err := repo.Open(ctx, repo.Options{URL: url, CacheDir: bwCache})
	if err != nil {
		b.Fatal(err)
	}
	defer bw.Close()
	if _, err := bw.Fetch(ctx); err != nil {
		b.Fatal(err)
	}
	cli := filepath.Join(b.TempDir(), "cli.git")
	runGit(b, "", "clone", "--quiet", "--bare", "--depth=1", "--single-branch", "--branch=main", url, cli)
	sides := map[string]func(b *testing.B){
		"birdwatch": func(b *testing.B) {
			if _, err := bw.Fetch(ctx); err != nil {
				b.Fatal(err)
			}
		},
		"git-cli": func(b *testing.B) {
			runGit(b, cli, "fetch", "--quiet", "--depth=1", "origin", "+refs/heads/main:refs/remotes/origin/main")
		},
	}
	commit := 0
	for _, sc := range []struct {
		name    string
		outside int
	}{{"warm-unchanged", 0}, {"after-1-outside-commit", 1}, {"after-100-outside-commits", 100}} {
		for _, side := range []string{"birdwatch", "git-cli"} {
			b.Run(sc.name+"/"+side, func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					outsideCommits(b, upstream, sc.outside, &commit)
					b.StartTimer()
					sides[side](b)
				}
				if side == "birdwatch" && sc.outside > 0 {
					b.ReportMetric(float64(bw.LastFetch().PackBytes)/1024, "pack-KiB")
				}
			})
		}
	}
	b.Run("cache-after-all/birdwatch", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(float64(dirSize(b, bwCache))/(1<<20), "cache-MiB")
	})
	b.Run("cache-after-all/git-cli", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(float64(dirSize(b, cli))/(1<<20), "cache-MiB")
	})
}

// outsideCommits makes n commits on main of the bare repository, each
// editing one generated manifest, as other people's pushes would, with Git's
// plumbing (no work tree, so it stays fast on a 1 GB repository).
func outsideCommits(tb testing.TB, bare string, n int, counter *int) {
	tb.Helper()
	if n == 0 {
		return
	}
	index := filepath.Join(tb.TempDir(), "index")
	env := []string{"GIT_INDEX_FILE=" + index}
	gitEnv(tb, bare, env, "", "read-tree", "main")
	for range n {
		*counter++
		i := *counter
		path := ManifestPath(i % 5000)
		old := gitEnv(tb, bare, env, "", "cat-file", "blob", "main:"+path)
		blob := gitEnv(tb, bare, env, old+fmt.Sprintf("\n# outside edit %d\n", i), "hash-object", "-w", "--stdin")
		gitEnv(tb, bare, env, "", "update-index", "--cacheinfo", "100644,"+blob+","+path)
		tree := gitEnv(tb, bare, env, "", "write-tree")
		parent := gitEnv(tb, bare, env, "", "rev-parse", "main")
		c := gitEnv(tb, bare, env, "", "commit-tree", tree, "-p", parent, "-m", fmt.Sprintf("outside edit %d", i))
		gitEnv(tb, bare, env, "", "update-ref", "refs/heads/main", c, parent)
	}
}

// gitEnv runs git in dir with extra environment and stdin, and returns its
// output without the final newline.
func gitEnv(tb testing.TB, dir string, env []string, stdin string, args ...string) string {
	tb.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append(env, "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=dev", "GIT_COMMITTER_EMAIL=dev@example.com")...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSuffix(string(out), "\n")
}

// BenchmarkPeakRSSHuge runs `birdwatch run --once` on a generated ~1 GB
// repository (50,000 manifests of 20 KB, 200 commits) served by `git
// daemon`: cold (empty cache) and warm after one outside commit. It reports
// the peak RSS (/usr/bin/time), the cache's size on disk, and the size of a
// checkout of one tree (the sum of its blobs) for the /tmp goal. Set
// BIRDWATCH_BENCH_HUGE=1 to run it (`make bench-git` does, once).
func BenchmarkPeakRSSHuge(b *testing.B) {
	if os.Getenv("BIRDWATCH_BENCH_HUGE") == "" {
		b.Skip("set BIRDWATCH_BENCH_HUGE=1 for the 1 GB repository")
	}
	spec := Spec{Commits: 200, Files: 50000, Padding: 20000, Seed: 4, Extra: fleetFiles(b, rssSpec()), NoRepack: true}
	upstream := linkedFixture(b, "huge-1gb", spec)
	url := startDaemon(b, filepath.Dir(upstream)) + "/" + filepath.Base(upstream)
	bin := buildBinary(b)
	tree := treeBytes(b, upstream)
	b.Logf("repository: %d MiB packed, one tree %d MiB", dirSize(b, upstream)>>20, tree>>20)
	cache := b.TempDir()
	commit := 0
	for _, mode := range []string{"cold", "warm-after-outside-commit"} {
		b.Run(mode, func(b *testing.B) {
			var peak int64
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				if mode != "cold" {
					outsideCommits(b, upstream, 1, &commit)
				}
				time.Sleep(1100 * time.Millisecond) // the one-second pause of the current step
				b.StartTimer()
				start := time.Now()
				peak = max(peak, runBinary(b, bin, url, cache))
				took = time.Since(start)
			}
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
			b.ReportMetric(took.Seconds(), "run-s")
			b.ReportMetric(float64(dirSize(b, cache))/(1<<20), "cache-MiB")
			b.ReportMetric(float64(dirSize(b, cache))/float64(tree), "cache/tree")
		})
	}
}

// treeBytes is the size of a checkout of main's tree: the sum of its blobs.
func treeBytes(tb testing.TB, bare string) int64 {
	tb.Helper()
	var n int64
	for _, line := range strings.Split(runGit(tb, bare, "ls-tree", "-r", "-l", "main"), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 {
			s, _ := strconv.ParseInt(f[3], 10, 64)
			n += s
		}
	}
	return n
}
