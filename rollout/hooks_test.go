package rollout

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/verdict"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// withHooks adds webhooks to the canary.
func withHooks(hooks ...spec.Webhook) func(*spec.Canary) {
	return func(c *spec.Canary) { c.Spec.Analysis.Webhooks = hooks }
}

func wh(name string, t spec.HookType) spec.Webhook {
	return spec.Webhook{Name: name, Type: t, URL: "http://hooks.test/" + name}
}

// answers maps a hook name to the HTTP status it answers; 0 is no answer.
type answers map[string]int

// decideAsLoop runs Decide as the loop does: hooks and analysis (passing unless
// fail) asked for are provided, and Decide runs again, until nothing more
// is asked. It returns the last decision and every hook called.
func decideAsLoop(t *testing.T, in Input, ans answers, fail bool) (Decision, []string) {
	t.Helper()
	var called []string
	for range 5 {
		d := Decide(in)
		if len(d.NeedsHooks) == 0 && !d.NeedsAnalysis {
			return d, called
		}
		in.Hooks = map[spec.HookType][]spec.HookResult{}
		for _, ty := range d.NeedsHooks {
			in.Hooks[ty] = []spec.HookResult{}
			for _, h := range in.Canary.HooksOf(ty) {
				code := ans[h.Name]
				r := spec.HookResult{Hook: h.Name, Type: ty, Status: code, OK: code >= 200 && code < 300, At: in.Now}
				if !r.OK {
					r.Error = "answered " + http.StatusText(code)
					if code == 0 {
						r.Error = "timed out after 10s"
					}
				}
				in.Hooks[ty] = append(in.Hooks[ty], r)
				called = append(called, h.Name)
			}
		}
		if d.NeedsAnalysis {
			v := verdict.Pass
			if fail {
				v = verdict.Fail
			}
			in.Analysis = &Analysis{Verdict: v, Reason: string(v), Record: &spec.AnalysisRecord{Verdict: string(v)}}
		}
	}
	t.Fatal("Decide keeps asking")
	return Decision{}, nil
}

func TestConfirmRolloutHolds(t *testing.T) {
	c := aleph(withHooks(wh("gate", spec.HookConfirmRollout)))
	d, called := decideAsLoop(t, Input{Canary: c, Now: t0}, answers{"gate": 403}, false)
	// The rollout's first commit: started, and held.
	if !d.Commit || d.Action != ActionStart || d.SetWeight != nil || d.Status.Hooks == nil || d.Status.Hooks.Holding != "gate" ||
		!d.Status.Hooks.Since.Equal(t0) || d.Status.Hooks.HoldingType != spec.HookConfirmRollout || len(called) != 1 {
		t.Fatalf("refused gate: %+v, hooks %+v, called %v", d, d.Status.Hooks, called)
	}
	if !strings.Contains(d.Reason, "held by confirm-rollout hook gate since 2026-11-26T12:00:00Z") || HooksNote(d.HookResults) != "hooks: gate failed: answered Forbidden" {
		t.Errorf("reason %q, note %q", d.Reason, HooksNote(d.HookResults))
	}
	st := d.Status
	// Within the interval the gate is not asked again.
	d, called = decideAsLoop(t, Input{Canary: c, Status: &st, Now: t0.Add(30 * time.Second)}, answers{"gate": 200}, false)
	if d.Commit || len(called) != 0 || !strings.Contains(d.Reason, "held by confirm-rollout hook gate since") {
		t.Fatalf("within the interval: commit %v, called %v, reason %q", d.Commit, called, d.Reason)
	}
	// Still refusing: no new commit, the hold keeps its start.
	d, _ = decideAsLoop(t, Input{Canary: c, Status: &st, Now: t0.Add(2 * time.Minute)}, answers{"gate": 409}, false)
	if d.Commit || d.Status.Hooks.Holding != "gate" || !d.Status.Hooks.Since.Equal(t0) {
		t.Fatalf("still refusing: commit %v, hooks %+v", d.Commit, d.Status.Hooks)
	}
	// Confirmed: the rollout sets its first weight in the same commit.
	d, _ = decideAsLoop(t, Input{Canary: c, Status: &st, Now: t0.Add(3 * time.Minute)}, answers{"gate": 200}, false)
	if !d.Commit || d.SetWeight == nil || *d.SetWeight != 1 || d.Status.Hooks.Holding != "" || !d.Status.Hooks.RolloutConfirmed {
		t.Fatalf("confirmed: %+v, hooks %+v", d, d.Status.Hooks)
	}
	if len(d.Status.Hooks.Results) != 1 || !d.Status.Hooks.Results[0].OK || d.Status.Hooks.Results[0].Status != 200 {
		t.Errorf("results %+v", d.Status.Hooks.Results)
	}
}

