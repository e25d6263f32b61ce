package worker

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/sync"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

// pauseSpec walks to weight 10 and pauses there; its one-hour interval
// means no look falls due during a test, so no Prometheus is needed.
const pauseSpec = `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata: {name: aleph, namespace: games}
spec:
  stable: v03
  canary: v04
  traffic: {provider: istio, file: apps/games/aleph/virtualservice.yaml, stableSubset: production, canarySubset: canary}
  steps:
    - setWeight: 10
    - pause: {}
    - setWeight: 50
  analysis:
    interval: 1h
    judge: threshold
    metrics:
      - {name: error-rate, template: istio-error-rate, max: 1}
  access: {operators: ["slack:U024BE7LH"]}
`

// newFleet makes a real bare Git repository holding the aleph manifests and spec.
func newFleet(t *testing.T, spec string) *fleet.Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs the git binary")
	}
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	files[".birdwatch/aleph.yaml"] = spec
	f, err := fleet.CreateFiles(t.Context(), t.TempDir(), files, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// newEngine wires the loop on url like the binary does, without metrics.
func newEngine(t *testing.T, url string) *core.Engine {
	t.Helper()
	r, err := repo.Open(t.Context(), repo.Options{URL: url, CacheDir: filepath.Join(t.TempDir(), "cache")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &core.Engine{Repo: r, Judges: map[string]judge.Judge{"threshold": judge.Threshold{}},
		Sync: sync.Engines{"none": sync.None{}}}
}
