package importer

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/schema"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// builtin holds the PromQL of Flagger's two builtin checks for one mesh,
// selecting the canary workload (Args.workload) like Flagger's own queries
// do: the threshold judge looks at the canary's value only.
type builtin struct{ errorRate, latency string }

var builtins = map[string]builtin{
	"istio": {
		errorRate: `100 * (sum(rate(istio_requests_total{reporter="destination", destination_workload_namespace="{{ .Namespace }}", destination_workload="{{ .Args.workload }}", response_code=~"5.."}[{{ .Window }}])) or vector(0)) / sum(rate(istio_requests_total{reporter="destination", destination_workload_namespace="{{ .Namespace }}", destination_workload="{{ .Args.workload }}"}[{{ .Window }}]))`,
		latency:   `histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination", destination_workload_namespace="{{ .Namespace }}", destination_workload="{{ .Args.workload }}"}[{{ .Window }}])))`,
	},
	"linkerd": {
		errorRate: `100 * (sum(rate(response_total{namespace="{{ .Namespace }}", deployment="{{ .Args.workload }}", direction="inbound", classification="failure"}[{{ .Window }}])) or vector(0)) / sum(rate(response_total{namespace="{{ .Namespace }}", deployment="{{ .Args.workload }}", direction="inbound"}[{{ .Window }}]))`,
		latency:   `histogram_quantile(0.99, sum by (le) (rate(response_latency_ms_bucket{namespace="{{ .Namespace }}", deployment="{{ .Args.workload }}", direction="inbound"}[{{ .Window }}])))`,
	},
	// Envoy-based implementations (Contour, Envoy Gateway): the clusters
	// NAMESPACE_SERVICE_PORT of the canary Service. The arg is regexp-quoted
	// when rendered, so the port pattern is in the template.
	"gatewayapi": {
		errorRate: `100 * (sum(rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"{{ .Args.cluster }}_[0-9a-zA-Z-]+", envoy_response_code=~"5.."}[{{ .Window }}])) or vector(0)) / sum(rate(envoy_cluster_upstream_rq{envoy_cluster_name=~"{{ .Args.cluster }}_[0-9a-zA-Z-]+"}[{{ .Window }}]))`,
		latency:   `histogram_quantile(0.99, sum by (le) (rate(envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=~"{{ .Args.cluster }}_[0-9a-zA-Z-]+"}[{{ .Window }}])))`,
	},
	// APISIX's prometheus plugin labels requests by route (NAMESPACE_
	// APISIXROUTE_RULE with prefer_name), not by backend.
	"apisix": {
		errorRate: `100 * (sum(rate(apisix_http_status{route=~"{{ .Args.route }}_.+", code=~"5.."}[{{ .Window }}])) or vector(0)) / sum(rate(apisix_http_status{route=~"{{ .Args.route }}_.+"}[{{ .Window }}]))`,
		latency:   `histogram_quantile(0.99, sum by (le) (rate(apisix_http_latency_bucket{type="request", route=~"{{ .Args.route }}_.+"}[{{ .Window }}])))`,
	},
	// Traefik's services NAMESPACE-SERVICE-PORT@kubernetescrd of the canary Service.
	"traefik": {
		errorRate: `100 * (sum(rate(traefik_service_requests_total{service=~"{{ .Args.service }}-[0-9a-zA-Z-]+@kubernetescrd", code=~"5.."}[{{ .Window }}])) or vector(0)) / sum(rate(traefik_service_requests_total{service=~"{{ .Args.service }}-[0-9a-zA-Z-]+@kubernetescrd"}[{{ .Window }}]))`,
		latency:   `1000 * histogram_quantile(0.99, sum by (le) (rate(traefik_service_request_duration_seconds_bucket{service=~"{{ .Args.service }}-[0-9a-zA-Z-]+@kubernetescrd"}[{{ .Window }}])))`,
	},
}

