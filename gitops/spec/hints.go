package spec

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/agnivade/levenshtein"
)

// foreignHints says where a field a Flagger or Argo Rollouts user writes
// lives in a birdwatch spec (the names birdwatch import maps), by field path
// without list indices. They are given for an unknown field, and for a type
// error where the foreign field has the same name and another shape.
var foreignHints = map[string]string{
	// Flagger Canary (spec.analysis holds the schedule in Flagger).
	"spec.analysis.threshold":                 "Flagger's threshold: N (roll back at the Nth failed check) is spec.analysis.failureLimit: N-1 (failures tolerated)",
	"spec.analysis.stepWeights":               "Flagger's stepWeights are spec.steps: a setWeight then an analyze step per weight",
	"spec.analysis.iterations":                "Flagger's iterations are spec.abTesting.iterations, spec.blueGreen.iterations or spec.mirror.iterations, by strategy",
	"spec.analysis.match":                     "Flagger's match is spec.abTesting.match (strategy: abTesting) or spec.blueGreen.match",
	"spec.analysis.mirror":                    "Flagger's mirror: true is strategy: mirror (or spec.blueGreen.mirrorPercentage)",
	"spec.analysis.mirrorWeight":              "Flagger's mirrorWeight is spec.mirror.percentage",
	"spec.analysis.alerts":                    "Flagger's alerts are spec.notify (slack, teams, discord, googleChat, webhook)",
	"spec.analysis.primaryReadyThreshold":     "birdwatch does not scale the primary; the applier does",
	"spec.analysis.canaryReadyThreshold":      "birdwatch does not scale the canary; the applier does",
	"spec.analysis.metrics.thresholdRange":    "Flagger's thresholdRange.max/min are this metric's max/min (absolute guards), with tolerance for the change against the baseline",
	"spec.analysis.metrics.interval":          "every metric is queried over spec.analysis.interval",
	"spec.targetRef":                          "birdwatch names versions (spec.stable, spec.canary), not a Deployment; birdwatch import flagger writes the manifests",
	"spec.autoscalerRef":                      "the HPA of each version lives in the manifests; birdwatch import flagger writes them",
	"spec.ingressRef":                         "name the Ingress in spec.traffic.file (provider nginx) and its name in spec.traffic.route",
	"spec.routeRef":                           "name the HTTPRoute in spec.traffic.file (provider gatewayapi)",
	"spec.upstreamRef":                        "name the manifest in spec.traffic.file",
	"spec.provider":                           "the traffic provider is spec.traffic.provider",
	"spec.progressDeadlineSeconds":            "a weight not applied in time freezes the rollout after spec.sync.timeout (a duration such as 10m)",
	"spec.skipAnalysis":                       "skipping analysis is a command: birdwatch skip-analysis NS/NAME",
	"spec.revertOnDeletion":                   "deleting the Canary leaves the manifests as the last commit left them",
	"spec.suspend":                            "pause a rollout with the command birdwatch pause NS/NAME",
	"spec.analysis.sessionAffinity":           "no equivalent: birdwatch routes by weight, header, cookie or mirror",
	"spec.analysis.metrics.templateVariables": "a MetricTemplate's arguments are this metric's args",
	// Argo Rollouts Rollout (spec.strategy.canary holds the steps in Argo).
	"spec.strategy":                           "birdwatch's strategy is one word (canary, abTesting, blueGreen, mirror); Argo's strategy.canary.steps are spec.steps, trafficRouting is spec.traffic",
	"spec.strategy.canary":                    "Argo's strategy.canary.steps are spec.steps, trafficRouting is spec.traffic",
	"spec.trafficRouting":                     "Argo's trafficRouting is spec.traffic (provider, file, subsets or services)",
	"spec.steps.analysis":                     "an inline analysis step is an analyze: DURATION step; its metrics are spec.analysis.metrics",
	"spec.steps.setCanaryScale":               "no equivalent: the applier scales the versions (or use the replicas provider)",
	"spec.steps.experiment":                   "no equivalent",
	"spec.steps.plugin":                       "no equivalent",
	"spec.analysis.templates":                 "Argo's analysis templates are spec.analysis.metrics[].templateRef (a MetricTemplate under .birdwatch/)",
	"spec.analysis.args":                      "Argo's analysis args are each metric's args (spec.analysis.metrics[].args)",
	"spec.analysis.startingStep":              "analysis runs from the first step; put an analyze step where Argo's startingStep was",
	"spec.analysis.metrics.successCondition":  "the judge compares the canary to the baseline; absolute bounds are this metric's max/min",
	"spec.analysis.metrics.failureCondition":  "the judge compares the canary to the baseline; absolute bounds are this metric's max/min",
	"spec.analysis.metrics.provider":          "a metric's backend is a MetricTemplate's spec.provider; name the template with templateRef",
	"spec.analysis.metrics.count":             "the number of looks follows the steps' analyze durations and spec.analysis.interval",
	"spec.analysis.metrics.failureLimit":      "failures are counted for the whole analysis: spec.analysis.failureLimit",
	"spec.analysis.metrics.inconclusiveLimit": "inconclusive looks are counted for the whole analysis: spec.analysis.inconclusiveLimit",
	"spec.analysis.metrics.initialDelay":      "spec.analysis.warmup skips the start of every window",
	"spec.analysis.metrics.thresholds":        "absolute bounds are this metric's max/min",
	"spec.autoPromotionEnabled":               "Argo's blueGreen.autoPromotionEnabled is spec.blueGreen.autoPromote",
	"spec.activeService":                      "Argo's activeService is spec.traffic.activeService (provider service)",
	"spec.previewService":                     "Argo's previewService is spec.traffic.previewService (provider service)",
}

