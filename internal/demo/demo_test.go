package demo

import (
	"bytes"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
)

// TestDemo runs `birdwatch demo` end to end: real Git, a real Prometheus
// scraping the simulated mesh, the real loop. It takes about 40 seconds.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: needs prometheus and about 40s")
	}
	for _, bin := range []string{"git", "prometheus", "promtool"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s", bin)
		}
	}
	var out bytes.Buffer
	err := Run(t.Context(), Options{Out: &out, Dir: t.TempDir(), ScenarioTimeout: 2 * time.Minute,
		Judges: map[string]judge.Judge{"sequential": judge.Sequential{}, "threshold": judge.Threshold{}}})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		`ROLLBACK v04  phase RolledBack`,
		`look  v04  weight  10  error-rate [4-6]\d\.\d\d% vs`,
		`PROMOTE  v05  phase Succeeded`,
		`(?m)^[0-9a-f]{7}  birdwatch   birdwatch: games/aleph v05 promoted, weight 100 -> 0, stable v05$`,
		`(?m)^[0-9a-f]{7}  developer   aleph: ship v05 as the canary$`,
		`(?m)^[0-9a-f]{7}  birdwatch   birdwatch: games/aleph v04 rollback, weight 10 -> 0 \(step 1/6\)$`,
		`games/aleph  v05     v05     Succeeded`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", out.String())
	}
}
