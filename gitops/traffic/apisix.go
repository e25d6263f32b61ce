package traffic

import (
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// apisixGroup is the API group of the APISIX Ingress Controller; ApisixRoute
// v2 (and v2beta3) keeps spec.http[].backends.
const apisixGroup = "apisix.apache.org/"

// APISIX is the "apisix" Provider. It manages the weights of two backends
// of one HTTP rule of an ApisixRoute:
//
//	spec.http[i].backends[j].serviceName == StableService
//	spec.http[i].backends[k].serviceName == CanaryService
//
// Config.Route selects the rule by its name (spec.http[].name, which
// APISIX requires); without it the one rule holding both backends is
// used. APISIX's weights are proportions (a backend without one weighs
// 100); birdwatch writes percentages, so both backends carry a weight key
// and the two sum to 100. An APISIX value is immutable and safe for
// concurrent use.
type APISIX struct {
	cfg Config
	m   matcher
}

// NewAPISIX returns the apisix provider for cfg. StableService and
// CanaryService are required and must differ; Route is optional.
func NewAPISIX(cfg Config) (*APISIX, error) {
	if err := checkServices("apisix", cfg); err != nil {
		return nil, err
	}
	return &APISIX{cfg: cfg, m: matcher{place: "rule", item: "backend", key: "serviceName", what: "serviceName",
		stable: cfg.StableService, canary: cfg.CanaryService}}, nil
}

// Weights implements Provider.
func (p *APISIX) Weights(doc []byte) (Weights, error) {
	return readWith("apisix", doc, p.locate)
}

// SetWeights implements Provider. The current weights need not be valid
// integers (SetWeights can repair them) but the keys must exist.
func (p *APISIX) SetWeights(doc []byte, w Weights) ([]byte, error) {
	return writeWith("apisix", doc, w, p.locate)
}

// locate finds the one rule the config selects.
func (p *APISIX) locate(f *yamledit.File) (*split, error) {
	var c candidates
	for _, d := range f.Documents() {
		if !isKind(d, apisixGroup, "ApisixRoute") {
			continue
		}
		c.objects++
		obj := objectName(d)
		rules, err := d.Lookup("spec.http")
		if errors.Is(err, yamledit.ErrPathNotFound) {
			continue // a stream-only ApisixRoute
		}
		if err != nil || rules.Kind != yaml.SequenceNode {
			return nil, shapeError(obj, "spec.http", "want a list of rules", err)
		}
		for i := range rules.Content {
			base := fmt.Sprintf("spec.http[%d]", i)
			name, _ := scalarAt(d, base+".name")
			named, ok := c.selects(p.cfg.Route, name)
			if !ok {
				continue
			}
			s, err := p.m.match(d, obj, base+".backends", named)
			if s != nil {
				s.at = i
			}
			if err := c.add(s, err); err != nil {
				return nil, err
			}
		}
	}
	return c.pick(&p.m, scope{kinds: "ApisixRoute (apiVersion " + apisixGroup + "*)", kind: "ApisixRoute",
		list: "spec.http", named: "rule", route: p.cfg.Route})
}
