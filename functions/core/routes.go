package core

import (
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
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
