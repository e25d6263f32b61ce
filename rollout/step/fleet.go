package step

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/spectree"
)

// Fleet is every canary of one snapshot, each spec file read and parsed
// once. A problem in one file or document affects only its canaries.
type Fleet struct {
	// Canaries are the valid canaries with a unique namespace/name.
	Canaries []*spec.Canary
	// Invalid are the canaries whose document does not validate (named as
	// far as it could be read), and every copy of a namespace/name defined
	// more than once: they are reported and do not act, except that a
	// rollout in flight whose own spec became invalid is frozen once.
	Invalid []Invalid
	// Problems are every problem found, file by file, for reports and the
	// repository-level outcome.
	Problems []spec.Problem
}

// Invalid is one canary (or unnamed document) that cannot be decided.
type Invalid struct {
	// Canary holds the metadata, File and Line only.
	Canary   *spec.Canary
	Problems []spec.Problem
	// Duplicate is true when the canary is valid but defined more than once.
	Duplicate bool
}

// Problem renders the problems in one line.
func (iv Invalid) Problem() string {
	parts := make([]string, len(iv.Problems))
	for i, p := range iv.Problems {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// Err returns the problems as a *spec.Error.
func (f *Fleet) Err() error {
	if len(f.Problems) == 0 {
		return nil
	}
	return &spec.Error{Problems: f.Problems}
}

// Find returns the valid canary named key, or the Invalid entries naming it.
func (f *Fleet) Find(key string) (*spec.Canary, []Invalid) {
	for _, c := range f.Canaries {
		if c.Key() == key {
			return c, nil
		}
	}
	var out []Invalid
	for _, iv := range f.Invalid {
		if iv.Canary.Key() == key {
			out = append(out, iv)
		}
	}
	return nil, out
}

// Load reads and parses every spec under spec.SpecDir in t once (Canaries,
// and the MetricTemplates their templateRefs resolve against), with the
// file checks validate makes (spectree.FileProblem: no links, no file over
// 1 MiB, nothing under .git). Only I/O errors fail it; problems land in
// the Fleet, each affecting only the canaries of its file or document.
func Load(t spectree.Tree, checks spec.Checks) (*Fleet, error) {
	entries, err := t.List(spec.SpecDir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", spec.SpecDir, err)
	}
	f := &Fleet{}
	var valid []*spec.Canary
	var tmpls []*spec.MetricTemplate
	for _, e := range entries {
		p := e.Path
		if msg := spectree.FileProblem(e); msg != "" {
			problem := spec.Problem{File: p, Message: msg}
			f.Problems = append(f.Problems, problem)
			f.Invalid = append(f.Invalid, Invalid{Canary: &spec.Canary{File: p}, Problems: []spec.Problem{problem}})
			continue
		}
		if !spec.IsSpecPath(p) {
			continue
		}
		data, err := t.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		ts, err := spec.ParseMetricTemplates(p, data, checks)
		var perr *spec.Error
		if errors.As(err, &perr) {
			f.Problems = append(f.Problems, perr.Problems...)
		}
		tmpls = append(tmpls, ts...)
		docs, err := spec.ParseDocuments(p, data, checks)
		if errors.As(err, &perr) {
			f.Problems = append(f.Problems, perr.Problems...)
		}
		for _, d := range docs {
			if d.Canary != nil {
				valid = append(valid, d.Canary)
				continue
			}
			f.Problems = append(f.Problems, d.Problems...)
			c := &spec.Canary{Metadata: d.Metadata, File: p, Line: d.Line}
			f.Invalid = append(f.Invalid, Invalid{Canary: c, Problems: d.Problems})
		}
	}
	f.Canaries = f.resolveTemplates(f.dropDuplicates(valid), tmpls, checks)
	return f, nil
}

// resolveTemplates resolves the templateRefs of cs against the snapshot's
// MetricTemplates; a canary with a bad reference becomes Invalid alone.
func (f *Fleet) resolveTemplates(cs []*spec.Canary, tmpls []*spec.MetricTemplate, checks spec.Checks) []*spec.Canary {
	lib, problems := spec.NewTemplateLibrary(tmpls)
	f.Problems = append(f.Problems, problems...)
	var out []*spec.Canary
	for _, c := range cs {
		if ps := lib.Resolve(c, checks); len(ps) > 0 {
			f.Problems = append(f.Problems, ps...)
			f.Invalid = append(f.Invalid, Invalid{Canary: c, Problems: ps})
			continue
		}
		out = append(out, c)
	}
	return out
}

// dropDuplicates keeps the canaries whose namespace/name is defined once
// (valid or not); every copy of the others becomes Invalid, each naming
// the other files, so both are reported and neither acts.
func (f *Fleet) dropDuplicates(valid []*spec.Canary) []*spec.Canary {
	where := map[string][]*spec.Canary{}
	for _, c := range valid {
		where[c.Key()] = append(where[c.Key()], c)
	}
	for _, iv := range f.Invalid {
		if iv.Canary.Metadata.Name != "" {
			where[iv.Canary.Key()] = append(where[iv.Canary.Key()], iv.Canary)
		}
	}
	var out []*spec.Canary
	for _, c := range valid {
		all := where[c.Key()]
		if len(all) == 1 {
			out = append(out, c)
			continue
		}
		var where []string
		for _, o := range all {
			where = append(where, fmt.Sprintf("%s:%d", o.File, o.Line))
		}
		p := spec.Problem{File: c.File, Line: c.Line, Field: "metadata",
			Message: fmt.Sprintf("canary %s is defined %d times (%s): neither acts until one is left", c.Key(), len(all), strings.Join(where, ", "))}
		f.Problems = append(f.Problems, p)
		f.Invalid = append(f.Invalid, Invalid{Canary: c, Problems: []spec.Problem{p}, Duplicate: true})
	}
	slices.SortStableFunc(f.Problems, func(a, b spec.Problem) int {
		if a.File != b.File {
			return strings.Compare(a.File, b.File)
		}
		return a.Line - b.Line
	})
	return out
}
