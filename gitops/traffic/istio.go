package traffic

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// istioGroup is the API group of Istio's networking objects; every version
// (v1alpha3, v1beta1, v1) has the same VirtualService route layout.
const istioGroup = "networking.istio.io/"

// Istio is the "istio" Provider. It manages the weights of two destinations
// of one HTTP route of a VirtualService, named in one of two ways. By
// subset (Flagger's and DestinationRule users' layout):
//
//	spec.http[i].route[j].destination.subset == StableSubset
//	spec.http[i].route[k].destination.subset == CanarySubset
//
// or by host, one Service per version (Argo Rollouts' stableService and
// canaryService):
//
//	spec.http[i].route[j].destination.host == StableService
//	spec.http[i].route[k].destination.host == CanaryService
//
// Hosts are compared as written ("podinfo-canary" is not
// "podinfo-canary.test.svc.cluster.local"). Both destinations must exist
// and carry a weight key; Istio adds none and removes none. Other
// documents in the file (Deployments, DestinationRules, other
// VirtualServices) are skipped; http routes named RoutePrefix* are
// birdwatch's header routes and never the managed route. Istio is a
// Router (istio_routes.go) in both forms: header routes and the mirror go
// to the canary's destination. An Istio value is immutable and safe for
// concurrent use.
type Istio struct {
	cfg Config
	m   matcher
}

// NewIstio returns the istio provider for cfg: StableSubset and
// CanarySubset (Host optional, filtering destinations by host), or
// StableService and CanaryService, not both; each pair must differ. Route
// is an optional filter.
func NewIstio(cfg Config) (*Istio, error) {
	subsets := cfg.StableSubset != "" || cfg.CanarySubset != ""
	hosts := cfg.StableService != "" || cfg.CanaryService != ""
	switch {
	case subsets && hosts:
		return nil, fmt.Errorf("istio: set stableSubset and canarySubset, or stableService and canaryService, not both: %w", ErrInvalidConfig)
	case hosts && cfg.Host != "":
		return nil, fmt.Errorf("istio: host filters subsets; with stableService and canaryService the hosts are the services: %w", ErrInvalidConfig)
	case hosts:
		if err := checkServices("istio", cfg); err != nil {
			return nil, err
		}
		return &Istio{cfg: cfg, m: matcher{place: "route", item: "destination", key: "destination.host", what: "host",
			stable: cfg.StableService, canary: cfg.CanaryService}}, nil
	case cfg.StableSubset == "" || cfg.CanarySubset == "":
		return nil, fmt.Errorf("istio: stableSubset and canarySubset (or stableService and canaryService) are required: %w", ErrInvalidConfig)
	case cfg.StableSubset == cfg.CanarySubset:
		return nil, fmt.Errorf("istio: stableSubset and canarySubset are both %q: %w", cfg.StableSubset, ErrInvalidConfig)
	}
	p := &Istio{cfg: cfg, m: matcher{place: "route", item: "destination", key: "destination.subset", what: "subset",
		stable: cfg.StableSubset, canary: cfg.CanarySubset}}
	if cfg.Host != "" {
		p.m.note = fmt.Sprintf(" and host %q", cfg.Host)
		p.m.filter = func(d *yamledit.Document, item string) bool {
			host, _ := scalarAt(d, item+".destination.host")
			return host == cfg.Host
		}
	}
	return p, nil
}

// byHost reports whether the versions are told apart by destination host.
func (p *Istio) byHost() bool { return p.cfg.CanaryService != "" }

// Weights implements Provider.
func (p *Istio) Weights(doc []byte) (Weights, error) {
	return readWith("istio", doc, p.locate)
}

// SetWeights implements Provider. The current weights need not be valid
// integers (SetWeights can repair them) but the keys must exist.
func (p *Istio) SetWeights(doc []byte, w Weights) ([]byte, error) {
	return writeWith("istio", doc, w, p.locate)
}

// locate finds the one route the config selects.
func (p *Istio) locate(f *yamledit.File) (*split, error) {
	var c candidates
	for _, d := range f.Documents() {
		if !isKind(d, istioGroup, "VirtualService") {
			continue
		}
		c.objects++
		obj := objectName(d)
		http, err := d.Lookup("spec.http")
		if errors.Is(err, yamledit.ErrPathNotFound) {
			continue // a TCP/TLS-only VirtualService
		}
		if err != nil || http.Kind != yaml.SequenceNode {
			return nil, shapeError(obj, "spec.http", "want a list of routes", err)
		}
		for i := range http.Content {
			base := fmt.Sprintf("spec.http[%d]", i)
			name, _ := scalarAt(d, base+".name")
			if strings.HasPrefix(name, RoutePrefix) {
				continue // birdwatch's header routes hold the canary too, but are never the managed route
			}
			named, ok := c.selects(p.cfg.Route, name)
			if !ok {
				continue
			}
			s, err := p.m.match(d, obj, base+".route", named)
			if s != nil {
				s.at = i
			}
			if err := c.add(s, err); err != nil {
				return nil, err
			}
		}
	}
	return c.pick(&p.m, scope{kinds: "VirtualService (apiVersion " + istioGroup + "*)", kind: "VirtualService",
		list: "spec.http", named: "route", route: p.cfg.Route})
}
