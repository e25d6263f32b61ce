package spec

import (
	"bytes"
	"text/template"
)

// PromoteVars are the variables of spec.promote values: {{ .Canary }} and co.
type PromoteVars struct{ Name, Namespace, Service, Stable, Canary string }

// PromoteVarsOf returns c's promote variables.
func PromoteVarsOf(c *Canary) PromoteVars {
	return PromoteVars{Name: c.Metadata.Name, Namespace: c.Metadata.Namespace, Service: c.Spec.Service,
		Stable: c.Spec.Stable, Canary: c.Spec.Canary}
}

// RenderPromoteValue renders a spec.promote value as the loop does when it
// promotes: text/template, unknown variables and templates are errors.
func RenderPromoteValue(text string, v PromoteVars) (string, error) {
	t, err := template.New("value").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}
