package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// KindMetricTemplate is the kind of a MetricTemplate document.
const KindMetricTemplate = "MetricTemplate"

// MetricTemplate is a team's own metric query kept in the repository (any
// file under .birdwatch/), the Flagger way, and used by Canary metrics
// through templateRef.
type MetricTemplate struct {
	APIVersion string             `yaml:"apiVersion" json:"apiVersion"`
	Kind       string             `yaml:"kind" json:"kind"`
	Metadata   Metadata           `yaml:"metadata" json:"metadata"`
	Spec       MetricTemplateSpec `yaml:"spec" json:"spec"`

	// File and Line locate the document (Line of its first key).
	File string `yaml:"-" json:"-"`
	Line int    `yaml:"-" json:"-"`
}

// MetricTemplateSpec is the body of a MetricTemplate. Either Query (one
// value, optionally with Total, the request count minRequests is checked
// against) or both Bad and Total (event counts, which the sequential judge
// tests) are set. Queries are Go text/template strings that see the
// variables of analyzer/metrics.Vars; arguments may be written
// {{ .Args.name }}, {{ .Args.name-with-dashes }} or {{ args.name }} (Argo).
type MetricTemplateSpec struct {
	// Provider is where the queries run; nil means the deployment's
	// Prometheus.
	Provider *MetricProvider `yaml:"provider,omitempty" json:"provider,omitempty"`
	// Description says what the value means, for people.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Unit of the value; default "percent" for counts, "value" otherwise.
	Unit string `yaml:"unit,omitempty" json:"unit,omitempty"`
	// Query yields the metric's value for one version.
	Query string `yaml:"query,omitempty" json:"query,omitempty"`
	// Bad counts bad events of one version over the window; Total all events.
	Bad   string `yaml:"bad,omitempty" json:"bad,omitempty"`
	Total string `yaml:"total,omitempty" json:"total,omitempty"`
	// Buckets reads one version's latency histogram over the window, as
	// sum by (le) (increase(NAME_bucket{...}[{{ .Window }}])); the sequential
	// judge tests it at the metric's quantile (Prometheus only).
	Buckets string `yaml:"buckets,omitempty" json:"buckets,omitempty"`
	// Args are the arguments the queries use, with their defaults; an empty
	// default means every Canary using the template must give the argument.
	Args map[string]string `yaml:"args,omitempty" json:"args,omitempty"`
}

// MetricProvider names the backend of a MetricTemplate. Credentials never
// live in Git: SecretRef names a secret the deployment provides (a file, an
// environment variable or an AWS Secrets Manager secret).
type MetricProvider struct {
	// Type is prometheus, web, datadog, cloudwatch, influxdb, graphite,
	// newrelic or stackdriver (the kinds this build has are checked).
	Type string `yaml:"type" json:"type"`
	// Address is the API's base URL; empty means the provider's default.
	Address string `yaml:"address,omitempty" json:"address,omitempty"`
	// SecretRef names the deployment's secret holding the credentials.
	SecretRef string `yaml:"secretRef,omitempty" json:"secretRef,omitempty"`
	// Region is the AWS region (cloudwatch).
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
	// Headers are extra request headers that are not secret (for example
	// X-Scope-OrgID).
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
}

// TemplateRef names a MetricTemplate; Namespace defaults to the Canary's.
type TemplateRef struct {
	Name      string `yaml:"name" json:"name"`
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	// Line is where the reference is written, for problems; 0 if unknown.
	Line int `yaml:"-" json:"-"`
}

// Key returns "namespace/name".
func (t *MetricTemplate) Key() string { return t.Metadata.Namespace + "/" + t.Metadata.Name }

// ProviderType is the provider's type, "prometheus" when none is given.
func (t *MetricTemplate) ProviderType() string {
	if t.Spec.Provider == nil || t.Spec.Provider.Type == "" {
		return "prometheus"
	}
	return t.Spec.Provider.Type
}

// Queries returns the template's queries by field (query, bad, total, buckets),
// leaving out the ones it does not set.
func (t *MetricTemplate) Queries() map[string]string {
	out := map[string]string{}
	for field, q := range map[string]string{"query": t.Spec.Query, "bad": t.Spec.Bad, "total": t.Spec.Total, "buckets": t.Spec.Buckets} {
		if q != "" {
			out[field] = q
		}
	}
	return out
}

