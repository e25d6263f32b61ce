// Package schema generates the JSON Schemas of the Canary and the
// MetricTemplate specs from their Go types (gitops/spec) with
// github.com/invopop/jsonschema, so editors with a
// YAML language server complete and check .birdwatch/ files. Descriptions
// come from the Go doc comments of gitops/spec, extracted into
// comments.json by the package's tests (go test ./gitops/schema -update)
// because the binary carries no source.
package schema

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// CanaryID is the schema's $id: where the repository publishes
// gitops/schema/canary.json (kept equal to Canary() by the tests).
const CanaryID = "https://raw.githubusercontent.com/birdwatch-gitops/birdwatch/main/gitops/schema/canary.json"

// Modeline is the first line of a Canary file that makes editors with
// yaml-language-server use the schema; `birdwatch schema > FILE` and
// "$schema=FILE" (a path relative to the spec) work offline.
const Modeline = "# yaml-language-server: $schema=" + CanaryID

// MetricTemplateID is the MetricTemplate schema's $id: where the repository
// publishes gitops/schema/metrictemplate.json.
const MetricTemplateID = "https://raw.githubusercontent.com/birdwatch-gitops/birdwatch/main/gitops/schema/metrictemplate.json"

// MetricTemplateModeline is Modeline for a file of MetricTemplates.
const MetricTemplateModeline = "# yaml-language-server: $schema=" + MetricTemplateID

//go:embed comments.json
var commentsJSON []byte

// durationPattern is what time.ParseDuration accepts (positive durations).
const durationPattern = `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`

// Reflector returns the reflector the schemas are generated with; comments
// maps Go types and fields to descriptions (nil for none).
func Reflector(comments map[string]string) *jsonschema.Reflector {
	return &jsonschema.Reflector{
		CommentMap: comments,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if t == reflect.TypeFor[spec.Duration]() {
				return &jsonschema.Schema{Type: "string", Pattern: durationPattern, Description: "A Go duration such as 90s, 5m or 1h30m."}
			}
			return nil
		},
	}
}

// Canary returns the JSON Schema of a Canary document, indented.
func Canary() ([]byte, error) {
	return generate(&spec.Canary{}, "Canary", CanaryID, spec.Kind)
}

// MetricTemplate returns the JSON Schema of a MetricTemplate document, indented.
func MetricTemplate() ([]byte, error) {
	return generate(&spec.MetricTemplate{}, "MetricTemplate", MetricTemplateID, spec.KindMetricTemplate)
}

// generate reflects v (of Go type name) into a schema with id, whose
// apiVersion and kind each have their one value.
func generate(v any, name, id, kind string) ([]byte, error) {
	var comments map[string]string
	if err := json.Unmarshal(commentsJSON, &comments); err != nil {
		return nil, fmt.Errorf("comments.json: %w", err)
	}
	s := Reflector(comments).Reflect(v)
	s.ID = jsonschema.ID(id)
	s.Title = "birdwatch " + name + " (" + spec.APIVersion + ")"
	if def, ok := s.Definitions[name]; ok {
		if p, ok := def.Properties.Get("apiVersion"); ok {
			p.Enum = []any{spec.APIVersion}
		}
		if p, ok := def.Properties.Get("kind"); ok {
			p.Enum = []any{kind}
		}
	}
	return json.MarshalIndent(s, "", "  ")
}
