package sync

import "errors"

// Sentinel errors returned (wrapped, test with errors.Is) by this package.
var (
	// ErrBadObject means spec.sync.object or spec.sync.workload cannot be
	// read as "kind/namespace/name" with a kind the engine knows. It is a
	// spec problem: retrying does not help.
	ErrBadObject = errors.New("bad sync object reference")

	// ErrNoCluster means no Kubernetes client could be built (no in-cluster
	// service account, no kubeconfig, no EKS settings).
	ErrNoCluster = errors.New("no Kubernetes cluster configured")
)

// IsSpecError reports whether err comes from a spec.sync field that cannot
// work (a malformed reference, a kind the engine does not know).
func IsSpecError(err error) bool { return errors.Is(err, ErrBadObject) }
