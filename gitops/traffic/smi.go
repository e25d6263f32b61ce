package traffic

import (
	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// smiGroup is the SMI traffic split API group. TrafficSplit keeps the same
// spec.backends layout from v1alpha1 to v1alpha4 (v1alpha3 adds
// spec.matches, which does not concern weights), so one provider serves
// every version. In v1alpha1 a weight is a Kubernetes quantity; from
// v1alpha2 on it is an integer.
const (
	smiGroup    = "split.smi-spec.io/"
	smiV1alpha1 = smiGroup + "v1alpha1"
)

// SMI is the "smi" Provider (Linkerd's SMI extension, Open Service Mesh,
// and other SMI meshes). It manages the weights of two backends of one
// TrafficSplit:
//
//	spec.backends[j].service == StableService
//	spec.backends[k].service == CanaryService
//
// Config.Route selects the TrafficSplit by metadata.name; without it the
// one TrafficSplit holding both backends is used. Weights are percentages
// and must sum to 100. In v1alpha1 files weights may be milli quantities
// ("900m" and "100m", summing to 100m); they keep their unit when written.
// An SMI value is immutable and safe for concurrent use.
type SMI struct {
	cfg Config
	m   matcher
}

// NewSMI returns the smi provider for cfg. StableService and CanaryService
// are required and must differ; Route is optional.
func NewSMI(cfg Config) (*SMI, error) {
	if err := checkServices("smi", cfg); err != nil {
		return nil, err
	}
	return &SMI{cfg: cfg, m: matcher{place: "TrafficSplit", item: "backend", key: "service", what: "service",
		stable: cfg.StableService, canary: cfg.CanaryService}}, nil
}

// Weights implements Provider.
func (p *SMI) Weights(doc []byte) (Weights, error) {
	return readWith("smi", doc, p.locate)
}

// SetWeights implements Provider. The current weights need not be valid
// integers (SetWeights can repair them) but the keys must exist.
func (p *SMI) SetWeights(doc []byte, w Weights) ([]byte, error) {
	return writeWith("smi", doc, w, p.locate)
}

// locate finds the one TrafficSplit the config selects.
func (p *SMI) locate(f *yamledit.File) (*split, error) {
	var c candidates
	for _, d := range f.Documents() {
		if !isKind(d, smiGroup, "TrafficSplit") {
			continue
		}
		c.objects++
		name, _ := scalarAt(d, "metadata.name")
		selected, ok := c.selects(p.cfg.Route, name)
		if !ok {
			continue
		}
		s, err := p.m.match(d, objectName(d), "spec.backends", selected)
		if s != nil {
			api, _ := scalarAt(d, "apiVersion")
			s.milli = api == smiV1alpha1
		}
		if err := c.add(s, err); err != nil {
			return nil, err
		}
	}
	return c.pick(&p.m, scope{kinds: "TrafficSplit (apiVersion " + smiGroup + "*)", kind: "TrafficSplit",
		named: "TrafficSplit", route: p.cfg.Route})
}
