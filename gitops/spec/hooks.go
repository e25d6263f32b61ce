package spec

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// HookType says when a webhook is called (Flagger's webhook types).
type HookType string

// Webhook types.
const (
	// HookPreRollout runs before the canary gets traffic, at every look
	// until all pre-rollout hooks answer 2xx; a failure is a failed look.
	HookPreRollout HookType = "pre-rollout"
	// HookRollout runs at every look (e.g. drives a load test); a failure
	// is a failed look.
	HookRollout HookType = "rollout"
	// HookConfirmRollout holds the rollout before its first traffic change
	// until it answers 2xx.
	HookConfirmRollout HookType = "confirm-rollout"
	// HookConfirmPromotion holds the promotion until it answers 2xx.
	HookConfirmPromotion HookType = "confirm-promotion"
	// HookPostRollout runs once the rollout is promoted or rolled back.
	HookPostRollout HookType = "post-rollout"
	// HookRollback runs at every look; a 2xx answer rolls the canary back.
	HookRollback HookType = "rollback"
	// HookEvent runs with every committed decision; its answer changes
	// nothing.
	HookEvent HookType = "event"
)

// HookTypes lists the webhook types in the order of a rollout.
var HookTypes = []HookType{HookConfirmRollout, HookPreRollout, HookRollout, HookRollback, HookConfirmPromotion, HookPostRollout, HookEvent}

// Webhook is one HTTP endpoint birdwatch POSTs a signed JSON payload to.
type Webhook struct {
	// Name identifies the hook in the status and commit messages.
	Name string `yaml:"name" json:"name"`
	// Type is one of HookTypes.
	Type HookType `yaml:"type" json:"type"`
	// URL is an http or https URL.
	URL string `yaml:"url" json:"url"`
	// Timeout bounds the call. Default 10s, at most MaxHookTimeout.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Metadata is passed in the payload as it is (Flagger's metadata).
	Metadata map[string]string `yaml:"metadata,omitempty" json:"metadata,omitempty"`
}

// DefaultHookTimeout and MaxHookTimeout bound a webhook call.
const (
	DefaultHookTimeout = 10 * time.Second
	MaxHookTimeout     = time.Minute
)

// TimeoutOrDefault is the hook's timeout, DefaultHookTimeout when unset.
func (h Webhook) TimeoutOrDefault() time.Duration {
	if h.Timeout <= 0 {
		return DefaultHookTimeout
	}
	return h.Timeout.D()
}

// HooksOf returns c's webhooks of type t, in spec order.
func (c *Canary) HooksOf(t HookType) []Webhook {
	var out []Webhook
	for _, h := range c.Spec.Analysis.Webhooks {
		if h.Type == t {
			out = append(out, h)
		}
	}
	return out
}

// validateWebhooks checks spec.analysis.webhooks: unique DNS-label names,
// known types, http(s) URLs without credentials, timeouts in (0, 1m].
// Addresses are checked when called (see CheckHookURL).
func validateWebhooks(hooks []Webhook, ps *problems) {
	seen := map[string]bool{}
	for i, h := range hooks {
		f := fmt.Sprintf("spec.analysis.webhooks[%d]", i)
		switch {
		case h.Name == "":
			ps.add(f+".name", "required")
		case !dnsLabelRE.MatchString(h.Name):
			ps.add(f+".name", "want lowercase letters, digits and '-', got %q", h.Name)
		case seen[h.Name]:
			ps.add(f+".name", "%q is used by another webhook", h.Name)
		}
		seen[h.Name] = true
		if !slices.Contains(HookTypes, h.Type) {
			names := make([]string, len(HookTypes))
			for j, t := range HookTypes {
				names[j] = string(t)
			}
			ps.add(f+".type", "want one of %s, got %q", strings.Join(names, ", "), h.Type)
		}
		if err := CheckHookURL(h.URL); err != nil {
			ps.add(f+".url", "%v", err)
		}
		if h.Timeout < 0 || h.Timeout.D() > MaxHookTimeout {
			ps.add(f+".timeout", "must be in (0, %s], got %s", MaxHookTimeout, h.Timeout.D())
		}
	}
}

