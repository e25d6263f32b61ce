package traffic

import (
	"errors"
	"strings"
	"testing"
)

func TestIstioConfigForms(t *testing.T) {
	for _, tt := range []struct {
		cfg Config
		msg string // "" when valid
	}{
		{cfg: Config{StableSubset: "production", CanarySubset: "canary", Host: "aleph"}},
		{cfg: Config{StableService: "podinfo-stable", CanaryService: "podinfo-canary"}},
		{cfg: Config{StableSubset: "production", CanarySubset: "canary", StableService: "a", CanaryService: "b"}, msg: "not both"},
		{cfg: Config{StableService: "a", CanaryService: "b", Host: "a"}, msg: "host filters subsets"},
		{cfg: Config{StableService: "a"}, msg: "istio: stableService and canaryService are required"},
		{cfg: Config{StableService: "a", CanaryService: "a"}, msg: `both "a"`},
		{cfg: Config{}, msg: "stableSubset and canarySubset (or stableService and canaryService) are required"},
	} {
		_, err := NewIstio(tt.cfg)
		if tt.msg == "" && err != nil || tt.msg != "" && (!errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.msg)) {
			t.Errorf("NewIstio(%+v) = %v; want %q", tt.cfg, err, tt.msg)
		}
	}
}

func TestIstioByHostErrors(t *testing.T) {
	vs := func(route string) string {
		return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: podinfo}\nspec:\n  http:\n  - name: primary\n    route:\n" + route
	}
	checkErrors(t, "istio", podinfoHosts, []errorCase{
		{name: "canary host missing", doc: vs("    - {destination: {host: podinfo-stable}, weight: 100}\n"), cfg: Config{Route: "primary"},
			err: ErrDestinationNotFound, msg: `no destination with host "podinfo-canary"`},
		{name: "subsets instead of hosts", doc: vs("    - {destination: {host: podinfo, subset: stable}, weight: 100}\n    - {destination: {host: podinfo, subset: canary}, weight: 0}\n"),
			err: ErrRouteNotFound, msg: `no route has destinations with hosts "podinfo-stable" and "podinfo-canary"`},
	})
	p, err := NewIstio(podinfoHosts)
	if err != nil {
		t.Fatal(err)
	}
	doc := vs("    - {destination: {host: podinfo-stable}, weight: 100}\n    - {destination: {host: podinfo-canary}, weight: 0}\n    mirror: {host: podinfo-shadow}\n")
	if _, err := p.SetRoutes([]byte(doc), Routes{Mirror: mirror(10)}); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), `birdwatch mirrors to host "podinfo-canary" only where no other mirror is set`) {
		t.Errorf("SetRoutes over someone else's mirror = %v; want ErrConflict naming the canary host", err)
	}
}
