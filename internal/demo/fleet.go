package demo

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// fleet is the throw-away GitOps repository: a bare repo (the "server") and
// a developer's clone used to make human commits with the real git CLI.
type fleet struct {
	bare, work string
}

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
    judge: threshold
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

// newFleet creates the bare repository under dir with the aleph example
// (manifests from templates/examples/aleph, the demo spec above) as its
// first commit, pushed from a developer clone.
func newFleet(ctx context.Context, dir string) (*fleet, error) {
	f := &fleet{bare: filepath.Join(dir, "fleet.git"), work: filepath.Join(dir, "developer")}
	if err := git(ctx, dir, "init", "--quiet", "--bare", "--initial-branch=main", f.bare); err != nil {
		return nil, err
	}
	if err := git(ctx, dir, "clone", "--quiet", f.bare, f.work); err != nil {
		return nil, err
	}
	src, err := fs.Sub(templates.Examples, "examples/aleph")
	if err != nil {
		return nil, err
	}
	if err := os.CopyFS(f.work, src); err != nil {
		return nil, fmt.Errorf("copy example: %w", err)
	}
	if err := os.WriteFile(filepath.Join(f.work, ".birdwatch/aleph.yaml"), []byte(demoSpec), 0o644); err != nil {
		return nil, err
	}
	if err := f.commitAndPush(ctx, "fleet: aleph v03 in production, canary v04 deployed"); err != nil {
		return nil, err
	}
	return f, nil
}

// url is what birdwatch and the applier read.
func (f *fleet) url() string { return "file://" + f.bare }

// shipCanary is the developer's pull request, merged: a new canary version
// in the Canary spec and in the canary subset.
func (f *fleet) shipCanary(ctx context.Context, version string) error {
	if err := git(ctx, f.work, "pull", "--quiet", "--rebase"); err != nil {
		return err
	}
	edits := map[string]string{
		".birdwatch/aleph.yaml":                 "spec.canary",
		"apps/games/aleph/destinationrule.yaml": "spec.subsets[name=canary].labels.version",
	}
	for file, path := range edits {
		p := filepath.Join(f.work, file)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if b, err = yamledit.Set(b, path, version); err != nil {
			return fmt.Errorf("edit %s: %w", file, err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return f.commitAndPush(ctx, "aleph: ship "+version+" as the canary")
}

func (f *fleet) commitAndPush(ctx context.Context, msg string) error {
	if err := git(ctx, f.work, "add", "-A"); err != nil {
		return err
	}
	if err := git(ctx, f.work, "commit", "--quiet", "-m", msg); err != nil {
		return err
	}
	return git(ctx, f.work, "push", "--quiet", "origin", "HEAD:main")
}

// log returns the fleet's history, newest first, with authors.
func (f *fleet) log(ctx context.Context) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", "--git-dir", f.bare, "log", "--format=%h  %<(10,trunc)%an  %s", "main")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git log: %w: %s", err, out.String())
	}
	return out.String(), nil
}

// git runs the git CLI as the developer.
func git(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=developer", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=developer", "GIT_COMMITTER_EMAIL=dev@example.com", "GIT_CONFIG_NOSYSTEM=1",
		"HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %v: %w: %s", args, err, out)
	}
	return nil
}
