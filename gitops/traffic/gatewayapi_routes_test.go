package traffic

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// routeObject is an HTTPRoute or GRPCRoute whose rules list is rules (items at two
// spaces).
func routeObject(kind, rules string) string {
	return "apiVersion: gateway.networking.k8s.io/v1\nkind: " + kind + "\nmetadata:\n  name: aleph\n  namespace: games\nspec:\n  rules:\n" + rules
}

// webRule is the managed rule with extra lines (four spaces in).
func webRule(extra string) string {
	return "  - name: web\n" + extra + "    backendRefs:\n    - {name: aleph-primary, port: 8080, weight: 100}\n    - {name: aleph-canary, port: 8080, weight: 0}\n"
}

func TestGatewayAPIRouteErrors(t *testing.T) {
	dev := &Routes{Headers: []HeaderRoute{devRoute}}
	ours := func(matches string) string {
		return "  - name: birdwatch-dev\n    matches:\n" + matches + "    backendRefs:\n    - {name: aleph-canary, port: 8080}\n"
	}
	mirrorFilter := func(share string) string {
		return "    filters:\n    - type: RequestMirror\n      requestMirror:\n        backendRef: {name: aleph-canary, port: 8080}\n" + share
	}
	checkRouteErrors(t, "gatewayapi", aleph, []routeErrorCase{
		{name: "header route on a GRPCRoute", doc: routeObject("GRPCRoute", webRule("")), routes: dev, err: ErrUnsupported,
			msg: `gatewayapi: GRPCRoute games/aleph (document 0): header route "dev": a GRPCRoute has no cookies nor query parameters; header routes need an HTTPRoute`},
		{name: "header the managed rule matches", doc: routeObject("HTTPRoute", webRule("    matches:\n    - headers: [{name: cookie, value: x}]\n")), routes: dev, err: ErrConflict,
			msg: `spec.rules[0].matches[0]: header route "dev": the managed rule already matches headers "cookie"`},
		{name: "query the managed rule matches", doc: routeObject("HTTPRoute", webRule("    matches:\n    - queryParams: [{name: variant, value: a}]\n")),
			routes: &Routes{Headers: []HeaderRoute{{Name: "beta", Match: []Match{queryBeta}}}}, err: ErrConflict, msg: `already matches queryParams "variant"`},
		{name: "more than 16 rules", doc: routeObject("HTTPRoute", strings.Repeat("  - backendRefs: [{name: other, port: 80}]\n", 15)+webRule("")),
			routes: &Routes{Headers: []HeaderRoute{devRoute}}, err: ErrUnsupported, msg: "1 header rules would make 17 rules; Gateway API allows 16"},
		{name: "more than 16 headers", doc: routeObject("HTTPRoute", webRule("    matches:\n    - headers:\n"+strings.Repeat("      - {name: x, value: y}\n", 16))),
			routes: dev, err: ErrUnsupported, msg: "the match already has 16 headers, the most Gateway API allows"},
		{name: "matches is not a list", doc: routeObject("HTTPRoute", webRule("    matches: {path: {value: /}}\n")), routes: dev, err: ErrShape,
			msg: "spec.rules[0].matches: want a list of matches"},
		{name: "invalid routes", doc: routeObject("HTTPRoute", webRule("")), routes: &Routes{Mirror: mirror(-1)}, err: ErrInvalidRoutes, msg: "gatewayapi: mirror"},
		{name: "fraction too fine", doc: routeObject("HTTPRoute", webRule("")), routes: &Routes{Mirror: mirror(1.123456789)}, err: ErrUnsupported,
			msg: "gatewayapi: mirror percentage 1.123456789 has more than 7 decimals"},
		{name: "read: percent not an integer", doc: routeObject("HTTPRoute", webRule(mirrorFilter("        percent: 12.5\n"))), err: ErrShape,
			msg: `spec.rules[0].filters[0].requestMirror: percent "12.5": want an integer in 1..100`},
		{name: "read: fraction above one", doc: routeObject("HTTPRoute", webRule(mirrorFilter("        fraction: {numerator: 3, denominator: 2}\n"))), err: ErrShape,
			msg: "fraction: want 0 < numerator <= denominator"},
		{name: "read: rule adding no condition", doc: routeObject("HTTPRoute", ours("    - path: {type: PathPrefix, value: /}\n")+webRule("    matches:\n    - path: {type: PathPrefix, value: /}\n")),
			err: ErrShape, msg: "rule birdwatch-dev matches nothing beyond the managed rule"},
		{name: "read: unknown match type", doc: routeObject("HTTPRoute", ours("    - headers: [{name: x, type: Glob, value: a*}]\n")+webRule("")), err: ErrShape,
			msg: `spec.rules[0].matches[0].headers[0]: type "Glob": want Exact or RegularExpression`},
	})
}