// flaggerMetric maps one Flagger metric; nil with a note when it has no equivalent.
func flaggerMetric(co *Checkout, objs []*Object, m map[string]any, nm flaggerNames, mesh string, sp map[string]any, r *Result, field string) (*spec.Metric, error) {
	name := str(m, "name")
	out := &spec.Metric{Name: metricName(name)}
	if v, ok := number(m, "thresholdRange", "max"); ok {
		out.Max = &v
	}
	if v, ok := number(m, "thresholdRange", "min"); ok {
		out.Min = &v
	}
	if dig(m, "interval") != nil {
		r.note(Approximated, field+".interval", "birdwatch queries the window since the weight was applied, not a fixed %v", dig(m, "interval"))
	}
	ref := mapAt(m, "templateRef")
	switch {
	case ref != nil:
		err := flaggerTemplateMetric(co, objs, m, ref, out, nm, sp, r, field)
		var no *refusal
		if errors.As(err, &no) {
			r.note(NoEquivalent, field, "%v; left out", no)
			return nil, nil
		}
		return out, err
	case name == "request-success-rate" || name == "request-duration":
		return out, flaggerBuiltin(name, out, nm, mesh, sp, r, field)
	case str(m, "query") != "":
		q, args := translateFlaggerQuery(str(m, "query"), nm, sp, nil)
		out.Query, out.Args = q, args
		r.note(Approximated, field, "inline query translated to birdwatch's template variables")
		return out, nil
	}
	r.note(NoEquivalent, field, "unknown builtin metric %q; left out", name)
	return nil, nil
}

// flaggerBuiltin maps request-success-rate (min %) to an error rate (max
// 100-min %) and request-duration (max ms) to a p99 latency.
func flaggerBuiltin(name string, out *spec.Metric, nm flaggerNames, mesh string, sp map[string]any, r *Result, field string) error {
	success := name == "request-success-rate"
	if mesh == "nginx" {
		ing := str(sp, "ingressRef", "name")
		out.Args = map[string]string{"ingress": ing}
		if success {
			out.Name, out.Template = "error-rate", "nginx-error-rate"
		} else {
			out.Name, out.Template = "latency", "nginx-latency-p99"
			r.note(Approximated, field, "Flagger's nginx request-duration is the mean; nginx-latency-p99 is the 99th percentile")
		}
	} else {
		b := builtins[mesh]
		out.Args = map[string]string{"workload": nm.target}
		switch mesh {
		case "smi":
			b = builtins["linkerd"]
		case "gatewayapi", "contour":
			b = builtins["gatewayapi"]
			out.Args = map[string]string{"cluster": nm.ns + "_" + nm.canarySvc}
			if mesh == "gatewayapi" {
				r.note(Approximated, field, "Envoy clusters %s_%s_PORT (Contour's naming); other Gateway API implementations name clusters differently", nm.ns, nm.canarySvc)
			}
		case "traefik":
			out.Args = map[string]string{"service": nm.ns + "-" + nm.canarySvc}
		case "apisix":
			out.Args = map[string]string{"route": nm.ns + "_" + str(sp, "routeRef", "name") + "-canary"}
			r.note(Approximated, field, "APISIX's metrics name the route, not the backend: this measures route %s-canary, both versions' traffic, as Flagger's apisix check does", str(sp, "routeRef", "name"))
		}
		if success {
			out.Name, out.Query, out.Unit = "error-rate", b.errorRate, "percent"
		} else {
			out.Name, out.Query, out.Unit = "latency", b.latency, "ms"
		}
	}
	if success {
		if out.Min != nil {
			v := 100 - *out.Min
			out.Max, out.Min = &v, nil
		}
		r.note(Mapped, field, "request-success-rate min %s%% is error-rate max %s%%", fmtNum(100-deref(out.Max)), fmtNum(deref(out.Max)))
		return nil
	}
	r.note(Mapped, field, "request-duration max %sms is latency (p99) max %sms", fmtNum(deref(out.Max)), fmtNum(deref(out.Max)))
	return nil
}