// TemplateArgs returns the arguments a metric's queries render with: the
// resolved MetricTemplate's defaults overridden by the metric's args.
func (m *Metric) TemplateArgs() map[string]string {
	if m.Resolved == nil {
		return m.Args
	}
	return mergeArgs(m.Resolved.Spec.Args, m.Args)
}

// mergeArgs returns defaults overridden by given.
func mergeArgs(defaults, given map[string]string) map[string]string {
	out := make(map[string]string, len(defaults)+len(given))
	maps.Copy(out, defaults)
	maps.Copy(out, given)
	return out
}

// documentKind returns the kind field of a YAML document, or "".
func documentKind(doc *yaml.Node) string {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "kind" {
			return root.Content[i+1].Value
		}
	}
	return ""
}

// setRefLines records where each templateRef of c is written.
func setRefLines(c *Canary, ix *lineIndex) {
	for i := range c.Spec.Analysis.Metrics {
		if r := c.Spec.Analysis.Metrics[i].TemplateRef; r != nil {
			r.Line = ix.lineOf(fmt.Sprintf("spec.analysis.metrics[%d].templateRef", i))
		}
	}
}

// ParseMetricTemplates decodes, defaults and validates every MetricTemplate
// document in data, skipping documents of other kinds. The returned error
// is an *Error listing every problem found, each as file:line: field.
func ParseMetricTemplates(file string, data []byte, checks Checks) ([]*MetricTemplate, error) {
	nodes := yaml.NewDecoder(bytes.NewReader(data))
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	var out []*MetricTemplate
	var all []Problem
	for {
		var doc yaml.Node
		err := nodes.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			all = append(all, yamlProblems(file, nil, nil, err)...)
			break
		}
		if documentKind(&doc) != KindMetricTemplate {
			var skip yaml.Node
			_ = strict.Decode(&skip) // keeps the two decoders on the same document
			continue
		}
		ix := newLineIndex(&doc)
		var t MetricTemplate
		decoding, err := decodeInto(strict, &t, file, ix, templateType)
		if err != nil {
			all = append(all, yamlProblems(file, ix, templateType, err)...)
			continue
		}
		t.File, t.Line = file, docLine(&doc)
		ps := &problems{file: file, index: ix}
		validateMetricTemplate(&t, checks, ps)
		if found := append(decoding, unexplained(decoding, ps.list)...); len(found) > 0 {
			all = append(all, found...)
			continue
		}
		out = append(out, &t)
	}
	if len(all) > 0 {
		return nil, &Error{Problems: all}
	}
	return out, nil
}

// validateMetricTemplate defaults and checks one template.
func validateMetricTemplate(t *MetricTemplate, checks Checks, ps *problems) {
	if t.APIVersion != APIVersion {
		ps.add("apiVersion", "want %q, got %q", APIVersion, t.APIVersion)
	}
	if t.Metadata.Namespace == "" {
		t.Metadata.Namespace = DefaultNamespace
	}
	checkName(ps, "metadata.name", t.Metadata.Name)
	checkName(ps, "metadata.namespace", t.Metadata.Namespace)
	s := &t.Spec
	if p := s.Provider; p != nil && p.SecretRef != "" && !secretRefRE.MatchString(p.SecretRef) {
		ps.add("spec.provider.secretRef", "must name a secret of the deployment (letters, digits, '-', '_', '.', '/'), got %q; secret values never go in Git", p.SecretRef)
	}
	providerOK := true
	if checks.MetricProvider != nil {
		if err := checks.MetricProvider(t.ProviderType()); err != nil {
			ps.add("spec.provider.type", "%v", err)
			providerOK = false
		}
	}
	switch {
	case s.Query != "" && s.Bad != "":
		ps.add("spec", "set either query or bad and total, not both")
	case s.Query == "" && s.Buckets == "" && (s.Bad == "" || s.Total == ""):
		ps.add("spec", "set query (one value), bad and total (event counts), or buckets (a histogram)")
	}
	if s.Unit == "" {
		s.Unit = "value"
		if s.Query == "" {
			s.Unit = "percent"
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Args)) {
		if !argNameRE.MatchString(name) {
			ps.add("spec.args."+name, "want letters, digits, '_' and inner '-'")
		}
	}
	if !providerOK || checks.MetricQuery == nil {
		return
	}
	qs := t.Queries()
	for _, field := range slices.Sorted(maps.Keys(qs)) {
		if err := checks.MetricQuery(t.ProviderType(), qs[field], s.Args); err != nil {
			ps.add("spec."+field, "%v", err)
		}
	}
}

