package traffic

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

const (
	byHeaderX = `nginx.ingress.kubernetes.io/canary-by-header: "X-Canary"`
	marker    = `birdwatch.dev/header-route: "qa"`
)

func TestNGINXRouteErrors(t *testing.T) {
	dev := &Routes{Headers: []HeaderRoute{devRoute}}
	checkRouteErrors(t, "nginx", nginxAleph, []routeErrorCase{
		{name: "a person's canary-by-header", doc: canaryIngress(isCanary, weight10, byHeaderX), routes: dev, err: ErrConflict,
			msg: `Ingress games/aleph-canary (document 0): metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-by-header: is "X-Canary", set without birdwatch's birdwatch.dev/header-route annotation; birdwatch will not overwrite it with header route "dev"`},
		{name: "a person's canary-by-cookie", doc: canaryIngress(isCanary, weight10, `nginx.ingress.kubernetes.io/canary-by-cookie: "canary"`), routes: dev, err: ErrConflict,
			msg: `canary-by-cookie: is "canary", set without birdwatch's`},
		{name: "a person's pattern alone", doc: canaryIngress(isCanary, weight10, `nginx.ingress.kubernetes.io/canary-by-header-pattern: "x"`), routes: dev, err: ErrConflict,
			msg: "canary-by-header-pattern"},
		{name: "query parameter", doc: canaryIngress(isCanary, weight10), routes: &Routes{Headers: []HeaderRoute{{Name: "beta", Match: []Match{queryBeta}}}},
			err: ErrUnsupported, msg: "nginx cannot route by query parameter"},
		{name: "mirror", doc: canaryIngress(isCanary, weight10), routes: &Routes{Mirror: mirror(20)}, err: ErrUnsupported, msg: "nginx cannot mirror traffic"},
		{name: "invalid routes", doc: canaryIngress(isCanary, weight10), routes: &Routes{Headers: []HeaderRoute{{Name: "dev"}}}, err: ErrInvalidRoutes, msg: "nginx: header route"},
		{name: "not a canary Ingress", doc: canaryIngress(weight10), routes: dev, err: ErrShape, msg: "not a canary Ingress"},
		{name: "annotations in flow style", doc: "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: aleph-canary\n  annotations: {nginx.ingress.kubernetes.io/canary: \"true\", nginx.ingress.kubernetes.io/canary-weight: \"0\"}\n",
			routes: dev, err: yamledit.ErrUnsupportedStyle, msg: "header route"},
		{name: "read: marker without canary-by-header", doc: canaryIngress(isCanary, weight10, marker), err: ErrShape,
			msg: `names header route "qa" but there is no nginx.ingress.kubernetes.io/canary-by-header annotation`},
		{name: "read: unquoted marker", doc: canaryIngress(isCanary, weight10, byHeaderX, `birdwatch.dev/header-route: 1`), err: ErrShape, msg: "1 is not a string"},
	})
}

// TestNGINXPersonsHeaderRoute leaves canary-by-header annotations without
// birdwatch's marker alone: they are no birdwatch route, and removing
// routes keeps them.
func TestNGINXPersonsHeaderRoute(t *testing.T) {
	p, err := NewNGINX(nginxAleph)
	if err != nil {
		t.Fatal(err)
	}
	doc := []byte(canaryIngress(isCanary, weight10, byHeaderX, `nginx.ingress.kubernetes.io/canary-by-header-value: "on"`))
	if r, err := p.Routes(doc); err != nil || !reflect.DeepEqual(r, Routes{}) {
		t.Fatalf("Routes = %+v, %v; want none", r, err)
	}
	if out, err := p.SetRoutes(doc, Routes{}); err != nil || !bytes.Equal(out, doc) {
		t.Fatalf("SetRoutes(none) changed the file (%v):\n%s", err, out)
	}
}

// TestNGINXReadsPatterns reads back patterns a person may have edited:
// anything that is not one of birdwatch's forms is a regex as written.
func TestNGINXReadsPatterns(t *testing.T) {
	p, err := NewNGINX(nginxAleph)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, header, pattern string
		want                  Match
	}{
		{name: "cookie prefix", header: "Cookie", pattern: `^(.*?\x3b\s*)?user=dev.*(\x3b.*)?$`, want: Match{On: OnCookie, Name: "user", Op: Prefix, Value: "dev"}},
		{name: "cookie header, other pattern", header: "cookie", pattern: "user=x", want: Match{On: OnHeader, Name: "cookie", Op: Regex, Value: "user=x"}},
		{name: "prefix", header: "X-Canary", pattern: `^be\.ta`, want: Match{On: OnHeader, Name: "X-Canary", Op: Prefix, Value: "be.ta"}},
		{name: "exact", header: "X-Canary", pattern: `^a\x20b$`, want: Match{On: OnHeader, Name: "X-Canary", Op: Exact, Value: "a b"}},
		{name: "regex", header: "X-Canary", pattern: `^(?:a|b)$`, want: Match{On: OnHeader, Name: "X-Canary", Op: Regex, Value: "a|b"}},
		{name: "a person's regex", header: "X-Canary", pattern: `^a.b`, want: Match{On: OnHeader, Name: "X-Canary", Op: Regex, Value: `^a.b`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc := canaryIngress(isCanary, weight10, `nginx.ingress.kubernetes.io/canary-by-header: "`+tt.header+`"`,
				`nginx.ingress.kubernetes.io/canary-by-header-pattern: '`+tt.pattern+`'`, marker)
			want := Routes{Headers: []HeaderRoute{{Name: "qa", Match: []Match{tt.want}}}}
			if r, err := p.Routes([]byte(doc)); err != nil || !reflect.DeepEqual(r, want) {
				t.Fatalf("Routes = %+v, %v; want %+v", r, err, want)
			}
		})
	}
}