// flaggerTemplateMetric maps a metric that names a Flagger MetricTemplate:
// a birdwatch MetricTemplate when its query can be made to select the
// version it measures, else the query inlined (Prometheus only).
func flaggerTemplateMetric(co *Checkout, objs []*Object, m, ref map[string]any, out *spec.Metric, nm flaggerNames, sp map[string]any, r *Result, field string) error {
	ns := str(ref, "namespace")
	if ns == "" {
		ns = nm.ns
	}
	t := findIn(objs, "MetricTemplate", ns, str(ref, "name"))
	if t == nil {
		t = co.Find("MetricTemplate", ns, str(ref, "name"))
	}
	if t == nil {
		return co.notFound("templateRef", "MetricTemplate", ns, str(ref, "name"))
	}
	vars := map[string]string{}
	for k, v := range mapAt(m, "templateVariables") {
		vars[k] = fmt.Sprint(v)
	}
	q, args := translateFlaggerQuery(str(t.Body, "spec", "query"), nm, sp, vars)
	from := fmt.Sprintf("MetricTemplate %s/%s (%s)", ns, t.Name(), t.File)
	if typ := str(t.Body, "spec", "provider", "type"); typ != "prometheus" && typ != "" {
		return flaggerProviderMetric(t, typ, q, args, out, nm, r, field, from)
	}
	split, changes, err := splitByVersion(q, flaggerSwaps)
	if err != nil {
		out.Query, out.Args = q, args
		r.note(Approximated, field, "%s inlined as spec.analysis.metrics[].query because %v; a birdwatch MetricTemplate must select the version it measures ({{ .Version }})", from, err)
		if addr := str(t.Body, "spec", "provider", "address"); addr != "" {
			r.note(Approximated, field+".provider.address", "%s: an inline query runs on the one Prometheus of --prometheus / BIRDWATCH_PROMETHEUS_URL", addr)
		}
		return nil
	}
	if strings.Contains(split, "{{ .Args.primary }}") {
		if args == nil {
			args = map[string]string{}
		}
		args["primary"] = nm.primary
	}
	out.Args = args
	for _, c := range dedupe(changes) {
		r.note(Mapped, field+".query", "%s selects the canary; the stable version's query has %s (PromQL picks the side by comparing {{ .Version }} with {{ .Canary }})", c.canary, c.stable)
	}
	mt := newMetricTemplate(t, ns, split, args)
	if err := flaggerProvider(t, mt, r, field); err != nil {
		return err
	}
	return emitMetricTemplate(r, mt, from, "flagger", field, out, nm.ns)
}

// flaggerSwaps are the names Flagger's queries select the canary by, and
// what selects the primary (stable) instead: the canary Service (written
// {{ target }}-canary or {{ service }}-canary), and the target Deployment
// (and its pods, whose names start with it). Order matters (see replacer).
var flaggerSwaps = []swap{
	{"{{ .Args.target }}-canary", "{{ .Args.target }}-primary"},
	{"{{ .Args.target }}", "{{ .Args.primary }}"},
	{"{{ .Service }}-canary", "{{ .Service }}-primary"},
}

// newMetricTemplate is a birdwatch MetricTemplate for Flagger template t
// with query q; every argument the Canary gives is declared without a
// default, since the template is shared by canaries.
func newMetricTemplate(t *Object, ns, q string, args map[string]string) *spec.MetricTemplate {
	mt := &spec.MetricTemplate{APIVersion: spec.APIVersion, Kind: spec.KindMetricTemplate,
		Metadata: spec.Metadata{Name: metricName(t.Name()), Namespace: ns},
		Spec:     spec.MetricTemplateSpec{Description: fmt.Sprintf("Flagger MetricTemplate %s/%s (imported)", ns, t.Name()), Query: q}}
	if len(args) > 0 {
		mt.Spec.Args = map[string]string{}
		for k := range args {
			mt.Spec.Args[k] = ""
		}
	}
	return mt
}

// flaggerProvider maps spec.provider's address and secretRef (Prometheus).
func flaggerProvider(t *Object, mt *spec.MetricTemplate, r *Result, field string) error {
	addr, secret := str(t.Body, "spec", "provider", "address"), str(t.Body, "spec", "provider", "secretRef", "name")
	if addr == "" && secret == "" {
		r.note(Mapped, field+".provider", "prometheus: the deployment's Prometheus (--prometheus / BIRDWATCH_PROMETHEUS_URL)")
		return nil
	}
	mt.Spec.Provider = &spec.MetricProvider{Type: "prometheus", Address: addr, SecretRef: secret}
	r.note(Mapped, field+".provider", "prometheus at %s", addr)
	if secret != "" {
		r.note(Mapped, field+".provider.secretRef", "secretRef %s: the deployment provides it as BIRDWATCH_METRICS_SECRET_%s, a JSON object with Flagger's keys token, or username and password", secret, secretVar(secret))
	}
	if b, _ := dig(t.Body, "spec", "provider", "insecureSkipVerify").(bool); b {
		r.note(NoEquivalent, field+".provider.insecureSkipVerify", "birdwatch verifies TLS certificates")
	}
	return nil
}

// secretVar is the BIRDWATCH_METRICS_SECRET_ suffix of a secretRef name.
func secretVar(name string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_", "/", "_").Replace(name))
}

