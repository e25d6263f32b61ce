package aws

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// templatePath is the template under test, relative to this package.
const templatePath = "template.yaml"

// testParams are deploy-time parameter values for the required parameters.
func testParams(amp bool) map[string]any {
	p := map[string]any{
		"Repositories":  "https://github.com/acme/fleet,https://gitlab.com/acme/edge",
		"PrometheusUrl": "http://prometheus.monitoring:9090",
	}
	if amp {
		p["PrometheusUrl"] = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-0123abcd-4567-89ef"
		p["AmpWorkspaceArn"] = "arn:aws:aps:eu-west-1:123456789012:workspace/ws-0123abcd-4567-89ef"
		// The AWS-native variant also turns on every optional metrics feature.
		p["CloudWatchMetrics"] = "true"
		p["MetricsSecrets"] = "true"
		p["PrometheusBearerToken"] = "true"
		p["PrometheusHeaders"] = "X-Scope-OrgID=tenant1"
	}
	return p
}

// stack is a parsed template: goformation's typed model and the same
// processed template as plain JSON values.
type stack struct {
	tpl *cloudformation.Template
	raw map[string]any
}

// parse reads a SAM template with goformation. goformation resolves Ref to
// parameters only and GetAtt to nil, which would hide what a policy or an
// event points at, so Ref, GetAtt and Sub are resolved to markers instead:
// a resource Ref becomes "ref:Name", a GetAtt "getatt:Name.Attr", parameters
// their (overridden) value; conditions are evaluated.
func parse(data []byte, params map[string]any) (*stack, error) {
	opts := &intrinsics.ProcessorOptions{
		ParameterOverrides: params,
		EvaluateConditions: true,
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        refMarker,
			"Fn::GetAtt": getAttMarker,
			"Fn::Sub":    subMarker,
			"Fn::Split":  splitAny,
		},
	}
	tpl, err := goformation.ParseYAMLWithOptions(data, opts)
	if err != nil {
		return nil, err
	}
	processed, err := intrinsics.ProcessYAML(data, opts)
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := json.Unmarshal(processed, &raw); err != nil {
		return nil, fmt.Errorf("decode processed template: %w", err)
	}
	return &stack{tpl: tpl, raw: raw}, nil
}

// loadTemplate parses the committed template with params.
func loadTemplate(t *testing.T, params map[string]any) *stack {
	t.Helper()
	data, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	tpl, err := parse(data, params)
	if err != nil {
		t.Fatalf("parse %s: %v", templatePath, err)
	}
	return tpl
}

func refMarker(_ string, input any, template any) any {
	name, ok := input.(string)
	if !ok {
		return nil
	}
	if strings.HasPrefix(name, "AWS::") {
		return intrinsics.Ref("Ref", name, template)
	}
	if v, ok := section(template, "Parameters")[name]; ok {
		if p, ok := v.(map[string]any); ok {
			return p["Default"]
		}
		return nil
	}
	if _, ok := section(template, "Resources")[name]; ok {
		return "ref:" + name
	}
	return nil // a dangling Ref: the checks report the nil it leaves
}

func getAttMarker(_ string, input any, template any) any {
	var parts []string
	switch v := input.(type) {
	case string:
		parts = strings.SplitN(v, ".", 2)
	case []any:
		for _, p := range v {
			s, _ := p.(string)
			parts = append(parts, s)
		}
	}
	if len(parts) != 2 {
		return nil
	}
	if _, ok := section(template, "Resources")[parts[0]]; !ok {
		return nil
	}
	return "getatt:" + parts[0] + "." + parts[1]
}

func subMarker(_ string, input any, template any) any {
	s, ok := input.(string)
	if !ok {
		return nil // the two-argument form is not used by the template
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		var v any
		if strings.Contains(name, ".") {
			v = getAttMarker("", name, template)
		} else {
			v = refMarker("", name, template)
		}
		if v == nil {
			b.WriteString("<unresolved " + name + ">")
		} else {
			fmt.Fprint(&b, v)
		}
		s = s[i+j+1:]
	}
}

// splitAny is Fn::Split returning []any: goformation's returns []string,
// which its own Fn::Select does not accept, so !Select [0, !Split ...]
// would resolve to nothing.
func splitAny(_ string, input any, _ any) any {
	arr, _ := input.([]any)
	if len(arr) != 2 {
		return nil
	}
	delim, ok1 := arr[0].(string)
	s, ok2 := arr[1].(string)
	if !ok1 || !ok2 {
		return nil
	}
	var out []any
	for _, p := range strings.Split(s, delim) {
		out = append(out, p)
	}
	return out
}

func section(template any, name string) map[string]any {
	m, _ := template.(map[string]any)
	s, _ := m[name].(map[string]any)
	return s
}
