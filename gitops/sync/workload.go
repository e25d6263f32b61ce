package sync

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// workloadKinds are the kinds spec.sync.workload may name.
var workloadKinds = map[string]schema.GroupVersionResource{"deployment": deploymentGVR, "statefulset": statefulSetGVR}

// readWorkload checks that a Deployment or StatefulSet runs its current
// spec on every replica: status.observedGeneration >= metadata.generation,
// and updatedReplicas and availableReplicas (readyReplicas for a
// StatefulSet without availableReplicas) equal to spec.replicas (default 1),
// and no old replica left (status.replicas), as kubectl rollout status checks.
// Its time is the Available condition's lastTransitionTime, where there is
// one.
func readWorkload(ref objectRef, u *unstructured.Unstructured) state {
	gen := u.GetGeneration()
	observed, _ := nestedInt(u, "status", "observedGeneration")
	if observed < gen {
		return state{waiting: fmt.Sprintf("%s has not observed generation %d yet (observed %d)", ref, gen, observed)}
	}
	want, ok := nestedInt(u, "spec", "replicas")
	if !ok {
		want = 1
	}
	updated, _ := nestedInt(u, "status", "updatedReplicas")
	available, ok := nestedInt(u, "status", "availableReplicas")
	if !ok && ref.Kind == "statefulset" {
		available, _ = nestedInt(u, "status", "readyReplicas")
	}
	if want == 0 {
		return state{waiting: ref.String() + " is scaled to 0 replicas"}
	}
	if current, _ := nestedInt(u, "status", "replicas"); current > updated {
		return state{waiting: fmt.Sprintf("%s is rolling out: %d old replicas still running", ref, current-updated)}
	}
	if updated != want || available != want {
		return state{waiting: fmt.Sprintf("%s is not ready: %d of %d replicas updated, %d available", ref, updated, want, available)}
	}
	s := state{}
	if c, ok := findCondition(u, "Available"); ok && c.Status == "True" {
		s.at = c.LastTransitionTime
	}
	return s
}
