package sync

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

func TestArgoCD(t *testing.T) {
	fx := newFixture(t)
	now := setAt.Add(5 * time.Minute)
	finished := setAt.Add(40 * time.Second)
	app := map[string]string{"REV": fx.weight, "READY_AT": finished.Format(time.RFC3339), "HEALTH": "Healthy",
		"PHASE": "Succeeded", "SYNC": "Synced"}
	c := *fx.canary
	c.Spec.Sync = spec.SyncSpec{Engine: "argocd", Object: "application/aleph", Timeout: spec.Duration(10 * time.Minute)}
	multi := func(revs ...any) *unstructured.Unstructured {
		u := object(t, "application.yaml", app)
		if err := unstructured.SetNestedSlice(u.Object, revs, "status", "sync", "revisions"); err != nil {
			t.Fatal(err)
		}
		unstructured.RemoveNestedField(u.Object, "status", "sync", "revision")
		return u
	}
	tests := []struct {
		name        string
		obj         *unstructured.Unstructured
		wantAt      *time.Time
		wantWaiting string
	}{
		{name: "synced and healthy", obj: object(t, "application.yaml", app), wantAt: &finished},
		{name: "synced a later commit without an operation: now",
			obj: func() *unstructured.Unstructured {
				u := object(t, "application.yaml", app)
				_ = unstructured.SetNestedField(u.Object, fx.human, "status", "sync", "revision")
				return u
			}(), wantAt: &now},
		{name: "out of sync", obj: object(t, "application.yaml", merge(app, "SYNC", "OutOfSync")),
			wantWaiting: "application argocd/aleph is OutOfSync, not Synced"},
		{name: "degraded", obj: object(t, "application.yaml", merge(app, "HEALTH", "Degraded")),
			wantWaiting: "application argocd/aleph is Degraded, not Healthy"},
		{name: "progressing health", obj: object(t, "application.yaml", merge(app, "HEALTH", "Progressing")),
			wantWaiting: "is Progressing, not Healthy"},
		{name: "sync running", obj: object(t, "application.yaml", merge(app, "PHASE", "Running")),
			wantWaiting: "has a sync operation running"},
		{name: "synced the commit before the weight", obj: object(t, "application.yaml", merge(app, "REV", fx.before)),
			wantWaiting: "waiting for v04 step 1 weight 10"},
		{name: "multi-source: a chart repository's commit, then ours",
			obj: multi("0123456789abcdef0123456789abcdef01234567", fx.weight), wantAt: &now},
		{name: "missing application", wantWaiting: "application argocd/aleph not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs []*unstructured.Unstructured
			if tt.obj != nil {
				objs = append(objs, tt.obj)
			}
			check(t, ArgoCD{Cluster: cluster(objs...), Revisions: fx.repo}, &c, fx.status, now, tt.wantAt, tt.wantWaiting)
		})
	}
}
