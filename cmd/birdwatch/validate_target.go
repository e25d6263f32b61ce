package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/spectree"
)

// validatePath validates what target names: a checkout (or its
// .birdwatch/), one spec file, or a folder of spec files without
// .birdwatch/ (see the validate command's help).
func validatePath(target string) (*validation, error) {
	info, err := os.Stat(target)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		if filepath.Base(filepath.Clean(target)) == spec.SpecDir {
			return validateDir(filepath.Dir(filepath.Clean(target)))
		}
		if _, err := os.Stat(filepath.Join(target, spec.SpecDir)); err == nil {
			return validateDir(target)
		}
		return validateFolder(target)
	}
	return validateFile(target)
}

// validateFile validates one spec file. Under a .birdwatch/ folder it is
// checked within its checkout (the checkout's MetricTemplates resolve its
// templateRefs, a canary it shares with another file is a duplicate) and
// only its problems are kept; elsewhere its references resolve against its
// own folder.
func validateFile(file string) (*validation, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(filepath.ToSlash(abs), "/")
	if i := slices.Index(parts, spec.SpecDir); i > 0 {
		root := filepath.FromSlash(strings.Join(parts[:i], "/"))
		if root == "" {
			root = "/"
		}
		rel := strings.Join(parts[i:], "/")
		if !spec.IsSpecPath(rel) {
			return nil, fmt.Errorf("%s: the loop reads no such file (a .yaml or .yml file under %s/, outside %s/)", file, spec.SpecDir, spec.StatusDir)
		}
		v, err := validateDir(root)
		if err != nil {
			return nil, err
		}
		return v.only(rel), nil
	}
	root, name := filepath.Split(file)
	if root == "" {
		root = "."
	}
	tree := spectree.Dir(root)
	canaries, err := spectree.LoadFiles(tree, []string{name}, validateChecks())
	v, err := checkLoaded(tree, canaries, err)
	if err != nil {
		return nil, err
	}
	return v.under(root), nil
}

// validateFolder validates every YAML file under dir holding a Canary or a
// MetricTemplate (other files, the manifests, are read only as references).
func validateFolder(dir string) (*validation, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && (d.Name() == ".git" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return nil
		}
		if info, err := d.Info(); err != nil || info.Size() > spectree.MaxFileBytes {
			return err // a large file is no spec; the loop would refuse it under .birdwatch/
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if spec.HoldsSpec(data) {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no %s folder in %s, and no YAML file there holds a Canary or a MetricTemplate", spec.SpecDir, dir)
	}
	tree := spectree.Dir(dir)
	canaries, err := spectree.LoadFiles(tree, files, validateChecks())
	v, err := checkLoaded(tree, canaries, err)
	if err != nil {
		return nil, err
	}
	v.Files = len(files) // files of MetricTemplates only count too
	return v.under(dir), nil
}

// validateRepo validates the .birdwatch/ of cfg.Repo's branch, read from a
// fresh clone in a temporary cache that is removed afterwards, exactly as
// the loop reads a commit.
func validateRepo(ctx context.Context, cfg *Config) (*validation, error) {
	cache, err := os.MkdirTemp("", "birdwatch-validate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(cache)
	c := *cfg
	c.CacheDir = cache
	r, err := openRepo(ctx, &c)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	snap, err := r.Fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", cfg.Repo, err)
	}
	tree := spectree.Snapshot{Snapshot: snap}
	canaries, err := spectree.Load(tree, validateChecks())
	v, err := checkLoaded(tree, canaries, err)
	if err != nil {
		return nil, err
	}
	if v.Files == 0 && v.Canaries == 0 {
		if entries, lerr := tree.List(spec.SpecDir); lerr == nil && len(entries) == 0 {
			return nil, fmt.Errorf("no %s folder in %s (branch %s)", spec.SpecDir, cfg.Repo, branchOr(cfg.Branch))
		}
	}
	return v, nil
}

// branchOr is branch, or the default branch's name.
func branchOr(branch string) string {
	if branch == "" {
		return repo.DefaultBranch
	}
	return branch
}

// only keeps the problems of one file (rel, repository-relative), the
// checkout's warnings aside, and counts that file alone.
func (v *validation) only(rel string) *validation {
	out := &validation{Problems: []problemJSON{}, Warnings: v.Warnings, exposures: v.exposures, Files: 1}
	for i, p := range v.problems {
		if p.File == rel {
			out.problems = append(out.problems, p)
			out.Problems = append(out.Problems, v.Problems[i])
		}
	}
	out.Canaries = v.canariesIn[rel]
	out.OK = len(out.problems) == 0
	return out
}

// under names every problem's file by the path the user gave (root joined
// with the file's path in the tree), so the lines can be opened as printed.
func (v *validation) under(root string) *validation {
	if root == "." || root == "" {
		return v
	}
	for i := range v.problems {
		if v.problems[i].File != "" {
			v.problems[i].File = filepath.ToSlash(filepath.Join(root, v.problems[i].File))
			v.Problems[i].File = v.problems[i].File
		}
	}
	return v
}
