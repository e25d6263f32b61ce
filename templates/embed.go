// Package templates holds birdwatch's embedded metric templates: one YAML
// file per metric under metrics/, each with PromQL queries written as Go
// text/template strings. analyzer/metrics renders and runs them.
//
// A template file has these fields:
//
//	name:        the template's name, equal to the file name without .yaml
//	description: one sentence for people
//	unit:        unit of the value, for example percent or ms
//	provider:    metrics provider type; default prometheus
//	args:        optional map of extra argument name -> description, used
//	             in queries as {{ .Args.name }}
//	query:       the value for ONE version over the window (one series)
//	errors:      count of bad events for one version over the window
//	requests:    count of all events for one version over the window
//	buckets:     a latency histogram's bucket counters for one version,
//	             sum by (le) (increase(SELECTOR_bucket{...}[{{ .Window }}]))
//
// A histogram metric (buckets) may omit query too: the sequential judge
// tests the canary's share of requests above the stable's quantile bucket
// (analyzer/stats QuantileTest); the provider reads each le series from raw
// samples (analyzer/metrics BucketWindow), so Prometheus is required.
// A count metric may omit query: its value is then 100*errors/requests
// (percent). requests is what a spec's minRequests is checked against.
// For Prometheus, write counts as sum(increase(SELECTOR[{{ .Window }}]))
// terms joined by + or -, optionally followed by "or vector(0)", or picked
// per version with the label_replace switch of envoy-error-rate: the
// provider then counts them from raw samples (analyzer/metrics
// CountWindow) instead of running increase(), which extrapolates, and
// leaves out a pod whose window is partial.
// Queries see the variables of analyzer/metrics.Vars: .Service, .Namespace,
// .Version, .Stable, .Canary (used inside double-quoted PromQL strings),
// .Window and .Interval (PromQL durations) and .Args.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

//go:embed metrics/*.yaml
var metricFiles embed.FS

// ErrUnknownTemplate is returned by Metric for a name no embedded template has.
var ErrUnknownTemplate = errors.New("unknown metric template")

// ErrInvalidTemplate is returned by Parse and Validate for a template that
// breaks the rules in the package documentation.
var ErrInvalidTemplate = errors.New("invalid metric template")

// Template is one metric template. Queries are Go text/template strings; an
// empty query field means the template does not define it. The zero value is
// invalid.
type Template struct {
	// Name identifies the template, for example "istio-error-rate".
	Name string `yaml:"name"`
	// Description says what the value means, for people.
	Description string `yaml:"description"`
	// Unit is the unit of the value, for example "percent" or "ms".
	Unit string `yaml:"unit"`
	// Provider is the metrics provider type the queries are written for
	// (datadog, influxdb, ...); empty means prometheus. Templates of other
	// providers are used by copying them into a MetricTemplate of the
	// repository (birdwatch templates NAME), which says where the
	// provider is and which secret it uses.
	Provider string `yaml:"provider,omitempty"`
	// Args maps each extra argument the queries use as {{ .Args.NAME }} to
	// its description. Nil means the queries use no arguments.
	Args map[string]string `yaml:"args,omitempty"`
	// Query yields the metric's value for one version: one series or a
	// scalar. Empty for a count metric whose value is 100*Errors/Requests.
	Query string `yaml:"query,omitempty"`
	// Errors counts bad events of one version over the window; empty if the
	// template has no error count.
	Errors string `yaml:"errors,omitempty"`
	// Requests counts all events of one version over the window; empty if
	// the template has no request count (then minRequests cannot be checked).
	Requests string `yaml:"requests,omitempty"`
	// Buckets reads one version's latency histogram over the window, as
	// sum by (le) (increase(SELECTOR[WINDOW])) of its _bucket counters;
	// empty if the template has no histogram.
	Buckets string `yaml:"buckets,omitempty"`
}

var namePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// Validate reports whether t is well formed: a name made of lowercase
// letters, digits and inner dashes, a unit, a query, buckets or both errors
// and requests, errors only together with requests, and every query parsing as a
// Go text/template. Whether the queries use only known variables is checked by
// analyzer/metrics.CheckTemplate. Errors wrap ErrInvalidTemplate.
func (t Template) Validate() error {
	var problems []string
	if !namePattern.MatchString(t.Name) {
		problems = append(problems, fmt.Sprintf("name %q: want lowercase letters, digits and dashes", t.Name))
	}
	if strings.TrimSpace(t.Unit) == "" {
		problems = append(problems, "unit: missing")
	}
	if t.Query == "" && t.Buckets == "" && (t.Errors == "" || t.Requests == "") {
		problems = append(problems, "query: missing, and neither buckets nor both errors and requests are given")
	}
	if t.Errors != "" && t.Requests == "" {
		problems = append(problems, "errors: given without requests")
	}
	for _, q := range []struct{ field, text string }{{"query", t.Query}, {"errors", t.Errors}, {"requests", t.Requests}, {"buckets", t.Buckets}} {
		if q.text == "" {
			continue
		}
		if _, err := template.New(q.field).Funcs(parseFuncs).Parse(NormalizeArgs(q.text)); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", q.field, err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w %q: %s", ErrInvalidTemplate, t.Name, strings.Join(problems, "; "))
	}
	return nil
}

// Parse decodes one template from YAML, rejecting unknown fields, and
// validates it. Errors wrap ErrInvalidTemplate.
func Parse(data []byte) (Template, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var t Template
	if err := dec.Decode(&t); err != nil {
		return Template{}, fmt.Errorf("%w: error decoding YAML: %w", ErrInvalidTemplate, err)
	}
	if err := t.Validate(); err != nil {
		return Template{}, err
	}
	return t, nil
}

// Metric returns the embedded template called name. It returns an error
// wrapping ErrUnknownTemplate if there is none.
func Metric(name string) (Template, error) {
	if !namePattern.MatchString(name) {
		return Template{}, fmt.Errorf("%w: %q", ErrUnknownTemplate, name)
	}
	path := "metrics/" + name + ".yaml"
	data, err := metricFiles.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Template{}, fmt.Errorf("%w: %q (known: %s)", ErrUnknownTemplate, name, strings.Join(Names(), ", "))
	}
	if err != nil {
		return Template{}, fmt.Errorf("error reading %s: %w", path, err)
	}
	t, err := Parse(data)
	if err != nil {
		return Template{}, fmt.Errorf("error parsing %s: %w", path, err)
	}
	if t.Name != name {
		return Template{}, fmt.Errorf("%w: %s declares name %q", ErrInvalidTemplate, path, t.Name)
	}
	return t, nil
}

// Names returns the names of all embedded templates, sorted.
func Names() []string {
	entries, err := metricFiles.ReadDir("metrics")
	if err != nil {
		return nil // cannot happen: the directory is embedded at build time
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	return names
}

// ProviderType is t's provider type, "prometheus" when none is given.
func (t Template) ProviderType() string {
	if t.Provider == "" {
		return "prometheus"
	}
	return t.Provider
}
