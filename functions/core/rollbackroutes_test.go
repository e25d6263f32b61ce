package core

import (
	"strings"
	"testing"

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

// TestRollbackGoesThroughWhenRoutesCannotBeRemoved: a rollback whose routes
// cannot be removed still sets the weight to 0 in its commit and says in the
// status which routes are left; any other decision with that problem fails.
func TestRollbackGoesThroughWhenRoutesCannotBeRemoved(t *testing.T) {
	c := &spec.Canary{File: ".birdwatch/aleph.yaml", Metadata: spec.Metadata{Name: "aleph", Namespace: "games"},
		Spec: spec.CanarySpec{Traffic: spec.Traffic{Provider: "istio", File: "vs.yaml", StableSubset: "production", CanarySubset: "canary"}}}
	prov, err := traffic.New(trafficConfig(c))
	if err != nil {
		t.Fatal(err)
	}
	zero := 0
	for _, tt := range []struct {
		name   string
		action rollout.Action
		ok     bool
	}{{"rollback", rollout.ActionRollback, true}, {"advance", rollout.ActionAdvance, false}} {
		t.Run(tt.name, func(t *testing.T) {
			d := rollout.Decision{Action: tt.action, SetWeight: &zero, Routes: &spec.Routing{},
				Status: spec.Status{Generation: "v04", Stable: "v03", Phase: spec.PhaseRolledBack, Message: "error-rate failed"}}
			files, err := buildFiles(nil, c, d, prov, []byte(flowVS))
			if !tt.ok {
				if err == nil {
					t.Fatal("want the routes error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w, err := prov.Weights(files["vs.yaml"])
			if err != nil || w.Canary != 0 || !strings.Contains(string(files["vs.yaml"]), "birdwatch-dev") {
				t.Errorf("weights %v (%v), manifest:\n%s", w, err, files["vs.yaml"])
			}
			if st := string(files[c.StatusPath()]); !strings.Contains(st, "routes left in place") {
				t.Errorf("status does not name the routes left:\n%s", st)
			}
		})
	}
}
