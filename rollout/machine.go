package rollout

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// machine holds one Decide call's working state.
type machine struct {
	in      Input
	steps   []spec.Step
	st      spec.Status
	actions []Action // every transition taken, in order
	reason  string
	commit  bool
	weight  *int
	routes  *spec.Routing // the routes to hold in the manifest; nil = unchanged
	promote bool
	needs   *Window
	// needsHooks are the hook types whose results the machine waits for;
	// used are the results this decision acted on.
	needsHooks []spec.HookType
	used       []spec.HookResult
	command    *Command // consumed once
	refused    string
	from       int
}

// maxTransitions bounds one Decide call: steps plus start, sync and promote.
func (m *machine) maxTransitions() int { return len(m.steps) + 4 }

func newMachine(in Input) *machine {
	m := &machine{in: in, steps: in.Canary.Spec.Steps, command: in.Command}
	m.in.Hooks = maps.Clone(in.Hooks) // consumed as used
	if in.Status != nil {
		m.st = cloneStatus(*in.Status)
	}
	m.from = m.st.Weight
	return m
}

// run takes transitions until one blocks (waits for time, sync, data or a human).
func (m *machine) run() {
	c := m.in.Canary
	if m.in.Status == nil || m.st.Generation != c.Spec.Canary {
		if c.Spec.Canary == c.Spec.Stable {
			m.reason = fmt.Sprintf("canary %s is the stable version: nothing to roll out", c.Spec.Canary)
			return
		}
		m.start()
	}
	for i := 0; i < m.maxTransitions(); i++ {
		if m.handleCommand() {
			continue
		}
		if !m.step() {
			return
		}
	}
}

// badInputPrefix opens the message of a freeze on bad input.
const badInputPrefix = "cannot edit the manifests: "

// badInput freezes the rollout, once, on inputs birdwatch cannot read or
// edit: an active rollout (or one about to start) is Frozen with the
// problem as its message, weight and routes held, so the report says what
// a human must fix and `resume` goes on. A status that already says so is
// left alone (no loop of commits), and so is a finished rollout.
func (m *machine) badInput() {
	c, old := m.in.Canary, m.in.Status
	msg := badInputPrefix + m.in.BadInput
	m.reason = msg
	newGeneration := old == nil || old.Generation != c.Spec.Canary
	switch {
	case !newGeneration && (old.Phase.Terminal() || (old.Phase == spec.PhaseFrozen && old.Message == msg)):
		return
	case newGeneration && c.Spec.Canary == c.Spec.Stable:
		return
	case newGeneration:
		m.st = spec.Status{Generation: c.Spec.Canary, Stable: c.Spec.Stable, Baseline: c.Spec.Stable}
		m.from = 0
	}
	m.st.Phase, m.st.Message = spec.PhaseFrozen, msg
	m.take(ActionFreeze, msg)
}

// start begins a rollout for a new canary version.
func (m *machine) start() {
	c := m.in.Canary
	m.from = m.in.ManifestWeight
	m.st = spec.Status{
		Generation: c.Spec.Canary, Stable: c.Spec.Stable, Baseline: c.Spec.Stable, Phase: spec.PhaseProgressing,
		Weight: m.in.ManifestWeight, StepStartedAt: m.now(),
	}
	if m.in.Status != nil {
		// Commands act once, ever: a command handled in an earlier rollout
		// and delivered again must not act on this one.
		m.st.HandledCommands = slices.Clone(m.in.Status.HandledCommands)
	}
	reason := fmt.Sprintf("new canary %s (stable %s)", c.Spec.Canary, c.Spec.Stable)
	if m.in.ManifestHasRoutes {
		m.clearRoutes()
		reason += "; routes left by the previous rollout removed"
	}
	m.take(ActionStart, reason)
}

// step takes one transition from the current phase; false when blocked.
func (m *machine) step() bool {
	switch m.st.Phase {
	case spec.PhaseSucceeded, spec.PhaseRolledBack, spec.PhaseFailed:
		if len(m.actions) == 0 {
			m.reason = fmt.Sprintf("rollout of %s is %s", m.st.Generation, m.st.Phase)
		}
		return false
	case spec.PhaseFrozen:
		if len(m.actions) == 0 {
			m.reason = "frozen: " + m.st.Message
		}
		return false
	case spec.PhaseWaitingForSync:
		return m.waitForSync()
	case spec.PhasePaused:
		return m.paused()
	case spec.PhaseProgressing:
		return m.progress()
	}
	m.reason = fmt.Sprintf("unknown phase %q in status", m.st.Phase)
	return false
}

func (m *machine) waitForSync() bool {
	if m.in.AppliedAt == nil {
		why := ""
		if m.in.SyncWaiting != "" {
			why = ": " + m.in.SyncWaiting
		}
		timeout := m.in.Canary.Spec.Sync.Timeout.D()
		if m.st.WeightSetAt != nil && m.now().Sub(*m.st.WeightSetAt) > timeout {
			m.st.Phase = spec.PhaseFrozen
			m.st.Message = fmt.Sprintf("%s not applied within %s%s", m.committed(), timeout, why)
			m.take(ActionFreeze, m.st.Message)
			return false
		}
		m.wait("waiting for the applier to apply " + m.committed() + why)
		return false
	}
	at := *m.in.AppliedAt
	m.st.AppliedAt, m.st.StepStartedAt = &at, &at
	m.st.Phase = spec.PhaseProgressing
	m.take(ActionSynced, fmt.Sprintf("%s applied at %s", m.committed(), at.UTC().Format(time.RFC3339)))
	return true
}

