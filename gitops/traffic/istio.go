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
// of one HTTP route of a VirtualService:
//
//	spec.http[i].route[j].destination.subset == StableSubset
//	spec.http[i].route[k].destination.subset == CanarySubset
//
// Both destinations must exist and carry a weight key; Istio adds none and
// removes none. Other documents in the file (Deployments, DestinationRules,
// other VirtualServices) are skipped; http routes named RoutePrefix* are
// birdwatch's header routes and never the managed route. Istio is a
// Router (istio_routes.go). An Istio value is immutable and safe for
// concurrent use.
type Istio struct {
	cfg Config
	m   matcher
}

// NewIstio returns the istio provider for cfg. StableSubset and CanarySubset
// are required and must differ; Route and Host are optional filters.
func NewIstio(cfg Config) (*Istio, error) {
	if cfg.StableSubset == "" || cfg.CanarySubset == "" {
		return nil, fmt.Errorf("istio: stableSubset and canarySubset are required: %w", ErrInvalidConfig)
	}
	if cfg.StableSubset == cfg.CanarySubset {
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
			named := false
			if p.cfg.Route != "" {
				if name != p.cfg.Route {
					continue
				}
				named = true
				c.named++
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
