package appliers_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/kustomize"
	"github.com/gobwas/glob"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/birdwatch-gitops/birdwatch/gitops/appliers"
)

func fleet(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/fleet")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fluxArtifact is what source-controller packs from a checkout: every file
// its .sourceignore matcher (Flux's own package) keeps.
func fluxArtifact(t *testing.T, dir string) string {
	t.Helper()
	m, err := appliers.Matcher(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if m.Match(strings.Split(rel, string(filepath.Separator)), d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(out, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(out, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fluxApply runs kustomize-controller's generator and build (fluxcd/pkg/kustomize)
// on the artifact at path "./", and returns the kinds it would apply.
func fluxApply(t *testing.T, artifact string) ([]string, error) {
	t.Helper()
	ks := unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "fleet", "namespace": "flux-system"},
		"spec":     map[string]any{"path": "./"},
	}}
	if _, err := kustomize.NewGenerator(artifact, ks).WriteFile(artifact); err != nil {
		return nil, err
	}
	res, err := kustomize.SecureBuild(artifact, artifact, false)
	if err != nil {
		return nil, err
	}
	var kinds []string
	for _, r := range res.Resources() {
		kinds = append(kinds, r.GetApiVersion()+" "+r.GetKind())
	}
	return kinds, nil
}

// TestFluxAppliesBirdwatchUnlessIgnored: Flux's generator takes .birdwatch/
// into a root Kustomization (the status file without a kind breaks the
// build); the .sourceignore line birdwatch init writes keeps it out.
func TestFluxAppliesBirdwatchUnlessIgnored(t *testing.T) {
	dir := fleet(t)
	exp, err := appliers.Check(dir)
	if err != nil || len(exp) != 2 || !strings.Contains(exp[0].String()+exp[1].String(), "Kustomization flux-system/fleet") {
		t.Fatalf("exposures %v, %v", exp, err)
	}
	if kinds, err := fluxApply(t, fluxArtifact(t, dir)); err == nil {
		t.Fatalf("Flux built the root with .birdwatch/ inside: %v", kinds)
	} else if !strings.Contains(err.Error(), "podinfo.yaml") {
		t.Errorf("build error does not name the status file: %v", err)
	} else {
		t.Logf("Flux without .sourceignore: %v", err)
	}

	if err := os.WriteFile(filepath.Join(dir, ".sourceignore"), []byte("# birdwatch reads .birdwatch/ from Git itself\n"+appliers.SourceIgnore+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	kinds, err := fluxApply(t, fluxArtifact(t, dir))
	if err != nil {
		t.Fatalf("with .sourceignore: %v", err)
	}
	joined := strings.Join(kinds, ",")
	if strings.Contains(joined, "birdwatch.dev") || !strings.Contains(joined, "apps/v1 Deployment") {
		t.Errorf("applied %v", kinds)
	}
	exp, err = appliers.Check(dir)
	if err != nil || strings.Contains(stringsOf(exp), "Kustomization") {
		t.Errorf("still exposed to Flux: %v %v", exp, err)
	}
}

func stringsOf(exp []appliers.Exposure) string {
	var b strings.Builder
	for _, e := range exp {
		b.WriteString(e.String() + "\n")
	}
	return b.String()
}

// argoManifestFiles lists the files an Argo CD directory application
// reads, by its documented rules: .yaml/.yml/.json files of the path,
// sub-folders only with recurse, exclude and include globs on the relative path.
func argoManifestFiles(t *testing.T, root string, recurse bool, exclude string) []string {
	t.Helper()
	manifest := regexp.MustCompile(`^.*\.(yaml|yml|json)$`)
	var out []string
	_ = filepath.Walk(root, func(p string, f os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if f.IsDir() {
			if p != root && !recurse {
				return filepath.SkipDir
			}
			return nil
		}
		if !manifest.MatchString(f.Name()) {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if exclude != "" && glob.MustCompile(exclude).Match(rel) {
			return nil
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	return out
}

// TestArgoCDDirectoryApp: a recursing directory app at the root reads the
// specs and status files; directory.exclude (the fix validate names) keeps them out.
func TestArgoCDDirectoryApp(t *testing.T) {
	dir := fleet(t)
	read := strings.Join(argoManifestFiles(t, dir, true, ""), ",")
	if !strings.Contains(read, ".birdwatch/status/test/podinfo.yaml") {
		t.Fatalf("recursing app reads %s", read)
	}
	if read := strings.Join(argoManifestFiles(t, dir, false, ""), ","); strings.Contains(read, ".birdwatch") {
		t.Errorf("non-recursing app reads %s", read)
	}
	read = strings.Join(argoManifestFiles(t, dir, true, appliers.ArgoExclude), ",")
	if strings.Contains(read, ".birdwatch") || !strings.Contains(read, "apps/podinfo/deployment.yaml") {
		t.Errorf("with exclude %q the app reads %s", appliers.ArgoExclude, read)
	}
	// Check agrees, and stops warning once the Application excludes .birdwatch/.
	if exp, _ := appliers.Check(dir); !strings.Contains(stringsOf(exp), "Application argocd/fleet") {
		t.Errorf("exposures %v", exp)
	}
	app := filepath.Join(dir, "clusters/argocd.yaml")
	data, _ := os.ReadFile(app)
	fixed := strings.Replace(string(data), "      recurse: true\n", "      recurse: true\n      exclude: '"+appliers.ArgoExclude+"'\n", 1)
	if err := os.WriteFile(app, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	if exp, _ := appliers.Check(dir); strings.Contains(stringsOf(exp), "Application") {
		t.Errorf("still exposed: %v", exp)
	}
}