func (m *machine) paused() bool {
	if i := m.st.Step; i < len(m.steps) && m.steps[i].Pause != nil && m.steps[i].Pause.Duration != nil &&
		m.st.StepStartedAt != nil && m.now().Sub(*m.st.StepStartedAt) >= m.steps[i].Pause.Duration.D() {
		m.nextStep()
		m.st.Phase = spec.PhaseProgressing
		m.take(ActionResume, "pause elapsed")
		return true
	}
	if trafficOf(m.st.Weight, m.st.Routes) != TrafficNone {
		// Background analysis: a paused canary that goes bad is still rolled
		// back, whether it serves live, matched or mirrored traffic.
		return m.analyze(0)
	}
	m.wait("paused: waiting for /birdwatch promote or resume")
	return false
}

func (m *machine) progress() bool {
	if !m.gatesPassed() {
		return false
	}
	if m.st.Step >= len(m.steps) {
		if m.hasHooks(spec.HookConfirmPromotion) && !m.confirmed(spec.HookConfirmPromotion) {
			return false
		}
		m.finish()
		return false
	}
	s := m.steps[m.st.Step]
	switch {
	case isTrafficStep(s):
		return m.applyTraffic()
	case s.Pause != nil:
		m.st.Phase = spec.PhasePaused
		m.st.StepStartedAt = m.now()
		m.take(ActionPause, fmt.Sprintf("pause at step %d", m.st.Step+1))
		return false
	case s.Analyze != nil:
		return m.analyze(s.Analyze.D())
	}
	m.reason = fmt.Sprintf("step %d is empty", m.st.Step+1)
	return false
}

// finish promotes: the promote edits make the stable subset run the canary
// version, all traffic goes to it, and birdwatch's routes are removed.
func (m *machine) finish() {
	m.promote = true
	m.setCanaryWeight(0)
	m.clearRoutes()
	m.st.Stable = m.st.Generation
	m.st.Phase = spec.PhaseSucceeded
	m.st.Message = fmt.Sprintf("%s promoted", m.st.Generation)
	m.st.Evidence = nil
	m.take(ActionPromote, m.st.Message)
}

func (m *machine) setCanaryWeight(w int) {
	m.st.Weight = w
	m.weight = &w
}

func (m *machine) nextStep() {
	m.st.Step++
	m.st.StepStartedAt = m.now()
}

// now returns a fresh pointer to the input time.
func (m *machine) now() *time.Time {
	t := m.in.Now
	return &t
}

// take records a transition that must be committed.
func (m *machine) take(a Action, reason string) {
	m.actions = append(m.actions, a)
	m.commit = true
	m.reason = reason
	m.st.History = append(m.st.History, spec.HistoryEntry{
		At: m.in.Now, Decision: string(a), Step: m.st.Step, Weight: m.st.Weight, Trigger: m.in.Trigger, Reason: reason,
	})
	if n := len(m.st.History); n > spec.HistoryLimit {
		m.st.History = slices.Clone(m.st.History[n-spec.HistoryLimit:])
	}
}

// wait records that nothing changes now.
func (m *machine) wait(reason string) {
	if len(m.actions) == 0 {
		m.reason = reason
	}
}

func (m *machine) decision() Decision {
	d := Decision{Action: ActionNone, Status: m.st, Commit: m.commit, SetWeight: m.weight, Routes: m.routes,
		Promote: m.promote, From: m.from, Reason: m.reason, Refused: m.refused}
	switch {
	case len(m.actions) > 0:
		d.Action = mainAction(m.actions)
	case m.needs != nil || len(m.needsHooks) > 0:
		d.Action = ActionWait
	case m.in.Status != nil && (m.st.Phase == spec.PhaseProgressing || m.st.Phase == spec.PhaseWaitingForSync || m.st.Phase == spec.PhasePaused):
		d.Action = ActionWait
	}
	if m.needs != nil {
		d.NeedsAnalysis, d.Window = true, *m.needs
		// A decision that needs data commits nothing until the data is in.
		d.Commit = false
	}
	if len(m.needsHooks) > 0 {
		d.NeedsHooks = m.needsHooks
		d.Commit = false
	}
	d.HookResults = m.used
	return d
}

// mainAction picks the action that names a commit: the most consequential one taken.
func mainAction(actions []Action) Action {
	for _, a := range []Action{ActionRollback, ActionFreeze, ActionPromote, ActionPause, ActionAdvance, ActionResume, ActionStart, ActionSynced, ActionHold} {
		if slices.Contains(actions, a) {
			return a
		}
	}
	return actions[len(actions)-1]
}

func cloneStatus(s spec.Status) spec.Status {
	s.History = slices.Clone(s.History)
	s.HandledCommands = slices.Clone(s.HandledCommands)
	s.Evidence = maps.Clone(s.Evidence)
	s.Routes = cloneRouting(s.Routes)
	if s.Hooks != nil {
		h := *s.Hooks
		h.Results = slices.Clone(h.Results)
		s.Hooks = &h
	}
	return s
}
