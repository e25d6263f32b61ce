package traffic

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// albRouteIngress is an Ingress with the weighted action "podinfo" and extra
// annotation lines and paths.
func albRouteIngress(annotations, paths string) string {
	return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: podinfo
  annotations:
    alb.ingress.kubernetes.io/actions.podinfo: '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"podinfo-stable","servicePort":"80","weight":100},{"serviceName":"podinfo-canary","servicePort":"80","weight":0}]}}'
` + annotations + `spec:
  rules:
    - http:
        paths:
` + paths
}

const albManagedPath = `          - path: /
            pathType: Prefix
            backend:
              service:
                name: podinfo
                port:
                  name: use-annotation
`

func TestALBRouteErrors(t *testing.T) {
	qa := &Routes{Headers: []HeaderRoute{gatewayQA}}
	checkRouteErrors(t, "alb", podinfoALB, []routeErrorCase{
		{name: "no path sends to the action", doc: albRouteIngress("", strings.ReplaceAll(albManagedPath, "name: podinfo", "name: other")), routes: qa,
			err: ErrRouteNotFound, msg: "no path's backend is the action podinfo (port use-annotation): header routes are copies of that path"},
		{name: "no rules", doc: strings.TrimSuffix(albRouteIngress("", ""), "spec:\n  rules:\n    - http:\n        paths:\n"), routes: qa,
			err: ErrRouteNotFound, msg: "spec.rules: no rules"},
		{name: "two paths send to the action", doc: albRouteIngress("", albManagedPath+strings.ReplaceAll(albManagedPath, "path: /", "path: /api")), routes: qa,
			err: ErrUnsupported, msg: "paths 0 and 1 both send to the action podinfo"},
		{name: "too many condition values with the action's own", cfg: Config{},
			doc:    albRouteIngress(`    alb.ingress.kubernetes.io/conditions.podinfo: '[{"field":"source-ip","sourceIpConfig":{"values":["10.0.0.0/8","192.168.0.0/16","172.16.0.0/12"]}}]'`+"\n", albManagedPath),
			routes: &Routes{Headers: []HeaderRoute{qaRoute}}, err: ErrUnsupported,
			msg: `header route "qa" needs 6 condition values (2 of its own, 4 of the path, host and the action's conditions); an ALB rule holds 5`},
		{name: "the action's conditions are not JSON", doc: albRouteIngress("    alb.ingress.kubernetes.io/conditions.podinfo: '[{'\n", albManagedPath), routes: qa,
			err: ErrShape, msg: `conditions\.podinfo: want a JSON list of conditions`},
		{name: "mirror", doc: albRouteIngress("", albManagedPath), routes: &Routes{Mirror: mirror(10)}, err: ErrUnsupported, msg: "alb cannot mirror traffic"},
		{name: "cookie", doc: albRouteIngress("", albManagedPath), routes: &Routes{Headers: []HeaderRoute{devRoute}}, err: ErrUnsupported, msg: "alb cannot route by cookie"},
		{name: "invalid routes", doc: albRouteIngress("", albManagedPath), routes: &Routes{Headers: []HeaderRoute{{Name: "qa"}}}, err: ErrInvalidRoutes, msg: "alb: header route"},
		{name: "read: conditions not JSON", doc: albRouteIngress("    alb.ingress.kubernetes.io/conditions.birdwatch-qa: 'nope'\n", albManagedPath),
			err: ErrShape, msg: `conditions\.birdwatch-qa: not a JSON list of conditions`},
		{name: "read: a condition birdwatch does not write", doc: albRouteIngress(`    alb.ingress.kubernetes.io/conditions.birdwatch-qa: '[{"field":"http-request-method","httpRequestMethodConfig":{"Values":["GET"]}}]'`+"\n", albManagedPath),
			err: ErrShape, msg: "condition 0 is not an http-header or query-string condition with one value; birdwatch writes these"},
		{name: "read: a wildcard inside", doc: albRouteIngress(`    alb.ingress.kubernetes.io/conditions.birdwatch-qa: '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"X","values":["a?b"]}}]'`+"\n", albManagedPath),
			err: ErrShape, msg: "condition 0 is not"},
		{name: "read: the action's JSON broken", doc: strings.Replace(albRouteIngress("", albManagedPath), `'{"type"`, `'{type"`, 1), err: ErrShape, msg: "not valid JSON"},
	})
}