// ResolveTemplates points every templateRef of cs at its MetricTemplate in
// ts (setting Metric.Resolved) and checks the reference: the template
// exists, every argument the metric gives is declared, every argument
// without a default is given, and each query renders with them. Two
// templates with the same namespace and name are a problem too. It returns
// an *Error, or nil.
func ResolveTemplates(cs []*Canary, ts []*MetricTemplate, checks Checks) error {
	lib, all := NewTemplateLibrary(ts)
	for _, c := range cs {
		all = append(all, lib.Resolve(c, checks)...)
	}
	if len(all) > 0 {
		return &Error{Problems: all}
	}
	return nil
}

// TemplateLibrary is the MetricTemplates of one snapshot by namespace/name.
type TemplateLibrary struct{ byKey map[string]*MetricTemplate }

// NewTemplateLibrary indexes ts; a second template of the same
// namespace/name is a problem and is left out.
func NewTemplateLibrary(ts []*MetricTemplate) (*TemplateLibrary, []Problem) {
	lib := &TemplateLibrary{byKey: map[string]*MetricTemplate{}}
	var problems []Problem
	for _, t := range ts {
		if first, dup := lib.byKey[t.Key()]; dup {
			problems = append(problems, Problem{File: t.File, Line: t.Line, Field: "metadata",
				Message: fmt.Sprintf("MetricTemplate %s is also defined in %s", t.Key(), first.File)})
			continue
		}
		lib.byKey[t.Key()] = t
	}
	return lib, problems
}

// Resolve points c's templateRefs at their templates (Metric.Resolved) and
// returns the problems of the references, located at each templateRef.
func (lib *TemplateLibrary) Resolve(c *Canary, checks Checks) []Problem {
	var all []Problem
	for i := range c.Spec.Analysis.Metrics {
		m := &c.Spec.Analysis.Metrics[i]
		if m.TemplateRef == nil {
			continue
		}
		for _, msg := range resolveRef(c, m, lib.byKey, checks) {
			all = append(all, Problem{File: c.File, Line: m.TemplateRef.Line,
				Field: fmt.Sprintf("spec.analysis.metrics[%d].templateRef", i), Message: msg})
		}
	}
	return all
}

// resolveRef resolves one metric's templateRef and returns its problems.
func resolveRef(c *Canary, m *Metric, byKey map[string]*MetricTemplate, checks Checks) []string {
	ns := m.TemplateRef.Namespace
	if ns == "" {
		ns = c.Metadata.Namespace
	}
	t, ok := byKey[ns+"/"+m.TemplateRef.Name]
	if !ok {
		have := strings.Join(slices.Sorted(maps.Keys(byKey)), ", ")
		if have == "" {
			have = "none"
		}
		return []string{fmt.Sprintf("no MetricTemplate %s/%s under %s/ (have: %s)", ns, m.TemplateRef.Name, SpecDir, have)}
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(m.Args)) {
		if _, ok := t.Spec.Args[name]; !ok {
			out = append(out, fmt.Sprintf("argument %q is not declared by MetricTemplate %s (%s:%d)", name, t.Key(), t.File, t.Line))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(t.Spec.Args)) {
		if t.Spec.Args[name] == "" && m.Args[name] == "" {
			out = append(out, fmt.Sprintf("missing argument %q: MetricTemplate %s has no default for it", name, t.Key()))
		}
	}
	if len(out) > 0 {
		return out
	}
	if checks.MetricQuery != nil {
		args := mergeArgs(t.Spec.Args, m.Args)
		qs := t.Queries()
		for _, field := range slices.Sorted(maps.Keys(qs)) {
			if err := checks.MetricQuery(t.ProviderType(), qs[field], args); err != nil {
				out = append(out, fmt.Sprintf("MetricTemplate %s %s: %v", t.Key(), field, err))
			}
		}
	}
	if len(out) == 0 {
		m.Resolved = t
	}
	return out
}

var (
	argNameRE   = regexp.MustCompile(`^[A-Za-z_]([\w-]*\w)?$`)
	secretRefRE = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_./-]*$`)
)

// HoldsSpec reports whether data is YAML with at least one Canary or
// MetricTemplate document among those that parse (validate of a folder
// that is not .birdwatch/ reads these files and skips the manifests).
func HoldsSpec(data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			return false
		}
		if k := documentKind(&doc); k == Kind || k == KindMetricTemplate {
			return true
		}
	}
}
