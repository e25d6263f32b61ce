package traffic

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// routeStep is one SetRoutes call of a rollout, applied to the previous
// step's output (and, to check that the result does not depend on the
// history, to the input too).
type routeStep struct {
	name   string
	routes Routes
	want   string  // golden file in the case's folder; "input.yaml" for the input
	read   *Routes // what Routes gives back when it differs from routes (canonical forms)
}

// routeCase is testdata/routes/<kind>/<name>/input.yaml through steps.
type routeCase struct {
	kind, name string
	cfg        Config
	before     Routes // what Routes reads from the input
	steps      []routeStep
}

// Conditions and routes used by the cases.
var (
	cookieDev = Match{On: OnCookie, Name: "user", Op: Exact, Value: "developer"}
	headerQA  = Match{On: OnHeader, Name: "X-Canary", Op: Exact, Value: "always"}
	queryBeta = Match{On: OnQueryParam, Name: "variant", Op: Prefix, Value: "b"}
	devRoute  = HeaderRoute{Name: "dev", Match: []Match{cookieDev}}
	qaRoute   = HeaderRoute{Name: "qa", Match: []Match{headerQA, queryBeta}}
	// gatewayQA has as many header and query conditions as devRoute: Gateway
	// API keeps list order only among rules with equal counts.
	gatewayQA  = HeaderRoute{Name: "qa", Match: []Match{headerQA}}
	testers    = HeaderRoute{Name: "testers", Match: []Match{{On: OnHeader, Name: "end-user", Op: Regex, Value: "jason|kim"}}}
	reviewsCfg = Config{StableSubset: "stable", CanarySubset: "canary"}
	istioAleph = Config{StableSubset: "production", CanarySubset: "canary"}
	nginxAleph = Config{Route: "aleph-canary"}
	// podinfoHosts names the two versions by destination host (Argo
	// Rollouts' stableService and canaryService).
	podinfoHosts = Config{StableService: "podinfo-stable", CanaryService: "podinfo-canary"}
	// podinfoALB is the weighted action "podinfo" of an ALB Ingress.
	podinfoALB     = Config{Route: "podinfo", StableService: "podinfo-stable", CanaryService: "podinfo-canary"}
	podinfoPrimary = Config{StableService: "podinfo-primary", CanaryService: "podinfo-canary"}
	betaRoute      = HeaderRoute{Name: "beta", Match: []Match{queryBeta}}
)

func mirror(p float64) *Mirror { return &Mirror{Name: "shadow", Percent: p} }

