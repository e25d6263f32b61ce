package core

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/sync"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

const fluxSync = "  sync: {engine: flux, object: kustomization/flux-system/apps, timeout: 5m}\n"

// kustomization is a Flux Kustomization that applied main@sha1:rev and
// turned Ready at readyAt, in kustomize-controller's status shape.
func kustomization(rev string, readyAt time.Time) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "apps", "namespace": "flux-system", "generation": int64(1)},
		"spec":     map[string]any{"interval": "1m", "path": "./apps", "prune": true, "sourceRef": map[string]any{"kind": "GitRepository", "name": "flux-system"}},
		"status": map[string]any{
			"observedGeneration": int64(1), "lastAppliedRevision": "main@sha1:" + rev, "lastAttemptedRevision": "main@sha1:" + rev,
			"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
				"message": "Applied revision: main@sha1:" + rev, "observedGeneration": int64(1),
				"lastTransitionTime": readyAt.UTC().Format(time.RFC3339)}},
		},
	}}
}

func fluxEngines(e *Engine, objs ...*unstructured.Unstructured) sync.Engines {
	rs := make([]runtime.Object, len(objs))
	for i, o := range objs {
		rs[i] = o
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}: "KustomizationList"}, rs...)
	return sync.Engines{"none": sync.None{}, "flux": sync.Flux{Cluster: sync.StaticCluster{Client: dyn}, Revisions: e.Repo.(sync.Revisions)}}
}

// TestSyncTimeoutFreezes: the Kustomization named by the spec does not
// exist, so the weight is never applied; after spec.sync.timeout the
// rollout is Frozen with a message naming what is missing, and nothing more
// is committed afterwards.
func TestSyncTimeoutFreezes(t *testing.T) {
	f := newFleet(t, weightsOnly(fluxSync))
	c := newClock(dataEnd.Add(-time.Hour))
	e := &Engine{Repo: openRepo(t, f.URL()), Judges: testJudges(), Now: c.Now}
	e.Sync = fluxEngines(e)
	tests := []struct {
		name       string
		advance    time.Duration
		assertions func(t *testing.T, o Outcome)
	}{
		{name: "weight committed", assertions: func(t *testing.T, o Outcome) {
			if o.Decision.Action != rollout.ActionAdvance || o.Commit == "" {
				t.Errorf("%s %q", o.Decision.Action, o.Decision.Reason)
			}
		}},
		{name: "waiting names the missing object", advance: 4 * time.Minute, assertions: func(t *testing.T, o Outcome) {
			if o.Decision.Action != rollout.ActionWait || o.Commit != "" || !strings.Contains(o.Decision.Reason, "kustomization flux-system/apps not found") {
				t.Errorf("%s %q commit %q", o.Decision.Action, o.Decision.Reason, o.Commit)
			}
		}},
		{name: "timeout freezes", advance: 2 * time.Minute, assertions: func(t *testing.T, o Outcome) {
			st := statusAt(t, f, "main")
			if o.Decision.Action != rollout.ActionFreeze || st.Phase != spec.PhaseFrozen ||
				st.Message != "weight 10 not applied within 5m0s: kustomization flux-system/apps not found" {
				t.Errorf("%s; status %s %q", o.Decision.Action, st.Phase, st.Message)
			}
		}},
		{name: "frozen: nothing more is committed", advance: time.Hour, assertions: func(t *testing.T, o Outcome) {
			if o.Commit != "" || o.Decision.Commit {
				t.Errorf("committed again: %s %q", o.Decision.Action, o.Decision.Reason)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.advance(tt.advance)
			tt.assertions(t, runOnce(t, e))
		})
	}
}

// TestFluxGateInTheLoop: Flux applied the weight commit; the status records
// the Ready condition's time as appliedAt and the rollout moves on.
func TestFluxGateInTheLoop(t *testing.T) {
	f := newFleet(t, weightsOnly(fluxSync))
	c := newClock(dataEnd.Add(-time.Hour))
	e := &Engine{Repo: openRepo(t, f.URL()), Judges: testJudges(), Now: c.Now}
	e.Sync = fluxEngines(e)
	o := runOnce(t, e)
	readyAt := c.now.Add(20 * time.Second)
	e.Sync = fluxEngines(e, kustomization(o.Commit, readyAt))
	c.advance(time.Minute)
	o = runOnce(t, e)
	if o.Decision.Action != rollout.ActionAdvance {
		t.Fatalf("%s %q", o.Decision.Action, o.Decision.Reason)
	}
	st := statusAt(t, f, "main")
	if st.Weight != 50 || st.History[len(st.History)-2].Decision != "synced" {
		t.Errorf("status weight %d, history %+v", st.Weight, st.History)
	}
	if !strings.Contains(st.History[len(st.History)-2].Reason, readyAt.UTC().Format(time.RFC3339)) {
		t.Errorf("synced at %q, want the Ready time %s", st.History[len(st.History)-2].Reason, readyAt)
	}
	if _, err := e.Run(context.Background(), Request{}); err != nil {
		t.Fatal(err)
	}
}
