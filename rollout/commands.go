package rollout

import (
	"fmt"
	"slices"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// handleCommand applies the input's command once. It returns true when the
// command changed the state, so the machine should look again.
func (m *machine) handleCommand() bool {
	c := m.command
	if c == nil {
		return false
	}
	m.command = nil
	if c.ID != "" && slices.Contains(m.st.HandledCommands, c.ID) {
		return m.refuse(c, "command "+c.ID+" was already handled")
	}
	n := len(m.actions)
	defer func() {
		if len(m.actions) > n && c.ID != "" {
			m.st.HandledCommands = append(m.st.HandledCommands, c.ID)
			if k := len(m.st.HandledCommands); k > spec.HandledCommandsLimit {
				m.st.HandledCommands = slices.Clone(m.st.HandledCommands[k-spec.HandledCommandsLimit:])
			}
		}
	}()
	by := fmt.Sprintf("%s by %s", c.Kind, c.Actor)
	phase := m.st.Phase
	switch {
	case c.Kind == CmdRetry:
		if phase != spec.PhaseRolledBack && phase != spec.PhaseFailed {
			return m.refuse(c, fmt.Sprintf("only a rolled back or failed rollout can be retried; %s is %s", m.st.Generation, phase))
		}
		m.retry(by)
		return true
	case phase.Terminal():
		return m.refuse(c, fmt.Sprintf("the rollout of %s is already %s", m.st.Generation, phase))
	case c.Kind == CmdAbort || c.Kind == CmdRollback:
		m.rollback(by)
		return true
	case c.Kind == CmdPause:
		if phase != spec.PhaseProgressing {
			return m.refuse(c, fmt.Sprintf("it is %s", phase))
		}
		m.st.Phase = spec.PhasePaused
		m.st.Message = by
		m.take(ActionPause, by)
		return false
	case c.Kind == CmdResume && phase == spec.PhaseFrozen:
		m.st.Phase = spec.PhaseProgressing
		m.st.Failures, m.st.Inconclusives, m.st.Message = 0, 0, ""
		m.take(ActionResume, by)
		return true
	case (c.Kind == CmdResume || c.Kind == CmdPromote) && phase == spec.PhasePaused:
		if i := m.st.Step; i < len(m.steps) && m.steps[i].Pause != nil {
			m.nextStep()
		}
		m.st.Phase = spec.PhaseProgressing
		m.st.Message = ""
		m.take(ActionResume, by)
		return true
	case c.Kind == CmdSkipAnalysis && phase == spec.PhaseProgressing &&
		m.st.Step < len(m.steps) && m.steps[m.st.Step].Analyze != nil:
		m.nextStep()
		m.take(ActionAdvance, by)
		return true
	}
	return m.refuse(c, fmt.Sprintf("it does not apply while %s at step %d", phase, m.st.Step+1))
}

// retry starts the rollout of the same version again from its first step,
// keeping the history (the start is recorded with who asked for it).
func (m *machine) retry(by string) {
	prev := m.st
	m.start()
	last := m.st.History[len(m.st.History)-1]
	last.Reason = fmt.Sprintf("%s of %s: %s", by, prev.Generation, last.Reason)
	m.reason = last.Reason
	m.st.History = append(slices.Clone(prev.History), last)
	if n := len(m.st.History); n > spec.HistoryLimit {
		m.st.History = slices.Clone(m.st.History[n-spec.HistoryLimit:])
	}
	m.st.HandledCommands = prev.HandledCommands
}

// refuse records why a command did nothing.
func (m *machine) refuse(c *Command, why string) bool {
	m.refused = fmt.Sprintf("%s refused: %s", c.Kind, why)
	return false
}