// CheckHookURL checks that raw is an absolute http or https URL with a
// host and without user credentials (they would end up in logs). Where
// it may lead is checked when it is called: the hook client refuses
// link-local (cloud metadata) addresses unless the deployment allows them.
func CheckHookURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %v", strings.TrimPrefix(err.Error(), "parse "+fmt.Sprintf("%q", raw)+": "))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("want an http or https URL, got scheme %q", u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("no host")
	case u.User != nil:
		return fmt.Errorf("credentials in the URL are refused (they would be logged); use the signature to authenticate birdwatch")
	}
	return nil
}

// HookResult is the outcome of one webhook call, as recorded in the status.
type HookResult struct {
	Hook string   `yaml:"hook" json:"hook"`
	Type HookType `yaml:"type" json:"type"`
	// OK is true when the endpoint answered 2xx.
	OK bool `yaml:"ok" json:"ok"`
	// Status is the HTTP status code; 0 when there was no answer.
	Status int `yaml:"status,omitempty" json:"status,omitempty"`
	// Error says why the call failed; empty when OK.
	Error string `yaml:"error,omitempty" json:"error,omitempty"`
	// At is when the call was made.
	At time.Time `yaml:"at" json:"at"`
}

// String is "load-test 200" or "gate failed: answered 403 Forbidden".
func (r HookResult) String() string {
	if r.OK {
		return fmt.Sprintf("%s %d", r.Hook, r.Status)
	}
	return fmt.Sprintf("%s failed: %s", r.Hook, r.Error)
}

// HookState is the webhooks' part of a rollout's status, written by the
// state machine.
type HookState struct {
	// Holding names the confirm hook (confirm-rollout or
	// confirm-promotion) holding the rollout, empty when none; HoldingType
	// is its type and Since when it first refused.
	Holding     string     `yaml:"holding,omitempty" json:"holding,omitempty"`
	HoldingType HookType   `yaml:"holdingType,omitempty" json:"holdingType,omitempty"`
	Since       *time.Time `yaml:"since,omitempty" json:"since,omitempty"`
	// RolloutConfirmed and PreRolloutPassed are true once every
	// confirm-rollout (pre-rollout) hook answered 2xx in this generation.
	RolloutConfirmed bool `yaml:"rolloutConfirmed,omitempty" json:"rolloutConfirmed,omitempty"`
	PreRolloutPassed bool `yaml:"preRolloutPassed,omitempty" json:"preRolloutPassed,omitempty"`
	// CalledAt is when the gate hooks (confirm, pre-rollout) were last
	// called; they are called again one analysis interval later.
	CalledAt *time.Time `yaml:"calledAt,omitempty" json:"calledAt,omitempty"`
	// Results holds the last call of each hook, in spec order.
	Results []HookResult `yaml:"results,omitempty" json:"results,omitempty"`
}

// HookPayload is the JSON body birdwatch POSTs to a webhook.
type HookPayload struct {
	// Canary and Namespace name the canary.
	Canary    string `json:"canary"`
	Namespace string `json:"namespace"`
	// Hook and Type are the webhook's name and type.
	Hook string   `json:"hook"`
	Type HookType `json:"type"`
	// Phase is the rollout's phase (Progressing, Paused, Succeeded, ...).
	Phase string `json:"phase"`
	// Version is the canary version; Stable the stable one.
	Version string `json:"version"`
	Stable  string `json:"stable"`
	// Weight is the canary's weight; Step the 0-based step index.
	Weight int `json:"weight"`
	Step   int `json:"step"`
	// At is when birdwatch called (RFC 3339), so receivers can refuse
	// replays of old bodies.
	At time.Time `json:"at"`
	// Metadata is the hook's metadata from the spec.
	Metadata map[string]string `json:"metadata,omitempty"`
}
