package importer

import (
	"bytes"
	"errors"
	"fmt"
	stdmaps "maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/schema"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// analysis maps one analysis reference (templates and args) into
// spec.analysis.metrics and returns how long Argo would run it
// (interval x count of its longest metric).
func (ro *rollout) analysis(field string, ref map[string]any) (spec.Duration, error) {
	a := &ro.c.Spec.Analysis
	args := map[string]any{}
	for _, arg := range maps(ref, "args") {
		args[str(arg, "name")] = ro.argValue(field, arg)
	}
	var longest spec.Duration
	for _, t := range maps(ref, "templates") {
		tmpl, err := ro.findTemplate(t)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", field, err)
		}
		vals := map[string]any{}
		for _, arg := range maps(tmpl.Body, "spec", "args") {
			if v := dig(arg, "value"); v != nil {
				vals[str(arg, "name")] = fmt.Sprint(v)
			}
		}
		for k, v := range args {
			vals[k] = v
		}
		for _, m := range maps(tmpl.Body, "spec", "metrics") {
			d, err := ro.argoMetric(fmt.Sprintf("%s %s.metrics[%s]", tmpl.Kind(), tmpl.Name(), str(m, "name")), tmpl, m, vals)
			if err != nil {
				return 0, err
			}
			longest = max(longest, d)
		}
	}
	if a.Interval == 0 {
		a.Interval = spec.Duration(spec.DefaultInterval)
	}
	return max(longest, a.Interval), nil
}

// argValue resolves a Rollout's analysis arg: a value, or a valueFrom birdwatch can express.
func (ro *rollout) argValue(field string, arg map[string]any) any {
	if v := dig(arg, "value"); v != nil {
		return fmt.Sprint(v)
	}
	f := field + ".args[" + str(arg, "name") + "]"
	switch {
	case str(arg, "valueFrom", "podTemplateHashValue") != "":
		ro.r.note(Approximated, f, "podTemplateHashValue %s is {{ .Version }}: queries select the version label, not rollouts_pod_template_hash", str(arg, "valueFrom", "podTemplateHashValue"))
		return version{}
	case str(arg, "valueFrom", "fieldRef", "fieldPath") == "metadata.name":
		return ro.name
	case str(arg, "valueFrom", "fieldRef", "fieldPath") == "metadata.namespace":
		return ro.ns
	}
	ro.r.note(NoEquivalent, f, "valueFrom %v; the arg is empty", dig(arg, "valueFrom"))
	return ""
}

// version marks an arg that is the version the query is rendered for.
type version struct{}

func (ro *rollout) findTemplate(t map[string]any) (*Object, error) {
	kind := "AnalysisTemplate"
	if b, _ := dig(t, "clusterScope").(bool); b {
		kind = "ClusterAnalysisTemplate"
	}
	name := str(t, "templateName")
	for _, src := range [][]*Object{ro.objs, ro.co.Objects} {
		for _, o := range src {
			if o.Kind() == kind && o.Name() == name && (kind == "ClusterAnalysisTemplate" || o.Namespace(ro.ns) == ro.ns) {
				return o, nil
			}
		}
	}
	return nil, ro.co.notFound("templateName", kind, ro.ns, name)
}

