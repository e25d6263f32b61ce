package sync

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

func TestFlux(t *testing.T) {
	fx := newFixture(t)
	now := setAt.Add(5 * time.Minute)
	readyAt := setAt.Add(90 * time.Second)
	ks := map[string]string{"REV": fx.weight, "READY_AT": readyAt.Format(time.RFC3339), "OBSERVED": "3",
		"REASON": "ReconciliationSucceeded", "READY": "True"}
	deploy := map[string]string{"READY_AT": setAt.Add(-time.Hour).Format(time.RFC3339), "AVAILABLE": "2", "UPDATED": "2"}
	hr := map[string]string{"READY_AT": setAt.Add(2 * time.Minute).Format(time.RFC3339), "READY": "True", "CHART": "0.4.0"}
	withWorkload := func(w string) *spec.Canary {
		c := *fx.canary
		c.Spec.Sync.Workload = w
		return &c
	}
	withObject := func(o string) *spec.Canary {
		c := *fx.canary
		c.Spec.Sync.Object = o
		return &c
	}
	tests := []struct {
		name        string
		canary      *spec.Canary
		objs        []*unstructured.Unstructured
		wantAt      *time.Time
		wantWaiting string
	}{
		{name: "applied the weight commit", objs: []*unstructured.Unstructured{object(t, "kustomization.yaml", ks)},
			wantAt: &readyAt},
		{name: "applied a later commit that keeps the status",
			objs:   []*unstructured.Unstructured{object(t, "kustomization.yaml", merge(ks, "REV", fx.human))},
			wantAt: &readyAt},
		{name: "still at the commit before the weight",
			objs:        []*unstructured.Unstructured{object(t, "kustomization.yaml", merge(ks, "REV", fx.before))},
			wantWaiting: "has v04 step 0 weight 0, waiting for v04 step 1 weight 10"},
		{name: "Ready is older than the weight commit: now",
			objs:   []*unstructured.Unstructured{object(t, "kustomization.yaml", merge(ks, "READY_AT", setAt.Add(-time.Hour).Format(time.RFC3339)))},
			wantAt: &now},
		{name: "not Ready",
			objs: []*unstructured.Unstructured{object(t, "kustomization.yaml", merge(ks, "READY", "False",
				"REASON", "BuildFailed"))},
			wantWaiting: "kustomization flux-system/apps is not Ready: BuildFailed"},
		{name: "generation not reconciled", objs: []*unstructured.Unstructured{object(t, "kustomization.yaml", merge(ks, "OBSERVED", "2"))},
			wantWaiting: "has not reconciled generation 3 yet"},
		{name: "object missing", wantWaiting: "kustomization flux-system/apps not found"},
		{name: "revision unknown to the repository",
			objs:        []*unstructured.Unstructured{object(t, "kustomization.yaml", merge(ks, "REV", "0123456789abcdef0123456789abcdef01234567"))},
			wantWaiting: "cannot be read from the repository"},
		{name: "workload ready: the later time wins", canary: withWorkload("deployment/games/aleph-{{ .Canary }}"),
			objs:   []*unstructured.Unstructured{object(t, "kustomization.yaml", ks), object(t, "deployment.yaml", deploy)},
			wantAt: &readyAt},
		{name: "workload rolling out", canary: withWorkload("deployment/aleph-v04"),
			objs:        []*unstructured.Unstructured{object(t, "kustomization.yaml", ks), object(t, "deployment.yaml", merge(deploy, "UPDATED", "1", "AVAILABLE", "1"))},
			wantWaiting: "deployment games/aleph-v04 is rolling out: 1 old replicas"},
		{name: "workload missing", canary: withWorkload("deployment/games/aleph-v05"),
			objs:        []*unstructured.Unstructured{object(t, "kustomization.yaml", ks), object(t, "deployment.yaml", deploy)},
			wantWaiting: "deployment games/aleph-v05 not found"},
		{name: "a HelmRelease alone names no commit", canary: withObject("helmrelease/games/aleph"),
			objs: []*unstructured.Unstructured{object(t, "helmrelease.yaml", hr)}, wantWaiting: "reports a Git revision"},
		{name: "Kustomization and HelmRelease", canary: withObject("kustomization/apps, helmrelease/games/aleph"),
			objs:   []*unstructured.Unstructured{object(t, "kustomization.yaml", ks), object(t, "helmrelease.yaml", hr)},
			wantAt: ptr(setAt.Add(2 * time.Minute))},
		{name: "HelmRelease chart version with the head's short hash", canary: withObject("helmrelease/games/aleph"),
			objs:   []*unstructured.Unstructured{object(t, "helmrelease.yaml", merge(hr, "CHART", "0.4.0+"+fx.human[:12]))},
			wantAt: ptr(setAt.Add(2 * time.Minute))},
		{name: "HelmRelease failing", canary: withObject("kustomization/apps,helmrelease/games/aleph"),
			objs:        []*unstructured.Unstructured{object(t, "kustomization.yaml", ks), object(t, "helmrelease.yaml", merge(hr, "READY", "False"))},
			wantWaiting: "helmrelease games/aleph is not Ready: UpgradeSucceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.canary
			if c == nil {
				c = fx.canary
			}
			check(t, Flux{Cluster: cluster(tt.objs...), Revisions: fx.repo}, c, fx.status, now, tt.wantAt, tt.wantWaiting)
		})
	}
}

func TestFluxSpecErrors(t *testing.T) {
	fx := newFixture(t)
	tests := []struct{ name, object, workload string }{
		{name: "Argo CD kind for Flux", object: "application/argocd/aleph"},
		{name: "too many parts", object: "kustomization/a/b/c"},
		{name: "unknown workload kind", object: "kustomization/apps", workload: "daemonset/games/aleph"},
		{name: "bad workload template", object: "kustomization/apps", workload: "deployment/games/{{ .Nope }}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *fx.canary
			c.Spec.Sync.Object, c.Spec.Sync.Workload = tt.object, tt.workload
			_, err := Flux{Cluster: cluster(), Revisions: fx.repo}.Observe(context.Background(), &c, fx.status, setAt)
			if !errors.Is(err, ErrBadObject) || !IsSpecError(err) {
				t.Errorf("err %v, want ErrBadObject", err)
			}
		})
	}
	if _, err := (Flux{Revisions: fx.repo}).Observe(context.Background(), fx.canary, fx.status, setAt); !errors.Is(err, ErrNoCluster) {
		t.Errorf("no cluster: err %v, want ErrNoCluster", err)
	}
}

func TestGitRevision(t *testing.T) {
	h := "5d0e8f2a6c1b4e3d9f7a8b6c5d4e3f2a1b0c9d8e"
	tests := []struct{ name, in, want string }{
		{"flux v2", "main@sha1:" + h, h},
		{"flux v2 ref", "refs/heads/main@sha1:" + h, h},
		{"flux v1", "main/" + h, h},
		{"argo", h, h},
		{"upper case", "main@sha1:" + "5D0E8F2A6C1B", "5d0e8f2a6c1b"},
		{"chart with short hash", "1.2.3+5d0e8f2a6c1b", "5d0e8f2a6c1b"},
		{"plain chart version", "1.2.3", ""},
		{"oci digest", "latest@sha256:" + h + h[:24], ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gitRevision(tt.in); got != tt.want {
				t.Errorf("gitRevision(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
