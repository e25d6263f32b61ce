package rollout

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Webhooks (spec.analysis.webhooks) in the state machine. The machine
// never calls a hook: when it reaches a point where the spec has hooks of
// a type and the input has no results for them, it asks for them
// (Decision.NeedsHooks) and commits nothing; the caller calls every hook
// of those types and decides again with Input.Hooks. What the results
// mean:
//
//   - confirm-rollout, before the first step: all 2xx lets the rollout
//     start; otherwise the rollout is held (status.hooks.holding and
//     since, committed once) and asked again one analysis interval later.
//   - pre-rollout, before the first step: all 2xx passes the gate; a
//     failure is a failed look (status.failures), retried an interval later.
//   - rollout, with every look: a failure makes the look failed, whatever
//     the metrics said.
//   - rollback, with every look: a 2xx rolls the canary back.
//   - confirm-promotion, before the promotion: held like confirm-rollout.
//
// post-rollout and event hooks change no decision: the caller calls them
// when a decision commits (see AfterHooks) and records their results.

// hookResults returns the input's results for hooks of type t and marks
// them used (one call serves one gate or look); ok is false when the input
// has none.
func (m *machine) hookResults(t spec.HookType) ([]spec.HookResult, bool) {
	r, ok := m.in.Hooks[t]
	if ok {
		delete(m.in.Hooks, t)
		m.record(r)
		m.used = append(m.used, r...)
	}
	return r, ok
}

// needHooks asks the caller for the results of hooks of types ts.
func (m *machine) needHooks(ts ...spec.HookType) {
	for _, t := range ts {
		if _, given := m.in.Hooks[t]; given {
			continue // called for this look; used when the analysis is in
		}
		if !slices.Contains(m.needsHooks, t) {
			m.needsHooks = append(m.needsHooks, t)
		}
	}
}

// hasHooks reports whether the spec has hooks of type t.
func (m *machine) hasHooks(t spec.HookType) bool { return len(m.in.Canary.HooksOf(t)) > 0 }

// hooks returns the status' hook state, creating it.
func (m *machine) hooks() *spec.HookState {
	if m.st.Hooks == nil {
		m.st.Hooks = &spec.HookState{}
	}
	return m.st.Hooks
}

// record keeps the last result of each hook in the status, in spec order.
func (m *machine) record(rs []spec.HookResult) {
	m.hooks()
	RecordHooks(m.in.Canary, &m.st, rs)
}

// RecordHooks keeps the last result of each of c's hooks in st.Hooks, in
// spec order: the machine's own calls, and the post-rollout and event
// calls the caller makes after deciding (AfterHooks).
func RecordHooks(c *spec.Canary, st *spec.Status, rs []spec.HookResult) {
	if len(rs) == 0 {
		return
	}
	if st.Hooks == nil {
		st.Hooks = &spec.HookState{}
	}
	h := st.Hooks
	for _, r := range rs {
		i := slices.IndexFunc(h.Results, func(x spec.HookResult) bool { return x.Hook == r.Hook })
		if i >= 0 {
			h.Results[i] = r
		} else {
			h.Results = append(h.Results, r)
		}
	}
	order := map[string]int{}
	for i, w := range c.Spec.Analysis.Webhooks {
		order[w.Name] = i
	}
	slices.SortStableFunc(h.Results, func(a, b spec.HookResult) int { return order[a.Hook] - order[b.Hook] })
}

// firstFailed returns the first result that is not 2xx.
func firstFailed(rs []spec.HookResult) (spec.HookResult, bool) {
	for _, r := range rs {
		if !r.OK {
			return r, true
		}
	}
	return spec.HookResult{}, false
}

// gatesPassed runs the gates before the first step: confirm-rollout, then
// pre-rollout. It returns true when the machine may execute step 0.
func (m *machine) gatesPassed() bool {
	if m.st.Step != 0 {
		return true
	}
	if m.hasHooks(spec.HookConfirmRollout) && (m.st.Hooks == nil || !m.st.Hooks.RolloutConfirmed) {
		if !m.confirmed(spec.HookConfirmRollout) {
			return false
		}
		m.hooks().RolloutConfirmed = true
	}
	if m.hasHooks(spec.HookPreRollout) && (m.st.Hooks == nil || !m.st.Hooks.PreRolloutPassed) {
		return m.preRollout()
	}
	return true
}