// argoMetric maps one AnalysisTemplate metric; only Prometheus metrics carry over.
func (ro *rollout) argoMetric(field string, tmpl *Object, m map[string]any, vals map[string]any) (spec.Duration, error) {
	a := &ro.c.Spec.Analysis
	q := str(m, "provider", "prometheus", "query")
	if q == "" {
		ro.r.note(NoEquivalent, field, "provider %v: the import carries over Prometheus metrics only; left out: write a MetricTemplate under %s/ whose query selects {{ .Version }} (see `birdwatch templates`)", keysOf(mapAt(m, "provider")), spec.SpecDir)
		return 0, nil
	}
	out := spec.Metric{Name: metricName(str(m, "name"))}
	out.Query, out.Args = translateArgoQuery(q, vals)
	if slices.ContainsFunc(a.Metrics, func(x spec.Metric) bool { return x.Name == out.Name }) {
		return ro.metricDuration(field, m)
	}
	cond, expr := "failureCondition", str(m, "failureCondition")
	if expr == "" {
		cond, expr = "successCondition", str(m, "successCondition")
	}
	if err := setLimit(&out, cond, expr); err != nil {
		ro.r.note(NoEquivalent, field+"."+cond, "%s: %v; the metric has no limit (reported, never failing)", expr, err)
	} else {
		ro.r.note(Mapped, field+"."+cond, "%s is %s", expr, limitText(out))
	}
	if fl, ok := number(m, "failureLimit"); ok || a.FailureLimit == nil {
		limit := max(int(fl), 0)
		if a.FailureLimit != nil {
			limit = max(limit, *a.FailureLimit)
		}
		a.FailureLimit = &limit
		ro.r.note(Mapped, field+".failureLimit", "analysis.failureLimit %d (the largest of the metrics)", limit)
	}
	if il, ok := number(m, "inconclusiveLimit"); ok {
		v := int(il)
		a.InconclusiveLimit = &v
	}
	if dig(m, "consecutiveErrorLimit") != nil {
		ro.r.note(NoEquivalent, field+".consecutiveErrorLimit", "a query error is an inconclusive look (inconclusiveLimit)")
	}
	why := ""
	if !strings.Contains(out.Query, "{{ .Version }}") {
		if err := ro.splitByName(field, &out); err != nil {
			why = err.Error()
		}
	}
	if strings.Contains(out.Query, "{{ .Version }}") {
		if err := ro.writeMetricTemplate(field, tmpl, m, &out); err != nil {
			return 0, err
		}
	} else if addr := str(m, "provider", "prometheus", "address"); addr != "" {
		ro.r.note(Approximated, field+".provider.prometheus.address", "%s: birdwatch queries the one Prometheus of --prometheus / BIRDWATCH_PROMETHEUS_URL", addr)
	}
	if out.TemplateRef == nil {
		ro.r.note(Approximated, field, "inlined as spec.analysis.metrics[].query because %s; a MetricTemplate must tell the versions apart ({{ .Version }}); the threshold judge reads the canary's value", why)
	}
	a.Metrics = append(a.Metrics, out)
	return ro.metricDuration(field, m)
}

// metricDuration is interval x count, and sets analysis.interval from the first metric.
func (ro *rollout) metricDuration(field string, m map[string]any) (spec.Duration, error) {
	a := &ro.c.Spec.Analysis
	iv := a.Interval
	if v := dig(m, "interval"); v != nil {
		d, err := parseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("%s.interval: %w", field, err)
		}
		if a.Interval == 0 {
			a.Interval = d
			ro.r.note(Mapped, field+".interval", "analysis.interval %s", d)
		}
		iv = d
	}
	if iv == 0 {
		iv = spec.Duration(spec.DefaultInterval)
	}
	count := 1.0
	if c, ok := number(m, "count"); ok && c > 0 {
		count = c
	}
	return spec.Duration(float64(iv) * count), nil
}

var (
	argoArgRE  = regexp.MustCompile(`\{\{\s*args\.([\w-]+)\s*\}\}`)
	argoCondRE = regexp.MustCompile(`^\s*(?:len\(result\)\s*(?:>\s*0\s*&&|==\s*0\s*\|\|)\s*)?result(?:\[0\])?\s*(>=|>|<=|<)\s*([-+0-9.eE]+)\s*$`)
)

// translateArgoQuery turns {{args.x}} into birdwatch args (escaped when
// rendered); an arg standing for the pod template hash becomes {{ .Version }}.
func translateArgoQuery(q string, vals map[string]any) (string, map[string]string) {
	args := map[string]string{}
	q = argoArgRE.ReplaceAllStringFunc(q, func(s string) string {
		name := argoArgRE.FindStringSubmatch(s)[1]
		if _, ok := vals[name].(version); ok {
			return "{{ .Version }}"
		}
		k := argName(name)
		args[k] = fmt.Sprint(vals[name])
		return "{{ .Args." + k + " }}"
	})
	// The pods birdwatch runs carry the version label, not Argo's hash:
	// a selector of the hash on the version selects the version label.
	q = hashLabelRE.ReplaceAllString(q, `version${1}"{{ .Version }}"`)
	if len(args) == 0 {
		args = nil
	}
	return strings.TrimSpace(q), args
}

// hashLabelRE matches a selector of Argo's pod template hash label on the
// version ({{ .Version }} after translation).
var hashLabelRE = regexp.MustCompile(`rollouts_pod_template_hash(\s*=~?\s*)"\{\{ \.Version \}\}"`)

// setLimit reads a condition "result[0] >= 0.95": a failure condition
// below a value is a min, above a value a max; a success condition the
// reverse.
func setLimit(m *spec.Metric, cond, expr string) error {
	sub := argoCondRE.FindStringSubmatch(expr)
	if sub == nil {
		return fmt.Errorf("not of the form result[0] OP NUMBER")
	}
	v, err := strconv.ParseFloat(sub[2], 64)
	if err != nil {
		return err
	}
	below := strings.HasPrefix(sub[1], "<")
	if (cond == "failureCondition") == below {
		m.Min = &v
	} else {
		m.Max = &v
	}
	return nil
}

