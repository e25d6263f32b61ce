package demo

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

// TestDemo runs `birdwatch demo` end to end: real Git, a real Prometheus
// scraping the simulated mesh, the real loop. It takes about a minute.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: needs prometheus and about a minute")
	}
	for _, bin := range []string{"git", "prometheus", "promtool"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s", bin)
		}
	}
	var out bytes.Buffer
	dir := t.TempDir()
	judges := map[string]judge.Judge{"sequential": judge.Sequential{}, "threshold": judge.Threshold{}}
	err := Run(t.Context(), Options{Out: &out, Dir: dir, ScenarioTimeout: 2 * time.Minute, Judges: judges})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		`ROLLBACK v04  phase RolledBack`,
		`look  v04  weight  10  live +error-rate [4-6]\d\.\d\d% vs`,
		`PROMOTE  v05  phase Succeeded, step \d, weight 0: `, // removing no route is not shown
		`look  v06  weight   0  matched +error-rate `,
		`look  v06  weight  50  live +error-rate `,
		`ADVANCE  v06  phase \w+, step 1, weight 0, routes: header developers \(cookie user=developer\)`,
		`PROMOTE  v06  phase Succeeded, step \d, weight 0, routes: none`,
		`(?m)^[0-9a-f]{7}  birdwatch   birdwatch: games/aleph v06 promoted, weight 50 -> 0, routes: none, stable v06$`,
		`(?m)^[0-9a-f]{7}  birdwatch   birdwatch: games/aleph v06 advance, weight 0 -> 20 \(step 3/6\)$`,
		`(?m)^[0-9a-f]{7}  birdwatch   birdwatch: games/aleph v06 advance at weight 0, routes: header developers \(step 1/6\)$`,
		`(?m)^[0-9a-f]{7}  developer   aleph: ship v06 as the canary, dark launch to developers first$`,
		`(?m)^[0-9a-f]{7}  birdwatch   birdwatch: games/aleph v05 promoted, weight 100 -> 0, stable v05$`,
		`(?m)^[0-9a-f]{7}  developer   aleph: ship v05 as the canary$`,
		`(?m)^[0-9a-f]{7}  birdwatch   birdwatch: games/aleph v04 rollback, weight 10 -> 0 \(step 1/6\)$`,
		`games/aleph  v06     v06     Succeeded`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	checkDarkLaunchCommits(t, &fleet.Repo{Bare: filepath.Join(dir, "fleet.git")}, core.Checks(judges))
	if t.Failed() {
		t.Logf("demo output:\n%s", out.String())
	}
}

// checkDarkLaunchCommits reads scenario 3's commits from the fleet
// repository: the commit leaving weight 0 was decided on matched traffic
// with the developers' route in the VirtualService and the status, and the
// promotion removed the route from both.
func checkDarkLaunchCommits(t *testing.T, fl *fleet.Repo, checks spec.Checks) {
	t.Helper()
	tests := []struct {
		name, subject, traffic string
		route                  bool
	}{
		{name: "weight 20 after looks at the developers' traffic", subject: "v06 advance, weight 0 -> 20", traffic: "matched", route: true},
		{name: "promotion removes the route", subject: "v06 promoted", traffic: "live", route: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, st, err := rolloutAt(t.Context(), fl, tt.subject, checks)
			if err != nil {
				t.Fatal(err)
			}
			if st.LastAnalysis == nil || st.LastAnalysis.Traffic != tt.traffic {
				t.Errorf("lastAnalysis %+v, want traffic %s", st.LastAnalysis, tt.traffic)
			}
			if got := len(st.Routes.Headers) == 1 && st.Routes.Headers[0].Name == "developers"; got != tt.route {
				t.Errorf("status routes %+v, want the developers' route: %v", st.Routes, tt.route)
			}
			rev, err := revOf(t.Context(), fl, tt.subject)
			if err != nil {
				t.Fatal(err)
			}
			vs, err := fl.Show(t.Context(), rev, c.Spec.Traffic.File)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(vs, "name: birdwatch-developers"); got != tt.route {
				t.Errorf("VirtualService at %q holds birdwatch-developers: %v, want %v\n%s", tt.subject, got, tt.route, vs)
			}
		})
	}
}