// templateHints are foreignHints for a MetricTemplate (Flagger's
// MetricTemplate, Argo Rollouts' AnalysisTemplate).
var templateHints = map[string]string{
	"spec.provider.insecureSkipVerify": "no equivalent: birdwatch verifies TLS",
	"spec.provider.secretRef":          "secretRef is a string naming the deployment's secret (a file, variable or AWS secret), not a Kubernetes Secret reference",
	"spec.metrics":                     "an AnalysisTemplate's metrics are one MetricTemplate each: the query in spec.query (or spec.bad and spec.total)",
	"spec.args":                        "args is a mapping of name to default value (\"\" = required), not a list",
	"spec.provider.prometheus":         "the query is spec.query; the Prometheus address is spec.provider.address (type prometheus)",
}

// indexRE matches list indices in a field path.
var indexRE = regexp.MustCompile(`\[\d+\]`)

// fieldHint says, for a field at path (e.g. spec.analysis.stepWeight) that
// a document of type root does not have, where it belongs: a Flagger or
// Argo Rollouts name birdwatch spells otherwise, a field of that name
// elsewhere ("moved to"), or a close spelling among the fields beside it
// ("did you mean"). It returns "" when it knows nothing better.
func fieldHint(root reflect.Type, path string) string {
	if root == nil {
		return ""
	}
	bare := indexRE.ReplaceAllString(path, "")
	if h := foreignHint(root, bare); h != "" {
		return h
	}
	parent, key := bare, bare
	if i := strings.LastIndex(bare, "."); i >= 0 {
		parent, key = bare[:i], bare[i+1:]
	} else {
		parent = ""
	}
	var moved []string
	for _, p := range knownPaths(root) {
		last := p[strings.LastIndex(p, ".")+1:]
		if strings.EqualFold(last, key) && p != bare {
			moved = append(moved, p)
		}
	}
	if len(moved) > 0 && len(moved) <= 3 {
		return "moved to " + strings.Join(moved, " or ")
	}
	if best := closest(key, fieldsAt(root, parent)); best != "" {
		return fmt.Sprintf("did you mean %s?", best)
	}
	return ""
}

// foreignHint is the hint of foreignHints or templateHints, by root, for
// a path without indices.
func foreignHint(root reflect.Type, bare string) string {
	if root == reflect.TypeFor[MetricTemplate]() {
		return templateHints[bare]
	}
	return foreignHints[bare]
}

// closest is the name among names nearest to key in edit distance (case
// ignored), if it is near enough to be a typo: at most 1 edit for short
// names, 2 for names of 6 letters or more.
func closest(key string, names []string) string {
	limit := 1
	if len(key) >= 6 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, n := range names {
		if d := levenshtein.ComputeDistance(strings.ToLower(key), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// fieldsAt lists the YAML field names of the type at a dotted path
// (without indices) below root, or nil when the path leaves the structs.
func fieldsAt(root reflect.Type, path string) []string {
	t := root
	if path != "" {
		for _, part := range strings.Split(path, ".") {
			f, ok := yamlField(t, part)
			if !ok {
				return nil
			}
			t = f
		}
	}
	t = deref(t)
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			out = append(out, name)
		}
	}
	return out
}

// yamlField is the type of t's field written as name in YAML.
func yamlField(t reflect.Type, name string) (reflect.Type, bool) {
	t = deref(t)
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	for i := range t.NumField() {
		if yamlName(t.Field(i)) == name {
			return t.Field(i).Type, true
		}
	}
	return nil, false
}

// deref goes through pointers and slices to the element type.
func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t
}

// yamlName is a struct field's YAML key, or "" for a field YAML skips.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || name == "" {
		return ""
	}
	return name
}

var (
	pathsMu    sync.Mutex
	pathsCache = map[reflect.Type][]string{}
)

// knownPaths lists every field path (without indices) of root's YAML
// form, computed once per type.
func knownPaths(root reflect.Type) []string {
	pathsMu.Lock()
	defer pathsMu.Unlock()
	if ps, ok := pathsCache[root]; ok {
		return ps
	}
	var out []string
	var walk func(t reflect.Type, prefix string, depth int)
	walk = func(t reflect.Type, prefix string, depth int) {
		t = deref(t)
		if t.Kind() != reflect.Struct || depth > 8 || t == reflect.TypeFor[Duration]() {
			return
		}
		for i := range t.NumField() {
			name := yamlName(t.Field(i))
			if name == "" {
				continue
			}
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			out = append(out, p)
			walk(t.Field(i).Type, p, depth+1)
		}
	}
	walk(root, "", 0)
	slices.Sort(out)
	pathsCache[root] = out
	return out
}