func routeCases() []routeCase {
	lowerQA := HeaderRoute{Name: "qa", Match: []Match{{On: OnHeader, Name: "x-canary", Op: Exact, Value: "always"}, queryBeta}}
	return []routeCase{
		{kind: "istio", name: "api-catchall", cfg: istioAleph, steps: []routeStep{
			{name: "cookie route", routes: Routes{Headers: []HeaderRoute{devRoute}}, want: "cookie.yaml"},
			{name: "second header route", routes: Routes{Headers: []HeaderRoute{devRoute, qaRoute}}, want: "two-routes.yaml",
				read: &Routes{Headers: []HeaderRoute{devRoute, lowerQA}}},
			{name: "mirror 20%", routes: Routes{Headers: []HeaderRoute{devRoute, qaRoute}, Mirror: mirror(20)}, want: "mirror.yaml",
				read: &Routes{Headers: []HeaderRoute{devRoute, lowerQA}, Mirror: &Mirror{Percent: 20}}},
			{name: "mirror 0.5% alone", routes: Routes{Mirror: mirror(0.5)}, want: "mirror-only.yaml"},
			{name: "promotion removes all", routes: Routes{}, want: "input.yaml"},
		}},
		{kind: "istio", name: "reviews", cfg: reviewsCfg, steps: []routeStep{
			{name: "cookie route on both matches", routes: Routes{Headers: []HeaderRoute{devRoute}}, want: "cookie.yaml"},
			{name: "testers by regex", routes: Routes{Headers: []HeaderRoute{devRoute, testers}}, want: "two-routes.yaml"},
			{name: "first route removed", routes: Routes{Headers: []HeaderRoute{testers}}, want: "testers.yaml"},
			{name: "rollback removes all", routes: Routes{}, want: "input.yaml"},
		}},
		{kind: "istio", name: "human-mirror", cfg: istioAleph, steps: []routeStep{
			{name: "cookie route", routes: Routes{Headers: []HeaderRoute{devRoute}}, want: "cookie.yaml"},
			{name: "removed", routes: Routes{}, want: "input.yaml"},
		}},
		{kind: "istio", name: "by-host", cfg: podinfoHosts, steps: []routeStep{
			{name: "cookie route", routes: Routes{Headers: []HeaderRoute{devRoute}}, want: "cookie.yaml"},
			{name: "cookie route and mirror 20%", routes: Routes{Headers: []HeaderRoute{devRoute}, Mirror: mirror(20)}, want: "mirror.yaml"},
			{name: "promotion removes all", routes: Routes{}, want: "input.yaml"},
		}},
		{kind: "gatewayapi", name: "two-rules", cfg: aleph, steps: []routeStep{
			{name: "cookie rule", routes: Routes{Headers: []HeaderRoute{devRoute}}, want: "cookie.yaml"},
			{name: "second header rule", routes: Routes{Headers: []HeaderRoute{devRoute, gatewayQA}}, want: "two-rules.yaml"},
			{name: "mirror 20%", routes: Routes{Headers: []HeaderRoute{devRoute, gatewayQA}, Mirror: mirror(20)}, want: "mirror.yaml"},
			{name: "mirror 0.5% alone", routes: Routes{Mirror: mirror(0.5)}, want: "mirror-fraction.yaml"},
			{name: "promotion removes all", routes: Routes{}, want: "input.yaml"},
		}},
		{kind: "gatewayapi", name: "no-matches", cfg: aleph, steps: []routeStep{
			{name: "query rule", routes: Routes{Headers: []HeaderRoute{{Name: "beta", Match: []Match{queryBeta}}}}, want: "query.yaml"},
			{name: "query rule and mirror", routes: Routes{Headers: []HeaderRoute{{Name: "beta", Match: []Match{queryBeta}}}, Mirror: mirror(20)}, want: "mirror.yaml"},
			{name: "rollback removes all", routes: Routes{}, want: "input.yaml"},
		}},
		{kind: "nginx", name: "ingress-pair", cfg: nginxAleph, steps: []routeStep{
			{name: "cookie", routes: Routes{Headers: []HeaderRoute{devRoute}}, want: "cookie.yaml"},
			{name: "header exact", routes: Routes{Headers: []HeaderRoute{{Name: "qa", Match: []Match{headerQA}}}}, want: "header.yaml"},
			{name: "header regex", routes: Routes{Headers: []HeaderRoute{{Name: "qa", Match: []Match{{On: OnHeader, Name: "X-Canary", Op: Regex, Value: "beta|alpha"}}}}}, want: "regex.yaml"},
			{name: "exact value outside the annotation's characters", routes: Routes{Headers: []HeaderRoute{{Name: "qa", Match: []Match{{On: OnHeader, Name: "X-User", Op: Exact, Value: "dev@example.com; qa"}}}}}, want: "exact-pattern.yaml"},
			{name: "promotion removes all", routes: Routes{}, want: "input.yaml"},
		}},
		{kind: "alb", name: "podinfo", cfg: podinfoALB, steps: []routeStep{
			{name: "header route on both hosts", routes: Routes{Headers: []HeaderRoute{gatewayQA}}, want: "header.yaml"},
			{name: "second route by query prefix", routes: Routes{Headers: []HeaderRoute{gatewayQA, betaRoute}}, want: "two-routes.yaml"},
			{name: "first route removed", routes: Routes{Headers: []HeaderRoute{betaRoute}}, want: "beta.yaml"},
			{name: "promotion removes all", routes: Routes{}, want: "input.yaml"},
		}},
		{kind: "alb", name: "legacy-conditions", cfg: Config{Route: "shop", StableService: "shop-stable", CanaryService: "shop-canary"}, steps: []routeStep{
			{name: "header and query route", routes: Routes{Headers: []HeaderRoute{qaRoute}}, want: "qa.yaml"},
			{name: "rollback removes all", routes: Routes{}, want: "input.yaml"},
		}},
		{kind: "contour", name: "podinfo", cfg: podinfoPrimary, steps: []routeStep{
			{name: "mirror 20%", routes: Routes{Mirror: mirror(20)}, want: "mirror.yaml"},
			{name: "mirror 100%", routes: Routes{Mirror: mirror(100)}, want: "mirror-all.yaml"},
			{name: "promotion removes all", routes: Routes{}, want: "input.yaml"},
		}},
		{kind: "traefik", name: "api", cfg: Config{Route: "api-wrr", StableService: "api-stable", CanaryService: "api-canary"}, steps: []routeStep{
			{name: "mirror 20% beside the recorder", routes: Routes{Mirror: mirror(20)}, want: "mirror.yaml"},
			{name: "mirror 50%", routes: Routes{Mirror: mirror(50)}, want: "mirror-50.yaml"},
			{name: "promotion removes all", routes: Routes{}, want: "input.yaml"},
		}},
		{kind: "traefik", name: "no-mirrors", cfg: Config{StableService: "checkout-stable", CanaryService: "checkout-canary"}, steps: []routeStep{
			{name: "mirror 5%", routes: Routes{Mirror: mirror(5)}, want: "mirror.yaml"},
			{name: "rollback removes all", routes: Routes{}, want: "input.yaml"},
		}},
	}
}

