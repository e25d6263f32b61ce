package importer

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// flaggerProviderKind is how a Flagger metric provider type carries over.
type flaggerProviderKind struct {
	// birdwatch is the MetricTemplate provider type; "" when birdwatch has none.
	birdwatch string
	// secret says which keys birdwatch reads from the secret, against Flagger's.
	secret string
	// version rewrites a translated query so it selects the version it
	// measures, and says how; nil when the language cannot.
	version func(q string) (string, string, error)
	// refuse is why a query of this type cannot be carried over at all.
	refuse string
}

// flaggerProviders maps Flagger's provider types (docs: usage/metrics).
var flaggerProviders = map[string]flaggerProviderKind{
	"datadog": {birdwatch: "datadog", version: datadogByVersion,
		secret: `{"apiKey": ..., "appKey": ...} (Flagger's keys datadog_api_key and datadog_application_key)`},
	"newrelic": {birdwatch: "newrelic", version: nrqlByVersion,
		secret: `{"apiKey": ..., "accountId": ...}: a NerdGraph user key, not Flagger's Insights newrelic_query_key, and newrelic_account_id`},
	"cloudwatch": {birdwatch: "cloudwatch", secret: `{"accessKeyId": ..., "secretAccessKey": ...} (else the AWS credential chain, as Flagger)`,
		refuse: "a CloudWatch dimension value matches exactly and GetMetricData cannot choose between the canary's and the stable's, so the version must be a dimension your app emits; Flagger's JSON keys (Id, MetricStat) are also birdwatch's lower-case YAML (id, metricStat)"},
	"graphite": {birdwatch: "graphite", secret: `{"username": ..., "password": ...} (Flagger's keys)`,
		refuse: "a Graphite path names the series your app emits, and birdwatch cannot derive the stable version's path from the canary's; the path (or a seriesByTag tag) must carry the version"},
	"influxdb": {birdwatch: "influxdb", secret: `{"token": ...} (Flagger's key)`,
		refuse: "Flagger's Flux query sets its own range (range(start: -2h)) and selects the canary's workload; birdwatch's influxdb provider gives the window as v.timeRangeStart/v.timeRangeStop and the query must select a version tag"},
	"stackdriver": {birdwatch: "gcm",
		refuse: "the query is MQL; birdwatch's gcm provider runs PromQL on Cloud Monitoring (Google deprecated MQL)"},
	"dynatrace":  {refuse: "birdwatch has no Dynatrace provider"},
	"splunk":     {refuse: "birdwatch has no Splunk provider"},
	"keptn":      {refuse: "birdwatch has no Keptn provider"},
	"skywalking": {refuse: "birdwatch has no SkyWalking provider"},
}

// flaggerProviderMetric maps a MetricTemplate of a provider other than
// Prometheus: a birdwatch MetricTemplate of that provider whose query
// selects the version, or the metric left out with the reason and what to
// write instead.
func flaggerProviderMetric(t *Object, typ, q string, args map[string]string, out *spec.Metric, nm flaggerNames, r *Result, field, from string) error {
	k, ok := flaggerProviders[typ]
	if !ok {
		k.refuse = "unknown Flagger provider type"
	}
	instead := fmt.Sprintf("write a MetricTemplate under %s/ whose query selects {{ .Version }}", spec.SpecDir)
	if k.birdwatch != "" {
		instead = fmt.Sprintf("write a MetricTemplate with provider %s under %s/ whose query selects {{ .Version }} (see `birdwatch templates`, e.g. templates/metrics/%s-*.yaml)", k.birdwatch, spec.SpecDir, k.birdwatch)
	}
	if k.refuse == "" && k.version != nil {
		vq, how, err := k.version(q)
		if err == nil {
			mt := newMetricTemplate(t, str(t.Body, "metadata", "namespace"), vq, nil)
			if mt.Metadata.Namespace == "" {
				mt.Metadata.Namespace = nm.ns
			}
			if strings.Contains(vq, "{{ .Args.primary }}") {
				args["primary"] = nm.primary
			}
			mt.Spec.Args = map[string]string{}
			for a := range args {
				mt.Spec.Args[a] = ""
			}
			if len(args) == 0 {
				mt.Spec.Args, args = nil, nil
			}
			out.Args = args
			mt.Spec.Provider = &spec.MetricProvider{Type: k.birdwatch, Address: str(t.Body, "spec", "provider", "address"),
				SecretRef: str(t.Body, "spec", "provider", "secretRef", "name"), Region: str(t.Body, "spec", "provider", "region")}
			r.note(Mapped, field+".provider", "%s (address %q)", k.birdwatch, mt.Spec.Provider.Address)
			if s := mt.Spec.Provider.SecretRef; s != "" {
				r.note(Approximated, field+".provider.secretRef", "secretRef %s: the deployment provides BIRDWATCH_METRICS_SECRET_%s as %s", s, secretVar(s), k.secret)
			}
			r.note(Approximated, field+".query", "%s", how)
			return emitMetricTemplate(r, mt, from, "flagger", field, out, nm.ns)
		}
		k.refuse = err.Error()
	}
	return &refusal{fmt.Sprintf("%s: provider %s: %s; %s", from, typ, k.refuse, instead)}
}