// TestALBRoutesKeepAPersonsPaths adds and removes a header route in an
// Ingress with a person's condition-routed path and annotations: they are
// never touched.
func TestALBRoutesKeepAPersonsPaths(t *testing.T) {
	person := `          - path: /
            pathType: Prefix
            backend:
              service:
                name: grpc
                port:
                  name: use-annotation
`
	doc := []byte(albRouteIngress(`    alb.ingress.kubernetes.io/conditions.grpc: '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"Content-Type","values":["application/grpc"]}}]'`+"\n", person+albManagedPath))
	p, err := NewALB(podinfoALB)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.SetRoutes(doc, Routes{Headers: []HeaderRoute{gatewayQA}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(person+"          - path: /\n            pathType: Prefix\n            backend:\n              service:\n                name: birdwatch-qa\n")) {
		t.Errorf("the header route's path is not between the person's path and the managed one:\n%s", out)
	}
	if r, err := p.Routes(out); err != nil || len(r.Headers) != 1 || r.Headers[0].Name != "qa" {
		t.Errorf("Routes = %+v, %v; want the qa route only", r, err)
	}
	back, err := p.SetRoutes(out, Routes{})
	if err != nil || !bytes.Equal(back, doc) {
		t.Errorf("removing the routes gives (%v):\n%s", err, back)
	}
}

// TestContourMirrorErrors covers the manifests a Contour mirror cannot be
// set in.
func TestContourMirrorErrors(t *testing.T) {
	input, err := os.ReadFile(filepath.Join("testdata", "routes", "contour", "podinfo", "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	withPersonsMirror := strings.Replace(string(input), "          weight: 0\n", "          weight: 0\n        - name: recorder\n          port: 80\n          mirror: true\n", 1)
	badWeight := strings.Replace(string(input), "          weight: 0\n", "          weight: 0\n        - name: podinfo-canary\n          port: 9898\n          mirror: true\n          weight: lots\n", 1)
	checkRouteErrors(t, "contour", podinfoPrimary, []routeErrorCase{
		{name: "a person's mirror on the route", doc: withPersonsMirror, routes: &Routes{Mirror: mirror(20)}, err: ErrConflict,
			msg: `spec.routes[1].services[2]: mirrors to "recorder"; Contour allows one mirror per route`},
		{name: "fraction", doc: string(input), routes: &Routes{Mirror: mirror(2.5)}, err: ErrUnsupported, msg: "whole percentage"},
		{name: "header route", doc: string(input), routes: &Routes{Headers: []HeaderRoute{devRoute}}, err: ErrUnsupported, msg: "contour sets weights and mirrors only"},
		{name: "read: mirror weight not a number", doc: badWeight, err: ErrShape, msg: `mirror weight "lots": want an integer percentage in 1..100`},
		{name: "no HTTPProxy", doc: "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n", routes: &Routes{Mirror: mirror(20)}, err: ErrObjectNotFound, msg: "no HTTPProxy"},
	})
	// A person's mirror stays when birdwatch has none to set.
	p, _ := NewContour(podinfoPrimary)
	if out, err := p.SetRoutes([]byte(withPersonsMirror), Routes{}); err != nil || string(out) != withPersonsMirror {
		t.Errorf("SetRoutes(no routes) on a person's mirror = %v:\n%s", err, out)
	}
	if r, err := p.Routes([]byte(withPersonsMirror)); err != nil || r.Mirror != nil {
		t.Errorf("Routes reads a person's mirror as birdwatch's: %+v, %v", r, err)
	}
	// A mirror's weight is not part of the split.
	if w, err := p.Weights([]byte(badWeight)); err != nil || w != (Weights{100, 0}) {
		t.Errorf("Weights with a mirror = %v, %v", w, err)
	}
}

// TestTraefikMirrorErrors covers the manifests a Traefik mirror cannot be
// set in.
func TestTraefikMirrorErrors(t *testing.T) {
	input, err := os.ReadFile(filepath.Join("testdata", "routes", "traefik", "api", "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	noMirroring := strings.Replace(string(input), "name: api-wrr\n    kind: TraefikService\n", "name: api-other\n    kind: TraefikService\n", 1)
	twice := string(input) + "---\n" + strings.Replace(strings.SplitN(string(input), "---\n", 3)[1], "name: api-mirror", "name: api-mirror-2", 1)
	flowMirrors := strings.Replace(string(input), "    mirrors:\n      - name: api-recorder # replays traffic in staging\n        port: 80\n        percent: 10\n", "    mirrors: {}\n", 1)
	badPercent := strings.Replace(string(input), "name: api-recorder", "name: api-canary", 1)
	badPercent = strings.Replace(badPercent, "percent: 10", "percent: ten", 1)
	cfg := Config{Route: "api-wrr", StableService: "api-stable", CanaryService: "api-canary"}
	checkRouteErrors(t, "traefik", cfg, []routeErrorCase{
		{name: "no mirroring TraefikService", doc: noMirroring, routes: &Routes{Mirror: mirror(20)}, err: ErrObjectNotFound,
			msg: "no TraefikService mirrors TraefikService api/api-wrr (document 2) (spec.mirroring: {name: api-wrr, kind: TraefikService}); add one, route to it"},
		{name: "two mirroring TraefikServices", doc: twice, routes: &Routes{Mirror: mirror(20)}, err: ErrAmbiguous, msg: "both mirror the TraefikService api-wrr"},
		{name: "mirrors not a list", doc: flowMirrors, routes: &Routes{Mirror: mirror(20)}, err: ErrShape, msg: "spec.mirroring.mirrors: want a list of mirrors"},
		{name: "fraction", doc: string(input), routes: &Routes{Mirror: mirror(0.5)}, err: ErrUnsupported, msg: "integer"},
		{name: "read: percent not a number", doc: badPercent, err: ErrShape, msg: `percent "ten": want an integer in 0..100`},
		{name: "weighted service missing", doc: strings.SplitN(string(input), "---\n", 3)[1], routes: &Routes{Mirror: mirror(20)}, err: ErrRouteNotFound, msg: "api-wrr"},
	})
	p, _ := NewTraefik(cfg)
	if out, err := p.SetRoutes([]byte(noMirroring), Routes{}); err != nil || string(out) != noMirroring {
		t.Errorf("SetRoutes(no routes) without a mirroring service = %v:\n%s", err, out)
	}
	if r, err := p.Routes([]byte(noMirroring)); err != nil || r.Mirror != nil {
		t.Errorf("Routes without a mirroring service = %+v, %v", r, err)
	}
}