func (c routeCase) dir() string { return filepath.Join("testdata", "routes", c.kind, c.name) }

func (c routeCase) router(t testing.TB) Router {
	t.Helper()
	cfg := c.cfg
	cfg.Provider = c.kind
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r, ok := p.(Router)
	if !ok {
		t.Fatalf("%s provider %T is not a Router", c.kind, p)
	}
	return r
}

// canonical is what Routes gives back for r: mirrors have no name.
func (s routeStep) canonical() Routes {
	if s.read != nil {
		return *s.read
	}
	r := s.routes
	if r.Mirror != nil {
		r.Mirror = &Mirror{Percent: r.Mirror.Percent}
	}
	return r
}

func TestRoutesGolden(t *testing.T) {
	for _, tc := range routeCases() {
		t.Run(tc.kind+"/"+tc.name, func(t *testing.T) {
			input := readFile(t, filepath.Join(tc.dir(), "input.yaml"))
			router := tc.router(t)
			weights, err := router.Weights(input)
			if err != nil {
				t.Fatalf("Weights(input): %v", err)
			}
			if got, err := router.Routes(input); err != nil || !reflect.DeepEqual(got, tc.before) {
				t.Fatalf("Routes(input) = %+v, %v; want %+v", got, err, tc.before)
			}
			prev := input
			for _, st := range tc.steps {
				want := readFile(t, filepath.Join(tc.dir(), st.want))
				out, err := router.SetRoutes(prev, st.routes)
				if err != nil {
					t.Fatalf("%s: SetRoutes: %v", st.name, err)
				}
				if !bytes.Equal(out, want) {
					t.Fatalf("%s: output differs from %s\n--- got\n%s\n--- want\n%s", st.name, st.want, out, want)
				}
				checkRoutesOutput(t, tc, st, router, input, out, weights)
				prev = out
			}
		})
	}
}

