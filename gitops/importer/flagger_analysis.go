package importer

import (
	"fmt"
	"slices"
	"sort"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// flaggerAnalysisFields are the spec.analysis fields flaggerAnalysis reads.
var flaggerAnalysisFields = []string{"interval", "threshold", "maxWeight", "stepWeight", "stepWeights", "iterations", "match", "mirror", "mirrorWeight", "metrics", "webhooks", "alerts"}

// flaggerAnalysis maps spec.analysis: schedule, limits, strategy, metrics.
func flaggerAnalysis(co *Checkout, objs []*Object, sp map[string]any, nm flaggerNames, mesh string, cs *spec.CanarySpec, r *Result) error {
	an := mapAt(sp, "analysis")
	if an == nil {
		an = mapAt(sp, "canaryAnalysis") // v1alpha3's name
	}
	if an == nil {
		return fmt.Errorf("spec.analysis: required")
	}
	a := &cs.Analysis
	if v := dig(an, "interval"); v != nil {
		d, err := parseDuration(v)
		if err != nil {
			return fmt.Errorf("spec.analysis.interval: %w", err)
		}
		a.Interval = d
		r.note(Mapped, "spec.analysis.interval", "analysis.interval: %s", d)
	}
	if t, ok := number(an, "threshold"); ok {
		limit := max(int(t)-1, 0)
		a.FailureLimit = &limit
		r.note(Mapped, "spec.analysis.threshold", "threshold: %d (rollback at the %dth failed check) is failureLimit: %d (failures tolerated)", int(t), int(t), limit)
	}
	if err := flaggerStrategy(an, cs, r); err != nil {
		return err
	}
	for i, m := range maps(an, "metrics") {
		f := fmt.Sprintf("spec.analysis.metrics[%d] (%s)", i, str(m, "name"))
		mt, err := flaggerMetric(co, objs, m, nm, mesh, sp, r, f)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if mt != nil {
			a.Metrics = append(a.Metrics, *mt)
		}
	}
	if len(a.Metrics) == 0 {
		return fmt.Errorf("spec.analysis.metrics: no metric birdwatch can query")
	}
	for _, w := range maps(an, "webhooks") {
		if h, ok := flaggerWebhook(w, r); ok {
			a.Webhooks = append(a.Webhooks, h)
		}
	}
	for k := range an {
		if !slices.Contains(flaggerAnalysisFields, k) {
			r.note(NoEquivalent, "spec.analysis."+k, "ignored")
		}
	}
	return nil
}

// flaggerStrategy maps the weights, or iterations for A/B testing and
// blue/green (with mirroring).
func flaggerStrategy(an map[string]any, cs *spec.CanarySpec, r *Result) error {
	iter, hasIter := number(an, "iterations")
	switch {
	case hasIter && len(list(an, "match")) > 0:
		match, err := flaggerMatch(list(an, "match"), r)
		if err != nil {
			return err
		}
		cs.Strategy, cs.ABTesting = spec.StrategyABTesting, &spec.ABTesting{Match: match, Iterations: int(iter)}
		r.note(Mapped, "spec.analysis.iterations+match", "strategy abTesting, %d iterations", int(iter))
	case hasIter:
		bg := &spec.BlueGreen{Iterations: int(iter)}
		if m, _ := dig(an, "mirror").(bool); m {
			bg.MirrorPercentage = 100
			if w, ok := number(an, "mirrorWeight"); ok {
				bg.MirrorPercentage = w
			}
			r.note(Mapped, "spec.analysis.mirror", "blueGreen.mirrorPercentage: %g", bg.MirrorPercentage)
		}
		cs.Strategy, cs.BlueGreen = spec.StrategyBlueGreen, bg
		r.note(Mapped, "spec.analysis.iterations", "strategy blueGreen, %d iterations, then all traffic in one commit", int(iter))
	case len(list(an, "stepWeights")) > 0:
		interval := cs.Analysis.Interval
		if interval == 0 {
			interval = spec.Duration(spec.DefaultInterval)
		}
		for _, v := range list(an, "stepWeights") {
			w, ok := v.(int)
			if !ok {
				return fmt.Errorf("spec.analysis.stepWeights: want integers, got %v", v)
			}
			cs.Steps = append(cs.Steps, spec.Step{SetWeight: &w}, spec.Step{Analyze: &interval})
		}
		r.note(Mapped, "spec.analysis.stepWeights", "steps: setWeight and analyze one interval each")
	default:
		sw, _ := number(an, "stepWeight")
		mw, _ := number(an, "maxWeight")
		if sw <= 0 {
			return fmt.Errorf("spec.analysis: want stepWeight, stepWeights or iterations")
		}
		if mw == 0 {
			mw = 100
		}
		cs.StepWeight, cs.MaxWeight = int(sw), int(mw)
		r.note(Mapped, "spec.analysis.stepWeight/maxWeight", "stepWeight: %d, maxWeight: %d", int(sw), int(mw))
	}
	return nil
}

// flaggerMatch maps Istio-style HTTP match conditions (Flagger's
// analysis.match): every header condition of the first match block.
func flaggerMatch(ms []any, r *Result) ([]spec.Match, error) {
	if len(ms) > 1 {
		r.note(Approximated, "spec.analysis.match", "%d match blocks (any of them) become the first block only: birdwatch's match is one set of conditions that must all hold", len(ms))
	}
	first, _ := ms[0].(map[string]any)
	var out []spec.Match
	for _, kind := range []string{"headers", "queryParams"} {
		conds := mapAt(first, kind)
		names := make([]string, 0, len(conds))
		for k := range conds {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, name := range names {
			c, _ := conds[name].(map[string]any)
			m := spec.Match{Exact: str(c, "exact"), Prefix: str(c, "prefix"), Regex: str(c, "regex")}
			if kind == "headers" {
				m.Header = name
			} else {
				m.QueryParam = name
			}
			out = append(out, m)
		}
	}
	for k := range first {
		if k != "headers" && k != "queryParams" {
			r.note(NoEquivalent, "spec.analysis.match."+k, "only header and query parameter conditions are routed")
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("spec.analysis.match: no header or query parameter condition")
	}
	return out, nil
}

// flaggerRest maps what is left: alerts, deadlines, and says what has no
// equivalent.
func flaggerRest(co *Checkout, objs []*Object, o *Object, sp map[string]any, cs *spec.CanarySpec, r *Result) {
	an := mapAt(sp, "analysis")
	for _, al := range maps(an, "alerts") {
		ref := mapAt(al, "providerRef")
		ns := str(ref, "namespace")
		if ns == "" {
			ns = o.Namespace("default")
		}
		p := findIn(objs, "AlertProvider", ns, str(ref, "name"))
		if p == nil {
			p = co.Find("AlertProvider", ns, str(ref, "name"))
		}
		field := "spec.analysis.alerts[" + str(al, "name") + "]"
		switch {
		case p == nil:
			r.note(NoEquivalent, field, "AlertProvider %s/%s not found", ns, str(ref, "name"))
		case str(p.Body, "spec", "type") == "slack" && str(p.Body, "spec", "channel") != "" && cs.Notify.Slack == nil:
			cs.Notify.Slack = &spec.SlackNotify{Channel: str(p.Body, "spec", "channel")}
			r.note(Mapped, field, "notify.slack.channel %s (AlertProvider %s; the bot token is BIRDWATCH_SLACK_BOT_TOKEN, not its webhook secret)", cs.Notify.Slack.Channel, p.Name())
		default:
			r.note(NoEquivalent, field, "AlertProvider type %s", str(p.Body, "spec", "type"))
		}
	}
	if v, ok := number(sp, "progressDeadlineSeconds"); ok {
		cs.Sync.Timeout = spec.Duration(int64(v) * 1e9)
		r.note(Approximated, "spec.progressDeadlineSeconds", "sync.timeout %s: how long a committed weight may wait to be applied", cs.Sync.Timeout)
	}
	handled := []string{"provider", "targetRef", "service", "analysis", "canaryAnalysis", "autoscalerRef", "ingressRef", "routeRef", "progressDeadlineSeconds"}
	keys := make([]string, 0, len(sp))
	for k := range sp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if slices.Contains(handled, k) {
			continue
		}
		switch k {
		case "skipAnalysis":
			r.note(NoEquivalent, "spec.skipAnalysis", "use the command: birdwatch run --canary %s/%s --command skip-analysis", o.Namespace("default"), o.Name())
		default:
			r.note(NoEquivalent, "spec."+k, "ignored")
		}
	}
	for _, k := range []string{"port", "targetPort", "portName", "gateways", "hosts", "trafficPolicy", "retries", "timeout", "headers", "corsPolicy", "rewrite", "gatewayRefs", "name"} {
		delete(mapAt(sp, "service"), k)
	}
	for k := range mapAt(sp, "service") {
		r.note(NoEquivalent, "spec.service."+k, "ignored")
	}
	r.note(NoEquivalent, "scale to zero", "the canary Deployment keeps its replicas after a promotion (Flagger scales it to zero)")
}

// findIn returns the object of kind ns/name among objs.
func findIn(objs []*Object, kind, ns, name string) *Object {
	for _, o := range objs {
		if o.Kind() == kind && o.Name() == name && (o.Namespace(ns) == ns) {
			return o
		}
	}
	return nil
}

// flaggerWebhook maps one Flagger webhook to spec.analysis.webhooks: same
// types, URL, timeout (at most spec.MaxHookTimeout) and metadata; a type
// birdwatch does not call (confirm-traffic-increase) is left out.
func flaggerWebhook(w map[string]any, r *Result) (spec.Webhook, bool) {
	field := "spec.analysis.webhooks[" + str(w, "name") + "]"
	h := spec.Webhook{Name: metricName(str(w, "name")), Type: spec.HookType(str(w, "type")), URL: str(w, "url")}
	if h.Type == "" {
		h.Type = spec.HookRollout // Flagger's default
	}
	if !slices.Contains(spec.HookTypes, h.Type) {
		r.note(NoEquivalent, field, "%s webhook %s is not called (birdwatch calls %v); run it from your pipeline", h.Type, h.URL, spec.HookTypes)
		return h, false
	}
	if v := dig(w, "timeout"); v != nil {
		d, err := parseDuration(v)
		switch {
		case err != nil:
			r.note(NoEquivalent, field+".timeout", "%v: %v; the default %s applies", v, err, spec.DefaultHookTimeout)
		case d.D() > spec.MaxHookTimeout:
			h.Timeout = spec.Duration(spec.MaxHookTimeout)
			r.note(Approximated, field+".timeout", "%s is %s, birdwatch's longest webhook call", d, spec.MaxHookTimeout)
		default:
			h.Timeout = d
		}
	}
	if md := mapAt(w, "metadata"); len(md) > 0 {
		h.Metadata = map[string]string{}
		for k, v := range md {
			h.Metadata[k] = fmt.Sprint(v)
		}
	}
	r.note(Mapped, field, "analysis.webhooks %s: %s %s (the payload is Flagger's, signed)", h.Name, h.Type, h.URL)
	if dig(w, "muteAlert") != nil {
		r.note(NoEquivalent, field+".muteAlert", "ignored")
	}
	return h, true
}
