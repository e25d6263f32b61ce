package step

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
)

// trafficState is the canary's traffic manifest as read before deciding.
type trafficState struct {
	prov     traffic.Provider
	manifest []byte
	weight   int
	// hasRoutes: the manifest holds header routes birdwatch added.
	hasRoutes bool
	// stuck says why birdwatch's routes could not be removed; "" when they can.
	stuck string
}

// provider returns c's traffic provider through the Traffic port.
func (p Ports) provider(c *spec.Canary) (traffic.Provider, error) {
	if p.Traffic != nil {
		return p.Traffic(c)
	}
	return traffic.New(TrafficConfig(c))
}

// readTraffic reads c's manifest: the canary weight, whether a superseded
// rollout left routes, and whether birdwatch's routes can be removed.
// Problems a human must fix are *badInput.
func (p Ports) readTraffic(snap Snapshot, c *spec.Canary, st *spec.Status) (*trafficState, error) {
	prov, err := p.provider(c)
	if err != nil {
		return nil, &badInput{fmt.Errorf("%s: spec.traffic: %w", c.File, err)}
	}
	file := c.Spec.Traffic.File
	manifest, err := snap.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &badInput{fmt.Errorf("traffic manifest %s: %w", file, err)}
	}
	if err != nil {
		return nil, fmt.Errorf("read traffic manifest: %w", err)
	}
	weights, err := prov.Weights(manifest)
	if err != nil {
		return nil, &badInput{fmt.Errorf("%s: %w", file, err)}
	}
	tr := &trafficState{prov: prov, manifest: manifest, weight: weights.Canary}
	router, ok := prov.(traffic.Router)
	if !ok {
		return tr, nil
	}
	if st == nil || st.Generation != c.Spec.Canary {
		// Only a new rollout looks for routes a superseded one left behind.
		// A mirror to the canary is not counted: nothing in the manifest
		// says who set it, so only a rollout whose steps mirror removes it.
		r, err := router.Routes(manifest)
		if err != nil {
			return nil, &badInput{fmt.Errorf("%s: %w", file, err)}
		}
		tr.hasRoutes = len(r.Headers) > 0
	} else if !st.Phase.Terminal() && !st.Routes.Empty() {
		// Can a rollback remove the routes? It never waits on them.
		if _, err := router.SetRoutes(manifest, traffic.Routes{}); err != nil {
			tr.stuck = fmt.Sprintf("set routes in %s: %v", file, err)
		}
	}
	return tr, nil
}

// TrafficConfig is the traffic.Config of c's spec.traffic; the service
// provider also needs the two versions it switches between.
func TrafficConfig(c *spec.Canary) traffic.Config {
	t := c.Spec.Traffic
	return traffic.Config{Provider: t.Provider, File: t.File, Route: t.Route, Host: t.Host,
		StableSubset: t.StableSubset, CanarySubset: t.CanarySubset,
		StableService: t.StableService, CanaryService: t.CanaryService,
		CanaryWeightPath: t.CanaryWeightPath, StableWeightPath: t.StableWeightPath,
		StableDeployment: t.StableDeployment, CanaryDeployment: t.CanaryDeployment,
		StableReplicasPath: t.StableReplicasPath, CanaryReplicasPath: t.CanaryReplicasPath, TotalReplicas: t.TotalReplicas,
		ActiveService: t.ActiveService, PreviewService: t.PreviewService, VersionLabel: t.VersionLabel,
		StableVersion: c.Spec.Stable, CanaryVersion: c.Spec.Canary}
}

// TrafficRoutes converts the spec's routing state into the routes a
// traffic.Router writes: each spec.Match becomes a traffic.Match (header,
// cookie or queryParam; exact, prefix or regex) and the mirror a
// traffic.Mirror. r is expected to be valid (one thing compared, one way);
// for an invalid Match the first field set wins, in the order above. The
// zero Routing gives the zero Routes.
func TrafficRoutes(r spec.Routing) traffic.Routes {
	var out traffic.Routes
	for _, h := range r.Headers {
		hr := traffic.HeaderRoute{Name: h.Name}
		for _, m := range h.Match {
			hr.Match = append(hr.Match, trafficMatch(m))
		}
		out.Headers = append(out.Headers, hr)
	}
	if m := r.Mirror; m != nil {
		out.Mirror = &traffic.Mirror{Name: m.Name, Percent: m.Percentage}
	}
	return out
}

func trafficMatch(m spec.Match) traffic.Match {
	var t traffic.Match
	switch {
	case m.Header != "":
		t.On, t.Name = traffic.OnHeader, m.Header
	case m.Cookie != "":
		t.On, t.Name = traffic.OnCookie, m.Cookie
	case m.QueryParam != "":
		t.On, t.Name = traffic.OnQueryParam, m.QueryParam
	}
	switch {
	case m.Exact != "":
		t.Op, t.Value = traffic.Exact, m.Exact
	case m.Prefix != "":
		t.Op, t.Value = traffic.Prefix, m.Prefix
	case m.Regex != "":
		t.Op, t.Value = traffic.Regex, m.Regex
	}
	return t
}
