package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// TestNewRolloutRemovesLeftoverRoutes: routes left in the manifest by a
// superseded rollout are removed by the new rollout's first commit, whatever
// its steps; a manifest without them is left alone.
func TestNewRolloutRemovesLeftoverRoutes(t *testing.T) {
	weights := []spec.Step{weightStep(10), analyzeStep(5 * time.Minute)}
	tests := []struct {
		name       string
		steps      []spec.Step
		has        bool
		wantRoutes string
		wantReason string
	}{
		{"leftovers, weight steps", weights, true, "none", "routes left by the previous rollout removed"},
		{"leftovers, route steps", abTestingSteps, true, "h:ab", "routes left by the previous rollout removed"},
		{"no leftovers, weight steps", weights, false, "-", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(Input{Canary: withSteps(tt.steps...), Now: t0, ManifestHasRoutes: tt.has})
			if !d.Commit || fmtRoutes(d.Routes) != tt.wantRoutes {
				t.Fatalf("commit %v, routes %s, want %s", d.Commit, fmtRoutes(d.Routes), tt.wantRoutes)
			}
			start := d.Status.History[0]
			if start.Decision != string(ActionStart) || (tt.wantReason != "") != strings.Contains(start.Reason, "routes left") {
				t.Errorf("start entry %+v", start)
			}
		})
	}
}