// confirmed asks the confirm hooks of type t; true when all answered 2xx.
// A refusal holds the rollout: the first one is committed with the hook's
// name and the time, later ones wait.
func (m *machine) confirmed(t spec.HookType) bool {
	rs, ok := m.hookResults(t)
	if !ok {
		if !m.gateDue() {
			m.wait(m.holdingReason())
			return false
		}
		m.needHooks(t)
		m.wait(fmt.Sprintf("calling %s hooks", t))
		return false
	}
	h := m.hooks()
	h.CalledAt = m.now()
	bad, failed := firstFailed(rs)
	if !failed {
		if h.Holding != "" {
			m.take(ActionResume, fmt.Sprintf("%s hook %s answered %d after holding since %s", t, h.Holding, statusOf(rs, h.Holding), h.Since.UTC().Format(time.RFC3339)))
		}
		h.Holding, h.HoldingType, h.Since = "", "", nil
		return true
	}
	if h.Holding != bad.Hook {
		h.Holding, h.HoldingType, h.Since = bad.Hook, t, m.now()
		m.take(ActionHold, m.holdingReason()+": "+bad.Error)
		return false
	}
	m.wait(m.holdingReason() + ": " + bad.Error)
	return false
}

// preRollout asks the pre-rollout hooks: all 2xx passes the gate, a
// failure counts as a failed look.
func (m *machine) preRollout() bool {
	rs, ok := m.hookResults(spec.HookPreRollout)
	if !ok {
		if !m.gateDue() {
			m.wait("pre-rollout hooks failed; next call at " + m.nextGateCall().UTC().Format(time.RFC3339))
			return false
		}
		m.needHooks(spec.HookPreRollout)
		m.wait("calling pre-rollout hooks")
		return false
	}
	h := m.hooks()
	h.CalledAt = m.now()
	bad, failed := firstFailed(rs)
	if !failed {
		h.PreRolloutPassed = true
		return true
	}
	m.st.Failures++
	limit := *m.in.Canary.Spec.Analysis.FailureLimit
	m.countAgainst(m.st.Failures > limit, fmt.Sprintf("pre-rollout hook %s (%d of %d tolerated)", bad, m.st.Failures, limit))
	return false
}

// gateDue reports whether the gate hooks may be called now: never called
// in this generation, or one analysis interval since the last call.
func (m *machine) gateDue() bool {
	return m.st.Hooks == nil || m.st.Hooks.CalledAt == nil || !m.in.Now.Before(m.nextGateCall())
}

func (m *machine) nextGateCall() time.Time {
	return m.st.Hooks.CalledAt.Add(m.in.Canary.Spec.Analysis.Interval.D())
}

// holdingReason says which hook holds the rollout and since when.
func (m *machine) holdingReason() string {
	h := m.hooks()
	if h.Holding == "" {
		return "waiting for confirm hooks"
	}
	return fmt.Sprintf("held by %s hook %s since %s", h.HoldingType, h.Holding, h.Since.UTC().Format(time.RFC3339))
}

func statusOf(rs []spec.HookResult, hook string) int {
	for _, r := range rs {
		if r.Hook == hook {
			return r.Status
		}
	}
	return 0
}

// lookHooks are the hook types called with every look.
func (m *machine) lookHooks() []spec.HookType {
	var ts []spec.HookType
	for _, t := range []spec.HookType{spec.HookRollout, spec.HookRollback} {
		if m.hasHooks(t) {
			ts = append(ts, t)
		}
	}
	return ts
}

// judgeHooks applies the look's hook results: a rollback hook's 2xx rolls
// back (true: the look is decided), a rollout hook's failure makes the
// look failed (reason non-empty).
func (m *machine) judgeHooks() (decided bool, failedReason string) {
	if rs, ok := m.hookResults(spec.HookRollback); ok {
		for _, r := range rs {
			if r.OK {
				m.rollback(fmt.Sprintf("rollback hook %s answered %d", r.Hook, r.Status))
				return true, ""
			}
		}
	}
	if rs, ok := m.hookResults(spec.HookRollout); ok {
		if bad, failed := firstFailed(rs); failed {
			return false, "rollout hook " + bad.String()
		}
	}
	return false, ""
}

// AfterHooks returns the hook types to call once d is committed: event
// hooks with every commit, post-rollout hooks when the rollout ended
// (promoted, rolled back, failed).
func AfterHooks(c *spec.Canary, d Decision) []spec.HookType {
	if !d.Commit {
		return nil
	}
	var ts []spec.HookType
	if d.Status.Phase.Terminal() && (d.Action == ActionPromote || d.Action == ActionRollback) && len(c.HooksOf(spec.HookPostRollout)) > 0 {
		ts = append(ts, spec.HookPostRollout)
	}
	if len(c.HooksOf(spec.HookEvent)) > 0 {
		ts = append(ts, spec.HookEvent)
	}
	return ts
}

// HooksNote describes hook results for a commit message:
// "hooks: load-test 200, gate failed: answered 403 Forbidden".
func HooksNote(rs []spec.HookResult) string {
	if len(rs) == 0 {
		return ""
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return "hooks: " + strings.Join(parts, ", ")
}
