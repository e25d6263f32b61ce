package rollout

import (
	"slices"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/analyzer/verdict"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Hook inputs of TestEveryPhaseCommandVerdict: the spec gains one webhook
// of every type, and the input carries no results (the machine asks for
// them), results that all answer 2xx, or results that all fail.

// hookedCanaries caches each spec's copy with webhooks, so that the
// combinations share one.
var hookedCanaries = map[*spec.Canary]*spec.Canary{}

// withEveryHook returns c with one webhook of every type.
func withEveryHook(c *spec.Canary) *spec.Canary {
	if h, ok := hookedCanaries[c]; ok {
		return h
	}
	h := *c
	h.Spec.Analysis.Webhooks = nil
	for _, typ := range spec.HookTypes {
		h.Spec.Analysis.Webhooks = append(h.Spec.Analysis.Webhooks, spec.Webhook{Name: "h-" + string(typ), Type: typ, URL: "http://hooks.test/" + string(typ)})
	}
	hookedCanaries[c] = &h
	return &h
}

// hookResults answers every hook of c of the types ts, all 2xx or all
// failed.
func hookResults(c *spec.Canary, ok bool, ts ...spec.HookType) map[spec.HookType][]spec.HookResult {
	out := map[spec.HookType][]spec.HookResult{}
	for _, t := range ts {
		for _, h := range c.HooksOf(t) {
			r := spec.HookResult{Hook: h.Name, Type: t, OK: ok, Status: 200, At: t0}
			if !ok {
				r.Status, r.Error = 503, "answered 503 Service Unavailable"
			}
			out[t] = append(out[t], r)
		}
	}
	return out
}

// gateAndLookHooks are the types the machine itself asks for.
var gateAndLookHooks = []spec.HookType{spec.HookConfirmRollout, spec.HookPreRollout, spec.HookRollout, spec.HookRollback, spec.HookConfirmPromotion}

// hookExtras are the hook inputs, as extras of the exhaustive test.
var hookExtras = []func(*Input){
	func(in *Input) { in.Canary = withEveryHook(in.Canary) },
	func(in *Input) {
		in.Canary = withEveryHook(in.Canary)
		in.Hooks = hookResults(in.Canary, true, gateAndLookHooks...)
	},
	func(in *Input) {
		in.Canary = withEveryHook(in.Canary)
		in.Hooks = hookResults(in.Canary, false, gateAndLookHooks...)
	},
}

// hookCaseName describes the hook input of a combination.
func hookCaseName(in Input) string {
	switch {
	case len(in.Canary.Spec.Analysis.Webhooks) == 0:
		return ""
	case len(in.Hooks) == 0:
		return "/hooks-unanswered"
	case in.Hooks[spec.HookRollout][0].OK:
		return "/hooks-2xx"
	}
	return "/hooks-failed"
}

// checkHookInputs checks what the machine does with webhooks: it asks
// only for the types the spec has and it calls itself, asks before it
// commits, asks for a type once per decision, and reads the answers as
// documented (a refused gate or failed rollout hook never moves traffic
// forward; a rollback hook's 2xx never promotes).
func checkHookInputs(t *testing.T, specName string, in Input, d Decision) {
	t.Helper()
	if len(in.Canary.Spec.Analysis.Webhooks) == 0 {
		if len(d.NeedsHooks) > 0 || len(d.HookResults) > 0 {
			t.Errorf("%s: a spec without hooks needs hooks %v, used %v", caseName(specName, in), d.NeedsHooks, d.HookResults)
		}
		return
	}
	old := in.Status
	name := func() string { return caseName(specName, in) }
	for _, typ := range d.NeedsHooks {
		if !slices.Contains(gateAndLookHooks, typ) {
			t.Errorf("%s: asks for %s hooks, which the caller calls after committing", name(), typ)
		}
		if _, given := in.Hooks[typ]; given {
			t.Errorf("%s: asks again for the %s hooks it was given", name(), typ)
		}
	}
	if len(d.NeedsHooks) > 0 && (d.Commit || d.SetWeight != nil || d.Routes != nil) {
		t.Errorf("%s: commits %s (weight %v) while it asks for hooks %v", name(), d.Action, d.SetWeight, d.NeedsHooks)
	}
	if need := Require(in); !need.Sync && !slices.Equal(need.Hooks, d.NeedsHooks) {
		t.Errorf("%s: Require asks for hooks %v, Decide for %v", name(), need.Hooks, d.NeedsHooks)
	}
	if old.Phase.Terminal() && len(d.NeedsHooks) > 0 {
		t.Errorf("%s: a finished rollout asks for hooks %v", name(), d.NeedsHooks)
	}
	// Answered, the machine goes on: it never asks again for what it got.
	if len(d.NeedsHooks) > 0 && in.Hooks == nil {
		again := in
		again.Hooks = hookResults(in.Canary, true, d.NeedsHooks...)
		for _, typ := range Decide(again).NeedsHooks {
			if slices.Contains(d.NeedsHooks, typ) {
				t.Errorf("%s: given the %s hooks' answers, asks for them again", name(), typ)
			}
		}
	}
	raised := d.SetWeight != nil && *d.SetWeight > old.Weight
	failed := len(in.Hooks) > 0 && !in.Hooks[spec.HookRollout][0].OK
	if failed && in.Command == nil && raised && old.Phase == spec.PhaseProgressing && old.Step == 0 {
		t.Errorf("%s: refused gates, yet the weight went %d -> %d", name(), old.Weight, *d.SetWeight)
	}
	if failed && in.Command == nil && raised && in.Analysis != nil && in.Analysis.Verdict == verdict.Pass &&
		old.Step < len(in.Canary.Spec.Steps) && in.Canary.Spec.Steps[old.Step].Analyze != nil {
		t.Errorf("%s: a failed rollout hook, yet the analyze step advanced to weight %d", name(), *d.SetWeight)
	}
	if !failed && len(in.Hooks) > 0 && in.Command == nil && d.Action == ActionPromote && slices.ContainsFunc(d.HookResults, func(r spec.HookResult) bool {
		return r.Type == spec.HookRollback
	}) {
		t.Errorf("%s: a rollback hook asked for a rollback and the canary was promoted", name())
	}
}