// checkRoutesOutput checks the properties every SetRoutes output has.
func checkRoutesOutput(t *testing.T, tc routeCase, st routeStep, router Router, input, out []byte, weights Weights) {
	t.Helper()
	if fromInput, err := router.SetRoutes(input, st.routes); err != nil || !bytes.Equal(fromInput, out) {
		t.Errorf("%s: SetRoutes on the input gives other bytes than on the previous step (%v):\n%s", st.name, err, fromInput)
	}
	read, err := router.Routes(out)
	if err != nil || !reflect.DeepEqual(read, st.canonical()) {
		t.Errorf("%s: Routes(output) = %+v (mirror %+v), %v; want %+v", st.name, read, read.Mirror, err, st.canonical())
	}
	if again, err := router.SetRoutes(out, st.routes); err != nil || !bytes.Equal(again, out) {
		t.Errorf("%s: SetRoutes is not idempotent (%v):\n%s", st.name, err, again)
	}
	if back, err := router.SetRoutes(out, read); err != nil || !bytes.Equal(back, out) {
		t.Errorf("%s: SetRoutes(Routes(output)) changes the output (%v):\n%s", st.name, err, back)
	}
	if w, err := router.Weights(out); err != nil || w != weights {
		t.Errorf("%s: Weights(output) = %v, %v; want %v", st.name, w, err, weights)
	}
	moved := Weights{Stable: 50, Canary: 50}
	if w2, err := router.SetWeights(out, moved); err != nil {
		t.Errorf("%s: SetWeights(output): %v", st.name, err)
	} else if got, err := router.Weights(w2); err != nil || got != moved {
		t.Errorf("%s: Weights after SetWeights = %v, %v; want %v", st.name, got, err, moved)
	} else if r2, err := router.Routes(w2); err != nil || !reflect.DeepEqual(r2, read) {
		t.Errorf("%s: SetWeights changed the routes to %+v, %v", st.name, r2, err)
	}
	if rest := withoutAdded(t, tc.kind, tc.cfg, out); !bytes.Equal(rest, input) {
		t.Errorf("%s: outside birdwatch's routes the output differs from the input:\n%s", st.name, rest)
	}
}

// withoutAdded returns out without the lines of birdwatch's routes, found
// by parsing out independently of the providers: http routes and rules
// named birdwatch-*, the mirror keys or filter to the canary, the nginx
// annotations of a header route. The rest must be the input, byte for byte.
func withoutAdded(t *testing.T, kind string, cfg Config, out []byte) []byte {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(out))
	drop := map[int]bool{}
	for {
		var d yaml.Node
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("parse output: %v", err)
		}
		markAdded(kind, cfg, d.Content[0], drop)
	}
	var rest []byte
	for i, line := range bytes.SplitAfter(out, []byte("\n")) {
		if !drop[i+1] {
			rest = append(rest, line...)
		}
	}
	return rest
}

