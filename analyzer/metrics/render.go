package metrics

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/birdwatch-gitops/birdwatch/templates"
	"github.com/prometheus/common/model"
)

// Vars are the values a query template can use, as {{ .Service }},
// {{ .Window }}, {{ .Args.name }} and so on. Only the variables a template
// uses must be set. Vars is a plain value, safe to share between goroutines
// that do not modify it.
//
// String variables (Service, Namespace, Version, Stable, Canary and the Args
// values) must appear inside double-quoted PromQL strings, for example
// destination_version="{{ .Version }}"; Render escapes them there, so no value
// can end the string or change the query. Inside the string of a regular
// expression matcher (=~ or !~) the value is also regexp-quoted, so it matches
// itself only. (The regex argument of label_replace is not recognised as a
// regex: do not put variables there.) Used outside a double-quoted string
// they are an ErrTemplate error. An empty or
// non-UTF-8 value is rejected with ErrInvalidValue rather than escaped: an
// empty label matcher would select series that lack the label, and Prometheus
// label values are UTF-8.
//
// Duration variables (Interval, Window) render as PromQL durations in whole
// seconds (sub-second parts truncated, at least 1s): 90*time.Second renders as
// "1m30s". Zero or negative durations are rejected with ErrInvalidValue.
type Vars struct {
	// Service is the service name, for example "aleph".
	Service string
	// Namespace is the Kubernetes namespace of the workloads.
	Namespace string
	// Version is the version this query measures: Stable or Canary.
	Version string
	// Stable is the version serving production.
	Stable string
	// Canary is the version under test.
	Canary string
	// Interval is the analysis interval.
	Interval time.Duration
	// Window is the time range the query aggregates over.
	Window time.Duration
	// Args are template-specific arguments; nil means none.
	Args map[string]string
}

// Render executes the Go text/template query with v and returns the PromQL
// expression, trimmed of surrounding space. Referencing an unknown variable or
// a missing argument is an error (missingkey=error). See Vars for how values
// are escaped. Errors wrap ErrTemplate or ErrInvalidValue.
func Render(query string, v Vars) (string, error) {
	return RenderDialect(PromQL, query, v)
}

// Check reports whether query is a valid template that uses only the known
// variables and the arguments named in argNames, each in an allowed place. It
// renders the query with placeholder values, so it needs no real Vars; use it
// when a spec is validated. Errors wrap ErrTemplate.
func Check(query string, argNames ...string) error {
	args := make(map[string]string, len(argNames))
	for _, a := range argNames {
		args[a] = "arg"
	}
	return CheckDialect(PromQL, query, args)
}

// CheckTemplate validates t (templates.Template.Validate) and Checks each of
// its queries with the arguments t declares.
func CheckTemplate(t templates.Template) error {
	if err := t.Validate(); err != nil {
		return err
	}
	d := PromQL
	if t.ProviderType() != "prometheus" {
		d = Plain
	}
	args := make(map[string]string, len(t.Args))
	for _, a := range slices.Sorted(maps.Keys(t.Args)) {
		args[a] = "arg"
	}
	for _, q := range []struct{ field, text string }{{"query", t.Query}, {"errors", t.Errors}, {"requests", t.Requests}, {"buckets", t.Buckets}} {
		if q.text == "" {
			continue
		}
		uses, err := UsesVersion(d, q.text, args)
		if err == nil && !uses {
			err = fmt.Errorf("%w: the query does not use {{ .Version }}", ErrTemplate)
		}
		if err != nil {
			return fmt.Errorf("template %s, %s: %w", t.Name, q.field, err)
		}
	}
	return nil
}

// placeholder stands in for a variable while the template executes; its text
// is a NUL-delimited index into the bindings. Being a struct, not a string,
// it cannot be compared with strings or sliced inside the template, so
// templates cannot branch on values they are not shown.
type placeholder struct{ text string }

// String returns the placeholder's text; text/template prints values with it.
func (p placeholder) String() string { return p.text }

// data is what the template sees: every variable as a placeholder.
type data struct {
	Service, Namespace, Version, Stable, Canary placeholder
	Interval, Window                            placeholder
	Args                                        map[string]placeholder
}

// binding is the real value behind one placeholder.
type binding struct {
	name  string
	str   string
	dur   time.Duration
	isDur bool
}

func bind(v Vars) ([]binding, data) {
	var bs []binding
	ph := func(b binding) placeholder {
		bs = append(bs, b)
		return placeholder{text: "\x00" + strconv.Itoa(len(bs)-1) + "\x00"}
	}
	d := data{
		Service:   ph(binding{name: "Service", str: v.Service}),
		Namespace: ph(binding{name: "Namespace", str: v.Namespace}),
		Version:   ph(binding{name: "Version", str: v.Version}),
		Stable:    ph(binding{name: "Stable", str: v.Stable}),
		Canary:    ph(binding{name: "Canary", str: v.Canary}),
		Interval:  ph(binding{name: "Interval", dur: v.Interval, isDur: true}),
		Window:    ph(binding{name: "Window", dur: v.Window, isDur: true}),
		Args:      make(map[string]placeholder, len(v.Args)),
	}
	for _, k := range slices.Sorted(maps.Keys(v.Args)) {
		d.Args[k] = ph(binding{name: "Args." + k, str: v.Args[k]})
	}
	return bs, d
}

// PromDuration formats d as a PromQL duration in whole seconds: sub-second
// parts are truncated and anything shorter than a second becomes "1s", so
// 90*time.Second gives "1m30s" and 36*time.Hour gives "1d12h". It returns an
// error wrapping ErrInvalidValue for d <= 0.
func PromDuration(d time.Duration) (string, error) {
	if d <= 0 {
		return "", fmt.Errorf("%w: duration %s is not positive", ErrInvalidValue, d)
	}
	d = max(d.Truncate(time.Second), time.Second)
	return model.Duration(d).String(), nil
}

// quoteLabelValue escapes s for use between the double quotes of a PromQL
// string. PromQL strings follow Go's escaping rules (backslash escapes, \n,
// \xNN, \uNNNN, ...; see the Prometheus "Querying basics" docs), so
// strconv.Quote produces exactly what the PromQL lexer reads back.
func quoteLabelValue(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