// emitMetricTemplate writes mt under .birdwatch/ (once, if several
// canaries use it) and points out at it with args.
func emitMetricTemplate(r *Result, mt *spec.MetricTemplate, from, tool, field string, out *spec.Metric, canaryNS string) error {
	file := fmt.Sprintf("%s/%s-%s.metrictemplate.yaml", spec.SpecDir, mt.Metadata.Namespace, mt.Metadata.Name)
	var b bytes.Buffer
	b.WriteString(schema.MetricTemplateModeline + "\n")
	fmt.Fprintf(&b, "# Imported from %s by birdwatch import %s.\n", from, tool)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(mt); err != nil {
		return fmt.Errorf("encode %s: %w", file, err)
	}
	if err := enc.Close(); err != nil {
		return err
	}
	if old, ok := r.Files[file]; ok && !bytes.Equal(old, b.Bytes()) {
		return fmt.Errorf("%s: two different MetricTemplates would be written to %s", from, file)
	} else if !ok {
		r.Files[file] = b.Bytes()
		r.note(Wrote, file, "MetricTemplate %s", mt.Key())
	}
	out.TemplateRef = &spec.TemplateRef{Name: mt.Metadata.Name}
	if mt.Metadata.Namespace != canaryNS {
		out.TemplateRef.Namespace = mt.Metadata.Namespace
	}
	out.Query = ""
	r.note(Mapped, field, "MetricTemplate %s, used with templateRef and args %v", mt.Key(), out.Args)
	return nil
}

var flaggerVarRE = regexp.MustCompile(`\{\{\s*(\w+)(?:\.([\w-]+))?\s*\}\}`)

// translateFlaggerQuery rewrites Flagger's template variables ({{ namespace }},
// {{ target }}, {{ interval }}, {{ variables.x }}, ...) to birdwatch's.
// Values known at import time become args, which birdwatch escapes.
func translateFlaggerQuery(q string, nm flaggerNames, sp map[string]any, vars map[string]string) (string, map[string]string) {
	args := map[string]string{}
	q = flaggerVarRE.ReplaceAllStringFunc(q, func(s string) string {
		sub := flaggerVarRE.FindStringSubmatch(s)
		switch sub[1] {
		case "namespace":
			return "{{ .Namespace }}"
		case "interval":
			return "{{ .Window }}"
		case "service":
			return "{{ .Service }}"
		case "target":
			args["target"] = nm.target
			return "{{ .Args.target }}"
		case "name":
			args["name"] = str(sp, "targetRef", "name")
			return "{{ .Args.name }}"
		case "ingress":
			args["ingress"] = str(sp, "ingressRef", "name")
			return "{{ .Args.ingress }}"
		case "variables":
			k := argName(sub[2])
			args[k] = vars[sub[2]]
			return "{{ .Args." + k + " }}"
		}
		return s
	})
	if len(args) == 0 {
		args = nil
	}
	return strings.TrimSpace(q), args
}

// argName makes a template argument name a Go identifier.
func argName(s string) string { return strings.NewReplacer("-", "_", ".", "_").Replace(s) }

// metricName makes a metric name birdwatch-friendly (no spaces).
func metricName(s string) string {
	return strings.Trim(strings.NewReplacer(" ", "-", "%", "pct").Replace(strings.ToLower(s)), "-")
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func fmtNum(v float64) string { return fmt.Sprintf("%g", v) }

// writeCanary adds the Canary spec under .birdwatch/ with a header.
func writeCanary(r *Result, c *spec.Canary, header, from, tool string) error {
	file := fmt.Sprintf("%s/%s-%s.yaml", spec.SpecDir, c.Metadata.Namespace, c.Metadata.Name)
	var b bytes.Buffer
	b.WriteString(schema.Modeline + "\n")
	for _, l := range strings.Split(header, "\n") {
		b.WriteString("# " + l + "\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("encode %s: %w", file, err)
	}
	if err := enc.Close(); err != nil {
		return err
	}
	r.Files[file] = b.Bytes()
	r.note(Wrote, file, "Canary %s", c.Key())
	r.note(Remove, from, "once birdwatch runs %s, delete the %s objects here, or both will act", c.Key(), tool)
	return nil
}

// SortNotes orders notes: mapped, approximated, no equivalent, then files.
func (r *Result) SortNotes() {
	sort.SliceStable(r.Notes, func(i, j int) bool { return kindOrder(r.Notes[i].Kind) < kindOrder(r.Notes[j].Kind) })
}

func kindOrder(k Kind) int {
	switch k {
	case Mapped:
		return 0
	case Approximated:
		return 1
	case NoEquivalent:
		return 2
	case Changed:
		return 3
	case Wrote:
		return 4
	}
	return 5
}

// dedupe drops repeated rewrites (the same matcher in several selectors).
func dedupe(rs []rewrite) []rewrite {
	var out []rewrite
	for _, r := range rs {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
