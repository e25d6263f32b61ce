// Package spec defines the Canary spec and its status file, as they live in a
// GitOps repository under .birdwatch/, and parses them strictly: unknown
// fields are errors, and every problem is reported as "file:line: field: problem".
package spec

import (
	"slices"
	"strings"
)

// APIVersion is the only apiVersion a Canary may have.
const APIVersion = "birdwatch.dev/v1alpha1"

// Kind is the kind of a Canary document.
const Kind = "Canary"

// Canary is one rollout's desired state, written by humans in Git.
type Canary struct {
	APIVersion string     `yaml:"apiVersion" json:"apiVersion"`
	Kind       string     `yaml:"kind" json:"kind"`
	Metadata   Metadata   `yaml:"metadata" json:"metadata"`
	Spec       CanarySpec `yaml:"spec" json:"spec"`

	// File is the repository-relative path the Canary was read from; empty
	// when it was not read from a file.
	File string `yaml:"-" json:"-"`
	// Line is the line of the document's first key in File (1-based).
	Line int `yaml:"-" json:"-"`
	// Doc is the zero-based index of the YAML document in File.
	Doc int `yaml:"-" json:"-"`
}

// Metadata names a Canary. Namespace defaults to "default".
type Metadata struct {
	Name      string `yaml:"name" json:"name"`
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
}

// CanarySpec is the body of a Canary.
type CanarySpec struct {
	// Service is the service name used in metric queries; defaults to metadata.name.
	Service string `yaml:"service,omitempty" json:"service,omitempty"`
	// Stable is the version serving production now.
	Stable string `yaml:"stable" json:"stable"`
	// Canary is the version under test; a new value starts a new rollout.
	Canary string `yaml:"canary" json:"canary"`

	Traffic Traffic `yaml:"traffic" json:"traffic"`

	// Strategy is canary (default: Steps or StepWeight), abTesting,
	// blueGreen or mirror. The last three are described by the field of the
	// same name and expanded into Steps by SetDefaults (see strategy.go).
	Strategy  string     `yaml:"strategy,omitempty" json:"strategy,omitempty"`
	ABTesting *ABTesting `yaml:"abTesting,omitempty" json:"abTesting,omitempty"`
	BlueGreen *BlueGreen `yaml:"blueGreen,omitempty" json:"blueGreen,omitempty"`
	Mirror    *Mirroring `yaml:"mirror,omitempty" json:"mirror,omitempty"`

	// Steps are Argo-style rollout steps. Either Steps or StepWeight must be set.
	Steps []Step `yaml:"steps,omitempty" json:"steps,omitempty"`
	// StepWeight and MaxWeight are the Flagger-style alternative to Steps:
	// weights StepWeight, 2*StepWeight, ... up to MaxWeight, each followed by
	// one analysis interval. They are expanded into Steps by SetDefaults.
	StepWeight int `yaml:"stepWeight,omitempty" json:"stepWeight,omitempty"`
	MaxWeight  int `yaml:"maxWeight,omitempty" json:"maxWeight,omitempty"`

	Analysis  Analysis   `yaml:"analysis" json:"analysis"`
	Promote   []Edit     `yaml:"promote,omitempty" json:"promote,omitempty"`
	OnFailure string     `yaml:"onFailure,omitempty" json:"onFailure,omitempty"`
	Sync      SyncSpec   `yaml:"sync,omitempty" json:"sync,omitempty"`
	Git       GitSpec    `yaml:"git,omitempty" json:"git,omitempty"`
	Notify    NotifySpec `yaml:"notify,omitempty" json:"notify,omitempty"`
	Access    AccessSpec `yaml:"access,omitempty" json:"access,omitempty"`
}

