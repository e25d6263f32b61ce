package traffic

import (
	"os"
	"path/filepath"
	"testing"
)

// overlayCase is a Kustomize tree under testdata/overlays/<name>: the
// provider edits file (relative to the tree), the overlay dir is rendered,
// and reader reads the weights from what kustomize would apply.
type overlayCase struct {
	name    string
	file    string // the file birdwatch edits, e.g. "production/weights.yaml"
	overlay string // the directory rendered, e.g. "production"
	edit    Config // the provider editing file
	reader  Config // the provider reading the rendered output
	before  Weights
	set     Weights
}

func overlayCases() []overlayCase {
	traefik := Config{Provider: "traefik", StableService: "podinfo-primary", CanaryService: "podinfo-canary"}
	return []overlayCase{
		{name: "traefik-patch", file: "production/weights.yaml", overlay: "production", edit: traefik, reader: traefik,
			before: Weights{100, 0}, set: Weights{75, 25}},
		{name: "replicas-count", file: "production/kustomization.yaml", overlay: "production",
			edit:   Config{Provider: "replicas", StableReplicasPath: "replicas[name=podinfo-stable].count", CanaryReplicasPath: "replicas[name=podinfo-canary].count"},
			reader: Config{Provider: "replicas", StableDeployment: "podinfo-stable", CanaryDeployment: "podinfo-canary"},
			before: Weights{100, 0}, set: Weights{50, 50}},
	}
}

// TestKustomizeOverlays edits the file of a Kustomize overlay that holds
// the weights (a patch, the replicas list) and renders the overlay: the
// objects kustomize would apply carry the weights set, and the base is
// untouched.
func TestKustomizeOverlays(t *testing.T) {
	for _, tc := range overlayCases() {
		for _, r := range renderers(t) {
			t.Run(tc.name+"/"+r.name, func(t *testing.T) {
				dir := copyTree(t, filepath.Join("testdata", "overlays", tc.name))
				reader := mustNew(t, tc.reader)
				if w, err := reader.Weights(r.render(t, filepath.Join(dir, tc.overlay))); err != nil || w != tc.before {
					t.Fatalf("rendered input has weights %v, %v; want %v", w, err, tc.before)
				}
				path := filepath.Join(dir, tc.file)
				out, err := mustNew(t, tc.edit).SetWeights(readFile(t, path), tc.set)
				if err != nil {
					t.Fatalf("SetWeights: %v", err)
				}
				if err := os.WriteFile(path, out, 0o600); err != nil {
					t.Fatal(err)
				}
				if w, err := reader.Weights(r.render(t, filepath.Join(dir, tc.overlay))); err != nil || w != tc.set {
					t.Fatalf("rendered output has weights %v, %v; want %v", w, err, tc.set)
				}
			})
		}
	}
}

func mustNew(t *testing.T, cfg Config) Provider {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// copyTree copies the files under src to a new temporary directory.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
