package simulate

import (
	"context"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
)

// TestSequentialTargets is the quick check of issue 5's targets with the
// real sequential judge and state machine (a few hundred whole rollouts of
// the built-in scenarios, a look every interval): healthy canaries are
// rolled back no more often than alpha allows (the rate's Wilson 95% lower
// bound is at most alpha), and the seed's aleph (50% errors at 1%, 10
// requests/s) is rolled back in every run, in at most 2 intervals for half
// of them or more. make simulate-table runs the full version.
func TestSequentialTargets(t *testing.T) {
	const runs, alpha = 400, 0.01
	tests := []struct {
		scenario   string
		assertions func(t *testing.T, r *Result)
	}{
		{"healthy", func(t *testing.T, r *Result) {
			if fr := r.FalseRollbackRate; fr.Lower > alpha {
				t.Errorf("false-rollback rate %v (Wilson 95%% [%v, %v]) above alpha %v", fr.Value, fr.Lower, fr.Upper, alpha)
			}
		}},
		{"healthy-edge", func(t *testing.T, r *Result) {
			if fr := r.FalseRollbackRate; fr.Lower > alpha {
				t.Errorf("false-rollback rate %v (Wilson 95%% [%v, %v]) above alpha %v", fr.Value, fr.Lower, fr.Upper, alpha)
			}
		}},
		{"errors-50pct", func(t *testing.T, r *Result) {
			if dr := r.DetectionRate; dr.Count != runs {
				t.Errorf("detected %d of %d", dr.Count, runs)
			}
			if r.MedianIntervalsToDetect == nil || *r.MedianIntervalsToDetect > 2 {
				t.Errorf("median intervals to detect %v, want <= 2", r.MedianIntervalsToDetect)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			s, err := Lookup(tt.scenario)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Run(context.Background(), Config{Scenario: s, Judge: judge.Sequential{}, Runs: runs, Seed: 5, Alpha: alpha})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: promoted %d, rolled back %d, no data %d", tt.scenario, r.Promoted, r.RolledBack, r.NoData)
			tt.assertions(t, r)
		})
	}
}

// TestTable builds a small table and checks its Markdown.
func TestTable(t *testing.T) {
	healthy, faulty := short(t, "healthy"), short(t, "errors-50pct")
	faulty.Rate = 100
	tab, err := BuildTable(context.Background(), TableConfig{Scenarios: []Scenario{healthy, faulty},
		Judges: []judge.Judge{judge.Sequential{}, judge.Threshold{}}, Runs: 30, Seed: 2, Calibrate: []string{"healthy"}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tab.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	tests := []struct {
		name string
		want string
	}{
		{"header", "| scenario | kind | sequential | threshold | mannwhitney-reference (level "},
		{"healthy row", "| `healthy` | healthy: false rollbacks | **0%** [0, 11.4] |"},
		{"faulty row", "| `errors-50pct` | faulty: detected | **100%** [88.6, 100], 1.0 / 1 |"},
		{"legend", "30 rollouts per cell, seed 2, alpha 0.01."},
		{"calibration", "rolls back at most 0.01 of the rollouts of each of `healthy` (level "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(md, tt.want) {
				t.Errorf("no %q in\n%s", tt.want, md)
			}
		})
	}
	if len(tab.Columns) != 3 || !tab.Columns[1].Guard || tab.Columns[0].Guard {
		t.Errorf("columns %+v", tab.Columns)
	}
}
