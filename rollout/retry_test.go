package rollout

import (
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// TestRetry: retry starts the same version again from its first step and
// records who asked; it is refused while a rollout is not finished badly.
func TestRetry(t *testing.T) {
	rolledBack := status(spec.PhaseRolledBack, 3, 0, func(s *spec.Status) {
		s.History = []spec.HistoryEntry{{Decision: "rollback", Reason: "critical metric failed"}}
	})
	tests := []struct {
		name    string
		st      *spec.Status
		refused string
	}{
		{"a rolled back rollout starts again", rolledBack, ""},
		{"a failed rollout starts again", status(spec.PhaseFailed, 2, 0), ""},
		{"a succeeded rollout is not retried", status(spec.PhaseSucceeded, 7, 0), "only a rolled back or failed rollout can be retried; v04 is Succeeded"},
		{"a progressing rollout is not retried", status(spec.PhaseProgressing, 1, 1), "only a rolled back or failed rollout can be retried; v04 is Progressing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(Input{Canary: aleph(), Status: tc.st, Now: t0, Command: &Command{Kind: CmdRetry, Actor: "alice", ID: "c1"}})
			if tc.refused != "" {
				if d.Commit || !strings.Contains(d.Refused, tc.refused) {
					t.Errorf("refused %q commit %v", d.Refused, d.Commit)
				}
				return
			}
			if d.Refused != "" || !d.Commit || d.Status.Generation != "v04" || d.Status.Phase.Terminal() || d.Status.Step == 0 && d.Status.Weight != 0 {
				t.Fatalf("decision %+v", d)
			}
			if d.Status.Step != 1 || d.Status.Weight != 1 {
				t.Errorf("retry did not walk the first step again: step %d weight %d", d.Status.Step, d.Status.Weight)
			}
			h := d.Status.History
			var found bool
			for _, e := range h {
				if e.Decision == string(ActionStart) && strings.HasPrefix(e.Reason, "retry by alice of v04: new canary v04") {
					found = true
				}
			}
			if !found || len(h) < len(tc.st.History)+1 || (len(tc.st.History) > 0 && h[0].Reason != "critical metric failed") {
				t.Errorf("history %+v", h)
			}
			if len(d.Status.HandledCommands) != 1 || d.Status.HandledCommands[0] != "c1" {
				t.Errorf("handled %v", d.Status.HandledCommands)
			}
		})
	}
}