func limitText(m spec.Metric) string {
	if m.Min != nil {
		return "min " + fmtNum(*m.Min)
	}
	return "max " + fmtNum(deref(m.Max))
}

// writeMetricTemplate turns out's translated query into a birdwatch
// MetricTemplate under .birdwatch/ (one per AnalysisTemplate metric), with
// the AnalysisTemplate's arg defaults, its Prometheus address, and the
// Rollout's values as the metric's args; out then names it by templateRef.
func (ro *rollout) writeMetricTemplate(field string, tmpl *Object, m map[string]any, out *spec.Metric) error {
	name := metricName(tmpl.Name())
	if len(maps(tmpl.Body, "spec", "metrics")) > 1 {
		name = metricName(tmpl.Name() + "-" + str(m, "name"))
	}
	defaults := map[string]string{}
	for k := range out.Args {
		defaults[k] = "" // args the import added (the stable side's names)
	}
	for _, arg := range maps(tmpl.Body, "spec", "args") {
		if k := argName(str(arg, "name")); out.Args != nil {
			if _, used := out.Args[k]; used {
				defaults[k] = ""
				if v := dig(arg, "value"); v != nil {
					defaults[k] = fmt.Sprint(v)
				}
			}
		}
	}
	mt := spec.MetricTemplate{APIVersion: spec.APIVersion, Kind: spec.KindMetricTemplate,
		Metadata: spec.Metadata{Name: name, Namespace: ro.ns},
		Spec:     spec.MetricTemplateSpec{Description: fmt.Sprintf("%s %s, metric %s (imported)", tmpl.Kind(), tmpl.Name(), str(m, "name")), Query: out.Query}}
	if len(defaults) > 0 {
		mt.Spec.Args = defaults
	}
	if addr := str(m, "provider", "prometheus", "address"); addr != "" {
		mt.Spec.Provider = &spec.MetricProvider{Type: "prometheus", Address: addr}
	}
	file := fmt.Sprintf("%s/%s-%s.metrictemplate.yaml", spec.SpecDir, ro.ns, name)
	var b bytes.Buffer
	b.WriteString(schema.MetricTemplateModeline + "\n")
	fmt.Fprintf(&b, "# Imported from %s %s (%s) by birdwatch import argo.\n", tmpl.Kind(), tmpl.Name(), tmpl.File)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&mt); err != nil {
		return fmt.Errorf("encode %s: %w", file, err)
	}
	if err := enc.Close(); err != nil {
		return err
	}
	ro.r.Files[file] = b.Bytes()
	ro.r.note(Wrote, file, "MetricTemplate %s/%s", ro.ns, name)
	ro.r.note(Mapped, field, "MetricTemplate %s/%s, used with templateRef and args %v", ro.ns, name, out.Args)
	if tmpl.Kind() == "ClusterAnalysisTemplate" {
		ro.r.note(Approximated, field, "a ClusterAnalysisTemplate becomes a MetricTemplate of namespace %s (birdwatch's templates are namespaced)", ro.ns)
	}
	out.TemplateRef = &spec.TemplateRef{Name: name}
	out.Query = ""
	return nil
}

// splitByName points a query that selects the canary by the name of its
// Service (an arg whose value is the canaryService, or a host name in it)
// at the version it is rendered for: the stable side reads the
// stableService under a new arg NAME_stable (see splitByVersion).
func (ro *rollout) splitByName(field string, out *spec.Metric) error {
	if ro.canarySvc == "" || ro.stableSvc == "" {
		return fmt.Errorf("the Rollout has no canary and stable Service to tell the versions apart by")
	}
	var swaps []swap
	stableArgs := map[string]string{}
	for _, k := range slices.Sorted(stdmaps.Keys(out.Args)) {
		v := out.Args[k]
		if v != ro.canarySvc && !strings.HasPrefix(v, ro.canarySvc+".") {
			continue
		}
		stableArgs[k+"_stable"] = ro.stableSvc + strings.TrimPrefix(v, ro.canarySvc)
		swaps = append(swaps, swap{"{{ .Args." + k + " }}", "{{ .Args." + k + "_stable }}"})
	}
	q, changes, err := splitByVersion(out.Query, swaps)
	if errors.Is(err, errNoNameSelector) {
		return fmt.Errorf("the query names neither {{ .Version }}, nor the canary Service %s, nor ingress-nginx's canary label", ro.canarySvc)
	}
	if err != nil {
		return err
	}
	out.Query = q
	stdmaps.Copy(out.Args, stableArgs)
	for _, c := range dedupe(changes) {
		ro.r.note(Mapped, field+".query", "%s selects the canary; the stable version's query has %s (PromQL picks the side by comparing {{ .Version }} with {{ .Canary }})", c.canary, c.stable)
	}
	return nil
}
