package traffic

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// istioDoc is a VirtualService whose http list is routes (each an item of
// "  http:" at two spaces).
func istioDoc(routes ...string) string {
	return vs("  http:\n" + strings.Join(routes, ""))
}

// primaryWith is the managed route "primary" with extra lines (four
// spaces in) after its destinations.
func primaryWith(extra string) string { return route("100", "0") + extra }

func TestIstioRouteErrors(t *testing.T) {
	dev := &Routes{Headers: []HeaderRoute{devRoute}}
	both := &Routes{Headers: []HeaderRoute{devRoute}, Mirror: mirror(20)}
	ours := func(match string) string {
		return "  - name: birdwatch-dev\n    match:\n" + match + "    route:\n    - destination: {host: aleph, subset: canary}\n"
	}
	checkRouteErrors(t, "istio", istioAleph, []routeErrorCase{
		{name: "someone else's mirror", doc: istioDoc(primaryWith("    mirror: {host: aleph-shadow}\n")), routes: both, err: ErrConflict,
			msg: `VirtualService games/aleph (document 0): spec.http[0].mirror: the managed route already mirrors to aleph-shadow`},
		{name: "mirrors list", doc: istioDoc(primaryWith("    mirrors:\n    - destination: {host: aleph-shadow}\n")), routes: both, err: ErrConflict,
			msg: "Istio accepts mirror or mirrors, not both"},
		{name: "header the managed route matches", doc: istioDoc(primaryWith("    match:\n    - headers: {end-user: {exact: jason}}\n")),
			routes: &Routes{Headers: []HeaderRoute{{Name: "qa", Match: []Match{{On: OnHeader, Name: "End-User", Op: Exact, Value: "kim"}}}}}, err: ErrConflict,
			msg: `spec.http[0].match[0]: header route "qa": the managed route already matches headers "end-user"`},
		{name: "headers is not a mapping", doc: istioDoc(primaryWith("    match:\n    - headers: [end-user]\n")), routes: dev, err: ErrShape,
			msg: `spec.http[0].match[0]: header route "dev": headers is not a mapping`},
		{name: "invalid routes", doc: istioDoc(primaryWith("")), routes: &Routes{Headers: []HeaderRoute{{Name: "Dev", Match: []Match{cookieDev}}}},
			err: ErrInvalidRoutes, msg: `istio: header route "Dev": name`},
		{name: "unsupported routes", doc: istioDoc(primaryWith("")), routes: &Routes{Headers: []HeaderRoute{{Name: "dev", Match: []Match{cookieDev, cookieDev}}}},
			err: ErrUnsupported, msg: "istio cannot test the header cookie twice"},
		{name: "no VirtualService", doc: canaryIngress(isCanary, weight10), routes: dev, err: ErrObjectNotFound, msg: "no VirtualService"},
		{name: "match is not a list", doc: istioDoc(primaryWith("    match: {uri: {prefix: /}}\n")), routes: dev, err: ErrShape,
			msg: "spec.http[0].match: want a list of matches"},
		{name: "flow-style http list", doc: vs("  http: [{name: api, route: [{destination: {host: api}}]}, {name: primary, route: [{destination: {host: aleph, subset: production}, weight: 100}, {destination: {host: aleph, subset: canary}, weight: 0}]}]\n"),
			routes: dev, err: yamledit.ErrUnsupported, msg: "spec.http"},
		{name: "alias bomb", doc: istioDoc(primaryWith(aliasBomb(24))), routes: dev, err: ErrShape,
			msg: "spec.http[0]: aliases expand it to more than 65536 nodes"},
		{name: "read: alias bomb", doc: istioDoc(primaryWith(aliasBomb(24))), err: ErrShape, msg: "aliases expand"},
		{name: "read: route adding no condition", doc: istioDoc(ours("    - {}\n"), primaryWith("")), err: ErrShape,
			msg: "spec.http[0].match: route birdwatch-dev matches nothing beyond the managed route"},
		{name: "read: condition with two operators", doc: istioDoc(ours("    - headers: {x: {exact: a, prefix: b}}\n"), primaryWith("")), err: ErrShape,
			msg: "spec.http[0].match[0].headers.x: want one of exact, prefix or regex"},
		{name: "read: mirror percentage not a number", doc: istioDoc(primaryWith("    mirror: {host: aleph, subset: canary}\n    mirrorPercentage: {value: lots}\n")), err: ErrShape,
			msg: `spec.http[0].mirrorPercentage.value: "lots" is not a percentage in (0, 100]`},
	})
}

