package core

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

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
		out, note, err := setTrafficWeight(prov, manifest, *d.SetWeight, d.Promote)
		if err != nil {
			return nil, fmt.Errorf("set weights in %s: %w", c.Spec.Traffic.File, err)
		}
		files[c.Spec.Traffic.File] = out
		d.Status.Split = note
	}
	if cur, ok := files[c.Spec.Traffic.File]; ok || d.Commit {
		if !ok {
			cur = manifest
		}
		out, err := previewCanary(prov, cur, d)
		if err != nil {
			return nil, fmt.Errorf("point the preview at the canary in %s: %w", c.Spec.Traffic.File, err)
		}
		if !bytes.Equal(out, cur) {
			files[c.Spec.Traffic.File] = out
		}
	}
	if d.Routes != nil {
		cur, ok := files[c.Spec.Traffic.File]
		if !ok {
			cur = manifest
		}
		out, err := setRoutes(prov, c, cur, *d.Routes)
		switch {
		case err != nil && d.Action == rollout.ActionRollback:
			// A rollback never waits on routes it cannot remove: the weight
			// goes back to 0 in this commit, and the status says which
			// routes are left for a human.
			d.Status.Message += fmt.Sprintf("; routes left in place: %v", err)
		case err != nil:
			return nil, err
		case !bytes.Equal(out, cur):
			files[c.Spec.Traffic.File] = out
		}
	}
	if d.Promote {
		vars := spec.PromoteVarsOf(c)
		for i, ed := range c.Spec.Promote {
			value, err := spec.RenderPromoteValue(ed.Value, vars)
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

// setRoutes makes doc hold exactly the birdwatch routes r. A provider that
// cannot route (smi, yamlpath) accepts only "no routes": validation refuses
// specs that need more, so reaching that error means the spec changed under
// a rollout in flight.
func setRoutes(prov traffic.Provider, c *spec.Canary, doc []byte, r spec.Routing) ([]byte, error) {
	router, ok := prov.(traffic.Router)
	if !ok {
		if r.Empty() {
			return doc, nil
		}
		return nil, fmt.Errorf("set routes in %s: provider %s: %w", c.Spec.Traffic.File, c.Spec.Traffic.Provider, traffic.ErrUnsupported)
	}
	out, err := router.SetRoutes(doc, TrafficRoutes(r))
	if err != nil {
		return nil, fmt.Errorf("set routes in %s: %w", c.Spec.Traffic.File, err)
	}
	return out, nil
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

// routesNote describes the routes a decision sets, for commit subjects:
// ", routes: header ab, mirror m 20%" or ", routes: none".
func routesNote(r *spec.Routing) string {
	if r == nil {
		return ""
	}
	return ", routes: " + r.Summary()
}

// commitMessage renders DESIGN.md's commit format: a subject naming the
// canary, version and change; the analysis table; trailers.
// before is the routing the manifest held; removing none is not news.
func commitMessage(c *spec.Canary, d rollout.Decision, res *judge.Result, trigger string, before spec.Routing) repo.Message {
	st := d.Status
	routes := d.Routes
	if routes != nil && routes.Empty() && before.Empty() {
		routes = nil
	}
	steps := len(c.Spec.Steps)
	where := fmt.Sprintf("(step %d/%d)", min(st.Step, steps), steps)
	var what string
	switch {
	case d.Action == rollout.ActionPromote:
		what = fmt.Sprintf("promoted, weight %d -> 0%s, stable %s", d.From, routesNote(routes), st.Generation)
	case d.SetWeight != nil && *d.SetWeight != d.From:
		what = fmt.Sprintf("%s, weight %d -> %d%s %s", d.Action, d.From, *d.SetWeight, routesNote(routes), where)
	case routes != nil:
		what = fmt.Sprintf("%s at weight %d%s %s", d.Action, st.Weight, routesNote(routes), where)
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