func markAdded(kind string, cfg Config, root *yaml.Node, drop map[int]bool) {
	span := func(from, to *yaml.Node) {
		for l := from.Line; l <= lastLine(to); l++ {
			drop[l] = true
		}
	}
	named := func(list *yaml.Node) {
		for _, it := range list.Content {
			if strings.HasPrefix(scalarOf(mapGet(it, "name")), RoutePrefix) {
				span(it, it)
			}
		}
	}
	spec := mapGet(root, "spec")
	switch kind {
	case "istio":
		http := mapGet(spec, "http")
		if http == nil {
			return
		}
		named(http)
		for _, it := range http.Content {
			m := mapGet(it, "mirror")
			if cfg.CanaryService != "" && scalarOf(mapGet(m, "host")) == cfg.CanaryService ||
				cfg.CanaryService == "" && scalarOf(mapGet(m, "subset")) == cfg.CanarySubset {
				markKeys(it, drop, "mirror", "mirrorPercentage")
			}
		}
	case "gatewayapi":
		rules := mapGet(spec, "rules")
		if rules == nil {
			return
		}
		named(rules)
		for _, it := range rules.Content {
			filters := mapGet(it, "filters")
			if filters == nil {
				continue
			}
			var ours []*yaml.Node
			for _, f := range filters.Content {
				if scalarOf(mapGet(mapGet(mapGet(f, "requestMirror"), "backendRef"), "name")) == cfg.CanaryService {
					ours = append(ours, f)
				}
			}
			if len(ours) == len(filters.Content) {
				markKeys(it, drop, "filters")
				continue
			}
			for _, f := range ours {
				span(f, f)
			}
		}
	case "alb":
		anns := mapGet(mapGet(root, "metadata"), "annotations")
		for i := 0; anns != nil && i+1 < len(anns.Content); i += 2 {
			if k := anns.Content[i].Value; strings.HasPrefix(k, albActionPrefix+RoutePrefix) || strings.HasPrefix(k, albConditionsPrefix+RoutePrefix) {
				span(anns.Content[i], anns.Content[i+1])
			}
		}
		for _, rule := range contentOf(mapGet(spec, "rules")) {
			for _, p := range contentOf(mapGet(mapGet(rule, "http"), "paths")) {
				b := mapGet(p, "backend")
				if strings.HasPrefix(scalarOf(mapGet(mapGet(b, "service"), "name"))+scalarOf(mapGet(b, "serviceName")), RoutePrefix) {
					span(p, p)
				}
			}
		}
	case "contour":
		for _, route := range contentOf(mapGet(spec, "routes")) {
			for _, svc := range contentOf(mapGet(route, "services")) {
				if scalarOf(mapGet(svc, "mirror")) == "true" && scalarOf(mapGet(svc, "name")) == cfg.CanaryService {
					span(svc, svc)
				}
			}
		}
	case "traefik":
		mirroring := mapGet(spec, "mirroring")
		mirrors := mapGet(mirroring, "mirrors")
		if mirrors == nil {
			return
		}
		var ours []*yaml.Node
		for _, m := range mirrors.Content {
			if scalarOf(mapGet(m, "name")) == cfg.CanaryService {
				ours = append(ours, m)
			}
		}
		if len(ours) == len(mirrors.Content) {
			markKeys(mirroring, drop, "mirrors")
			return
		}
		for _, m := range ours {
			span(m, m)
		}
	case "nginx":
		if scalarOf(mapGet(mapGet(root, "metadata"), "name")) == cfg.Route {
			markKeys(mapGet(mapGet(root, "metadata"), "annotations"), drop, nginxOwned...)
		}
	}
}

// contentOf is n's items, none for nil.
func contentOf(n *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil
	}
	return n.Content
}

// markKeys marks the lines of the entries of mapping m with the keys.
func markKeys(m *yaml.Node, drop map[int]bool, keys ...string) {
	for i := 0; m != nil && i+1 < len(m.Content); i += 2 {
		for _, k := range keys {
			if m.Content[i].Value == k {
				for l := m.Content[i].Line; l <= lastLine(m.Content[i+1]); l++ {
					drop[l] = true
				}
			}
		}
	}
}

// lastLine is the last line holding n or a node inside it.
func lastLine(n *yaml.Node) int {
	last := n.Line
	for _, c := range n.Content {
		last = max(last, lastLine(c))
	}
	return last
}

// TestKustomizeReadsRoutes renders every route golden file with kustomize
// (the library, and kubectl kustomize when installed), the YAML reader Flux
// and Argo CD run on them, and reads the routes and weights back from what
// the applier would send to the cluster: key order and layout change, the
// routes must not.
func TestKustomizeReadsRoutes(t *testing.T) {
	for _, tc := range routeCases() {
		for _, r := range renderers(t) {
			t.Run(tc.kind+"/"+tc.name+"/"+r.name, func(t *testing.T) { checkRenderedRoutes(t, tc, r.render) })
		}
	}
}

// checkRenderedRoutes renders each step's golden file of tc and reads its
// routes and weights back.
func checkRenderedRoutes(t *testing.T, tc routeCase, render func(*testing.T, string) []byte) {
	router := tc.router(t)
	weights, err := router.Weights(readFile(t, filepath.Join(tc.dir(), "input.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range tc.steps {
		rendered := render(t, resourceDir(t, readFile(t, filepath.Join(tc.dir(), st.want))))
		if got, err := router.Routes(rendered); err != nil || !reflect.DeepEqual(got, st.canonical()) {
			t.Errorf("%s: kustomize output has routes %+v, %v; want %+v\n%s", st.name, got, err, st.canonical(), rendered)
		}
		if got, err := router.Weights(rendered); err != nil || got != weights {
			t.Errorf("%s: kustomize output has weights %v, %v; want %v", st.name, got, err, weights)
		}
	}
}
