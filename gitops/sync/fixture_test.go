package sync

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"sigs.k8s.io/yaml"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

// setAt is when the weight commit of the fixture was made.
var setAt = time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)

// fixture is a real bare fleet repository whose main holds, oldest first:
// before (status at step 0, weight 0), weight (step 1, weight 10: the
// commit the gate waits for), human (a README edit that keeps the status).
type fixture struct {
	repo                  *repo.Repo
	before, weight, human string
	canary                *spec.Canary
	status                *spec.Status // as committed in weight
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	c := &spec.Canary{Metadata: spec.Metadata{Name: "aleph", Namespace: "games"},
		Spec: spec.CanarySpec{Stable: "v03", Canary: "v04", Sync: spec.SyncSpec{Engine: "flux",
			Object: "kustomization/flux-system/apps", Timeout: spec.Duration(10 * time.Minute)}}}
	before := &spec.Status{Generation: "v04", Stable: "v03", Phase: spec.PhaseProgressing}
	at := setAt
	st := &spec.Status{Generation: "v04", Stable: "v03", Phase: spec.PhaseWaitingForSync, Step: 1, Weight: 10, WeightSetAt: &at}
	f, err := fleet.Create(t.Context(), t.TempDir(), fstest.MapFS{
		"README.md":      {Data: []byte("fleet\n")},
		c.StatusPath():   {Data: marshal(t, before)},
		"apps/README.md": {Data: []byte("apps\n")},
	}, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	gitBare(t, f, "config", "uploadpack.allowReachableSHA1InWant", "true")
	if err := f.Commit(t.Context(), "birdwatch: weight 10", map[string]fleet.Edit{c.StatusPath(): fleet.Put(string(marshal(t, st)))}); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(t.Context(), "human: readme", map[string]fleet.Edit{"README.md": fleet.Put("fleet!\n")}); err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(t.Context(), repo.Options{URL: f.URL(), CacheDir: filepath.Join(t.TempDir(), "cache")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return &fixture{repo: r, canary: c, status: st,
		before: gitBare(t, f, "rev-parse", "main~2"), weight: gitBare(t, f, "rev-parse", "main~1"), human: gitBare(t, f, "rev-parse", "main")}
}

func marshal(t *testing.T, st *spec.Status) []byte {
	t.Helper()
	b, err := spec.MarshalStatus(st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gitBare(t *testing.T, f *fleet.Repo, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"--git-dir", f.Bare}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// object reads testdata/file, replacing ${KEY} with vars[KEY], into an
// unstructured object as the API server would return it.
func object(t *testing.T, file string, vars map[string]string) *unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	text := os.Expand(string(b), func(k string) string {
		v, ok := vars[k]
		if !ok {
			t.Fatalf("%s: no value for ${%s}", file, k)
		}
		return v
	})
	js, err := yaml.YAMLToJSON([]byte(text))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil { // integers as int64, as client-go decodes them
		t.Fatalf("%s: %v", file, err)
	}
	return u
}

// merge returns a copy of base with over's entries set.
func merge(base map[string]string, over ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(over); i += 2 {
		out[over[i]] = over[i+1]
	}
	return out
}

// cluster is client-go's fake dynamic client holding objs.
func cluster(objs ...*unstructured.Unstructured) Cluster {
	lists := map[schema.GroupVersionResource]string{
		kustomizationGVR: "KustomizationList", helmReleaseGVR: "HelmReleaseList", applicationGVR: "ApplicationList",
		deploymentGVR: "DeploymentList", statefulSetGVR: "StatefulSetList"}
	rs := make([]runtime.Object, len(objs))
	for i, o := range objs {
		rs[i] = o
	}
	return StaticCluster{Client: dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists, rs...)}
}

// observer is a gate under test.
type observer interface {
	Observer
	Gate
}

// check runs gate and compares with the wanted applied time or waiting text.
func check(t *testing.T, g observer, c *spec.Canary, st *spec.Status, now time.Time, wantAt *time.Time, wantWaiting string) {
	t.Helper()
	o, err := g.Observe(context.Background(), c, st, now)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case wantAt != nil && (o.AppliedAt == nil || !o.AppliedAt.Equal(*wantAt)):
		t.Errorf("applied at %v (waiting %q), want %v", o.AppliedAt, o.Waiting, *wantAt)
	case wantAt == nil && o.AppliedAt != nil:
		t.Errorf("applied at %v, want waiting %q", *o.AppliedAt, wantWaiting)
	case wantAt == nil && !strings.Contains(o.Waiting, wantWaiting):
		t.Errorf("waiting %q, want it to say %q", o.Waiting, wantWaiting)
	}
	at, err := g.AppliedAt(context.Background(), c, st, now)
	if err != nil || (at == nil) != (o.AppliedAt == nil) {
		t.Errorf("AppliedAt = %v, %v; Observe = %v", at, err, o.AppliedAt)
	}
}
