package traffic

import (
	"testing"
)

// trafficSplit builds a TrafficSplit of apiVersion version with the given
// backends section.
func trafficSplit(version, backends string) string {
	return "apiVersion: split.smi-spec.io/" + version + "\nkind: TrafficSplit\nmetadata: {name: aleph, namespace: games}\nspec:\n  service: aleph\n" + backends
}

func backends(stable, canary string) string {
	return "  backends:\n  - service: aleph-primary\n    weight: " + stable + "\n  - service: aleph-canary\n    weight: " + canary + "\n"
}

func TestSMIErrors(t *testing.T) {
	checkErrors(t, "smi", aleph, []errorCase{
		{name: "no TrafficSplit", doc: withWeights("100", "0"), err: ErrObjectNotFound, msg: "no TrafficSplit (apiVersion split.smi-spec.io/*) in the file"},
		{name: "TrafficSplit name not found", doc: trafficSplit("v1alpha2", backends("100", "0")), cfg: Config{Route: "web"},
			err: ErrRouteNotFound, msg: `no TrafficSplit named "web" in 1 TrafficSplit(s)`},
		{name: "named TrafficSplit without backends", doc: trafficSplit("v1alpha2", ""), cfg: Config{Route: "aleph"},
			err: ErrDestinationNotFound, msg: "TrafficSplit games/aleph (document 0): spec.backends: TrafficSplit has no backends"},
		{name: "canary backend missing", doc: trafficSplit("v1alpha3", "  backends:\n  - service: aleph-primary\n    weight: 100\n"),
			err: ErrDestinationNotFound, msg: `spec.backends: no backend with service "aleph-canary"`},
		{name: "milli weights outside v1alpha1", doc: trafficSplit("v1alpha2", backends("50m", "50m")), err: ErrShape, msg: `spec.backends[0].weight: weight "50m" is not an integer`},
		{name: "v1alpha1 weights mix units", doc: trafficSplit("v1alpha1", backends("50m", "50")), err: ErrShape, msg: "spec.backends: weights 50m and 50 mix units"},
		{name: "v1alpha1 milli weights summing to 1", doc: trafficSplit("v1alpha1", backends("500m", "500m")), err: ErrInvalidWeights, msg: "spec.backends[0].weight: weight 500m outside 0..100"},
		{name: "v1alpha1 milli weights not summing to 100m", doc: trafficSplit("v1alpha1", backends("90m", "1m")), err: ErrInvalidWeights,
			msg: `spec.backends: weights 90m (service "aleph-primary") + 1m (service "aleph-canary") do not sum to 100`},
		{name: "weight missing", doc: trafficSplit("v1alpha4", "  backends:\n  - service: aleph-primary\n  - service: aleph-canary\n    weight: 0\n"),
			err: ErrMissingWeight, msg: "spec.backends[0]: no weight"},
		{name: "backends is a mapping", doc: trafficSplit("v1alpha2", "  backends: {service: aleph-primary}\n"), cfg: Config{Route: "aleph"},
			err: ErrShape, msg: "spec.backends: want a list of backends"},
		{name: "two TrafficSplits with both backends", doc: trafficSplit("v1alpha2", backends("100", "0")) + "---\n" + trafficSplit("v1alpha3", backends("100", "0")),
			err: ErrAmbiguous, msg: "2 TrafficSplits have backends with services"},
		{name: "other backend carries traffic", doc: trafficSplit("v1alpha1", backends("50m", "40m")+"  - service: old\n    weight: 10m\n"),
			set: &Weights{90, 10}, err: ErrInvalidWeights, msg: `spec.backends[2].weight: backend is neither stable nor canary but has weight "10m"`},
	})
}
