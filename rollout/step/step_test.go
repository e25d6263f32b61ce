package step

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// flowVS holds a birdwatch route in a flow-style http list: yamledit can set
// the weights there but cannot remove an item from a flow sequence.
const flowVS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: aleph, namespace: games}
spec:
  hosts: [aleph]
  http: [{name: birdwatch-dev, match: [{headers: {cookie: {regex: "^(.*?;\\s*)?user=developer(;.*)?$"}}}], route: [{destination: {host: aleph, subset: canary}}]}, {name: primary, route: [{destination: {host: aleph, subset: production}, weight: 90}, {destination: {host: aleph, subset: canary}, weight: 10}]}]
`

// files is a snapshot in memory.
type files map[string]string

func (f files) ReadFile(p string) ([]byte, error) {
	s, ok := f[p]
	if !ok {
		return nil, fmt.Errorf("read %s: %w", p, fs.ErrNotExist)
	}
	return []byte(s), nil
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// headerCanary routes developers to the canary, then raises the weight.
func headerCanary() *spec.Canary {
	w10, w50 := 10, 50
	c := &spec.Canary{File: ".birdwatch/aleph.yaml", Metadata: spec.Metadata{Name: "aleph", Namespace: "games"}}
	c.Spec.Stable, c.Spec.Canary = "v03", "v04"
	c.Spec.Traffic = spec.Traffic{Provider: "istio", File: "vs.yaml", StableSubset: "production", CanarySubset: "canary"}
	dev := spec.HeaderRoute{Name: "dev", Match: []spec.Match{{Cookie: "user", Exact: "developer"}}}
	c.Spec.Steps = []spec.Step{{SetHeaderRoute: &dev}, {SetWeight: &w10}, {Pause: &spec.Pause{}}, {SetWeight: &w50}}
	c.Spec.Sync.Engine = "none"
	spec.SetDefaults(c)
	return c
}

func statusFile(t *testing.T, st spec.Status) string {
	t.Helper()
	b, err := spec.MarshalStatus(&st)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRollbackGoesThroughWhenRoutesCannotBeRemoved: a rollback whose routes
// cannot be removed still sets the weight to 0 in its commit, and the
// status (made by the state machine, not patched) says which routes are
// left; a decision that must change those routes freezes on bad input.
func TestRollbackGoesThroughWhenRoutesCannotBeRemoved(t *testing.T) {
	c := headerCanary()
	set := t0.Add(-time.Hour)
	st := spec.Status{Generation: "v04", Stable: "v03", Phase: spec.PhasePaused, Step: 2, Weight: 10,
		Routes: spec.RoutingAt(c.Spec.Steps, 2), WeightSetAt: &set, AppliedAt: &set, StepStartedAt: &set}
	snap := files{"vs.yaml": flowVS, c.StatusPath(): statusFile(t, st), c.File: "spec:\n  stable: v03\n"}
	p := Ports{}

	res, err := p.Decide(context.Background(), snap, c, Request{Now: t0, Command: &rollout.Command{Kind: rollout.CmdAbort, Actor: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	ef := res.Effects
	if res.Decision.Action != rollout.ActionRollback || ef.Routes != nil || ef.Weight == nil || *ef.Weight != 0 {
		t.Fatalf("decision %s routes %v weight %v", res.Decision.Action, ef.Routes, ef.Weight)
	}
	prov, _ := traffic.New(TrafficConfig(c))
	if w, err := prov.Weights(ef.Files["vs.yaml"]); err != nil || w.Canary != 0 || !strings.Contains(string(ef.Files["vs.yaml"]), "birdwatch-dev") {
		t.Errorf("weights %v (%v), manifest:\n%s", w, err, ef.Files["vs.yaml"])
	}
	if !strings.Contains(ef.Status.Message, "routes left in place") || !strings.Contains(string(ef.Files[c.StatusPath()]), "routes left in place") ||
		!strings.Contains(ef.Message.Body, "routes left in place") {
		t.Errorf("status, file or commit message does not name the routes left: %q\n%s", ef.Status.Message, ef.Message.Body)
	}

	// promote goes on to setWeight 50: weights can still be set in the flow list.
	res, err = p.Decide(context.Background(), snap, c, Request{Now: t0, Command: &rollout.Command{Kind: rollout.CmdPromote, Actor: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decision.Action != rollout.ActionAdvance || res.Effects.Status.Weight != 50 {
		t.Fatalf("promote: %s weight %d %q", res.Decision.Action, res.Effects.Status.Weight, res.Decision.Reason)
	}
}

// TestBadInputFreezesOnce: a manifest the provider cannot read freezes a
// rollout in flight once, in the state machine; the next decision on the
// frozen status commits nothing and reports the problem.
func TestBadInputFreezesOnce(t *testing.T) {
	c := headerCanary()
	set := t0.Add(-time.Hour)
	st := spec.Status{Generation: "v04", Stable: "v03", Phase: spec.PhasePaused, Step: 2, Weight: 10,
		Routes: spec.RoutingAt(c.Spec.Steps, 2), WeightSetAt: &set, StepStartedAt: &set}
	snap := files{"vs.yaml": "kind: VirtualService\nspec: {http: []}\n", c.StatusPath(): statusFile(t, st)}
	res, err := Ports{}.Decide(context.Background(), snap, c, Request{Now: t0})
	if err != nil || res.Decision.Action != rollout.ActionFreeze || res.Effects.Weight != nil || res.Effects.Routes != nil {
		t.Fatalf("%+v %v", res, err)
	}
	if !strings.Contains(res.Effects.Status.Message, "vs.yaml") || len(res.Effects.Files) != 1 {
		t.Errorf("message %q files %v", res.Effects.Status.Message, res.Effects.Files)
	}
	snap[c.StatusPath()] = string(res.Effects.Files[c.StatusPath()])
	res, err = Ports{}.Decide(context.Background(), snap, c, Request{Now: t0.Add(time.Minute)})
	var bad *BadInputError
	if !errors.As(err, &bad) || res.Effects.Commit {
		t.Fatalf("second decision: %v commit %v", err, res.Effects.Commit)
	}
}

// TestUnreadableStatusIsReportedNotOverwritten: a status file in an
// unknown form names file, line and field and is never overwritten.
func TestUnreadableStatusIsReportedNotOverwritten(t *testing.T) {
	c := headerCanary()
	snap := files{"vs.yaml": flowVS, c.StatusPath(): "generation: v04\nphase: Progressing\nweigth: 10\n"}
	_, err := Ports{}.Decide(context.Background(), snap, c, Request{Now: t0})
	var bad *BadInputError
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), ".birdwatch/status/games/aleph.yaml:3: weigth: unknown field") {
		t.Fatalf("error %v", err)
	}
}
