package core

import (
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

// Rollouts without a mesh, through the loop: real Git, a real Prometheus,
// every traffic change a commit of the Services or Deployments.

const servicesFile = "apps/games/aleph/services.yaml"

const alephServices = `# aleph without a mesh: "aleph" serves players, "aleph-preview" testers.
apiVersion: v1
kind: Service
metadata:
  name: aleph
  namespace: games
spec:
  selector:
    app: aleph
    version: v03   # switched by birdwatch
  ports:
  - port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: aleph-preview
  namespace: games
spec:
  selector: {app: aleph, version: v03}
  ports:
  - port: 80
`

const deploymentsFile = "apps/games/aleph/deployments.yaml"

const alephDeployments = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: aleph-stable
  namespace: games
spec:
  replicas: 3 # the total
  template:
    spec:
      containers: [{name: aleph, image: "ghcr.io/example/aleph:v03"}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: aleph-canary
  namespace: games
spec:
  replicas: 0
  template:
    spec:
      containers: [{name: aleph, image: "ghcr.io/example/aleph:v04"}]
`

// noMeshFleet is a fleet whose spec uses traffic instead of the istio
// block and holds file with content beside the example's manifests.
func noMeshFleet(t *testing.T, specText, traffic, file, content string) *fleet.Repo {
	t.Helper()
	istio := "  traffic:\n    provider: istio\n    file: apps/games/aleph/virtualservice.yaml\n    stableSubset: production\n    canarySubset: canary\n"
	if !strings.Contains(specText, istio) {
		t.Fatal("spec has no istio traffic block to replace")
	}
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	files[".birdwatch/aleph.yaml"] = strings.Replace(specText, istio, traffic, 1)
	files[file] = content
	r, err := fleet.CreateFiles(t.Context(), t.TempDir(), files, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestServiceBlueGreenThroughTheLoop(t *testing.T) {
	prom := startPrometheus(t)
	traffic := "  traffic:\n    provider: service\n    file: " + servicesFile + "\n    activeService: aleph\n    previewService: aleph-preview\n"
	f := noMeshFleet(t, strategySpec("v05", "  strategy: blueGreen\n  blueGreen:\n    iterations: 3\n"), traffic, servicesFile, alephServices)
	walk(t, f, prom)
	if st := statusAt(t, f, "main"); st.Phase != spec.PhaseSucceeded {
		t.Fatalf("phase %s: %s", st.Phase, st.Message)
	}
	first := commitOf(t, f, `v05 start`)
	if svc := show(t, f, first, servicesFile); !strings.Contains(svc, "version: v03   # switched") || !strings.Contains(svc, "{app: aleph, version: v05}") {
		t.Errorf("the rollout's first commit does not point the preview at v05 alone:\n%s", svc)
	}
	sw := commitOf(t, f, `v05 advance, weight 0 -> 100`)
	if svc := show(t, f, sw, servicesFile); !strings.Contains(svc, "version: v05   # switched") {
		t.Errorf("the switch commit does not point the active Service at v05:\n%s", svc)
	}
	want := strings.NewReplacer("version: v03   #", "version: v05   #", "version: v03}", "version: v05}").Replace(alephServices)
	if svc := show(t, f, "main", servicesFile); svc != want {
		t.Errorf("after promotion the Services are\n%s\nwant\n%s", svc, want)
	}
}

func TestReplicasCanaryThroughTheLoop(t *testing.T) {
	prom := startPrometheus(t)
	traffic := "  traffic:\n    provider: replicas\n    file: " + deploymentsFile + "\n    stableDeployment: aleph-stable\n    canaryDeployment: aleph-canary\n"
	f := noMeshFleet(t, strings.Replace(testSpec, "canary: v04", "canary: v05", 1), traffic, deploymentsFile, alephDeployments)
	walk(t, f, prom)
	if st := statusAt(t, f, "main"); st.Phase != spec.PhaseSucceeded || st.Split != "" {
		t.Fatalf("phase %s, split %q: %s", st.Phase, st.Split, st.Message)
	}
	ten := commitOf(t, f, `v05 advance, weight 0 -> 10`)
	if st := statusAt(t, f, ten); !strings.HasPrefix(st.Split, "weight 10 is 1 of 3 pods (33%)") {
		t.Errorf("status at weight 10 says split %q", st.Split)
	}
	if d := show(t, f, ten, deploymentsFile); !strings.Contains(d, "replicas: 2 # the total") || !strings.Contains(d, "replicas: 1\n") {
		t.Errorf("weight 10 scaled to\n%s", d)
	}
	half := commitOf(t, f, `v05 advance, weight 10 -> 50`)
	if d := show(t, f, half, deploymentsFile); !strings.Contains(d, "replicas: 1 # the total") || !strings.Contains(d, "replicas: 2\n") {
		t.Errorf("weight 50 scaled to\n%s", d)
	}
	if d := show(t, f, "main", deploymentsFile); d != alephDeployments {
		t.Errorf("after promotion the Deployments are\n%s\nwant\n%s", d, alephDeployments)
	}
}
