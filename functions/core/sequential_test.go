package core

import (
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// sequentialSpec judges error-rate with the sequential judge only: no max guard.
var sequentialSpec = strings.NewReplacer("judge: threshold", "judge: sequential", "        max: 1\n", "").Replace(testSpec)

func TestSequentialJudgeInTheLoop(t *testing.T) {
	prom := startPrometheus(t)
	tests := []struct {
		name       string
		canary     string
		assertions func(t *testing.T, outcomes []Outcome, st *spec.Status)
	}{
		{"evidence against v04 rolls it back", "v04", func(t *testing.T, outcomes []Outcome, st *spec.Status) {
			last := outcomes[len(outcomes)-1]
			if st.Phase != spec.PhaseRolledBack || last.Analysis == nil {
				t.Fatalf("phase %s", st.Phase)
			}
			m := last.Analysis.Metrics[0]
			if m.Classification != judge.High || m.EValue < 200 || !strings.HasPrefix(m.Reason, "e=") {
				t.Errorf("error-rate %s e=%g %s", m.Classification, m.EValue, m.Reason)
			}
		}},
		{"v05 is promoted and its evidence was carried look to look", "v05", func(t *testing.T, outcomes []Outcome, st *spec.Status) {
			if st.Phase != spec.PhaseSucceeded {
				t.Fatalf("phase %s", st.Phase)
			}
			holds, maxLooks := 0, 0.0
			for _, o := range outcomes {
				if o.Decision.Action == rollout.ActionHold {
					holds++
				}
				if ev, ok := o.Decision.Status.Evidence["error-rate"]; ok && len(ev.Values) > 1 {
					maxLooks = max(maxLooks, ev.Values[1])
				}
			}
			// Each 3m analyze step looks three times (with the sync, one hold, with the
			// advance); the evidence of all six looks is carried until the promotion.
			if holds != 2 || maxLooks != 5 {
				t.Errorf("%d holds, at most %v looks carried", holds, maxLooks)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet(t, strings.Replace(sequentialSpec, "canary: v04", "canary: "+tt.canary, 1))
			c := newClock(dataEnd.Add(-time.Hour))
			e := newEngine(t, openRepo(t, f.URL()), prom, c)
			e.Judges["sequential"] = judge.Sequential{}
			var outcomes []Outcome
			for range 20 {
				o := runOnce(t, e)
				outcomes = append(outcomes, o)
				if o.Decision.Status.Phase.Terminal() {
					break
				}
				c.advance(time.Minute)
			}
			tt.assertions(t, outcomes, statusAt(t, f, "main"))
		})
	}
}
