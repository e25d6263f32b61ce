package core

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
)

func TestTrafficRoutes(t *testing.T) {
	tests := []struct {
		name string
		in   spec.Routing
		want traffic.Routes
	}{
		{name: "none", in: spec.Routing{}, want: traffic.Routes{}},
		{
			name: "cookie exact, the talk's dark launch",
			in:   spec.Routing{Headers: []spec.HeaderRoute{{Name: "ab", Match: []spec.Match{{Cookie: "user", Exact: "developer"}}}}},
			want: traffic.Routes{Headers: []traffic.HeaderRoute{{Name: "ab",
				Match: []traffic.Match{{On: traffic.OnCookie, Name: "user", Op: traffic.Exact, Value: "developer"}}}}},
		},
		{
			name: "header prefix and query param regex in one route, order kept",
			in: spec.Routing{Headers: []spec.HeaderRoute{{Name: "beta", Match: []spec.Match{
				{Header: "x-canary", Prefix: "ins"}, {QueryParam: "beta", Regex: "^(1|true)$"}}}}},
			want: traffic.Routes{Headers: []traffic.HeaderRoute{{Name: "beta", Match: []traffic.Match{
				{On: traffic.OnHeader, Name: "x-canary", Op: traffic.Prefix, Value: "ins"},
				{On: traffic.OnQueryParam, Name: "beta", Op: traffic.Regex, Value: "^(1|true)$"}}}}},
		},
		{
			name: "two routes and a mirror",
			in: spec.Routing{
				Headers: []spec.HeaderRoute{{Name: "a", Match: []spec.Match{{Header: "x-a", Exact: "1"}}},
					{Name: "b", Match: []spec.Match{{Cookie: "b", Regex: "y.*"}}}},
				Mirror: &spec.MirrorRoute{Name: "preview", Percentage: 12.5},
			},
			want: traffic.Routes{
				Headers: []traffic.HeaderRoute{
					{Name: "a", Match: []traffic.Match{{On: traffic.OnHeader, Name: "x-a", Op: traffic.Exact, Value: "1"}}},
					{Name: "b", Match: []traffic.Match{{On: traffic.OnCookie, Name: "b", Op: traffic.Regex, Value: "y.*"}}}},
				Mirror: &traffic.Mirror{Name: "preview", Percent: 12.5},
			},
		},
		{
			name: "mirror only",
			in:   spec.Routing{Mirror: &spec.MirrorRoute{Name: "mirror", Percentage: 100}},
			want: traffic.Routes{Mirror: &traffic.Mirror{Name: "mirror", Percent: 100}},
		},
		{
			name: "an invalid match takes its first fields",
			in:   spec.Routing{Headers: []spec.HeaderRoute{{Name: "x", Match: []spec.Match{{Header: "h", Cookie: "c", Prefix: "p", Regex: "r"}}}}},
			want: traffic.Routes{Headers: []traffic.HeaderRoute{{Name: "x",
				Match: []traffic.Match{{On: traffic.OnHeader, Name: "h", Op: traffic.Prefix, Value: "p"}}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TrafficRoutes(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("TrafficRoutes(%+v)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

// TestChecksRouting checks the wiring of spec.Checks.Routing: no routes
// pass with every provider, and SMI, which sets weights only, refuses a
// header route with a message naming it.
func TestChecksRouting(t *testing.T) {
	check := Checks(nil).Routing
	if check == nil {
		t.Fatal("Checks has no Routing check")
	}
	header := spec.Routing{Headers: []spec.HeaderRoute{{Name: "ab", Match: []spec.Match{{Cookie: "user", Exact: "developer"}}}}}
	tests := []struct {
		name     string
		provider string
		routing  spec.Routing
		want     string // "" means supported
	}{
		{name: "no routes with smi", provider: "smi", routing: spec.Routing{}},
		{name: "no routes with yamlpath", provider: "yamlpath", routing: spec.Routing{}},
		{name: "header route with smi", provider: "smi", routing: header, want: "smi sets traffic weights only"},
		{name: "mirror with yamlpath", provider: "yamlpath",
			routing: spec.Routing{Mirror: &spec.MirrorRoute{Name: "m", Percentage: 50}}, want: "yamlpath sets traffic weights only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := check(tt.provider, tt.routing)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("check(%s) = %v, want nil", tt.provider, err)
			case tt.want != "" && (err == nil || !errors.Is(err, traffic.ErrUnsupported) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("check(%s) = %v, want an ErrUnsupported containing %q", tt.provider, err, tt.want)
			}
		})
	}
}