// TestGatewayAPIGRPCMirror mirrors a GRPCRoute's rule and takes it away.
func TestGatewayAPIGRPCMirror(t *testing.T) {
	input := readFile(t, filepath.Join("testdata", "gatewayapi", "grpcroute", "input.yaml"))
	p, err := NewGatewayAPI(aleph)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.SetRoutes(input, Routes{Mirror: mirror(20)})
	if err != nil {
		t.Fatalf("SetRoutes: %v", err)
	}
	if r, err := p.Routes(out); err != nil || r.Mirror == nil || r.Mirror.Percent != 20 || len(r.Headers) != 0 {
		t.Fatalf("Routes = %+v, %v; want a 20%% mirror", r, err)
	}
	if w, err := p.Weights(out); err != nil || w != (Weights{99, 1}) {
		t.Errorf("Weights = %v, %v", w, err)
	}
	if back, err := p.SetRoutes(out, Routes{}); err != nil || !bytes.Equal(back, input) {
		t.Fatalf("removing the mirror does not give the input back (%v):\n%s", err, back)
	}
}

// TestGatewayAPIMirrorShares writes mirror percentages as percent or the
// smallest fraction and reads back exactly what was set.
func TestGatewayAPIMirrorShares(t *testing.T) {
	p, err := NewGatewayAPI(aleph)
	if err != nil {
		t.Fatal(err)
	}
	doc := []byte(routeObject("HTTPRoute", webRule("")))
	for _, tt := range []struct {
		pct  float64
		text string
	}{
		{100, "percent: 100"}, {1, "percent: 1"}, {0.5, "numerator: 1\n          denominator: 200"},
		{33.3, "numerator: 333\n          denominator: 1000"}, {12.5, "numerator: 1\n          denominator: 8"},
		{0.0000001, "numerator: 1\n          denominator: 1000000000"}, {99.9999999, "numerator: 999999999\n          denominator: 1000000000"},
	} {
		t.Run(formatPercent(tt.pct), func(t *testing.T) {
			out, err := p.SetRoutes(doc, Routes{Mirror: mirror(tt.pct)})
			if err != nil {
				t.Fatalf("SetRoutes: %v", err)
			}
			if !bytes.Contains(out, []byte(tt.text)) {
				t.Errorf("output lacks %q:\n%s", tt.text, out)
			}
			if r, err := p.Routes(out); err != nil || r.Mirror == nil || r.Mirror.Percent != tt.pct {
				t.Errorf("Routes = %+v, %v; want mirror %v", r.Mirror, err, tt.pct)
			}
		})
	}
}

// TestGatewayAPIOthersMirror keeps a person's RequestMirror filter (to
// another backend) beside birdwatch's, and in the header rules.
func TestGatewayAPIOthersMirror(t *testing.T) {
	p, err := NewGatewayAPI(aleph)
	if err != nil {
		t.Fatal(err)
	}
	shadow := "    filters:\n    - type: RequestMirror\n      requestMirror:\n        backendRef: {name: aleph-shadow, port: 8080}\n"
	input := []byte(routeObject("HTTPRoute", webRule(shadow)))
	r := Routes{Headers: []HeaderRoute{devRoute}, Mirror: mirror(20)}
	out, err := p.SetRoutes(input, r)
	if err != nil {
		t.Fatalf("SetRoutes: %v", err)
	}
	if got := strings.Count(string(out), "name: aleph-shadow"); got != 2 {
		t.Errorf("the shadow mirror is in %d places, want the managed rule and the header rule:\n%s", got, out)
	}
	want := Routes{Headers: []HeaderRoute{devRoute}, Mirror: &Mirror{Percent: 20}}
	if got, err := p.Routes(out); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Routes = %+v, %v; want %+v", got, err, want)
	}
	if back, err := p.SetRoutes(out, Routes{}); err != nil || !bytes.Equal(back, input) {
		t.Fatalf("removing the routes does not give the input back (%v):\n%s", err, back)
	}
}

// TestGatewayAPIMirrorPort mirrors to the stable backendRef's port when
// the canary's names none.
func TestGatewayAPIMirrorPort(t *testing.T) {
	p, err := NewGatewayAPI(aleph)
	if err != nil {
		t.Fatal(err)
	}
	doc := routeObject("HTTPRoute", "  - backendRefs:\n    - {name: aleph-primary, namespace: games, port: 8080, weight: 100}\n    - {name: aleph-canary, namespace: games, weight: 0}\n")
	out, err := p.SetRoutes([]byte(doc), Routes{Mirror: mirror(20)})
	want := "    filters:\n    - type: RequestMirror\n      requestMirror:\n        backendRef:\n          name: aleph-canary\n          namespace: games\n          port: 8080\n        percent: 20\n"
	if err != nil || !strings.HasSuffix(string(out), want) {
		t.Fatalf("SetRoutes = %v\n%s\nwant it to end in\n%s", err, out, want)
	}
}
