package step

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
// A manifest or promote edit that cannot be made is *badInput. A snapshot
// that keeps statuses parsed (StatusReader) gets no status file: it keeps
// Effects.Status instead.
func buildFiles(snap Snapshot, c *spec.Canary, d *rollout.Decision, tr *trafficState) (map[string][]byte, error) {
	files := map[string][]byte{}
	if (d.SetWeight != nil || d.Routes != nil) && tr == nil {
		return nil, fmt.Errorf("%s: traffic manifest not read", c.Key())
	}
	if d.SetWeight != nil {
		out, err := setTrafficWeight(tr.prov, tr.manifest, *d.SetWeight, d.Promote)
		if err != nil {
			return nil, &badInput{fmt.Errorf("set weights in %s: %w", c.Spec.Traffic.File, err)}
		}
		files[c.Spec.Traffic.File] = out
	}
	if cur, ok := files[c.Spec.Traffic.File]; tr != nil && (ok || d.Commit) {
		if !ok {
			cur = tr.manifest
		}
		out, err := previewCanary(tr.prov, cur, *d)
		if err != nil {
			return nil, &badInput{fmt.Errorf("point the preview at the canary in %s: %w", c.Spec.Traffic.File, err)}
		}
		if !bytes.Equal(out, cur) {
			files[c.Spec.Traffic.File] = out
		}
	}
	if d.Routes != nil {
		cur, ok := files[c.Spec.Traffic.File]
		if !ok {
			cur = tr.manifest
		}
		out, err := setRoutes(tr.prov, c, cur, *d.Routes)
		if err != nil {
			return nil, &badInput{err}
		}
		if !bytes.Equal(out, cur) {
			files[c.Spec.Traffic.File] = out
		}
	}
	if d.Promote {
		if err := promoteFiles(snap, c, files); err != nil {
			return nil, &badInput{err}
		}
	}
	if _, parsed := snap.(StatusReader); parsed {
		return files, nil
	}
	st := d.Status
	status, err := spec.MarshalStatus(&st)
	if err != nil {
		return nil, err
	}
	files[c.StatusPath()] = status
	return files, nil
}

// promoteFiles makes the spec's promote edits, and sets spec.stable to the
// canary version in the spec itself, so Git reads "stable == canary" and
// nothing is left to roll out.
func promoteFiles(snap Snapshot, c *spec.Canary, files map[string][]byte) error {
	vars := spec.PromoteVarsOf(c)
	for i, ed := range c.Spec.Promote {
		value, err := spec.RenderPromoteValue(ed.Value, vars)
		if err != nil {
			return fmt.Errorf("%s: spec.promote[%d].value: %w", c.File, i, err)
		}
		if err := editFile(snap, files, ed.File, ed.Path, value); err != nil {
			return fmt.Errorf("%s: spec.promote[%d]: %w", c.File, i, err)
		}
	}
	sel := fmt.Sprintf("{%d}spec.stable", c.Doc)
	if err := editFile(snap, files, c.File, sel, c.Spec.Canary); err != nil {
		return fmt.Errorf("%s: set spec.stable: %w", c.File, err)
	}
	return nil
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
func editFile(snap Snapshot, files map[string][]byte, file, path, value string) error {
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

// setTrafficWeight writes the decision's weight w into doc. A promotion
// goes through traffic.Promoter where the provider has one (service: the
// canary version keeps the traffic as it becomes the stable one). A weight
// a traffic.Approximator cannot make is an error; what it makes of the
// others ("weight 10 is 1 of 3 pods (33%)") the state machine records in
// status.split (splitOf).
func setTrafficWeight(prov traffic.Provider, doc []byte, w int, promote bool) ([]byte, error) {
	if p, ok := prov.(traffic.Promoter); ok && promote {
		return p.Promote(doc)
	}
	tw := traffic.Weights{Stable: 100 - w, Canary: w}
	if a, ok := prov.(traffic.Approximator); ok {
		if _, _, err := a.Approximate(doc, tw); err != nil {
			return nil, err
		}
	}
	return prov.SetWeights(doc, tw)
}

// splitOf is rollout.Input.Split for the manifest doc of provider prov:
// what an Approximator makes of a weight ("" when it cannot say, as
// setTrafficWeight then refuses the weight). A promotion by a Promoter
// sets no weight.
func splitOf(prov traffic.Provider, doc []byte) func(int, bool) string {
	a, ok := prov.(traffic.Approximator)
	if !ok {
		return nil
	}
	return func(w int, promote bool) string {
		if _, ok := prov.(traffic.Promoter); ok && promote {
			return ""
		}
		_, note, err := a.Approximate(doc, traffic.Weights{Stable: 100 - w, Canary: w})
		if err != nil {
			return ""
		}
		return note
	}
}

// previewCanary points a traffic.Previewer's preview at the canary on a
// commit of a rollout in progress; other providers and finished rollouts
// leave doc as it is.
func previewCanary(prov traffic.Provider, doc []byte, d rollout.Decision) ([]byte, error) {
	p, ok := prov.(traffic.Previewer)
	if !ok || d.Promote || d.Status.Phase.Terminal() {
		return doc, nil
	}
	return p.Preview(doc)
}
