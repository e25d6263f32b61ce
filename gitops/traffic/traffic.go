// Package traffic reads and sets canary traffic weights in the manifests
// that Argo CD or Flux apply. Each provider understands one kind of routing
// object (istio: VirtualService; gatewayapi: HTTPRoute and GRPCRoute; smi:
// TrafficSplit; nginx: a canary Ingress; alb: an AWS Load Balancer
// Controller action annotation; traefik: TraefikService; contour:
// HTTPProxy; apisix: ApisixRoute; yamlpath: any YAML value), or none at
// all (replicas: the pod counts of two Deployments; service: a Service's
// version selector), and edits the file's bytes through gitops/yamledit,
// so everything except the weight values is preserved. The istio,
// gatewayapi, nginx, alb, traefik and contour providers are also Routers:
// they add and remove the routes that send requests matching a header,
// cookie or query parameter to the canary (istio, gatewayapi, nginx, alb),
// and the mirror that copies a share of traffic to it (istio, gatewayapi,
// traefik, contour), touching nothing they did not write.
//
// Providers are pure functions of the file content: they do no I/O, hold no
// state and are safe for concurrent use.
package traffic

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Weights is a traffic split in percent. A valid split has both fields in
// 0..100 and Stable+Canary == 100; the zero value is invalid.
type Weights struct {
	// Stable is the percentage of requests sent to the stable version.
	Stable int
	// Canary is the percentage of requests sent to the canary version.
	Canary int
}

// Validate returns nil for a valid split and otherwise an error wrapping
// ErrInvalidWeights.
func (w Weights) Validate() error {
	if w.Stable < 0 || w.Stable > 100 || w.Canary < 0 || w.Canary > 100 || w.Stable+w.Canary != 100 {
		return fmt.Errorf("stable %d + canary %d: want each in 0..100 and a sum of 100: %w", w.Stable, w.Canary, ErrInvalidWeights)
	}
	return nil
}

// String formats w as "stable/canary", e.g. "90/10".
func (w Weights) String() string { return fmt.Sprintf("%d/%d", w.Stable, w.Canary) }

// Config selects a provider and the route it manages; it mirrors the Canary
// spec's traffic section. Fields a provider does not use are ignored.
type Config struct {
	// Provider is the provider kind, e.g. "istio"; see Providers.
	Provider string
	// File is the manifest's path in the Git repository. Providers receive
	// the file's bytes and do not read it; it is carried for callers and
	// messages.
	File string
	// Route names the route. istio: the HTTP route name (spec.http[].name);
	// gatewayapi: a rule name (spec.rules[].name) or the HTTPRoute's or
	// GRPCRoute's metadata.name; smi: the TrafficSplit's metadata.name. ""
	// selects the one route that has both destinations. nginx: the canary
	// Ingress's metadata.name, required.
	Route string
	// Host filters istio destinations by exact destination host, e.g.
	// "aleph" or "aleph.games.svc.cluster.local". "" accepts any host.
	Host string
	// StableSubset is the istio subset serving the stable version, e.g.
	// "production". Required for istio.
	StableSubset string
	// CanarySubset is the istio subset serving the canary version, e.g.
	// "canary". Required for istio, and different from StableSubset.
	CanarySubset string
	// StableService is the Service serving the stable version: the
	// backendRef name (gatewayapi), backend service (smi), service name
	// (traefik, contour), serviceName (apisix, alb target group) or
	// destination host (istio, instead of subsets). Required for all of
	// them.
	StableService string
	// CanaryService is the Service serving the canary version. Required
	// with StableService, and different from it.
	CanaryService string
	// CanaryWeightPath is the yamledit path of the canary weight (yamlpath),
	// e.g. "spec.source.helm.parameters[name=canary.weight].value".
	// Required for yamlpath.
	CanaryWeightPath string
	// StableWeightPath is the yamledit path of the stable weight (yamlpath).
	// "" means the file holds the canary weight only and the stable weight
	// is 100 minus it.
	StableWeightPath string

	// StableDeployment and CanaryDeployment are the metadata.names of the
	// two Deployments whose spec.replicas replicas sets (replicas).
	StableDeployment string
	CanaryDeployment string
	// StableReplicasPath and CanaryReplicasPath are the yamledit paths of
	// the two replica counts, for Helm values or a Kustomize replicas list
	// (replicas), e.g. "replicas[name=podinfo-canary].count".
	StableReplicasPath string
	CanaryReplicasPath string
	// TotalReplicas is the pod count replicas splits; 0 means the sum of
	// the two counts in the file.
	TotalReplicas int

	// ActiveService and PreviewService are the metadata.names of the
	// Services whose selectors service switches; PreviewService is
	// optional.
	ActiveService  string
	PreviewService string
	// VersionLabel is the selector label holding the version (service);
	// "" means "version".
	VersionLabel string
	// StableVersion and CanaryVersion are the two versions (the Canary's
	// spec.stable and spec.canary), the values VersionLabel takes (service).
	StableVersion string
	CanaryVersion string
}

