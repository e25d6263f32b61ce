package simulate

import (
	"context"
	"encoding/json"
	"errors"
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
		{"legend", "30 rollouts per cell (a column titled [n runs]: n), seed 2, alpha 0.01."},
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

// TestMergeTables builds two tables separately, as make simulate-table's
// processes do, and merges them: the same cells as one table, through
// their JSON form; mismatched tables are refused.
func TestMergeTables(t *testing.T) {
	healthy, faulty := short(t, "healthy"), short(t, "errors-50pct")
	faulty.Rate = 100
	build := func(runs int, seed uint64, scenarios []Scenario, js ...judge.Judge) *Table {
		tab, err := BuildTable(context.Background(), TableConfig{Scenarios: scenarios, Judges: js, Runs: runs, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(tab)
		if err != nil {
			t.Fatal(err)
		}
		var back Table
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		return &back
	}
	rows := []Scenario{healthy, faulty}
	a, b := build(30, 2, rows, judge.Sequential{}), build(20, 2, rows, judge.Threshold{}, SequentialOracle{})
	both := build(30, 2, rows, judge.Sequential{}, judge.Threshold{})
	m, err := MergeTables(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Runs != 20 || len(m.Columns) != 3 || m.Columns[0].Title != "sequential [30 runs]" || m.Columns[1].Title != "threshold" {
		t.Errorf("merged runs %d, columns %+v", m.Runs, m.Columns)
	}
	if got, want := *m.Cells[1][0].DetectionRate, *both.Cells[1][0].DetectionRate; got != want {
		t.Errorf("merged cell %+v, built together %+v", got, want)
	}
	for _, tc := range []struct {
		name   string
		tables []*Table
		want   string
	}{
		{"no tables", nil, "no tables"},
		{"another seed", []*Table{a, build(30, 3, rows, judge.Threshold{})}, "seed 3"},
		{"other rows", []*Table{a, build(30, 2, []Scenario{faulty, healthy}, judge.Threshold{})}, `row 1 is "errors-50pct"`},
		{"fewer rows", []*Table{a, build(30, 2, rows[:1], judge.Threshold{})}, "1 scenarios"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := MergeTables(tc.tables...); err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}
