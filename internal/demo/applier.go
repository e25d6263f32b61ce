package demo

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
	"github.com/birdwatch-gitops/birdwatch/internal/meshsim"
)

// applier plays Flux: it reads the manifests committed on main and applies
// them to the simulated mesh (weights, header routes and the mirror from the
// VirtualService, versions from the DestinationRule subsets).
type applier struct {
	repo   *repo.Repo
	mesh   *meshsim.Mesh
	router traffic.Router
}

const (
	vsPath = "apps/games/aleph/virtualservice.yaml"
	drPath = "apps/games/aleph/destinationrule.yaml"
)

func newApplier(ctx context.Context, url, cacheDir string, mesh *meshsim.Mesh) (*applier, error) {
	prov, err := traffic.New(traffic.Config{Provider: "istio", File: vsPath, StableSubset: "production", CanarySubset: "canary"})
	if err != nil {
		return nil, err
	}
	router, ok := prov.(traffic.Router)
	if !ok {
		return nil, fmt.Errorf("istio provider %T: cannot read routes: %w", prov, traffic.ErrUnsupported)
	}
	r, err := repo.Open(ctx, repo.Options{URL: url, Branch: "main", CacheDir: cacheDir})
	if err != nil {
		return nil, err
	}
	return &applier{repo: r, mesh: mesh, router: router}, nil
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
	w, err := a.router.Weights(vs)
	if err != nil {
		return fmt.Errorf("%s: %w", vsPath, err)
	}
	routes, err := a.router.Routes(vs)
	if err != nil {
		return fmt.Errorf("%s: routes: %w", vsPath, err)
	}
	developers, err := routesDevelopers(routes.Headers)
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
	r := meshsim.Routing{StableVersion: stable, CanaryVersion: canary, CanaryWeight: w.Canary, DeveloperRoute: developers}
	if routes.Mirror != nil {
		r.MirrorPercent = routes.Mirror.Percent
	}
	a.mesh.Apply(r)
	return nil
}

// routesDevelopers reports whether one of the header routes sends the
// developers' requests (the mesh's only requests with a cookie,
// "Cookie: user=developer", no other header, no query) to the canary, as
// Istio would evaluate the route's match. A route matching anything else
// matches none of the mesh's requests.
func routesDevelopers(routes []traffic.HeaderRoute) (bool, error) {
	for _, h := range routes {
		all := len(h.Match) > 0
		for _, m := range h.Match {
			ok, err := matchesDeveloper(m)
			if err != nil {
				return false, fmt.Errorf("route %s%s: %w", traffic.RoutePrefix, h.Name, err)
			}
			all = all && ok
		}
		if all {
			return true, nil
		}
	}
	return false, nil
}

// matchesDeveloper evaluates one condition on a developer's request.
func matchesDeveloper(m traffic.Match) (bool, error) {
	var value string
	switch {
	case m.On == traffic.OnCookie && m.Name == meshsim.DeveloperCookie:
		value = meshsim.DeveloperCookieValue
	case m.On == traffic.OnHeader && strings.EqualFold(m.Name, "cookie"):
		value = meshsim.DeveloperCookie + "=" + meshsim.DeveloperCookieValue
	default:
		return false, nil
	}
	switch m.Op {
	case traffic.Exact:
		return value == m.Value, nil
	case traffic.Prefix:
		return strings.HasPrefix(value, m.Value), nil
	case traffic.Regex:
		re, err := regexp.Compile("^(?:" + m.Value + ")$") // Envoy matches RE2 against the whole value
		if err != nil {
			return false, fmt.Errorf("%s %s regex: %w", m.On, m.Name, err)
		}
		return re.MatchString(value), nil
	}
	return false, fmt.Errorf("%s %s: unknown match operator %q", m.On, m.Name, m.Op)
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