// Traffic says which manifest holds the weights and how to find them.
type Traffic struct {
	// Provider is one of istio, gatewayapi, smi, nginx, alb, traefik,
	// contour, apisix, yamlpath, replicas, service.
	Provider string `yaml:"provider" json:"provider"`
	// File is the repository-relative path of the manifest to edit.
	File string `yaml:"file" json:"file"`
	// Route selects a named route inside the manifest (istio: http route;
	// gatewayapi: rule, or HTTPRoute/GRPCRoute name; smi: TrafficSplit
	// name; traefik: TraefikService name; contour: HTTPProxy name; apisix:
	// http rule name); empty means the one route holding both
	// destinations. For nginx it is the canary Ingress's name, for alb the
	// action name (alb.ingress.kubernetes.io/actions.<route>); both required.
	Route string `yaml:"route,omitempty" json:"route,omitempty"`
	// Host restricts istio destinations to one host when splitting by
	// subset; empty means any host.
	Host string `yaml:"host,omitempty" json:"host,omitempty"`
	// StableSubset and CanarySubset are the istio subsets.
	StableSubset string `yaml:"stableSubset,omitempty" json:"stableSubset,omitempty"`
	CanarySubset string `yaml:"canarySubset,omitempty" json:"canarySubset,omitempty"`
	// StableService and CanaryService are the Services of the two versions:
	// gatewayapi backendRef names, smi backend services, traefik and
	// contour service names, apisix and alb serviceNames, or istio
	// destination hosts (instead of subsets, Argo Rollouts' layout).
	StableService string `yaml:"stableService,omitempty" json:"stableService,omitempty"`
	CanaryService string `yaml:"canaryService,omitempty" json:"canaryService,omitempty"`
	// CanaryWeightPath and StableWeightPath are yamlpath's YAML paths of the
	// weights; without StableWeightPath the stable weight is 100 minus the
	// canary weight.
	CanaryWeightPath string `yaml:"canaryWeightPath,omitempty" json:"canaryWeightPath,omitempty"`
	StableWeightPath string `yaml:"stableWeightPath,omitempty" json:"stableWeightPath,omitempty"`
	// StableDeployment and CanaryDeployment name the two Deployments in
	// File whose spec.replicas the replicas provider scales.
	StableDeployment string `yaml:"stableDeployment,omitempty" json:"stableDeployment,omitempty"`
	CanaryDeployment string `yaml:"canaryDeployment,omitempty" json:"canaryDeployment,omitempty"`
	// StableReplicasPath and CanaryReplicasPath are the YAML paths of the
	// two replica counts (replicas, instead of the Deployments): Helm
	// values or a Kustomize replicas list.
	StableReplicasPath string `yaml:"stableReplicasPath,omitempty" json:"stableReplicasPath,omitempty"`
	CanaryReplicasPath string `yaml:"canaryReplicasPath,omitempty" json:"canaryReplicasPath,omitempty"`
	// TotalReplicas is the pod count the replicas provider splits; 0 means
	// the stable's replicas when the rollout starts.
	TotalReplicas int `yaml:"totalReplicas,omitempty" json:"totalReplicas,omitempty"`
	// ActiveService is the Service whose selector the service provider
	// switches from the stable to the canary version; PreviewService, if
	// set, selects the canary version from the start.
	ActiveService  string `yaml:"activeService,omitempty" json:"activeService,omitempty"`
	PreviewService string `yaml:"previewService,omitempty" json:"previewService,omitempty"`
	// VersionLabel is the selector label holding spec.stable or spec.canary
	// (service). Default "version".
	VersionLabel string `yaml:"versionLabel,omitempty" json:"versionLabel,omitempty"`
}

// Step is exactly one of SetWeight, SetHeaderRoute, SetMirrorRoute, Analyze or Pause.
type Step struct {
	// SetWeight is the canary's traffic share in percent, 0 to 100.
	SetWeight *int `yaml:"setWeight,omitempty" json:"setWeight,omitempty"`
	// Analyze keeps the current weight for this long while analysis passes.
	Analyze *Duration `yaml:"analyze,omitempty" json:"analyze,omitempty"`
	// Pause waits for a resume or promote command, or for its duration.
	Pause *Pause `yaml:"pause,omitempty" json:"pause,omitempty"`
	// SetHeaderRoute adds (or, without Match, removes) a route that sends
	// the requests it matches to the canary, whatever the weight (Argo
	// Rollouts' setHeaderRoute).
	SetHeaderRoute *HeaderRoute `yaml:"setHeaderRoute,omitempty" json:"setHeaderRoute,omitempty"`
	// SetMirrorRoute starts (or, with Percentage 0, stops) copying a share
	// of live traffic to the canary; the canary's responses are dropped
	// (Argo Rollouts' setMirrorRoute).
	SetMirrorRoute *MirrorRoute `yaml:"setMirrorRoute,omitempty" json:"setMirrorRoute,omitempty"`

	// origin is the spec field a step was expanded from (e.g.
	// "spec.abTesting.match"), so problems name what the human wrote; empty
	// for steps written under spec.steps.
	origin string
}

