// Package demo runs birdwatch's main job end to end on this machine: a
// throw-away GitOps repository, a simulated Istio mesh that applies what is
// committed (as Flux would), a real Prometheus scraping it, and birdwatch's
// loop deciding. Scenario 1 rolls back a canary answering 500 to half its
// requests; scenario 2 walks a healthy canary through every step to
// promotion; scenario 3 is the talk's dark launch: the developer ships v06
// with a header route that sends the developers' requests (5% of the mesh's,
// with "Cookie: user=developer") to it at weight 0, birdwatch analyses v06 on
// that matched traffic, then on 20% and 50% of everyone, and promotes it,
// removing the route. Every route change is a commit the mesh applies.
package demo

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/sync"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/internal/meshsim"
	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
)

// Options configure a demo run.
type Options struct {
	Out io.Writer
	// Dir is where the demo's files go; empty means a new temporary folder,
	// removed at the end unless Keep is set.
	Dir  string
	Keep bool
	// Judges are the judges birdwatch may use (the binary's registry).
	Judges map[string]judge.Judge
	// ScenarioTimeout bounds each scenario; zero means 90s.
	ScenarioTimeout time.Duration
}

// Run plays the three scenarios and prints the fleet's history. It stops
// everything it started before returning, also when ctx is cancelled.
func Run(ctx context.Context, opts Options) (err error) {
	if opts.ScenarioTimeout == 0 {
		opts.ScenarioTimeout = 90 * time.Second
	}
	dir := opts.Dir
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	} else {
		if dir, err = os.MkdirTemp("", "birdwatch-demo-"); err != nil {
			return err
		}
		if !opts.Keep {
			defer os.RemoveAll(dir)
		}
	}
	p := &printer{w: opts.Out, start: time.Now()}
	p.say("setting up: GitOps repo, simulated Istio mesh, Prometheus (in %s)", dir)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	fl, err := newFleet(ctx, dir)
	if err != nil {
		return fmt.Errorf("create fleet repo: %w", err)
	}
	mesh := meshsim.New("aleph", "games", 200, 42, meshsim.WithDevelopers(developerShare))
	mesh.SetProfile("v03", meshsim.Profile{ErrorRate: 0.001, LatencyMedian: 40, LatencySigma: 0.35})
	mesh.SetProfile("v04", meshsim.Profile{ErrorRate: 0.5, LatencyMedian: 40, LatencySigma: 0.35}) // the seed's buggy aleph
	mesh.SetProfile("v05", meshsim.Profile{ErrorRate: 0.001, LatencyMedian: 38, LatencySigma: 0.35})
	mesh.SetProfile("v06", meshsim.Profile{ErrorRate: 0.001, LatencyMedian: 36, LatencySigma: 0.35})
	meshAddr, stopMesh, err := serveMesh(mesh)
	if err != nil {
		return err
	}
	defer stopMesh()

	errs := make(chan error, 1)
	ap, err := newApplier(ctx, fl.URL(), filepath.Join(dir, "applier-cache"), mesh)
	if err != nil {
		return err
	}
	if err := ap.sync(ctx); err != nil {
		return fmt.Errorf("first apply: %w", err)
	}
	go ap.run(ctx, 300*time.Millisecond, errs)

	promDir := filepath.Join(dir, "prometheus")
	if err := os.MkdirAll(promDir, 0o755); err != nil {
		return err
	}
	prom, err := promtest.StartProcess(ctx, promDir, promtest.Options{ScrapeTargets: []string{meshAddr}, ScrapeInterval: time.Second})
	if err != nil {
		return fmt.Errorf("start prometheus: %w", err)
	}
	defer prom.Close()
	p.say("prometheus at %s scraping the mesh at %s every 1s", prom.URL(), meshAddr)

	r, err := repo.Open(ctx, repo.Options{URL: fl.URL(), Branch: "main", CacheDir: filepath.Join(dir, "birdwatch-cache")})
	if err != nil {
		return err
	}
	defer r.Close()
	provider, err := metrics.NewPrometheus(metrics.PrometheusConfig{URL: prom.URL(), Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	engine := &core.Engine{Repo: r, Metrics: provider, Judges: opts.Judges, Sync: sync.Engines{"none": sync.None{}}}

	if err := p.scenarios(ctx, engine, fl, errs, opts.ScenarioTimeout); err != nil {
		return err
	}
	return p.finish(ctx, engine, fl)
}

// scenarios plays the three scenarios: the developer's commits and the loop
// until each rollout ends as it should within timeout.
func (p *printer) scenarios(ctx context.Context, e *core.Engine, fl *fleet.Repo, errs <-chan error, timeout time.Duration) error {
	p.say("scenario 1: canary v04 answers 500 to half its requests")
	if err := p.until(ctx, e, errs, timeout, "v04", spec.PhaseRolledBack); err != nil {
		return fmt.Errorf("scenario 1: %w", err)
	}
	p.say("developer merges a fix: canary v05")
	if err := shipCanary(ctx, fl, "v05", "aleph: ship v05 as the canary", ""); err != nil {
		return fmt.Errorf("ship v05: %w", err)
	}
	p.say("scenario 2: healthy canary v05")
	if err := p.until(ctx, e, errs, timeout, "v05", spec.PhaseSucceeded); err != nil {
		return fmt.Errorf("scenario 2: %w", err)
	}
	p.say("developer ships v06 as a dark launch: a header route for Cookie user=developer first, then 20%%, 50%%")
	if err := shipCanary(ctx, fl, "v06", "aleph: ship v06 as the canary, dark launch to developers first", darkLaunchSteps); err != nil {
		return fmt.Errorf("ship v06: %w", err)
	}
	p.say("scenario 3: dark launch of healthy canary v06 (developers are %.0f%% of requests)", developerShare*100)
	if err := p.until(ctx, e, errs, timeout, "v06", spec.PhaseSucceeded); err != nil {
		return fmt.Errorf("scenario 3: %w", err)
	}
	return nil
}

// serveMesh serves the mesh's metrics on a free loopback port and ticks it.
func serveMesh(m *meshsim.Mesh) (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	done := make(chan struct{})
	go m.Run(done, 100*time.Millisecond)
	return ln.Addr().String(), func() { close(done); srv.Close() }, nil
}

// developerShare is the share of the mesh's requests that carry the
// developer cookie (user=developer).
const developerShare = 0.05
