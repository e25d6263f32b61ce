package sync

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// ArgoCD is the gate for spec.sync.engine argocd. spec.sync.object names
// the Application, "application/argocd/aleph" (a bare "application/aleph"
// is in argocd). The weight counts as applied when the Application is
// Synced (status.sync.status) and Healthy (status.health.status), no sync
// operation is running, the revision it synced (status.sync.revision, or
// one of status.sync.revisions for a multi-source Application) holds a
// status file with the current generation, step and weight, and the
// workload of spec.sync.workload is ready.
//
// The applied time is status.operationState.finishedAt when that operation
// synced the revision, or the time of the call when it is older than the
// weight commit (Argo CD marks a commit that changes none of the
// Application's manifests Synced without an operation). ArgoCD is safe for
// concurrent use when its fields are.
type ArgoCD struct {
	Cluster   Cluster
	Revisions Revisions
}

var argoKinds = map[string]schema.GroupVersionResource{"application": applicationGVR}

func (a ArgoCD) gate() kubeGate {
	return kubeGate{engine: "argocd", cluster: a.Cluster, revisions: a.Revisions, kinds: argoKinds,
		defaultNS: "argocd", read: readArgo}
}

// Observe reports when the weight in st was applied, or why not yet.
func (a ArgoCD) Observe(ctx context.Context, c *spec.Canary, st *spec.Status, now time.Time) (Observation, error) {
	return a.gate().observe(ctx, c, st, now)
}

// AppliedAt implements Gate.
func (a ArgoCD) AppliedAt(ctx context.Context, c *spec.Canary, st *spec.Status, now time.Time) (*time.Time, error) {
	return appliedAt(a.Observe(ctx, c, st, now))
}

// readArgo reads an Application's sync and health status.
func readArgo(ref objectRef, u *unstructured.Unstructured) state {
	phase, _, _ := unstructured.NestedString(u.Object, "status", "operationState", "phase")
	if phase == "Running" || phase == "Terminating" {
		return state{waiting: fmt.Sprintf("%s has a sync operation %s", ref, strings.ToLower(phase))}
	}
	sync, _, _ := unstructured.NestedString(u.Object, "status", "sync", "status")
	if sync != "Synced" {
		return state{waiting: fmt.Sprintf("%s is %s, not Synced%s", ref, orUnknown(sync), argoConditions(u))}
	}
	health, _, _ := unstructured.NestedString(u.Object, "status", "health", "status")
	if health != "Healthy" {
		msg, _, _ := unstructured.NestedString(u.Object, "status", "health", "message")
		if msg != "" {
			msg = ": " + msg
		}
		return state{waiting: fmt.Sprintf("%s is %s, not Healthy%s", ref, orUnknown(health), msg)}
	}
	revs := argoRevisions(u)
	if len(revs) == 0 {
		return state{waiting: ref.String() + " reports no synced revision"}
	}
	s := state{revisions: revs}
	if finished := parseTime(nestedAny(u, "status", "operationState", "finishedAt")); finished != nil {
		synced := argoOperationRevisions(u)
		if slices.Contains(synced, revs[0]) {
			s.at = finished
		}
	}
	return s
}

// argoRevisions lists the commit hashes of status.sync.revision(s).
func argoRevisions(u *unstructured.Unstructured) []string {
	var out []string
	if r, _, _ := unstructured.NestedString(u.Object, "status", "sync", "revision"); gitRevision(r) != "" {
		out = append(out, gitRevision(r))
	}
	list, _, _ := unstructured.NestedStringSlice(u.Object, "status", "sync", "revisions")
	for _, r := range list {
		if g := gitRevision(r); g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// argoOperationRevisions lists the revisions the last sync operation synced.
func argoOperationRevisions(u *unstructured.Unstructured) []string {
	var out []string
	if r, _, _ := unstructured.NestedString(u.Object, "status", "operationState", "syncResult", "revision"); r != "" {
		out = append(out, gitRevision(r))
	}
	list, _, _ := unstructured.NestedStringSlice(u.Object, "status", "operationState", "syncResult", "revisions")
	for _, r := range list {
		out = append(out, gitRevision(r))
	}
	return out
}

// argoConditions renders the Application's error conditions, e.g.
// ": ComparisonError: rpc error ...", or "".
func argoConditions(u *unstructured.Unstructured) string {
	list, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var parts []string
	for _, item := range list {
		m, _ := item.(map[string]any)
		typ, _ := m["type"].(string)
		msg, _ := m["message"].(string)
		if strings.HasSuffix(typ, "Error") {
			parts = append(parts, typ+": "+msg)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

func nestedAny(u *unstructured.Unstructured, fields ...string) any {
	v, _, _ := unstructured.NestedFieldNoCopy(u.Object, fields...)
	return v
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}