// Origin is the spec field a step was expanded from by SetDefaults, or "" for
// a step written under spec.steps.
func (s Step) Origin() string { return s.origin }

// HeaderRoute is a route birdwatch adds in front of the managed route:
// requests meeting every condition in Match go to the canary.
type HeaderRoute struct {
	// Name identifies the route; birdwatch names the manifest's route
	// "birdwatch-<Name>" and only ever edits or removes routes so named.
	Name string `yaml:"name" json:"name"`
	// Match lists conditions that must all hold; empty removes the route.
	Match []Match `yaml:"match,omitempty" json:"match,omitempty"`
}

// MirrorRoute copies Percentage percent of the managed route's requests to the canary.
type MirrorRoute struct {
	// Name identifies the mirror; one mirror is active at a time.
	Name string `yaml:"name" json:"name"`
	// Percentage of requests copied, in (0, 100]; 0 (or absent) removes the mirror.
	Percentage float64 `yaml:"percentage,omitempty" json:"percentage,omitempty"`
}

// Match is one request condition: exactly one of Header, Cookie or
// QueryParam names what is compared, and exactly one of Exact, Prefix or
// Regex (RE2) says how. A cookie condition compares the cookie's value,
// e.g. {cookie: user, exact: developer} matches "Cookie: user=developer".
type Match struct {
	Header     string `yaml:"header,omitempty" json:"header,omitempty"`
	Cookie     string `yaml:"cookie,omitempty" json:"cookie,omitempty"`
	QueryParam string `yaml:"queryParam,omitempty" json:"queryParam,omitempty"`
	Exact      string `yaml:"exact,omitempty" json:"exact,omitempty"`
	Prefix     string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
	Regex      string `yaml:"regex,omitempty" json:"regex,omitempty"`
}

// ABTesting (strategy abTesting, Flagger's A/B testing) routes only the
// requests that match to the canary for Iterations analysis intervals, then
// promotes. Expanded to: setHeaderRoute ab, analyze Iterations*interval.
type ABTesting struct {
	// Match lists the conditions (all must hold) of requests sent to the canary.
	Match []Match `yaml:"match" json:"match"`
	// Iterations is how many analysis intervals the matched traffic is analysed. Default 10.
	Iterations int `yaml:"iterations,omitempty" json:"iterations,omitempty"`
}

// BlueGreen (strategy blueGreen) gives the canary no live traffic, or only
// matched or mirrored traffic, analyses it, then switches all traffic to it
// in one commit (weight 0 -> 100); a rollback is the reverse commit.
// Expanded to: [setHeaderRoute preview] [setMirrorRoute preview],
// analyze Iterations*interval, [pause], [remove the mirror], setWeight 100.
type BlueGreen struct {
	// Match, if set, sends the requests that match to the new version before the switch.
	Match []Match `yaml:"match,omitempty" json:"match,omitempty"`
	// MirrorPercentage, if set, copies that share of live traffic to the new version before the switch.
	MirrorPercentage float64 `yaml:"mirrorPercentage,omitempty" json:"mirrorPercentage,omitempty"`
	// Iterations is how many analysis intervals run before the switch. Default 10.
	Iterations int `yaml:"iterations,omitempty" json:"iterations,omitempty"`
	// AutoPromote false waits for a promote command before the switch
	// (Argo Rollouts' autoPromotionEnabled). Default true.
	AutoPromote *bool `yaml:"autoPromote,omitempty" json:"autoPromote,omitempty"`
}

// Mirroring (strategy mirror) copies Percentage percent of live traffic to
// the canary and analyses it for Iterations intervals before any real
// traffic moves; then the canary's Steps (or StepWeight) run, or, with
// none, traffic switches 0 -> 100 as in blueGreen.
type Mirroring struct {
	// Percentage of live requests copied to the canary, in (0, 100]. Default 100.
	Percentage float64 `yaml:"percentage,omitempty" json:"percentage,omitempty"`
	// Iterations is how many analysis intervals the mirrored traffic is analysed. Default 10.
	Iterations int `yaml:"iterations,omitempty" json:"iterations,omitempty"`
}

// Routing is the set of routes birdwatch has added to the traffic manifest
// at some point of a rollout: header routes in the order they were set
// (first match wins) and at most one mirror.
type Routing struct {
	Headers []HeaderRoute `yaml:"headers,omitempty" json:"headers,omitempty"`
	Mirror  *MirrorRoute  `yaml:"mirror,omitempty" json:"mirror,omitempty"`
}

