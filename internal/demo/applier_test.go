package demo

import (
	"errors"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/internal/meshsim"
)

func TestRoutesDevelopers(t *testing.T) {
	cookie := func(op traffic.MatchOp, v string) traffic.Match {
		return traffic.Match{On: traffic.OnCookie, Name: "user", Op: op, Value: v}
	}
	route := func(name string, m ...traffic.Match) traffic.HeaderRoute {
		return traffic.HeaderRoute{Name: name, Match: m}
	}
	tests := []struct {
		name    string
		routes  []traffic.HeaderRoute
		want    bool
		wantErr bool
	}{
		{name: "no route", want: false},
		{name: "cookie user exact developer", routes: []traffic.HeaderRoute{route("developers", cookie(traffic.Exact, "developer"))}, want: true},
		{name: "cookie user exact admin", routes: []traffic.HeaderRoute{route("admins", cookie(traffic.Exact, "admin"))}, want: false},
		{name: "cookie user prefix dev", routes: []traffic.HeaderRoute{route("devs", cookie(traffic.Prefix, "dev"))}, want: true},
		{name: "regex must match the whole value", routes: []traffic.HeaderRoute{route("devs", cookie(traffic.Regex, "dev"))}, want: false},
		{name: "regex matching the whole value", routes: []traffic.HeaderRoute{route("devs", cookie(traffic.Regex, "dev.*"))}, want: true},
		{name: "another cookie", routes: []traffic.HeaderRoute{route("beta",
			traffic.Match{On: traffic.OnCookie, Name: "beta", Op: traffic.Exact, Value: "developer"})}, want: false},
		{name: "Istio's cookie regex on the Cookie header", routes: []traffic.HeaderRoute{route("developers",
			traffic.Match{On: traffic.OnHeader, Name: "Cookie", Op: traffic.Regex, Value: "^(.*?;)?(user=developer)(;.*)?$"})}, want: true},
		{name: "a header no request carries", routes: []traffic.HeaderRoute{route("canary",
			traffic.Match{On: traffic.OnHeader, Name: "x-canary", Op: traffic.Exact, Value: "always"})}, want: false},
		{name: "a query parameter no request carries", routes: []traffic.HeaderRoute{route("q",
			traffic.Match{On: traffic.OnQueryParam, Name: "user", Op: traffic.Exact, Value: "developer"})}, want: false},
		{name: "every condition must hold", routes: []traffic.HeaderRoute{route("both", cookie(traffic.Exact, "developer"),
			traffic.Match{On: traffic.OnHeader, Name: "x-canary", Op: traffic.Exact, Value: "always"})}, want: false},
		{name: "a route without conditions matches nothing", routes: []traffic.HeaderRoute{route("empty")}, want: false},
		{name: "the second route matches", routes: []traffic.HeaderRoute{route("admins", cookie(traffic.Exact, "admin")),
			route("developers", cookie(traffic.Exact, "developer"))}, want: true},
		{name: "invalid regex", routes: []traffic.HeaderRoute{route("bad", cookie(traffic.Regex, "dev("))}, wantErr: true},
		{name: "unknown operator", routes: []traffic.HeaderRoute{route("bad", cookie("suffix", "per"))}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := routesDevelopers(tt.routes)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error: %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("developers routed: %v, want %v", got, tt.want)
			}
		})
	}
}

