package demo

import (
	"context"
	"slices"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/internal/fleet"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// specPath is where the fleet repository holds the aleph Canary.
const specPath = ".birdwatch/aleph.yaml"

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
    - analyze: 6s
    - setWeight: 50
    - analyze: 6s
    - setWeight: 100
    - analyze: 3s
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
	files[specPath] = demoSpec
	return fleet.CreateFiles(ctx, dir, files, "fleet: aleph v03 in production, canary v04 deployed")
}

// darkLaunchSteps are the talk's dark launch, demo-sized: the developers
// (requests with "Cookie: user=developer") reach the new version first, at
// weight 0, while it is analysed on their traffic; then 20% and 50% of
// everyone, each analysed; then promotion, which removes the route.
const darkLaunchSteps = `  steps:
    - setHeaderRoute:   # developers first: Cookie user=developer
        name: developers
        match:
          - cookie: user
            exact: developer
    - analyze: 6s
    - setWeight: 20
    - analyze: 3s
    - setWeight: 50
    - analyze: 3s
`

// shipCanary is the developer's pull request, merged: a new canary version
// in the Canary spec and in the canary subset's labels, and, when steps is
// not empty, new rollout steps (a "  steps:" block replacing the spec's).
func shipCanary(ctx context.Context, r *fleet.Repo, version, message, steps string) error {
	set := func(path string) fleet.Edit {
		return func(old []byte) ([]byte, error) { return yamledit.Set(old, path, version) }
	}
	spec := func(old []byte) ([]byte, error) {
		doc, err := yamledit.Set(old, "spec.canary", version)
		if err != nil || steps == "" {
			return doc, err
		}
		return replaceSteps(doc, steps)
	}
	return r.Commit(ctx, message, map[string]fleet.Edit{
		specPath:                                spec,
		"apps/games/aleph/destinationrule.yaml": set("spec.subsets[name=canary].labels.version"),
	})
}

// replaceSteps swaps the "  steps:" block of a Canary spec (the line and
// the deeper-indented lines under it) for steps, as the developer does in an
// editor: a human edit, so plain text rather than yamledit's structural
// edits; birdwatch parses and validates the result like any other spec.
func replaceSteps(doc []byte, steps string) ([]byte, error) {
	lines := strings.SplitAfter(string(doc), "\n")
	start := slices.IndexFunc(lines, func(l string) bool { return strings.TrimRight(l, "\n") == "  steps:" })
	if start < 0 {
		return nil, errNoSteps
	}
	end := start + 1
	for end < len(lines) && (strings.HasPrefix(lines[end], "   ") || strings.TrimSpace(lines[end]) == "") {
		end++
	}
	out := strings.Join(lines[:start], "") + steps + strings.Join(lines[end:], "")
	return []byte(out), nil
}
