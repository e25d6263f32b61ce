package core

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"text/template"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// buildFiles returns the full new content of every file the decision
// touches: the traffic manifest, the promote edits, the Canary's own
// spec.stable on promotion, and the status file. All land in one commit.
func buildFiles(snap *repo.Snapshot, c *spec.Canary, d rollout.Decision, prov traffic.Provider, manifest []byte) (map[string][]byte, error) {
	files := map[string][]byte{}
	if d.SetWeight != nil {
		w := *d.SetWeight
		out, err := prov.SetWeights(manifest, traffic.Weights{Stable: 100 - w, Canary: w})
		if err != nil {
			return nil, fmt.Errorf("set weights in %s: %w", c.Spec.Traffic.File, err)
		}
		files[c.Spec.Traffic.File] = out
	}
	if d.Promote {
		vars := promoteVars{Name: c.Metadata.Name, Namespace: c.Metadata.Namespace, Service: c.Spec.Service,
			Stable: c.Spec.Stable, Canary: c.Spec.Canary}
		for i, ed := range c.Spec.Promote {
			value, err := renderValue(ed.Value, vars)
			if err != nil {
				return nil, fmt.Errorf("%s: spec.promote[%d].value: %w", c.File, i, err)
			}
			if err := editFile(snap, files, ed.File, ed.Path, value); err != nil {
				return nil, fmt.Errorf("%s: spec.promote[%d]: %w", c.File, i, err)
			}
		}
		// The promoted version is the new stable: say so in the spec itself, so
		// Git reads "stable == canary" and nothing is left to roll out.
		sel := fmt.Sprintf("{%d}spec.stable", c.Doc)
		if err := editFile(snap, files, c.File, sel, c.Spec.Canary); err != nil {
			return nil, fmt.Errorf("%s: set spec.stable: %w", c.File, err)
		}
	}
	st := d.Status
	status, err := spec.MarshalStatus(&st)
	if err != nil {
		return nil, err
	}
	files[c.StatusPath()] = status
	return files, nil
}

// editFile sets path to value in file, on top of earlier edits in files.
func editFile(snap *repo.Snapshot, files map[string][]byte, file, path, value string) error {
	cur, ok := files[file]
	if !ok {
		var err error
		if cur, err = snap.ReadFile(file); err != nil {
			return fmt.Errorf("read %s: %w", file, err)
		}
	}
	out, err := yamledit.Set(cur, path, value)
	if err != nil {
		return fmt.Errorf("edit %s at %s: %w", file, path, err)
	}
	files[file] = out
	return nil
}

// promoteVars are the variables of spec.promote values.
type promoteVars struct{ Name, Namespace, Service, Stable, Canary string }

func renderValue(text string, v promoteVars) (string, error) {
	t, err := template.New("value").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

// commitMessage renders DESIGN.md's commit format: a subject naming the
// canary, version and change; the analysis table; trailers.
func commitMessage(c *spec.Canary, d rollout.Decision, res *judge.Result, trigger string) repo.Message {
	st := d.Status
	steps := len(c.Spec.Steps)
	where := fmt.Sprintf("(step %d/%d)", min(st.Step, steps), steps)
	var what string
	switch {
	case d.Action == rollout.ActionPromote:
		what = fmt.Sprintf("promoted, weight %d -> 0, stable %s", d.From, st.Generation)
	case d.SetWeight != nil:
		what = fmt.Sprintf("%s, weight %d -> %d %s", d.Action, d.From, *d.SetWeight, where)
	default:
		what = fmt.Sprintf("%s at weight %d %s", d.Action, st.Weight, where)
	}
	var body strings.Builder
	if res != nil {
		body.WriteString(report.AnalysisTable(res))
	}
	if d.Reason != "" {
		fmt.Fprintf(&body, "\n%s\n", d.Reason)
	}
	if trigger == "" {
		trigger = "cli"
	}
	return repo.Message{
		Subject: fmt.Sprintf("birdwatch: %s %s %s", c.Key(), st.Generation, what),
		Body:    strings.TrimSpace(body.String()),
		Trailers: []repo.Trailer{
			{Key: "Birdwatch-Canary", Value: c.Key()},
			{Key: "Birdwatch-Generation", Value: st.Generation},
			{Key: "Birdwatch-Decision", Value: string(d.Action)},
			{Key: "Birdwatch-Step", Value: strconv.Itoa(st.Step)},
			{Key: "Birdwatch-Trigger", Value: trigger},
		},
	}
}