// TestReplaceSteps checks that the developer's edit of scenario 3 yields a
// valid Canary with the dark-launch steps and nothing else changed.
func TestReplaceSteps(t *testing.T) {
	checks := core.Checks(map[string]judge.Judge{"sequential": judge.Sequential{}})
	tests := []struct {
		name    string
		doc     string
		wantErr error
	}{
		{name: "demo spec", doc: demoSpec},
		{name: "demo spec without steps", doc: "spec:\n  stepWeight: 10\n", wantErr: errNoSteps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := replaceSteps([]byte(tt.doc), darkLaunchSteps)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			before, err := spec.ParseCanaries(specPath, []byte(tt.doc), checks)
			if err != nil {
				t.Fatal(err)
			}
			after, err := spec.ParseCanaries(specPath, out, checks)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			steps := after[0].Spec.Steps
			if h := steps[0].SetHeaderRoute; h == nil || h.Name != "developers" || len(h.Match) != 1 ||
				h.Match[0] != (spec.Match{Cookie: "user", Exact: "developer"}) {
				t.Errorf("first step %+v, want the developers' cookie route", steps[0])
			}
			if w := steps[len(steps)-2].SetWeight; w == nil || *w != 50 {
				t.Errorf("steps %+v, want 50%% last", steps)
			}
			if after[0].Spec.Analysis.Interval != before[0].Spec.Analysis.Interval || after[0].Spec.Stable != before[0].Spec.Stable {
				t.Errorf("analysis or stable changed: %+v", after[0].Spec)
			}
		})
	}
}

// TestApplierRoutes commits VirtualServices written by the istio Router
// to a real Git repository and checks what the applier applies to the mesh.
func TestApplierRoutes(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	developers := traffic.HeaderRoute{Name: "developers", Match: []traffic.Match{{On: traffic.OnCookie, Name: "user", Op: traffic.Exact, Value: "developer"}}}
	tests := []struct {
		name   string
		weight int
		routes traffic.Routes
		want   meshsim.Routing
	}{
		{name: "developers' route at weight 0", routes: traffic.Routes{Headers: []traffic.HeaderRoute{developers}},
			want: meshsim.Routing{StableVersion: "v03", CanaryVersion: "v04", DeveloperRoute: true}},
		{name: "developers' route at weight 20", weight: 20, routes: traffic.Routes{Headers: []traffic.HeaderRoute{developers}},
			want: meshsim.Routing{StableVersion: "v03", CanaryVersion: "v04", CanaryWeight: 20, DeveloperRoute: true}},
		{name: "mirror 30%", routes: traffic.Routes{Mirror: &traffic.Mirror{Name: "shadow", Percent: 30}},
			want: meshsim.Routing{StableVersion: "v03", CanaryVersion: "v04", MirrorPercent: 30}},
		{name: "route for another cookie", routes: traffic.Routes{Headers: []traffic.HeaderRoute{{Name: "beta",
			Match: []traffic.Match{{On: traffic.OnCookie, Name: "beta", Op: traffic.Exact, Value: "yes"}}}}},
			want: meshsim.Routing{StableVersion: "v03", CanaryVersion: "v04"}},
		{name: "routes removed", weight: 50,
			want: meshsim.Routing{StableVersion: "v03", CanaryVersion: "v04", CanaryWeight: 50}},
	}
	dir := t.TempDir()
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	fl, err := fleet.CreateFiles(t.Context(), dir, files, "aleph")
	if err != nil {
		t.Fatal(err)
	}
	mesh := meshsim.New("aleph", "games", 100, 1, meshsim.WithDevelopers(developerShare))
	ap, err := newApplier(t.Context(), fl.URL(), filepath.Join(dir, "cache"), mesh)
	if err != nil {
		t.Fatal(err)
	}
	defer ap.repo.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edit := func(old []byte) ([]byte, error) {
				doc, err := ap.router.SetWeights(old, traffic.Weights{Stable: 100 - tt.weight, Canary: tt.weight})
				if err != nil {
					return nil, err
				}
				return ap.router.SetRoutes(doc, tt.routes)
			}
			if err := fl.Commit(t.Context(), tt.name, map[string]fleet.Edit{vsPath: edit}); err != nil {
				t.Fatal(err)
			}
			if err := ap.sync(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := mesh.Routing(); got != tt.want {
				t.Errorf("mesh routing %+v, want %+v", got, tt.want)
			}
		})
	}
}
