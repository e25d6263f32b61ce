package report

import (
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

func TestRoutesText(t *testing.T) {
	tests := []struct {
		name string
		r    spec.Routing
		want string
	}{
		{"none", spec.Routing{}, ""},
		{"cookie", spec.Routing{Headers: []spec.HeaderRoute{{Name: "developers", Match: []spec.Match{{Cookie: "user", Exact: "developer"}}}}},
			"header developers (cookie user=developer)"},
		{"two conditions and a mirror", spec.Routing{
			Headers: []spec.HeaderRoute{{Name: "beta", Match: []spec.Match{{Header: "x-canary", Regex: "^beta"}, {QueryParam: "ab", Prefix: "new"}}}},
			Mirror:  &spec.MirrorRoute{Name: "shadow", Percentage: 12.5}},
			"header beta (header x-canary~=^beta and queryParam ab^=new), mirror shadow 12.5%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RoutesText(tt.r); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
