package traffic

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// gatewayGroup is the Gateway API group; HTTPRoute (v1, v1beta1, v1alpha2)
// and GRPCRoute (v1, v1alpha2) have the same rule and backendRef layout in
// every version.
const gatewayGroup = "gateway.networking.k8s.io/"

// GatewayAPI is the "gatewayapi" Provider. It manages the weights of two
// backendRefs of one rule of an HTTPRoute or GRPCRoute:
//
//	spec.rules[i].backendRefs[j].name == StableService
//	spec.rules[i].backendRefs[k].name == CanaryService
//
// Config.Route selects the rule by its name (spec.rules[].name), or, for
// routes whose rules have no names, the route object by metadata.name;
// without it the one rule holding both backends is used.
//
// Gateway API weights are proportions and default to 1 when absent;
// birdwatch writes percentages, so both backendRefs must carry a weight key
// and the two must sum to 100. An unweighted backendRef is an error naming
// it, never read as 1. Rules named RoutePrefix* are birdwatch's header
// rules and never the managed rule. GatewayAPI is a Router
// (gatewayapi_routes.go). A GatewayAPI value is immutable and safe for
// concurrent use.
type GatewayAPI struct {
	cfg Config
	m   matcher
}

// NewGatewayAPI returns the gatewayapi provider for cfg. StableService and
// CanaryService are required and must differ; Route is optional.
func NewGatewayAPI(cfg Config) (*GatewayAPI, error) {
	if err := checkServices("gatewayapi", cfg); err != nil {
		return nil, err
	}
	return &GatewayAPI{cfg: cfg, m: matcher{place: "rule", item: "backendRef", key: "name", what: "name",
		stable: cfg.StableService, canary: cfg.CanaryService}}, nil
}

// checkServices validates the service names of the service-based providers.
func checkServices(kind string, cfg Config) error {
	if cfg.StableService == "" || cfg.CanaryService == "" {
		return fmt.Errorf("%s: stableService and canaryService are required: %w", kind, ErrInvalidConfig)
	}
	if cfg.StableService == cfg.CanaryService {
		return fmt.Errorf("%s: stableService and canaryService are both %q: %w", kind, cfg.StableService, ErrInvalidConfig)
	}
	return nil
}

// Weights implements Provider.
func (p *GatewayAPI) Weights(doc []byte) (Weights, error) {
	return readWith("gatewayapi", doc, p.locate)
}

// SetWeights implements Provider. The current weights need not be valid
// integers (SetWeights can repair them) but the keys must exist.
func (p *GatewayAPI) SetWeights(doc []byte, w Weights) ([]byte, error) {
	return writeWith("gatewayapi", doc, w, p.locate)
}

// locate finds the one rule the config selects.
func (p *GatewayAPI) locate(f *yamledit.File) (*split, error) {
	var c candidates
	for _, d := range f.Documents() {
		if !isKind(d, gatewayGroup, "HTTPRoute", "GRPCRoute") {
			continue
		}
		c.objects++
		if err := p.scanRules(d, &c); err != nil {
			return nil, err
		}
	}
	return c.pick(&p.m, scope{kinds: "HTTPRoute or GRPCRoute (apiVersion " + gatewayGroup + "*)", kind: "HTTPRoute/GRPCRoute",
		list: "spec.rules", named: "rule or route", route: p.cfg.Route})
}

// scanRules adds the rules of route object d that the config selects.
func (p *GatewayAPI) scanRules(d *yamledit.Document, c *candidates) error {
	obj := objectName(d)
	rules, err := d.Lookup("spec.rules")
	if errors.Is(err, yamledit.ErrPathNotFound) {
		return nil // a route without rules sends nothing anywhere
	}
	if err != nil || rules.Kind != yaml.SequenceNode {
		return shapeError(obj, "spec.rules", "want a list of rules", err)
	}
	objSelected := false
	if p.cfg.Route != "" {
		name, _ := scalarAt(d, "metadata.name")
		objSelected = name == p.cfg.Route
	}
	if objSelected {
		c.named++
	}
	for i := range rules.Content {
		base := fmt.Sprintf("spec.rules[%d]", i)
		name, _ := scalarAt(d, base+".name")
		if strings.HasPrefix(name, RoutePrefix) {
			continue // birdwatch's header rules hold the canary too, but are never the managed rule
		}
		ruleSelected := false
		if p.cfg.Route != "" {
			ruleSelected = name != "" && name == p.cfg.Route
			if !ruleSelected && !objSelected {
				continue
			}
			if ruleSelected && !objSelected {
				c.named++
			}
		}
		s, err := p.m.match(d, obj, base+".backendRefs", ruleSelected)
		if s != nil {
			s.at = i
		}
		if err := c.add(s, err); err != nil {
			return err
		}
	}
	return nil
}
