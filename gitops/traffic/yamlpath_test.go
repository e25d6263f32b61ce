package traffic

import (
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

func TestYAMLPathErrors(t *testing.T) {
	const values = "stable:\n  weight: 90\ncanary:\n  weight: 10\n"
	params := "spec:\n  source:\n    helm:\n      parameters:\n      - {name: canary.weight, value: \"10\"}\n      - {name: canary.weight, value: \"20\"}\n"
	checkErrors(t, "yamlpath", Config{CanaryWeightPath: "canary.weight"}, []errorCase{
		{name: "path missing", doc: "canary:\n  replicas: 2\n", err: ErrMissingWeight, msg: `canary.weight: document 0: canary: no key "weight"`},
		{name: "path missing on set", doc: "canary: {}\n", set: &Weights{90, 10}, err: ErrMissingWeight, msg: "canary.weight"},
		{name: "empty file", doc: "# nothing yet\n", err: ErrMissingWeight, msg: "canary.weight: file has no YAML documents"},
		{name: "file changed shape", doc: "canary:\n- weight: 10\n", err: ErrMissingWeight, msg: "canary.weight: document 0: canary: not a mapping (sequence)"},
		{name: "selector matches two items", doc: params, cfg: Config{CanaryWeightPath: "spec.source.helm.parameters[name=canary.weight].value"},
			err: ErrAmbiguous, msg: "spec.source.helm.parameters: 2 items match"},
		{name: "a mapping at the path", doc: "canary:\n  weight: {value: 10}\n", err: ErrShape, msg: "document 0: canary.weight: want an integer weight, found a mapping or list"},
		{name: "not an integer", doc: "canary:\n  weight: 10%\n", err: ErrShape, msg: `canary.weight: weight "10%" is not an integer`},
		{name: "out of range", doc: "canary:\n  weight: 101\n", err: ErrInvalidWeights, msg: "weight 101 outside 0..100"},
		{name: "stable and canary do not sum to 100", doc: "stable:\n  weight: 95\ncanary:\n  weight: 10\n", cfg: Config{StableWeightPath: "stable.weight"},
			err: ErrInvalidWeights, msg: "canary.weight: canary weight 10 + stable weight 95 (at stable.weight) do not sum to 100"},
		{name: "stable path missing", doc: "canary:\n  weight: 10\n", cfg: Config{StableWeightPath: "stable.weight"}, err: ErrMissingWeight, msg: "stable.weight"},
		{name: "block scalar cannot be set", doc: "canary:\n  weight: |\n    10\n", set: &Weights{80, 20}, err: yamledit.ErrUnsupported, msg: "block scalar"},
		{name: "aliased value cannot be set", doc: "stable:\n  weight: &w 50\ncanary:\n  weight: *w\n", set: &Weights{80, 20},
			err: yamledit.ErrUnsupported, msg: "canary.weight: set weights 80/20"},
		{name: "set weights not summing to 100", doc: values, set: &Weights{0, 0}, err: ErrInvalidWeights, msg: "yamlpath: set weights"},
		{name: "YAML syntax error", doc: "canary: [\n", err: yamledit.ErrSyntax},
	})
}