func TestPreRolloutFailureIsAFailedLook(t *testing.T) {
	c := aleph(withHooks(wh("smoke", spec.HookPreRollout)))
	d, _ := decideAsLoop(t, Input{Canary: c, Now: t0}, answers{"smoke": 500}, false)
	if !d.Commit || d.Action != ActionStart || d.Status.Failures != 1 || d.SetWeight != nil || !strings.Contains(d.Reason, "(1 of 1 tolerated)") {
		t.Fatalf("first failure: %+v", d)
	}
	st := d.Status
	d, _ = decideAsLoop(t, Input{Canary: c, Status: &st, Now: t0.Add(time.Minute)}, answers{"smoke": 0}, false)
	if d.Action != ActionRollback || d.Status.Phase != spec.PhaseRolledBack || !strings.Contains(d.Reason, "pre-rollout hook smoke failed: timed out after 10s (2 of 1 tolerated)") {
		t.Fatalf("second failure: %s %s %q", d.Action, d.Status.Phase, d.Reason)
	}
	d, _ = decideAsLoop(t, Input{Canary: c, Now: t0}, answers{"smoke": 204}, false)
	if d.SetWeight == nil || *d.SetWeight != 1 || !d.Status.Hooks.PreRolloutPassed {
		t.Fatalf("passing gate: %+v", d)
	}
}

func TestLookHooks(t *testing.T) {
	analyzing := status(spec.PhaseProgressing, 1, 1)
	t.Run("a failing rollout hook fails a passing look", func(t *testing.T) {
		c := aleph(withHooks(wh("load-test", spec.HookRollout)))
		d, called := decideAsLoop(t, Input{Canary: c, Status: analyzing, Now: t0.Add(2 * time.Minute)}, answers{"load-test": 502}, false)
		if d.Status.Failures != 1 || d.Action != ActionHold || len(called) != 1 || !strings.Contains(d.Reason, "rollout hook load-test failed: answered Bad Gateway") {
			t.Fatalf("%s failures %d called %v reason %q", d.Action, d.Status.Failures, called, d.Reason)
		}
	})
	t.Run("a rollout hook answering 2xx leaves the look to the metrics", func(t *testing.T) {
		c := aleph(withHooks(wh("load-test", spec.HookRollout)))
		d, _ := decideAsLoop(t, Input{Canary: c, Status: analyzing, Now: t0.Add(6 * time.Minute)}, answers{"load-test": 200}, false)
		if d.Action != ActionAdvance || d.Status.Failures != 0 {
			t.Fatalf("%s failures %d", d.Action, d.Status.Failures)
		}
	})
	t.Run("a rollback hook answering 2xx rolls back", func(t *testing.T) {
		c := aleph(withHooks(wh("abort", spec.HookRollback), wh("load-test", spec.HookRollout)))
		d, called := decideAsLoop(t, Input{Canary: c, Status: analyzing, Now: t0.Add(2 * time.Minute)}, answers{"abort": 200, "load-test": 200}, false)
		if d.Action != ActionRollback || d.Reason != "rollback hook abort answered 200" || len(called) != 2 {
			t.Fatalf("%s %q called %v", d.Action, d.Reason, called)
		}
	})
}

func TestConfirmPromotionHolds(t *testing.T) {
	c := aleph(withHooks(wh("release-manager", spec.HookConfirmPromotion), wh("notify", spec.HookPostRollout), wh("events", spec.HookEvent)))
	done := status(spec.PhaseProgressing, len(c.Spec.Steps), 100, func(s *spec.Status) { s.Hooks = &spec.HookState{RolloutConfirmed: true} })
	d, _ := decideAsLoop(t, Input{Canary: c, Status: done, Now: t0.Add(time.Minute)}, answers{"release-manager": 404}, false)
	if d.Promote || d.Action != ActionHold || d.Status.Hooks.Holding != "release-manager" || d.Status.Hooks.HoldingType != spec.HookConfirmPromotion {
		t.Fatalf("refused: %+v hooks %+v", d, d.Status.Hooks)
	}
	if got := AfterHooks(c, d); len(got) != 1 || got[0] != spec.HookEvent {
		t.Errorf("after a hold, AfterHooks = %v; want event only", got)
	}
	st := d.Status
	d, _ = decideAsLoop(t, Input{Canary: c, Status: &st, Now: t0.Add(3 * time.Minute)}, answers{"release-manager": 200}, false)
	if !d.Promote || d.Status.Phase != spec.PhaseSucceeded || d.Status.Hooks.Holding != "" {
		t.Fatalf("confirmed: %+v", d)
	}
	if got := AfterHooks(c, d); len(got) != 2 || got[0] != spec.HookPostRollout {
		t.Errorf("after promotion, AfterHooks = %v; want post-rollout and event", got)
	}
}

// TestRequireAsksForLookHooksOnce: at a look Require asks for the rollout
// hooks and the window; given the hook results it asks for the window only.
func TestRequireAsksForLookHooksOnce(t *testing.T) {
	c := aleph(withHooks(wh("load-test", spec.HookRollout)))
	in := Input{Canary: c, Status: status(spec.PhaseProgressing, 1, 1), Now: t0.Add(2 * time.Minute)}
	n := Require(in)
	if n.Analysis == nil || len(n.Hooks) != 1 || n.Hooks[0] != spec.HookRollout {
		t.Fatalf("Require = %+v; want the window and the rollout hooks", n)
	}
	in.Hooks = map[spec.HookType][]spec.HookResult{spec.HookRollout: {{Hook: "load-test", Type: spec.HookRollout, OK: true, Status: 200, At: in.Now}}}
	if n := Require(in); n.Analysis == nil || len(n.Hooks) != 0 {
		t.Fatalf("with the results, Require = %+v; want the window only", n)
	}
}
