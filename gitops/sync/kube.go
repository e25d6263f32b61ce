package sync

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// KubeConfig says how to reach the cluster the applier runs in. The zero
// KubeConfig means: the in-cluster service account when running in a pod,
// else the kubeconfig of $KUBECONFIG or ~/.kube/config.
type KubeConfig struct {
	// Kubeconfig is the path of a kubeconfig file; "" means the default
	// loading rules. Ignored when EKS is set.
	Kubeconfig string
	// Context is the kubeconfig context to use; "" means its current one.
	Context string
	// EKS, when non-nil, reaches an Amazon EKS cluster with a token made
	// from the process's AWS credentials, as `aws eks get-token` does (for
	// Lambda, which has no kubeconfig).
	EKS *EKSConfig
}

// Kubernetes is a Cluster built from Config on first use and kept for
// later calls (a warm Lambda reuses it). A failed build is retried on the
// next call. It is safe for concurrent use; do not copy it after use.
type Kubernetes struct {
	Config KubeConfig

	mu     gosync.Mutex
	client dynamic.Interface
}

// Dynamic returns the client, building it on the first call. The error
// wraps ErrNoCluster when no configuration could be found.
func (k *Kubernetes) Dynamic(ctx context.Context) (dynamic.Interface, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.client != nil {
		return k.client, nil
	}
	cfg, err := k.Config.rest(ctx)
	if err != nil {
		return nil, err
	}
	c, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build Kubernetes client: %w", err)
	}
	k.client = c
	return c, nil
}

// rest builds the client-go configuration.
func (kc KubeConfig) rest(ctx context.Context) (*rest.Config, error) {
	if kc.EKS != nil {
		return kc.EKS.rest(ctx)
	}
	if kc.Kubeconfig == "" && kc.Context == "" {
		cfg, err := rest.InClusterConfig()
		if err == nil {
			return cfg, nil
		}
		if !errors.Is(err, rest.ErrNotInCluster) {
			return nil, fmt.Errorf("in-cluster Kubernetes config: %w", err)
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kc.Kubeconfig != "" {
		rules.ExplicitPath = kc.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: kc.Context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, fmt.Errorf("%w: not in a pod and no kubeconfig (set BIRDWATCH_KUBECONFIG or the EKS settings)", ErrNoCluster)
	}
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	return cfg, nil
}