// Empty reports whether r has no route.
func (r Routing) Empty() bool { return len(r.Headers) == 0 && r.Mirror == nil }

// RoutingAt returns the routes in place when step index i is about to run:
// the effect of every SetHeaderRoute and SetMirrorRoute among steps[:i].
// A header route set again with the same name replaces the earlier one in
// place; one set without Match is removed; a mirror with Percentage 0 is
// removed.
func RoutingAt(steps []Step, i int) Routing {
	var r Routing
	for _, s := range steps[:min(max(i, 0), len(steps))] {
		if h := s.SetHeaderRoute; h != nil {
			at := -1
			for j := range r.Headers {
				if r.Headers[j].Name == h.Name {
					at = j
				}
			}
			switch {
			case len(h.Match) == 0 && at >= 0:
				r.Headers = append(r.Headers[:at:at], r.Headers[at+1:]...)
			case len(h.Match) > 0 && at >= 0:
				r.Headers[at] = *h
			case len(h.Match) > 0:
				r.Headers = append(r.Headers, *h)
			}
		}
		if m := s.SetMirrorRoute; m != nil {
			if m.Percentage > 0 {
				mr := *m
				r.Mirror = &mr
			} else {
				r.Mirror = nil
			}
		}
	}
	return r
}

// Strategies.
const (
	StrategyCanary    = "canary"
	StrategyABTesting = "abTesting"
	StrategyBlueGreen = "blueGreen"
	StrategyMirror    = "mirror"
)

// Pause waits; a nil Duration waits for a command.
type Pause struct {
	Duration *Duration `yaml:"duration,omitempty" json:"duration,omitempty"`
}

// Analysis configures how the canary is judged.
type Analysis struct {
	// Interval is the time between two looks. Default 1m.
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	// Warmup is skipped at the start of every window after a weight change.
	Warmup Duration `yaml:"warmup,omitempty" json:"warmup,omitempty"`
	// Judge is sequential (default), mannwhitney or threshold.
	Judge string `yaml:"judge,omitempty" json:"judge,omitempty"`
	// Alpha is the false-rollback budget of the whole rollout. Default 0.01.
	Alpha float64 `yaml:"alpha,omitempty" json:"alpha,omitempty"`
	// MirrorAlpha, if set, replaces Alpha in looks where the canary serves
	// mirrored traffic only: mirrored responses reach no user, so a spec may
	// judge them at another level. The sequential judge's false-rollback
	// rate is then at most max(Alpha, MirrorAlpha) (one e-process, Ville's
	// inequality at the looser threshold).
	MirrorAlpha float64 `yaml:"mirrorAlpha,omitempty" json:"mirrorAlpha,omitempty"`
	// MinRequests below which a window is inconclusive, never a failure. Default 100.
	MinRequests int `yaml:"minRequests,omitempty" json:"minRequests,omitempty"`
	// FailureLimit is how many failed analyses are tolerated; one more fails the rollout. Default 1.
	FailureLimit *int `yaml:"failureLimit,omitempty" json:"failureLimit,omitempty"`
	// InconclusiveLimit is how many inconclusive analyses are tolerated. Default 10.
	InconclusiveLimit *int `yaml:"inconclusiveLimit,omitempty" json:"inconclusiveLimit,omitempty"`
	// Metrics to analyse; at least one.
	Metrics []Metric `yaml:"metrics" json:"metrics"`
	// Scoring configures the mannwhitney judge's score.
	Scoring Scoring `yaml:"scoring,omitempty" json:"scoring,omitempty"`
	// Webhooks are called at points of the rollout, in Flagger's shape
	// (see hooks.go).
	Webhooks []Webhook `yaml:"webhooks,omitempty" json:"webhooks,omitempty"`
}

