package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
	"github.com/birdwatch-gitops/birdwatch/internal/meshsim"
)

// applier plays Flux: it reads the manifests committed on main and applies
// them to the simulated mesh (weights from the VirtualService, versions from
// the DestinationRule subsets).
type applier struct {
	repo *repo.Repo
	mesh *meshsim.Mesh
	prov traffic.Provider
}

const (
	vsPath = "apps/games/aleph/virtualservice.yaml"
	drPath = "apps/games/aleph/destinationrule.yaml"
)

func newApplier(ctx context.Context, url, cacheDir string, mesh *meshsim.Mesh) (*applier, error) {
	r, err := repo.Open(ctx, repo.Options{URL: url, Branch: "main", CacheDir: cacheDir})
	if err != nil {
		return nil, err
	}
	prov, err := traffic.New(traffic.Config{Provider: "istio", File: vsPath, StableSubset: "production", CanarySubset: "canary"})
	if err != nil {
		r.Close()
		return nil, err
	}
	return &applier{repo: r, mesh: mesh, prov: prov}, nil
}

// sync applies the head of main once.
func (a *applier) sync(ctx context.Context) error {
	snap, err := a.repo.Fetch(ctx)
	if err != nil {
		return err
	}
	vs, err := snap.ReadFile(vsPath)
	if err != nil {
		return err
	}
	w, err := a.prov.Weights(vs)
	if err != nil {
		return fmt.Errorf("%s: %w", vsPath, err)
	}
	dr, err := snap.ReadFile(drPath)
	if err != nil {
		return err
	}
	stable, err := yamledit.Get(dr, "spec.subsets[name=production].labels.version")
	if err != nil {
		return err
	}
	canary, err := yamledit.Get(dr, "spec.subsets[name=canary].labels.version")
	if err != nil {
		return err
	}
	a.mesh.Apply(meshsim.Routing{StableVersion: stable, CanaryVersion: canary, CanaryWeight: w.Canary})
	return nil
}

// run syncs every period until ctx ends; errors are reported on errs.
func (a *applier) run(ctx context.Context, period time.Duration, errs chan<- error) {
	defer a.repo.Close()
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if err := a.sync(ctx); err != nil && ctx.Err() == nil {
			select {
			case errs <- fmt.Errorf("applier: %w", err):
			default:
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
