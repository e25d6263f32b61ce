package traffic

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// TestKustomizeReadsSetWeights renders every golden output with kustomize
// (kubectl kustomize), the YAML reader Flux's kustomize-controller and Argo
// CD run on these files, and checks that the applier sees the weights that
// SetWeights wrote, as integers.
func TestKustomizeReadsSetWeights(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not in PATH")
	}
	for _, tt := range goldenCases() {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.provider(t)
			input := readFile(t, filepath.Join("testdata", "istio", tt.name, "input.yaml"))
			out, err := p.SetWeights(input, tt.set)
			if err != nil {
				t.Fatalf("SetWeights: %v", err)
			}
			rendered := kustomize(t, kubectl, out)
			got, err := p.Weights(rendered)
			if err != nil || got != tt.set {
				t.Fatalf("kustomize output has weights %v, %v; want %v\n%s", got, err, tt.set, rendered)
			}
			wantTag := "!!int"
			if tt.stringWeights {
				wantTag = "!!str"
			}
			for _, tag := range weightTags(t, rendered) {
				if tag != wantTag {
					t.Errorf("kustomize reads a weight as %s, want %s", tag, wantTag)
				}
			}
		})
	}
}

// TestAlephDemo walks the demo's rollout over the real aleph files: the
// weights step from 100/0 to 0/100, the DestinationRule is promoted, and the
// weights go back to 100/0, which must restore the VirtualService byte for
// byte.
func TestAlephDemo(t *testing.T) {
	vsFile := readFile(t, filepath.Join("testdata", "aleph", "virtualservice.yaml"))
	drFile := readFile(t, filepath.Join("testdata", "aleph", "destinationrule.yaml"))
	p, err := New(Config{Provider: "istio", File: "apps/games/aleph/virtualservice.yaml", Route: "primary", Host: "aleph",
		StableSubset: "production", CanarySubset: "canary"})
	if err != nil {
		t.Fatal(err)
	}
	if w, err := p.Weights(vsFile); err != nil || w != (Weights{100, 0}) {
		t.Fatalf("initial weights %v, %v; want 100/0", w, err)
	}
	cur := vsFile
	for _, canary := range []int{1, 10, 50, 100} {
		w := Weights{Stable: 100 - canary, Canary: canary}
		if cur, err = p.SetWeights(cur, w); err != nil {
			t.Fatalf("SetWeights(%v): %v", w, err)
		}
		if got, err := p.Weights(cur); err != nil || got != w {
			t.Fatalf("after SetWeights(%v) read %v, %v", w, got, err)
		}
	}
	const path = "spec.subsets[name=production].labels.version"
	promoted, err := yamledit.Set(drFile, path, "v04")
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Replace(drFile, []byte("version: v03"), []byte("version: v04"), 1); !bytes.Equal(promoted, want) {
		t.Errorf("promoted DestinationRule:\n%s\nwant:\n%s", promoted, want)
	}
	if cur, err = p.SetWeights(cur, Weights{100, 0}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cur, vsFile) {
		t.Errorf("after the rollout the VirtualService differs from the original:\n%s", cur)
	}
}

func kustomize(t *testing.T, kubectl string, manifest []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "manifest.yaml"), manifest, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources:\n- manifest.yaml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), kubectl, "kustomize", dir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, stderr.String())
	}
	return out
}

// weightTags returns the resolved tag of every spec.http[].route[].weight in
// the VirtualServices of doc.
func weightTags(t *testing.T, doc []byte) []string {
	t.Helper()
	docs, err := yamledit.Documents(doc)
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, d := range docs {
		http, err := d.Lookup("spec.http")
		if kind, _ := scalarAt(d, "kind"); kind != "VirtualService" || err != nil {
			continue
		}
		for _, r := range http.Content {
			for i := 0; i+1 < len(r.Content); i += 2 {
				if r.Content[i].Value != "route" {
					continue
				}
				for _, dest := range r.Content[i+1].Content {
					for k := 0; k+1 < len(dest.Content); k += 2 {
						if dest.Content[k].Value == "weight" && dest.Content[k+1].Kind == yaml.ScalarNode {
							tags = append(tags, dest.Content[k+1].Tag)
						}
					}
				}
			}
		}
	}
	if len(tags) == 0 {
		t.Fatalf("no weights in kustomize output:\n%s", doc)
	}
	return tags
}
