package sync

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Cluster gives the dynamic client of the cluster the applier runs in. It
// is asked on every gate call, so it may build the client lazily (a Lambda
// without Kubernetes settings fails only for canaries that need them).
type Cluster interface {
	Dynamic(ctx context.Context) (dynamic.Interface, error)
}

// StaticCluster is a Cluster that is always the same client, e.g. client-go's
// fake dynamic client in tests.
type StaticCluster struct{ Client dynamic.Interface }

// Dynamic returns s.Client, or ErrNoCluster when it is nil.
func (s StaticCluster) Dynamic(context.Context) (dynamic.Interface, error) {
	if s.Client == nil {
		return nil, ErrNoCluster
	}
	return s.Client, nil
}

// state is what one object says about the rollout.
type state struct {
	// revisions are the Git commits (full or short hashes) the object
	// applied: one for Flux, one per source for Argo CD; none when it
	// reports none.
	revisions []string
	// waiting says why the object is not done; "" when it is.
	waiting string
	// at is when the object reached its current state; nil when unknown.
	at *time.Time
}

// reader turns one object into its state.
type reader func(ref objectRef, u *unstructured.Unstructured) state

// kubeGate is what the Flux and Argo CD gates share: read the applier's
// objects, match their revision with the status, check the workload.
type kubeGate struct {
	engine    string
	cluster   Cluster
	revisions Revisions
	kinds     map[string]schema.GroupVersionResource
	defaultNS string
	read      reader
}

// observe implements Observer for both engines.
func (g kubeGate) observe(ctx context.Context, c *spec.Canary, st *spec.Status, now time.Time) (Observation, error) {
	if st == nil {
		return Observation{Waiting: "no status yet"}, nil
	}
	if g.cluster == nil || g.revisions == nil {
		return Observation{}, fmt.Errorf("%s gate: %w", g.engine, ErrNoCluster)
	}
	refs, err := parseRefs("spec.sync.object", c.Spec.Sync.Object, g.defaultNS, g.kinds)
	if err != nil {
		return Observation{}, err
	}
	var workload []objectRef
	if w := c.Spec.Sync.Workload; w != "" {
		if w, err = renderRef("spec.sync.workload", w, c, st); err != nil {
			return Observation{}, err
		}
		if workload, err = parseRefs("spec.sync.workload", w, c.Metadata.Namespace, workloadKinds); err != nil {
			return Observation{}, err
		}
	}
	dyn, err := g.cluster.Dynamic(ctx)
	if err != nil {
		return Observation{}, fmt.Errorf("%s gate: %w", g.engine, err)
	}
	var revTimes, otherTimes []*time.Time
	for _, ref := range refs {
		s, err := readObject(ctx, dyn, ref, g.read)
		if err != nil || s.waiting != "" {
			return Observation{Waiting: s.waiting}, err
		}
		if len(s.revisions) == 0 {
			otherTimes = append(otherTimes, s.at)
			continue
		}
		if why, err := carriesAny(ctx, g.revisions, s.revisions, c, st); err != nil || why != "" {
			return Observation{Waiting: why}, err
		}
		revTimes = append(revTimes, s.at)
	}
	if len(revTimes) == 0 {
		return Observation{Waiting: fmt.Sprintf("no object in spec.sync.object reports a Git revision (%s): "+
			"list the object that applies the repository, e.g. a Kustomization", c.Spec.Sync.Object)}, nil
	}
	for _, ref := range workload {
		s, err := readObject(ctx, dyn, ref, readWorkload)
		if err != nil || s.waiting != "" {
			return Observation{Waiting: s.waiting}, err
		}
		otherTimes = append(otherTimes, s.at)
	}
	at := appliedTime(st.WeightSetAt, now, revTimes, otherTimes)
	return Observation{AppliedAt: &at}, nil
}

// readObject gets ref and reads its state; a missing object is a state
// that waits, so that spec.sync.timeout freezes the rollout with a clear
// message instead of every run failing.
func readObject(ctx context.Context, dyn dynamic.Interface, ref objectRef, read reader) (state, error) {
	u, err := get(ctx, dyn, ref)
	if err != nil {
		return state{}, err
	}
	if u == nil {
		return state{waiting: ref.String() + " not found"}, nil
	}
	return read(ref, u), nil
}

// carriesAny is carries for an object with several sources: one of its
// revisions must carry the weight; the first reason is kept otherwise.
func carriesAny(ctx context.Context, revs Revisions, candidates []string, c *spec.Canary, st *spec.Status) (string, error) {
	first := ""
	for _, rev := range candidates {
		why, err := carries(ctx, revs, rev, c, st)
		if err != nil || why == "" {
			return why, err
		}
		if first == "" {
			first = why
		}
	}
	return first, nil
}

// appliedAt adapts observe to the Gate interface.
func appliedAt(o Observation, err error) (*time.Time, error) {
	if err != nil {
		return nil, err
	}
	return o.AppliedAt, nil
}
