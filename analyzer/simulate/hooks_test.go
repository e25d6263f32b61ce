package simulate

import (
	"math/rand/v2"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// TestRolloutWithHooks simulates a spec with every webhook type: the
// simulator answers the hooks the state machine asks for (as hooks that
// let the rollout go on), so a healthy canary walks every step as it does
// without hooks instead of waiting at its confirm gate, and a broken one
// is still rolled back.
func TestRolloutWithHooks(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		rate     float64
		want     Outcome
	}{
		{"healthy", 0, Outcome{End: Promoted, Intervals: 10, Looks: 9}},
		{"errors-50pct", 100, Outcome{End: RolledBack, Intervals: 1, Looks: 1}},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			s := short(t, tc.scenario)
			if tc.rate > 0 {
				s.Rate = tc.rate
			}
			c := canarySpec(&s, "sequential", 0.01, false)
			for _, typ := range spec.HookTypes {
				c.Spec.Analysis.Webhooks = append(c.Spec.Analysis.Webhooks, spec.Webhook{Name: "h-" + string(typ), Type: typ, URL: "http://hooks.example/" + string(typ)})
			}
			if err := spec.Validate(c, spec.Checks{}); err != nil {
				t.Fatal(err)
			}
			got, err := simulateRollout(&s, c, judge.Sequential{}, rand.New(rand.NewPCG(9, 0)), true)
			if err != nil {
				t.Fatal(err)
			}
			if got.End != tc.want.End || got.Intervals != tc.want.Intervals || got.Looks != tc.want.Looks {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