// refusal is a metric the import leaves out, with why and what to write
// instead; the rest of the Canary is imported.
type refusal struct{ why string }

func (e *refusal) Error() string { return e.why }

// The Datadog and NRQL rewrites below are narrow token edits of one
// selector form each, hand-written: neither query language has a
// maintained Go parser. Anything else is refused rather than guessed.
var (
	// datadogTagRE is one tag filter of a Datadog metric query whose value
	// is the canary's workload: KEY:{{ .Args.target }}.
	datadogTagRE = regexp.MustCompile(`([A-Za-z][\w./-]*):\{\{ \.Args\.target \}\}([,}\s])`)
	// nrqlTargetRE is one NRQL condition on the canary's workload:
	// ATTR = '{{ .Args.target }}'.
	nrqlTargetRE = regexp.MustCompile("([A-Za-z_`][\\w.`]*)\\s*=\\s*'\\{\\{ \\.Args\\.target \\}\\}'")
)

// datadogByVersion rewrites each tag filter on the canary's workload
// (KEY:{{ target }}) to both workloads and the version tag: Datadog tags
// have no way to pick one of two workloads by version, so the version must
// be a tag of the data (Istio's destination_version from the pods' version
// label; Datadog's version from unified service tagging).
func datadogByVersion(q string) (string, string, error) {
	if !datadogTagRE.MatchString(q) {
		return "", "", errors.New("no tag filter of the query is KEY:{{ target }}, so it measures canary and stable alike")
	}
	var keys []string
	out := datadogTagRE.ReplaceAllStringFunc(q, func(m string) string {
		sub := datadogTagRE.FindStringSubmatch(m)
		vkey := "version"
		if strings.HasPrefix(sub[1], "destination_") {
			vkey = "destination_version"
		}
		if k := sub[1] + " -> " + vkey; !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
		return fmt.Sprintf("%s:{{ .Args.target }}*,%s:{{ .Version }}%s", sub[1], vkey, sub[2])
	})
	return out, fmt.Sprintf("tag filters on {{ target }} (%s) select both workloads (KEY:{{ .Args.target }}*) and the version tag; the data must carry that tag: the pods need the label version=TAG (Istio) or tags.datadoghq.com/version=TAG (unified service tagging), which this import does not add", strings.Join(keys, ", ")), nil
}

// nrqlByVersion rewrites each NRQL condition ATTR = '{{ target }}' to
// both workloads and tags.version, New Relic's attribute for the
// version label of Kubernetes and APM data.
func nrqlByVersion(q string) (string, string, error) {
	if !nrqlTargetRE.MatchString(q) {
		return "", "", errors.New("no WHERE condition of the query is ATTR = '{{ target }}', so it measures canary and stable alike")
	}
	out := nrqlTargetRE.ReplaceAllString(q, "$1 IN ('{{ .Args.target }}', '{{ .Args.primary }}') AND tags.version = '{{ .Version }}'")
	return out, "WHERE conditions on {{ target }} select both workloads and tags.version = '{{ .Version }}'; the data must carry the version as tags.version, which this import does not add", nil
}
