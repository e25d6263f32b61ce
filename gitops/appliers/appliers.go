// Package appliers tells whether the GitOps appliers configured in a
// checkout, Flux's kustomize-controller and Argo CD directory
// applications, would apply the files under .birdwatch/. They must not:
// Canary specs are of an API no cluster serves and status files have no
// kind, so either would fail every sync of the application.
//
// Flux: a Kustomization whose path has no kustomization.yaml gets one
// generated that lists every YAML file below the path, hidden folders
// included; source-controller leaves out of the artifact what
// .sourceignore files (and GitRepository spec.ignore) exclude, read with
// Flux's own sourceignore package. Argo CD: a directory application reads
// .yaml, .yml and .json files of its path, of sub-folders only with
// directory.recurse, minus directory.exclude and outside directory.include
// (globs on the path relative to the application's path).
package appliers

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/fluxcd/pkg/sourceignore"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/gobwas/glob"

	"github.com/birdwatch-gitops/birdwatch/gitops/importer"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// SourceIgnore is the .sourceignore line that keeps .birdwatch/ out of
// Flux's artifacts (birdwatch reads Git itself, not the artifact).
const SourceIgnore = importer.SourceIgnoreLine

// ArgoExclude is the directory.exclude glob that keeps .birdwatch/ out of
// an Argo CD directory application at the repository root.
const ArgoExclude = spec.SpecDir + "/*"

// Exposure is an applier that would apply .birdwatch/.
type Exposure struct {
	File   string // where the applier's object is defined
	Object string // e.g. "Kustomization flux-system/apps"
	Fix    string
}

func (e Exposure) String() string {
	return fmt.Sprintf("%s: %s would apply %s/ (Canary specs and status files the cluster cannot apply): %s", e.File, e.Object, spec.SpecDir, e.Fix)
}

// probe is a spec file as the appliers see it.
var probe = []string{spec.SpecDir, "status", "ns", "name.yaml"}

// Check lists the Flux Kustomizations and Argo CD Applications defined in
// the checkout at dir that would apply .birdwatch/. It assumes they read
// this repository (their sourceRef / repoURL is not resolved).
func Check(dir string) ([]Exposure, error) {
	co, err := importer.LoadCheckout(dir)
	if err != nil {
		return nil, err
	}
	ignored, err := FluxIgnores(dir, gitRepositoryIgnore(co))
	if err != nil {
		return nil, err
	}
	rootIsKustomize := hasAny(dir, "kustomization.yaml", "kustomization.yml", "Kustomization")
	var out []Exposure
	for _, o := range co.Objects {
		api := o.APIVersion()
		obj := fmt.Sprintf("%s %s/%s", o.Kind(), o.Namespace("-"), o.Name())
		switch {
		case o.Kind() == "Kustomization" && strings.HasPrefix(api, "kustomize.toolkit.fluxcd.io/"):
			if atRoot(str(o.Body, "spec", "path")) && !rootIsKustomize && !ignored {
				out = append(out, Exposure{File: o.File, Object: obj, Fix: fmt.Sprintf("add %q to .sourceignore (birdwatch init does)", SourceIgnore)})
			}
		case o.Kind() == "Application" && strings.HasPrefix(api, "argoproj.io/"):
			for _, src := range sources(o.Body) {
				if argoApplies(dir, src) {
					out = append(out, Exposure{File: o.File, Object: obj, Fix: fmt.Sprintf("set spec.source.directory.exclude: %q", ArgoExclude)})
				}
			}
		}
	}
	return out, nil
}

// FluxIgnores reports whether source-controller leaves .birdwatch/ out of
// the artifact of the repository at dir, with extra (GitRepository
// spec.ignore) on top of the .sourceignore files.
func FluxIgnores(dir, extra string) (bool, error) {
	ps, err := sourceignore.LoadIgnorePatterns(dir, nil)
	if err != nil {
		return false, fmt.Errorf("read .sourceignore: %w", err)
	}
	if extra != "" {
		ps = append(ps, sourceignore.ReadPatterns(strings.NewReader(extra), nil)...)
	}
	m := sourceignore.NewDefaultMatcher(ps, nil)
	return m.Match(probe, false) || m.Match(probe[:1], true), nil
}

// Matcher is source-controller's matcher for the checkout at dir.
func Matcher(dir string) (gitignore.Matcher, error) {
	ps, err := sourceignore.LoadIgnorePatterns(dir, nil)
	if err != nil {
		return nil, err
	}
	return sourceignore.NewDefaultMatcher(ps, nil), nil
}

func gitRepositoryIgnore(co *importer.Checkout) string {
	var b strings.Builder
	for _, o := range co.Objects {
		if o.Kind() == "GitRepository" && strings.HasPrefix(o.APIVersion(), "source.toolkit.fluxcd.io/") {
			b.WriteString(str(o.Body, "spec", "ignore") + "\n")
		}
	}
	return b.String()
}

// argoApplies applies Argo CD's documented directory rules to the probe file.
func argoApplies(dir string, src map[string]any) bool {
	p := str(src, "path")
	if !atRoot(p) || str(src, "chart") != "" || hasAny(dir, "kustomization.yaml", "kustomization.yml", "Kustomization", "Chart.yaml") {
		return false
	}
	d, _ := src["directory"].(map[string]any)
	if recurse, _ := d["recurse"].(bool); !recurse {
		return false
	}
	rel := path.Join(probe...)
	if ex := str(d, "exclude"); ex != "" && globMatch(ex, rel) {
		return false
	}
	if in := str(d, "include"); in != "" && !globMatch(in, rel) {
		return false
	}
	return true
}

func globMatch(pattern, s string) bool {
	g, err := glob.Compile(pattern)
	return err == nil && g.Match(s)
}

func sources(app map[string]any) []map[string]any {
	var out []map[string]any
	if s, ok := app["spec"].(map[string]any); ok {
		if src, ok := s["source"].(map[string]any); ok {
			out = append(out, src)
		}
		if list, ok := s["sources"].([]any); ok {
			for _, v := range list {
				if src, ok := v.(map[string]any); ok {
					out = append(out, src)
				}
			}
		}
	}
	return out
}

func atRoot(p string) bool { return path.Clean("./"+p) == "." }

func hasAny(dir string, names ...string) bool {
	for _, n := range names {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && !fi.IsDir() {
			return true
		}
	}
	return false
}

func str(m map[string]any, keys ...string) string {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[k]
	}
	s, _ := cur.(string)
	return s
}
