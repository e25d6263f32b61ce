package demo

import (
	"context"

	"github.com/birdwatch-gitops/birdwatch/internal/fleet"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// demoSpec is the aleph Canary with steps short enough for a demo.
const demoSpec = `# aleph, as in DESIGN.md, with demo-sized steps.
apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata:
  name: aleph
  namespace: games
spec:
  stable: v03
  canary: v04
  traffic:
    provider: istio
    file: apps/games/aleph/virtualservice.yaml
    stableSubset: production
    canarySubset: canary
  steps:
    - setWeight: 10
    - analyze: 8s
    - setWeight: 50
    - analyze: 8s
    - setWeight: 100
    - analyze: 4s
  analysis:
    interval: 3s
    judge: sequential
    minRequests: 20
    failureLimit: 1
    inconclusiveLimit: 5
    metrics:
      - name: error-rate
        template: istio-error-rate
        critical: true
        max: 5          # percent
      - name: latency-p99
        template: istio-latency-p99
        max: 250        # milliseconds
  promote:
    - file: apps/games/aleph/destinationrule.yaml
      path: spec.subsets[name=production].labels.version
      value: "{{ .Canary }}"
  onFailure: rollback
  sync: {engine: none, applyDelay: 1s}
`

// newFleet creates the fleet repository under dir with the aleph example
// (manifests from templates/examples/aleph, the demo spec above).
func newFleet(ctx context.Context, dir string) (*fleet.Repo, error) {
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		return nil, err
	}
	files[".birdwatch/aleph.yaml"] = demoSpec
	return fleet.CreateFiles(ctx, dir, files, "fleet: aleph v03 in production, canary v04 deployed")
}

// shipCanary is the developer's pull request, merged: a new canary version
// in the Canary spec and in the canary subset's labels.
func shipCanary(ctx context.Context, r *fleet.Repo, version string) error {
	set := func(path string) fleet.Edit {
		return func(old []byte) ([]byte, error) { return yamledit.Set(old, path, version) }
	}
	return r.Commit(ctx, "aleph: ship "+version+" as the canary", map[string]fleet.Edit{
		".birdwatch/aleph.yaml":                 set("spec.canary"),
		"apps/games/aleph/destinationrule.yaml": set("spec.subsets[name=canary].labels.version"),
	})
}
