package traffic

import (
	"fmt"
	"testing"
)

// httpRoute builds an HTTPRoute document with the given rules section.
func httpRoute(rules string) string {
	return "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: aleph\n  namespace: games\nspec:\n  parentRefs: [{name: public}]\n" + rules
}

// rule is one rule with the stable and canary backendRefs.
func rule(name, stable, canary string) string {
	r := "  - backendRefs:\n"
	if name != "" {
		r = fmt.Sprintf("  - name: %s\n    backendRefs:\n", name)
	}
	return r + fmt.Sprintf("    - {name: aleph-primary, port: 80, weight: %s}\n    - {name: aleph-canary, port: 80, weight: %s}\n", stable, canary)
}

func TestGatewayAPIErrors(t *testing.T) {
	checkErrors(t, "gatewayapi", aleph, []errorCase{
		{name: "no route object", doc: withWeights("100", "0"), err: ErrObjectNotFound, msg: "no HTTPRoute or GRPCRoute (apiVersion gateway.networking.k8s.io/*) in the file"},
		{name: "HTTPRoute of another API group", doc: "apiVersion: example.com/v1\nkind: HTTPRoute\nspec: {}\n", err: ErrObjectNotFound},
		{name: "rule or route name not found", doc: httpRoute("  rules:\n" + rule("web", "100", "0")), cfg: Config{Route: "api"},
			err: ErrRouteNotFound, msg: `spec.rules: no rule or route named "api" in 1 HTTPRoute/GRPCRoute(s)`},
		{name: "named rule lacks the canary", doc: httpRoute("  rules:\n  - name: api\n    backendRefs:\n    - {name: aleph-primary, weight: 100}\n"), cfg: Config{Route: "api"},
			err: ErrDestinationNotFound, msg: `HTTPRoute games/aleph (document 0): spec.rules[0].backendRefs: no backendRef with name "aleph-canary"`},
		{name: "named rule without backendRefs", doc: httpRoute("  rules:\n  - name: api\n    filters: [{type: RequestRedirect, requestRedirect: {hostname: x}}]\n"), cfg: Config{Route: "api"},
			err: ErrDestinationNotFound, msg: "spec.rules[0].backendRefs: rule has no backendRefs"},
		{name: "stable only", doc: httpRoute("  rules:\n  - backendRefs:\n    - {name: aleph-primary, weight: 100}\n"),
			err: ErrDestinationNotFound, msg: `spec.rules[0].backendRefs: no backendRef with name "aleph-canary"`},
		{name: "neither backend", doc: httpRoute("  rules:\n  - backendRefs:\n    - {name: other, weight: 100}\n"),
			err: ErrRouteNotFound, msg: `no rule has backendRefs with names "aleph-primary" and "aleph-canary"`},
		{name: "route object named but no rule has both", doc: httpRoute("  rules:\n  - backendRefs:\n    - {name: other}\n"), cfg: Config{Route: "aleph"},
			err: ErrRouteNotFound, msg: "no rule has backendRefs"},
		{name: "weight missing", doc: httpRoute("  rules:\n  - backendRefs:\n    - {name: aleph-primary, weight: 100}\n    - {name: aleph-canary}\n"),
			err: ErrMissingWeight, msg: `spec.rules[0].backendRefs[1]: no weight (add "weight: 0")`},
		{name: "weights do not sum to 100", doc: httpRoute("  rules:\n" + rule("", "9", "1")),
			err: ErrInvalidWeights, msg: `spec.rules[0].backendRefs: weights 9 (name "aleph-primary") + 1 (name "aleph-canary") do not sum to 100`},
		{name: "weight not an integer", doc: httpRoute("  rules:\n" + rule("", "90%", "10")), err: ErrShape, msg: `spec.rules[0].backendRefs[0].weight: weight "90%" is not an integer`},
		{name: "third backend carries traffic", doc: httpRoute("  rules:\n  - backendRefs:\n    - {name: aleph-primary, weight: 80}\n    - {name: aleph-canary, weight: 10}\n    - {name: aleph-old, weight: 10}\n"),
			set: &Weights{50, 50}, err: ErrInvalidWeights, msg: `spec.rules[0].backendRefs[2].weight: backendRef is neither stable nor canary but has weight "10"`},
		{name: "two rules with both backends", doc: httpRoute("  rules:\n" + rule("", "100", "0") + rule("", "100", "0")),
			err: ErrAmbiguous, msg: "2 rules have backendRefs with names"},
		{name: "backend twice in one rule", doc: httpRoute("  rules:\n  - backendRefs:\n    - {name: aleph-primary, port: 80, weight: 50}\n    - {name: aleph-primary, port: 81, weight: 50}\n"),
			err: ErrAmbiguous, msg: `backendRefs 0 and 1 both have name "aleph-primary"`},
		{name: "rules is not a list", doc: httpRoute("  rules: {backendRefs: []}\n"), err: ErrShape, msg: "spec.rules: want a list of rules"},
		{name: "backendRefs is not a list", doc: httpRoute("  rules:\n  - name: api\n    backendRefs: {name: aleph-primary}\n"), cfg: Config{Route: "api"},
			err: ErrShape, msg: "spec.rules[0].backendRefs: want a list of backendRefs"},
		{name: "set weights not summing to 100", doc: httpRoute("  rules:\n" + rule("", "100", "0")), set: &Weights{40, 40}, err: ErrInvalidWeights, msg: "gatewayapi: set weights"},
	})
}
