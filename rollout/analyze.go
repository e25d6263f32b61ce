package rollout

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/verdict"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// analyze runs the analysis part of an analyze step (d > 0) or of a paused
// rollout (d == 0, never advances). It returns true when the machine moved
// on to the next step.
func (m *machine) analyze(d time.Duration) bool {
	a := m.in.Canary.Spec.Analysis
	now := m.in.Now
	if m.st.LastCheckAt != nil && now.Before(m.st.LastCheckAt.Add(a.Interval.D())) {
		m.wait(fmt.Sprintf("next analysis at %s", m.st.LastCheckAt.Add(a.Interval.D()).UTC().Format(time.RFC3339)))
		return false
	}
	start := m.windowStart().Add(a.Warmup.D())
	if now.Sub(start) < a.Interval.D() {
		m.wait(fmt.Sprintf("collecting data until %s", start.Add(a.Interval.D()).UTC().Format(time.RFC3339)))
		return false
	}
	an := m.in.Analysis
	if an == nil {
		final := d > 0 && m.st.StepStartedAt != nil && now.Sub(*m.st.StepStartedAt) >= d
		last := final && m.lastAnalyzeStep()
		since := start
		if m.st.LastCheckAt != nil && m.st.LastCheckAt.After(since) {
			since = *m.st.LastCheckAt
		}
		m.needs = &Window{Start: start, Since: since, End: now, Final: final, Last: last,
			Traffic: trafficOf(m.st.Weight, m.st.Routes)}
		m.needHooks(m.lookHooks()...)
		m.wait("analysis needed")
		return false
	}
	m.in.Analysis = nil // one analysis serves one look
	if decided, hookFailed := m.judgeHooks(); decided {
		return false
	} else if hookFailed != "" {
		an = failedByHook(an, hookFailed)
	}
	m.st.LastAnalysis = an.Record
	// Evidence of every look is kept, whatever its verdict: a judge that
	// accumulates (sequential) must never lose a window it has counted.
	changed := an.Evidence != nil && !evidenceEqual(m.st.Evidence, an.Evidence)
	if an.Evidence != nil {
		m.st.Evidence = maps.Clone(an.Evidence)
	}
	switch an.Verdict {
	case verdict.Fail:
		m.st.Failures++
		m.st.LastCheckAt = m.now()
		if an.Critical {
			return m.countAgainst(true, "critical metric failed: "+an.Reason)
		}
		return m.countAgainst(m.st.Failures > *a.FailureLimit,
			fmt.Sprintf("analysis failed (%d of %d tolerated): %s", m.st.Failures, *a.FailureLimit, an.Reason))
	case verdict.Pass:
		return m.passed(an, d, changed)
	default:
		m.st.Inconclusives++
		m.st.LastCheckAt = m.now()
		return m.countAgainst(m.st.Inconclusives > *a.InconclusiveLimit,
			fmt.Sprintf("analysis inconclusive (%d of %d tolerated): %s", m.st.Inconclusives, *a.InconclusiveLimit, an.Reason))
	}
}

// failedByHook is the look an with its verdict turned to fail by a
// rollout hook that did not answer 2xx.
func failedByHook(an *Analysis, reason string) *Analysis {
	c := *an
	c.Verdict, c.Reason = verdict.Fail, reason
	if an.Verdict == verdict.Fail {
		c.Reason = reason + "; " + an.Reason
	}
	return &c
}

// windowStart is when the data of the current look begins: the later of the
// step's start and the moment the current weight was applied.
func (m *machine) windowStart() time.Time {
	var t time.Time
	for _, p := range []*time.Time{m.st.StepStartedAt, m.st.AppliedAt} {
		if p != nil && p.After(t) {
			t = *p
		}
	}
	return t
}

// countAgainst records a failed or inconclusive look; over the limit it
// applies spec.onFailure.
func (m *machine) countAgainst(overLimit bool, reason string) bool {
	if overLimit {
		m.fail(reason)
		return false
	}
	m.take(ActionHold, reason)
	return false
}

// passed handles a passing look: the step ends when its duration is over,
// otherwise the look is committed only if it carries new sequential evidence.
func (m *machine) passed(an *Analysis, d time.Duration, changed bool) bool {
	if d > 0 && m.st.StepStartedAt != nil && m.in.Now.Sub(*m.st.StepStartedAt) >= d {
		m.st.LastCheckAt = m.now()
		m.nextStep()
		m.take(ActionAdvance, fmt.Sprintf("analysis passed for %s", d))
		return true
	}
	if changed {
		m.st.LastCheckAt = m.now()
		m.take(ActionHold, "analysis passed; evidence recorded: "+an.Reason)
		return false
	}
	m.wait("analysis passed: " + an.Reason)
	return false
}

// fail applies spec.onFailure.
func (m *machine) fail(reason string) {
	if m.in.Canary.Spec.OnFailure == "freeze" {
		m.st.Phase = spec.PhaseFrozen
		m.st.Message = reason
		m.take(ActionFreeze, reason)
		return
	}
	m.rollback(reason)
}

// rollback sends all traffic back to stable, removes birdwatch's routes
// (in the same commit) and ends the generation.
func (m *machine) rollback(reason string) {
	m.setCanaryWeight(0)
	if m.in.RoutesStuck != "" {
		// A rollback never waits on routes it cannot remove: the weight
		// goes to 0 in this commit, and the status names the routes left.
		reason += "; routes left in place: " + m.in.RoutesStuck
	} else {
		m.clearRoutes()
	}
	m.st.Phase = spec.PhaseRolledBack
	m.st.Message = reason
	m.take(ActionRollback, reason)
}

func evidenceEqual(a, b map[string]spec.Evidence) bool {
	return maps.EqualFunc(a, b, func(x, y spec.Evidence) bool {
		return x.Kind == y.Kind && slices.Equal(x.Values, y.Values)
	})
}

// lastAnalyzeStep reports whether no analyze step follows the current one:
// its final look is the last before promotion.
func (m *machine) lastAnalyzeStep() bool {
	for _, s := range m.steps[m.st.Step+1:] {
		if s.Analyze != nil {
			return false
		}
	}
	return true
}