// Metric is one query judged for the canary against the baseline.
type Metric struct {
	Name string `yaml:"name" json:"name"`
	// Template names an embedded query template, TemplateRef a MetricTemplate
	// of the repository, Query is an inline one. Exactly one is set.
	Template    string       `yaml:"template,omitempty" json:"template,omitempty"`
	TemplateRef *TemplateRef `yaml:"templateRef,omitempty" json:"templateRef,omitempty"`
	Query       string       `yaml:"query,omitempty" json:"query,omitempty"`
	// Unit of an inline query's value, shown in reports (e.g. ms, percent). Templates bring their own.
	Unit string `yaml:"unit,omitempty" json:"unit,omitempty"`
	// Direction says which change is bad: increase (default), decrease or either.
	Direction string `yaml:"direction,omitempty" json:"direction,omitempty"`
	// Tolerance is the relative change tolerated. Default 0.25.
	Tolerance *float64 `yaml:"tolerance,omitempty" json:"tolerance,omitempty"`
	// Critical fails the rollout at once when this metric fails.
	Critical bool `yaml:"critical,omitempty" json:"critical,omitempty"`
	// Max and Min are absolute guards on the canary's value, in the metric's unit.
	Max *float64 `yaml:"max,omitempty" json:"max,omitempty"`
	Min *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	// Quantile is, for a histogram metric (a template with buckets), the
	// stable's quantile whose bucket the sequential judge tests the canary
	// against, in (0, 1). Default 0.99.
	Quantile float64 `yaml:"quantile,omitempty" json:"quantile,omitempty"`
	// Args are extra template variables; for a TemplateRef they override
	// the MetricTemplate's defaults.
	Args map[string]string `yaml:"args,omitempty" json:"args,omitempty"`
	// Resolved is the MetricTemplate TemplateRef names, set by
	// ResolveTemplates; nil before, and for other metrics.
	Resolved *MetricTemplate `yaml:"-" json:"-"`

	// The fields below configure the mannwhitney judge (Kayenta's classifier).

	// Group names the metric's group in the weighted score; empty is a group of its own.
	Group string `yaml:"group,omitempty" json:"group,omitempty"`
	// Confidence of the Mann-Whitney interval, in (0, 1). Default 0.98.
	Confidence float64 `yaml:"confidence,omitempty" json:"confidence,omitempty"`
	// NaNStrategy is remove (default) or replace (with 0).
	NaNStrategy string `yaml:"nanStrategy,omitempty" json:"nanStrategy,omitempty"`
	// Outliers is keep (default) or remove (beyond OutlierFactor interquartile ranges).
	Outliers      string  `yaml:"outliers,omitempty" json:"outliers,omitempty"`
	OutlierFactor float64 `yaml:"outlierFactor,omitempty" json:"outlierFactor,omitempty"`
	// EffectSize holds guards on the ratio of the canary's mean to the baseline's.
	EffectSize EffectSize `yaml:"effectSize,omitempty" json:"effectSize,omitempty"`
	// MinSamples per side below which the metric is NoData. Default 10.
	MinSamples int `yaml:"minSamples,omitempty" json:"minSamples,omitempty"`
	// Optional leaves NoData and Error out of the score.
	Optional bool `yaml:"optional,omitempty" json:"optional,omitempty"`
	// LocationOnly skips the tail tests: Kayenta's classifier exactly, blind spots included.
	LocationOnly bool `yaml:"locationOnly,omitempty" json:"locationOnly,omitempty"`
}

// EffectSize guards, as ratios of the canary's mean to the baseline's; 0 means none.
type EffectSize struct {
	// AllowedIncrease (e.g. 1.1) and AllowedDecrease (e.g. 0.9): a significant change smaller than this still passes.
	AllowedIncrease float64 `yaml:"allowedIncrease,omitempty" json:"allowedIncrease,omitempty"`
	AllowedDecrease float64 `yaml:"allowedDecrease,omitempty" json:"allowedDecrease,omitempty"`
	// CriticalIncrease and CriticalDecrease: a critical metric's failure is critical only beyond these.
	CriticalIncrease float64 `yaml:"criticalIncrease,omitempty" json:"criticalIncrease,omitempty"`
	CriticalDecrease float64 `yaml:"criticalDecrease,omitempty" json:"criticalDecrease,omitempty"`
}

// Scoring is the mannwhitney judge's weighted score.
type Scoring struct {
	// Pass and Marginal are score thresholds (0-100). Defaults 95 and 75.
	Pass     float64 `yaml:"pass,omitempty" json:"pass,omitempty"`
	Marginal float64 `yaml:"marginal,omitempty" json:"marginal,omitempty"`
	// GroupWeights maps metric groups to weights in percent of the score.
	GroupWeights map[string]float64 `yaml:"groupWeights,omitempty" json:"groupWeights,omitempty"`
}

// Edit sets the value at a YAML path in a file of the repository.
type Edit struct {
	File  string `yaml:"file" json:"file"`
	Path  string `yaml:"path" json:"path"`
	Value string `yaml:"value" json:"value"`
}

