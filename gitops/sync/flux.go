package sync

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Flux is the gate for spec.sync.engine flux. spec.sync.object lists, comma
// separated, the Flux objects that apply the canary's manifests:
// "kustomization/flux-system/apps" (a bare "kustomization/apps" is in
// flux-system) and "helmrelease/games/aleph". The weight counts as applied
// when every object is Ready for its current generation, the Git revision a
// Kustomization applied (status.lastAppliedRevision, "main@sha1:<hash>")
// holds a status file with the current generation, step and weight, and
// the workload of spec.sync.workload is ready. A HelmRelease reports a
// chart version, not a commit, so it proves only that the release is done;
// at least one listed object must report a revision (a chart version with a
// "+<short hash>" suffix, from reconcileStrategy Revision, counts when it is
// the branch head).
//
// The applied time is the Ready condition's lastTransitionTime (Flux moves
// it when the applied revision changes), or the time of the call when that
// is older than the weight commit. Flux is safe for concurrent use when its
// fields are.
type Flux struct {
	Cluster   Cluster
	Revisions Revisions
}

var fluxKinds = map[string]schema.GroupVersionResource{"kustomization": kustomizationGVR, "helmrelease": helmReleaseGVR}

func (f Flux) gate() kubeGate {
	return kubeGate{engine: "flux", cluster: f.Cluster, revisions: f.Revisions, kinds: fluxKinds,
		defaultNS: "flux-system", read: readFlux}
}

// Observe reports when the weight in st was applied, or why not yet.
func (f Flux) Observe(ctx context.Context, c *spec.Canary, st *spec.Status, now time.Time) (Observation, error) {
	return f.gate().observe(ctx, c, st, now)
}

// AppliedAt implements Gate.
func (f Flux) AppliedAt(ctx context.Context, c *spec.Canary, st *spec.Status, now time.Time) (*time.Time, error) {
	return appliedAt(f.Observe(ctx, c, st, now))
}

// readFlux reads a Kustomization or HelmRelease: reconciled at its
// generation, Ready, and the revision it applied.
func readFlux(ref objectRef, u *unstructured.Unstructured) state {
	gen := u.GetGeneration()
	if observed, _ := nestedInt(u, "status", "observedGeneration"); observed < gen {
		return state{waiting: fmt.Sprintf("%s has not reconciled generation %d yet (observed %d)", ref, gen, observed)}
	}
	ready, ok := findCondition(u, "Ready")
	switch {
	case !ok:
		return state{waiting: ref.String() + " has no Ready condition yet"}
	case ready.Status != "True":
		return state{waiting: fmt.Sprintf("%s is not Ready: %s: %s", ref, ready.Reason, ready.Message)}
	case ready.ObservedGeneration != 0 && ready.ObservedGeneration < gen:
		return state{waiting: fmt.Sprintf("%s Ready is for generation %d, not %d", ref, ready.ObservedGeneration, gen)}
	}
	var rev string
	if ref.Kind == "kustomization" {
		rev, _, _ = unstructured.NestedString(u.Object, "status", "lastAppliedRevision")
		if rev == "" {
			return state{waiting: ref.String() + " has applied no revision yet"}
		}
	} else {
		rev, _, _ = unstructured.NestedString(u.Object, "status", "lastAttemptedRevision")
		if rev == "" {
			rev = helmHistoryVersion(u)
		}
		if !strings.Contains(rev, "+") && !strings.Contains(rev, "sha1:") {
			rev = "" // a plain chart version names no commit
		}
	}
	s := state{at: ready.LastTransitionTime}
	if g := gitRevision(rev); g != "" {
		s.revisions = []string{g}
	}
	return s
}

// helmHistoryVersion is the chart version of the newest release in a
// HelmRelease's status.history.
func helmHistoryVersion(u *unstructured.Unstructured) string {
	list, _, _ := unstructured.NestedSlice(u.Object, "status", "history")
	if len(list) == 0 {
		return ""
	}
	m, _ := list[0].(map[string]any)
	v, _ := m["chartVersion"].(string)
	return v
}
