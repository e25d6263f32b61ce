package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// TestStepNumberAgreesWithMessages: the status table numbers steps the way
// the rollout's messages do ("pause at step 2" shows step 2/7).
func TestStepNumberAgreesWithMessages(t *testing.T) {
	tests := []struct {
		step, steps int
		phase       spec.Phase
		want        int
	}{
		{0, 7, spec.PhaseProgressing, 1},
		{1, 7, spec.PhasePaused, 2},
		{6, 7, spec.PhaseProgressing, 7},
		{7, 7, spec.PhaseSucceeded, 7},
		{2, 7, spec.PhaseRolledBack, 2},
	}
	for _, tc := range tests {
		if got := StepNumber(tc.step, tc.steps, tc.phase); got != tc.want {
			t.Errorf("StepNumber(%d, %d, %s) = %d, want %d", tc.step, tc.steps, tc.phase, got, tc.want)
		}
	}
	c := &spec.Canary{Metadata: spec.Metadata{Name: "aleph", Namespace: "games"}}
	c.Spec.Steps = make([]spec.Step, 7)
	st := &spec.Status{Generation: "v04", Stable: "v03", Phase: spec.PhasePaused, Step: 1, Weight: 1, Message: "pause at step 2"}
	var b bytes.Buffer
	Fleet(&b, []FleetEntry{{Canary: c, Status: st}})
	if !strings.Contains(b.String(), "Paused  2/7") {
		t.Errorf("fleet table:\n%s", b.String())
	}
}