// SyncSpec says how to know that the applier has applied a commit.
type SyncSpec struct {
	// Engine is none (default), flux or argocd.
	Engine   string `yaml:"engine,omitempty" json:"engine,omitempty"`
	Object   string `yaml:"object,omitempty" json:"object,omitempty"`
	Workload string `yaml:"workload,omitempty" json:"workload,omitempty"`
	// ApplyDelay is, for engine none, how long after the commit the weight counts as applied. Default 0.
	ApplyDelay Duration `yaml:"applyDelay,omitempty" json:"applyDelay,omitempty"`
	// Timeout after which a weight that is still not applied freezes the rollout. Default 10m.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// GitSpec says where decisions are committed.
type GitSpec struct {
	Branch string `yaml:"branch,omitempty" json:"branch,omitempty"`
	// Mode is push (default) or pullRequest.
	Mode string `yaml:"mode,omitempty" json:"mode,omitempty"`
}

// NotifySpec says where reports go. Every notifier but Slack names, by
// secretRef, the deployment secret holding its URL: webhook URLs are
// credentials and never live in Git.
type NotifySpec struct {
	Slack *SlackNotify `yaml:"slack,omitempty" json:"slack,omitempty"`
	// Teams posts an Adaptive Card to a Microsoft Teams Workflows webhook.
	Teams *HookNotify `yaml:"teams,omitempty" json:"teams,omitempty"`
	// Discord posts an embed (and the chart) to a Discord channel webhook.
	Discord *HookNotify `yaml:"discord,omitempty" json:"discord,omitempty"`
	// GoogleChat posts a card to a Google Chat space's incoming webhook.
	GoogleChat *HookNotify `yaml:"googleChat,omitempty" json:"googleChat,omitempty"`
	// Webhook posts a signed CloudEvent to any HTTP endpoint.
	Webhook *WebhookNotify `yaml:"webhook,omitempty" json:"webhook,omitempty"`
}

// NotifyLevels are the decisions a notifier may be limited to with `on`.
var NotifyLevels = []string{"start", "advance", "pause", "resume", "promote", "rollback", "freeze"}

// SlackNotify is a Slack channel to report to.
type SlackNotify struct {
	Channel string `yaml:"channel" json:"channel"`
	// On limits the decisions posted (NotifyLevels); empty means every decision.
	On []string `yaml:"on,omitempty" json:"on,omitempty"`
}

// HookNotify is a chat service's incoming webhook.
type HookNotify struct {
	// SecretRef names the deployment secret that holds the webhook URL.
	SecretRef string `yaml:"secretRef" json:"secretRef"`
	// On limits the decisions posted (NotifyLevels); empty means every decision.
	On []string `yaml:"on,omitempty" json:"on,omitempty"`
}

// WebhookNotify is a generic HTTP endpoint receiving CloudEvents.
type WebhookNotify struct {
	// SecretRef names the deployment secret that holds the endpoint URL.
	SecretRef string `yaml:"secretRef" json:"secretRef"`
	// SigningSecretRef names the deployment secret whose value keys the
	// HMAC-SHA256 signature of each delivery (Standard Webhooks scheme).
	SigningSecretRef string `yaml:"signingSecretRef" json:"signingSecretRef"`
	// On limits the decisions sent (NotifyLevels); empty means every decision.
	On []string `yaml:"on,omitempty" json:"on,omitempty"`
}

// Wants reports whether a notifier limited to on reports action: an empty
// list takes every decision.
func Wants(on []string, action string) bool {
	return len(on) == 0 || slices.Contains(on, action)
}

// AccessSpec lists who may steer the rollout by command.
type AccessSpec struct {
	// Operators are "github:org/team", "github:user", "gitlab:group",
	// "gitlab:user" or "slack:USERID" entries.
	Operators []string `yaml:"operators,omitempty" json:"operators,omitempty"`
}

// Key returns "namespace/name".
func (c *Canary) Key() string { return c.Metadata.Namespace + "/" + c.Metadata.Name }

// IsSpecPath reports whether a repository path is a place where Canary specs
// live: a .yaml or .yml file under .birdwatch/ but not under its status folder.
func IsSpecPath(p string) bool {
	if !strings.HasPrefix(p, SpecDir+"/") || strings.HasPrefix(p, StatusDir+"/") {
		return false
	}
	return strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")
}