// TestIstioBirdwatchRouteNeverManaged puts a birdwatch route holding both
// subsets (a person's copy) beside the managed route: weights and routes
// still go to the managed one.
func TestIstioBirdwatchRouteNeverManaged(t *testing.T) {
	copied := strings.Replace(route("50", "50"), "name: primary", "name: birdwatch-dev\n    match:\n    - headers: {x: {exact: \"1\"}}", 1)
	doc := []byte(istioDoc(copied, route("90", "10")))
	p, err := NewIstio(istioAleph)
	if err != nil {
		t.Fatal(err)
	}
	if w, err := p.Weights(doc); err != nil || w != (Weights{90, 10}) {
		t.Fatalf("Weights = %v, %v; want 90/10 from the managed route", w, err)
	}
	out, err := p.SetWeights(doc, Weights{80, 20})
	if err != nil || !bytes.Contains(out, []byte("weight: 50\n    - destination: {host: aleph, subset: canary}\n      weight: 50")) {
		t.Fatalf("SetWeights touched the birdwatch route (%v):\n%s", err, out)
	}
	r, err := p.Routes(doc)
	want := Routes{Headers: []HeaderRoute{{Name: "dev", Match: []Match{{On: OnHeader, Name: "x", Op: Exact, Value: "1"}}}}}
	if err != nil || !reflect.DeepEqual(r, want) {
		t.Fatalf("Routes = %+v, %v; want %+v", r, err, want)
	}
}

// TestIstioRoutesRebuilt covers birdwatch routes that are out of place or
// out of date: SetRoutes gives what it gives on a clean file.
func TestIstioRoutesRebuilt(t *testing.T) {
	p, err := NewIstio(istioAleph)
	if err != nil {
		t.Fatal(err)
	}
	human := "  - name: api\n    match:\n    - uri: {prefix: /api}\n    route:\n    - destination: {host: aleph-api}\n"
	clean := istioDoc(human, primaryWith("    match:\n    - uri: {prefix: /v2}\n"))
	r := Routes{Headers: []HeaderRoute{devRoute, testers}}
	want, err := p.SetRoutes([]byte(clean), r)
	if err != nil {
		t.Fatal(err)
	}
	stale := "  - name: birdwatch-dev\n    match:\n    - uri: {prefix: /v1}\n      headers: {cookie: {regex: x}}\n    route:\n    - destination: {host: aleph, subset: canary}\n"
	tests := []struct {
		name string
		doc  string
	}{
		{name: "after the managed route", doc: istioDoc(human, primaryWith("    match:\n    - uri: {prefix: /v2}\n"), stale)},
		{name: "a person's route between", doc: istioDoc(stale, human, primaryWith("    match:\n    - uri: {prefix: /v2}\n"))},
		{name: "stale copy of the managed match", doc: istioDoc(human, stale, primaryWith("    match:\n    - uri: {prefix: /v2}\n"))},
		{name: "duplicate and unwanted", doc: istioDoc(human, stale, stale, strings.Replace(stale, "birdwatch-dev", "birdwatch-old", 1), primaryWith("    match:\n    - uri: {prefix: /v2}\n"))},
		{name: "in the wrong order", doc: string(swapRoutes(t, want))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.SetRoutes([]byte(tt.doc), r)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("SetRoutes = %v\n%s\nwant\n%s", err, got, want)
			}
		})
	}
}

// swapRoutes swaps the birdwatch-dev and birdwatch-testers routes of doc.
func swapRoutes(t *testing.T, doc []byte) []byte {
	t.Helper()
	s := string(doc)
	i, j, k := strings.Index(s, "  - name: birdwatch-dev"), strings.Index(s, "  - name: birdwatch-testers"), strings.Index(s, "  - name: primary")
	if i < 0 || j < i || k < j {
		t.Fatalf("routes not found in\n%s", s)
	}
	return []byte(s[:i] + s[j:k] + s[i:j] + s[k:])
}

// aliasBomb is a headers mapping (four spaces in) whose aliases expand to
// 2^n nodes.
func aliasBomb(n int) string {
	s := "    headers:\n      x0: &a0 [a, a]\n"
	for i := 1; i < n; i++ {
		s += fmt.Sprintf("      x%d: &a%d [*a%d, *a%d]\n", i, i, i-1, i-1)
	}
	return s
}
