package core

import (
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

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

// checkRouting is spec.Checks.Routing for the built-in traffic providers:
// are the routes r well formed as the providers will write them
// (traffic.Routes.Validate), and can provider hold them (traffic.Supports)?
// Checking both here keeps a spec that validates from freezing at its
// first route step.
func checkRouting(provider string, r spec.Routing) error {
	tr := TrafficRoutes(r)
	if err := tr.Validate(); err != nil {
		return err
	}
	return traffic.Supports(provider, tr)
}

// trafficConfig is the traffic.Config of c's spec.traffic; the service
// provider also needs the two versions it switches between.
func trafficConfig(c *spec.Canary) traffic.Config {
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

// setTrafficWeight writes the decision's weight w into doc. A promotion
// goes through traffic.Promoter where the provider has one (service: the
// canary version keeps the traffic as it becomes the stable one). note is
// what a traffic.Approximator says the weight becomes ("weight 10 is 1 of
// 3 pods (33%)"), "" when exact.
func setTrafficWeight(prov traffic.Provider, doc []byte, w int, promote bool) (out []byte, note string, err error) {
	if p, ok := prov.(traffic.Promoter); ok && promote {
		out, err = p.Promote(doc)
		return out, "", err
	}
	tw := traffic.Weights{Stable: 100 - w, Canary: w}
	if a, ok := prov.(traffic.Approximator); ok {
		if _, note, err = a.Approximate(doc, tw); err != nil {
			return nil, "", err
		}
	}
	out, err = prov.SetWeights(doc, tw)
	return out, note, err
}

// previewCanary points a traffic.Previewer's preview at the canary on a
// commit of a rollout in progress; other providers and finished rollouts
// leave doc as it is.
func previewCanary(prov traffic.Provider, doc []byte, d rollout.Decision) ([]byte, error) {
	p, ok := prov.(traffic.Previewer)
	if !ok || d.Promote || d.Status.Phase.Terminal() {
		return doc, nil
	}
	return p.Preview(doc)
}
