package demo

import (
	"context"
	"io/fs"
	"testing/fstest"

	"github.com/birdwatch-gitops/birdwatch/internal/fleet"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
	"github.com/birdwatch-gitops/birdwatch/templates"
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
	example, err := fs.Sub(templates.Examples, "examples/aleph")
	if err != nil {
		return nil, err
	}
	files := overlay{FS: example, path: ".birdwatch/aleph.yaml", content: []byte(demoSpec)}
	return fleet.Create(ctx, dir, files, "fleet: aleph v03 in production, canary v04 deployed")
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

// overlay is an fs.FS that replaces one file's content.
type overlay struct {
	fs.FS
	path    string
	content []byte
}

// Open returns the replacement for o.path and the underlying file otherwise.
func (o overlay) Open(name string) (fs.File, error) {
	if name != o.path {
		return o.FS.Open(name)
	}
	return fstest.MapFS{name: {Data: o.content, Mode: 0o644}}.Open(name)
}
