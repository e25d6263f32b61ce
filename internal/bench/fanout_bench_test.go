//go:build benchgit

package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/sync"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

const (
	fanoutRepos       = 100
	canariesPerRepo   = 10
	fanoutConcurrency = 10
)

// fanoutRepo is one repository of the fan-out: canariesPerRepo canaries,
// each with its own VirtualService, all measured on aleph's metrics.
func fanoutRepo(tb testing.TB, vs []byte) map[string][]byte {
	files := map[string][]byte{}
	for k := range canariesPerRepo {
		name := fmt.Sprintf("c%02d", k)
		file := "apps/games/" + name + "/virtualservice.yaml"
		files[file] = vs
		spec := strings.Replace(analyzeSpec, "metadata: {name: aleph, namespace: games}", "metadata: {name: "+name+", namespace: games}", 1)
		spec = strings.Replace(spec, "file: apps/games/aleph/virtualservice.yaml", "file: "+file, 1)
		spec = strings.Replace(spec, "spec:\n  stable: v03", "spec:\n  service: aleph\n  stable: v03", 1)
		files[".birdwatch/"+name+".yaml"] = []byte(spec)
	}
	return files
}

// BenchmarkFanout is one schedule tick of a fleet: 1,000 canaries in 100
// repositories (file://), worked by 10 concurrent workers (the template's
// reserved concurrency), each with its own warm object cache as a warm
// Lambda instance has, taking repositories from a queue. Every canary is at
// an analyze step, so each one measures two metrics for canary and baseline
// on a real Prometheus, judges, and commits its evidence: 1,000 decisions
// and 1,000 pushes per tick. The first two ticks (start, first look) run
// before the timer; each timed iteration is one tick, a minute later.
func BenchmarkFanout(b *testing.B) {
	vs, err := templates.Examples.ReadFile("examples/aleph/apps/games/aleph/virtualservice.yaml")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	urls := make([]string, fanoutRepos)
	for i := range urls {
		p := filepath.Join(dir, fmt.Sprintf("fleet-%03d.git", i))
		if err := Generate(context.Background(), p, Spec{Commits: 1, Files: 20, Seed: uint64(i), Extra: fanoutRepo(b, vs)}); err != nil {
			b.Fatal(err)
		}
		urls[i] = "file://" + p
	}
	prom, err := metrics.NewPrometheus(metrics.PrometheusConfig{URL: startPrometheus(b), Timeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	var clock atomic.Int64
	clock.Store(dataEnd.Add(-170 * time.Minute).Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0).UTC() }
	caches := make([]string, fanoutConcurrency)
	for w := range caches {
		caches[w] = b.TempDir()
	}
	tick := func() (decisions, commits int64, slowest time.Duration) {
		clock.Add(60)
		jobs := make(chan string)
		var wg gosync.WaitGroup
		var mu gosync.Mutex
		for w := range fanoutConcurrency {
			wg.Go(func() {
				for url := range jobs {
					start := time.Now()
					d, c := decideRepo(b, url, caches[w], prom, now)
					mu.Lock()
					decisions, commits, slowest = decisions+d, commits+c, max(slowest, time.Since(start))
					mu.Unlock()
				}
			})
		}
		for _, u := range urls {
			jobs <- u
		}
		close(jobs)
		wg.Wait()
		return decisions, commits, slowest
	}
	tick() // start every rollout
	tick() // first look
	var decisions, commits int64
	var slowest time.Duration
	for b.Loop() {
		d, c, s := tick()
		decisions, commits, slowest = decisions+d, commits+c, max(slowest, s)
	}
	b.ReportMetric(float64(decisions)/float64(b.N), "decisions/tick")
	b.ReportMetric(float64(commits)/float64(b.N), "commits/tick")
	b.ReportMetric(slowest.Seconds(), "slowest-repo-s")
}

// decideRepo runs the loop once for every canary of one repository, as the
// worker does for one queue message.
func decideRepo(b *testing.B, url, cache string, prom metrics.Provider, now func() time.Time) (decisions, commits int64) {
	ctx := context.Background()
	r, err := repo.Open(ctx, repo.Options{URL: url, CacheDir: cache})
	if err != nil {
		b.Error(err)
		return 0, 0
	}
	defer r.Close()
	e := &core.Engine{Repo: r, Metrics: prom, Judges: map[string]judge.Judge{"sequential": judge.Sequential{}},
		Sync: sync.Engines{"none": sync.None{}}, Now: now}
	out, err := e.Run(ctx, core.Request{Trigger: "schedule"})
	if err != nil {
		b.Error(err)
		return 0, 0
	}
	for _, o := range out {
		if o.Err != nil {
			b.Errorf("%s %s: %v", url, o.Canary, o.Err)
			continue
		}
		decisions++
		if o.Commit != "" {
			commits++
		}
	}
	return decisions, commits
}
