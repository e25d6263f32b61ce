package traffic

import "testing"

// traefikService builds a TraefikService with the given spec body.
func traefikService(name, spec string) string {
	return "apiVersion: traefik.io/v1alpha1\nkind: TraefikService\nmetadata:\n  name: " + name + "\nspec:\n" + spec
}

var traefikWeb = Config{StableService: "web-stable", CanaryService: "web-canary"}

func TestTraefikErrors(t *testing.T) {
	both := "  weighted:\n    services:\n    - {name: web-stable, port: 80, weight: 100}\n    - {name: web-canary, port: 80, weight: 0}\n"
	checkErrors(t, "traefik", traefikWeb, []errorCase{
		{name: "no TraefikService", doc: "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nspec: {}\n", err: ErrObjectNotFound,
			msg: "no TraefikService (apiVersion traefik.io/* or traefik.containo.us/*) in the file"},
		{name: "without the canary service", doc: traefikService("web", "  weighted:\n    services:\n    - {name: web-stable, port: 80, weight: 100}\n"),
			err: ErrDestinationNotFound, msg: `TraefikService web (document 0): spec.weighted.services: no service with name "web-canary"`},
		{name: "without either service", doc: traefikService("web", "  weighted:\n    services:\n    - {name: web-old, port: 80, weight: 100}\n"),
			err: ErrRouteNotFound, msg: `no TraefikService has services with names "web-stable" and "web-canary"`},
		{name: "named one mirrors instead of weighting", doc: traefikService("web", "  mirroring:\n    name: web-stable\n    mirrors:\n    - {name: web-canary, percent: 10}\n"),
			cfg: Config{Route: "web"}, err: ErrDestinationNotFound,
			msg: "no spec.weighted.services: birdwatch splits traffic between services with names \"web-stable\" and \"web-canary\" in a weighted TraefikService"},
		{name: "named one not in the file", doc: traefikService("web", both), cfg: Config{Route: "api"}, err: ErrRouteNotFound, msg: `no TraefikService named "api" in 1 TraefikService(s)`},
		{name: "weight missing", doc: traefikService("web", "  weighted:\n    services:\n    - {name: web-stable, port: 80, weight: 100}\n    - {name: web-canary, port: 80}\n"),
			err: ErrMissingWeight, msg: `spec.weighted.services[1]: no weight (add "weight: 0")`},
		{name: "two splits", doc: traefikService("a", both) + "---\n" + traefikService("b", both), err: ErrAmbiguous, msg: "2 TraefikServices have services"},
	})
}

func TestContourErrors(t *testing.T) {
	proxy := func(services string) string {
		return "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\nmetadata:\n  name: web\nspec:\n  routes:\n  - services:\n" + services
	}
	checkErrors(t, "contour", traefikWeb, []errorCase{
		{name: "no HTTPProxy", doc: traefikService("web", "  weighted: {}\n"), err: ErrObjectNotFound, msg: "no HTTPProxy"},
		{name: "canary only as a mirror", doc: proxy("    - {name: web-stable, port: 80, weight: 100}\n    - {name: web-canary, port: 80, mirror: true}\n"),
			err: ErrDestinationNotFound, msg: `spec.routes[0].services: no service with name "web-canary"`},
		{name: "weight missing", doc: proxy("    - {name: web-stable, port: 80}\n    - {name: web-canary, port: 80}\n"), err: ErrMissingWeight, msg: "no weight"},
	})
}

func TestAPISIXErrors(t *testing.T) {
	route := func(backends string) string {
		return "apiVersion: apisix.apache.org/v2\nkind: ApisixRoute\nmetadata:\n  name: web\nspec:\n  http:\n  - name: rule1\n    backends:\n" + backends
	}
	checkErrors(t, "apisix", traefikWeb, []errorCase{
		{name: "no ApisixRoute", doc: "apiVersion: apisix.apache.org/v2\nkind: ApisixUpstream\n", err: ErrObjectNotFound, msg: "no ApisixRoute"},
		{name: "rule not found", doc: route("    - {serviceName: web-stable, servicePort: 80, weight: 100}\n"), cfg: Config{Route: "rule2"},
			err: ErrRouteNotFound, msg: `no rule named "rule2"`},
		{name: "named rule lacks the canary", doc: route("    - {serviceName: web-stable, servicePort: 80, weight: 100}\n"), cfg: Config{Route: "rule1"},
			err: ErrDestinationNotFound, msg: `no backend with serviceName "web-canary"`},
	})
}

func FuzzTraefikSetWeights(f *testing.F) { fuzzSetWeights(f, "traefik") }
func FuzzContourSetWeights(f *testing.F) { fuzzSetWeights(f, "contour") }
func FuzzAPISIXSetWeights(f *testing.F)  { fuzzSetWeights(f, "apisix") }
