package spectree

import (
	"errors"
	"fmt"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// Load reads and parses every spec under .birdwatch/ in t: the Canaries,
// and the MetricTemplates their templateRefs are resolved against. Every file
// there must be a regular file of at most MaxFileBytes outside any .git
// folder; a canary defined twice is reported in both files and returned
// from neither. Problems come back as one *spec.Error, with the canaries
// that have none (the loop acts on none of them while any problem stands;
// validate goes on to check their references); other errors are I/O.
func Load(t Tree, checks spec.Checks) ([]*spec.Canary, error) {
	entries, err := t.List(spec.SpecDir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", spec.SpecDir, err)
	}
	var keep []Entry
	for _, e := range entries {
		if FileProblem(e) != "" || spec.IsSpecPath(e.Path) {
			keep = append(keep, e)
		}
	}
	return load(t, keep, checks, true)
}

// LoadFiles is Load for the spec files at paths (repository-relative) of a
// tree that is not read from .birdwatch/ (validate of a file, or of a
// folder of examples): the same checks, except that a canary defined again
// in another file is not a duplicate, as the files are not one fleet.
func LoadFiles(t Tree, paths []string, checks spec.Checks) ([]*spec.Canary, error) {
	entries := make([]Entry, 0, len(paths))
	for _, p := range paths {
		e, err := t.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("stat %s: %w", p, err)
		}
		entries = append(entries, e)
	}
	return load(t, entries, checks, false)
}

// load parses entries; fleet says they are one fleet, in which a canary key
// must be unique across files (otherwise within a file).
func load(t Tree, entries []Entry, checks spec.Checks, fleet bool) ([]*spec.Canary, error) {
	var problems []spec.Problem
	var all []*spec.Canary
	var tmpls []*spec.MetricTemplate
	files := map[string][]string{} // canary key -> files defining it
	key := func(c *spec.Canary) string {
		if fleet {
			return c.Key()
		}
		return c.File + "\x00" + c.Key()
	}
	for _, e := range entries {
		if msg := FileProblem(e); msg != "" {
			problems = append(problems, spec.Problem{File: e.Path, Message: msg})
			continue
		}
		data, err := t.ReadFile(e.Path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", e.Path, err)
		}
		ts, err := spec.ParseMetricTemplates(e.Path, data, checks)
		var perr *spec.Error
		if errors.As(err, &perr) {
			problems = append(problems, perr.Problems...)
		}
		tmpls = append(tmpls, ts...)
		cs, err := spec.ParseCanaries(e.Path, data, checks)
		if errors.As(err, &perr) {
			problems = append(problems, perr.Problems...)
			continue
		} else if err != nil {
			return nil, err
		}
		for _, c := range cs {
			files[key(c)] = append(files[key(c)], fmt.Sprintf("%s:%d", c.File, c.Line))
		}
		all = append(all, cs...)
	}
	var out []*spec.Canary
	for _, c := range all {
		if where := files[key(c)]; len(where) > 1 {
			problems = append(problems, spec.Problem{File: c.File, Line: c.Line, Field: "metadata",
				Message: fmt.Sprintf("canary %s is defined %d times (%s): neither acts until one is left", c.Key(), len(where), strings.Join(where, ", "))})
			continue
		}
		out = append(out, c)
	}
	var perr *spec.Error
	if errors.As(spec.ResolveTemplates(out, tmpls, checks), &perr) {
		problems = append(problems, perr.Problems...)
	}
	if len(problems) > 0 {
		return out, &spec.Error{Problems: problems}
	}
	return out, nil
}

// FileProblem says why birdwatch will not read e, or "".
func FileProblem(e Entry) string {
	switch {
	case HasGitComponent(e.Path):
		return "is inside a .git folder"
	case e.Symlink:
		return "is a symbolic link: birdwatch reads no links (Git stores only the target's name); put the file itself here"
	case e.Other:
		return "is not a regular file"
	case e.Size > MaxFileBytes:
		return fmt.Sprintf("is %d bytes, over the %d-byte (1 MiB) limit of files birdwatch reads", e.Size, MaxFileBytes)
	}
	return ""
}

// HasGitComponent reports whether a slash-separated path has a .git
// component, in any case (.GIT is .git on case-insensitive filesystems).
func HasGitComponent(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if strings.EqualFold(part, ".git") {
			return true
		}
	}
	return false
}

// References checks the files c points at, as the loop will use them: the
// traffic manifest and every promote file exist, are regular files within
// MaxFileBytes, and weights reads the manifest (nil skips that); every
// promote value renders and its path resolves in its file.
func References(t Tree, c *spec.Canary, weights func(c *spec.Canary, doc []byte) error) []spec.Problem {
	var problems []spec.Problem
	add := func(field, format string, args ...any) {
		problems = append(problems, spec.Problem{File: c.File, Line: c.Line, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if doc, msg, ok := readReferenced(t, c.Spec.Traffic.File); msg != "" {
		add("spec.traffic.file", "%s", msg)
	} else if ok && weights != nil {
		if err := weights(c, doc); err != nil {
			add("spec.traffic.file", "%s: %v", c.Spec.Traffic.File, err)
		}
	}
	vars := spec.PromoteVarsOf(c)
	for i, ed := range c.Spec.Promote {
		f := fmt.Sprintf("spec.promote[%d]", i)
		value, err := spec.RenderPromoteValue(ed.Value, vars)
		if err != nil {
			add(f+".value", "does not render: %v", err)
			continue
		}
		doc, msg, ok := readReferenced(t, ed.File)
		if msg != "" {
			add(f+".file", "%s", msg)
			continue
		}
		if _, err := yamledit.Set(doc, ed.Path, value); ok && err != nil {
			add(f+".path", "%s: %v", ed.File, err)
		}
	}
	return problems
}

// readReferenced reads a file a spec points at, or says why it cannot; ok
// is false, with no message, for a path the spec's own validation refuses.
func readReferenced(t Tree, p string) (doc []byte, msg string, ok bool) {
	if spec.CheckRepoPath(p) != nil {
		return nil, "", false
	}
	e, err := t.Stat(p)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Sprintf("%s does not exist", p), false
	}
	if err != nil {
		return nil, fmt.Sprintf("%s cannot be read: %v", p, err), false
	}
	if msg := FileProblem(e); msg != "" {
		return nil, fmt.Sprintf("%s %s", e.Path, msg), false
	}
	doc, err = t.ReadFile(p)
	if err != nil {
		return nil, fmt.Sprintf("%s cannot be read: %v", p, err), false
	}
	return doc, "", true
}
