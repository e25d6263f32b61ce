package traffic

import (
	"bytes"
	"cmp"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// TestKustomizeReadsSetWeights renders every golden output that holds
// Kubernetes objects with kustomize, the YAML reader Flux's
// kustomize-controller and Argo CD run on these files, and checks that the
// applier sees the weights that SetWeights wrote, with the types the author
// gave them (integers stay integers, quoted strings strings). kustomize
// runs as the library (krusty, what kubectl embeds) and, when kubectl is
// installed, as `kubectl kustomize` too.
func TestKustomizeReadsSetWeights(t *testing.T) {
	for _, tt := range goldenCases() {
		if tt.notResources {
			continue
		}
		for _, r := range renderers(t) {
			t.Run(tt.kind+"/"+tt.name+"/"+r.name, func(t *testing.T) {
				checkRendered(t, tt, r.render)
			})
		}
	}
}

// renderer renders a directory holding a kustomization.
type renderer struct {
	name   string
	render func(t *testing.T, dir string) []byte
}

// renderers returns krusty, and kubectl when it is installed.
func renderers(t *testing.T) []renderer {
	rs := []renderer{{"krusty", krustyBuild}}
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		rs = append(rs, renderer{"kubectl", func(t *testing.T, dir string) []byte { return kubectlBuild(t, kubectl, dir) }})
	}
	return rs
}

// checkRendered sets tt's weights, renders the output and reads them back.
func checkRendered(t *testing.T, tt goldenCase, render func(*testing.T, string) []byte) {
	p := tt.provider(t)
	input := readFile(t, filepath.Join(tt.dir(), "input.yaml"))
	out, err := p.SetWeights(input, tt.set)
	if err != nil {
		t.Fatalf("SetWeights: %v", err)
	}
	rendered := render(t, resourceDir(t, out))
	got, err := p.Weights(rendered)
	if err != nil || got != tt.set {
		t.Fatalf("kustomize output has weights %v, %v; want %v\n%s", got, err, tt.set, rendered)
	}
	wantTag := "!!int"
	if tt.stringWeights {
		wantTag = "!!str"
	}
	for _, tag := range weightTags(t, tt, rendered) {
		if tag != wantTag {
			t.Errorf("kustomize reads a weight as %s, want %s", tag, wantTag)
		}
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

// resourceDir writes manifest and a kustomization listing it to a new
// directory.
func resourceDir(t *testing.T, manifest []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "manifest.yaml"), manifest, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources:\n- manifest.yaml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// krustyBuild renders dir with the kustomize library.
func krustyBuild(t *testing.T, dir string) []byte {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatalf("kustomize render %s: %v", dir, err)
	}
	return out
}

// kubectlBuild renders dir with `kubectl kustomize`.
func kubectlBuild(t *testing.T, kubectl, dir string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), kubectl, "kustomize", dir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, stderr.String())
	}
	return out
}

// weightTags returns the resolved tags of the weights tt's provider reads in
// doc: the values at the yamlpath paths, the nginx canary-weight
// annotation, or every "weight" key's value for the list providers.
func weightTags(t *testing.T, tt goldenCase, doc []byte) []string {
	t.Helper()
	docs, err := yamledit.Documents(doc)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	switch tt.kind {
	case "yamlpath":
		paths = []string{tt.cfg.CanaryWeightPath, tt.cfg.StableWeightPath}
	case "nginx":
		paths = []string{annotationPath(nginxWeight)}
	case "service":
		paths = []string{"spec.selector." + escapeKey(cmp.Or(tt.cfg.VersionLabel, "version"))}
	case "replicas":
		paths = []string{"spec.replicas"}
	case "alb":
		paths = []string{annotationPath(albActionPrefix + tt.cfg.Route)} // the JSON string holding the weights
	}
	var tags []string
	for _, d := range docs {
		if paths == nil {
			collectWeightTags(d.Root, &tags)
		}
		for _, p := range paths {
			if n, err := d.Lookup(p); p != "" && err == nil {
				tags = append(tags, n.Tag)
			}
		}
	}
	if len(tags) == 0 {
		t.Fatalf("no weights in kustomize output:\n%s", doc)
	}
	return tags
}

// collectWeightTags appends the tag of every scalar under a "weight" key.
func collectWeightTags(n *yaml.Node, tags *[]string) {
	if n == nil {
		return
	}
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 1 && n.Content[i-1].Value == "weight" && c.Kind == yaml.ScalarNode {
			*tags = append(*tags, c.Tag)
		}
		collectWeightTags(c, tags)
	}
}