// Provider reads and sets the weights of one route in a manifest file.
// Implementations are safe for concurrent use. They take no context because
// they do no I/O: the caller reads and writes the file.
type Provider interface {
	// Weights returns the current split. It fails if the route cannot be
	// found, a weight is missing or not an integer, or the weights of the
	// two destinations do not sum to 100.
	Weights(doc []byte) (Weights, error)
	// SetWeights returns a copy of doc with the split set to w, changing no
	// other byte. doc is not modified.
	SetWeights(doc []byte, w Weights) ([]byte, error)
}

// Constructor builds a Provider from a Config, validating the fields the
// provider needs.
type Constructor func(Config) (Provider, error)

// Providers returns the built-in provider constructors by kind. The map is
// new on every call; callers may add their own kinds to it and pass it to
// NewFrom.
func Providers() map[string]Constructor {
	return map[string]Constructor{
		"istio":      func(cfg Config) (Provider, error) { return NewIstio(cfg) },
		"gatewayapi": func(cfg Config) (Provider, error) { return NewGatewayAPI(cfg) },
		"smi":        func(cfg Config) (Provider, error) { return NewSMI(cfg) },
		"nginx":      func(cfg Config) (Provider, error) { return NewNGINX(cfg) },
		"yamlpath":   func(cfg Config) (Provider, error) { return NewYAMLPath(cfg) },
		"alb":        func(cfg Config) (Provider, error) { return NewALB(cfg) },
		"traefik":    func(cfg Config) (Provider, error) { return NewTraefik(cfg) },
		"contour":    func(cfg Config) (Provider, error) { return NewContour(cfg) },
		"apisix":     func(cfg Config) (Provider, error) { return NewAPISIX(cfg) },
		"replicas":   func(cfg Config) (Provider, error) { return NewReplicas(cfg) },
		"service":    func(cfg Config) (Provider, error) { return NewService(cfg) },
	}
}

// New builds the built-in provider named by cfg.Provider. An unknown kind is
// an error wrapping ErrUnknownProvider that names it and the known kinds.
func New(cfg Config) (Provider, error) {
	return NewFrom(Providers(), cfg)
}

// NewFrom builds the provider named by cfg.Provider from constructors.
func NewFrom(constructors map[string]Constructor, cfg Config) (Provider, error) {
	ctor, ok := constructors[cfg.Provider]
	if !ok || ctor == nil {
		known := slices.Sorted(maps.Keys(constructors))
		return nil, fmt.Errorf("traffic provider %q (known: %s): %w", cfg.Provider, strings.Join(known, ", "), ErrUnknownProvider)
	}
	p, err := ctor(cfg)
	if err != nil {
		return nil, fmt.Errorf("traffic provider %q: %w", cfg.Provider, err)
	}
	return p, nil
}

// Promoter is a Provider for which promotion is more than weight 0: the
// canary version must stay where the traffic is while it becomes the
// stable one (service: both Services keep selecting it). Callers promote
// with Promote instead of SetWeights(doc, Weights{Stable: 100}).
type Promoter interface {
	Provider
	// Promote returns a copy of doc in which the canary version, now the
	// stable one, receives all traffic.
	Promote(doc []byte) ([]byte, error)
}

// Approximator is a Provider whose manifests hold some splits only
// approximately (replicas: whole pods).
type Approximator interface {
	Provider
	// Approximate returns the split SetWeights(doc, w) writes and, when it
	// is not w, a note saying so for the status and the commit message.
	Approximate(doc []byte, w Weights) (Weights, string, error)
}

// Previewer is a Provider that shows the canary to testers before it gets
// live traffic (service: the preview Service selects it). Callers call
// Preview on every commit of a rollout in progress; it changes nothing
// once done.
type Previewer interface {
	Provider
	// Preview returns a copy of doc in which the preview points at the
	// canary version, the live traffic untouched.
	Preview(doc []byte) ([]byte, error)
}
