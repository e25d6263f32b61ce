package simulate

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
)

// GuardsFor is the default of which judges get the scenarios' absolute max
// guards: only threshold, which judges nothing else; the statistical judges
// are compared on their tests alone.
func GuardsFor(judgeName string) bool { return judgeName == "threshold" }

// TableConfig is a side-by-side comparison of judges on scenarios, every
// cell with the same runs, seed and alpha.
type TableConfig struct {
	// Scenarios are the rows and Judges the columns, in order.
	Scenarios []Scenario
	Judges    []judge.Judge
	// Runs, Seed and Workers are as in Config, for every cell.
	Runs int
	Seed uint64
	// Alpha is every judge's spec.analysis.alpha; zero means DefaultAlpha.
	Alpha   float64
	Workers int
	// Guards says which judges get max guards; nil means GuardsFor.
	Guards func(judgeName string) bool
	// Calibrate names healthy scenarios on which MannWhitneyReference is
	// calibrated to a false-rollback rate of at most Alpha on each (the
	// smallest of their levels); the calibrated judge is added as the last
	// column. Empty: no calibration.
	Calibrate []string
	// Progress is every cell's Config.Progress (calibration runs are not
	// reported): it is called len(Scenarios) x columns x Runs times.
	Progress func()
}

// Column is one judge of a Table.
type Column struct {
	// Title heads the column; Judge judges it; Guard gives it max guards.
	Title string      `json:"title"`
	Judge judge.Judge `json:"-"`
	Guard bool        `json:"guards"`
}

// Table is the outcome of BuildTable: Cells[i][j] is scenario i under column j.
type Table struct {
	Runs      int         `json:"runs"`
	Seed      uint64      `json:"seed"`
	Alpha     float64     `json:"alpha"`
	Columns   []Column    `json:"columns"`
	Scenarios []Scenario  `json:"scenarios"`
	Cells     [][]*Result `json:"cells"`
	// Calibrations are the reference's calibrations, one per scenario of
	// TableConfig.Calibrate; the calibrated column uses the smallest level.
	Calibrations []*Calibration `json:"calibrations,omitempty"`
}

// BuildTable runs every judge on every scenario.
func BuildTable(ctx context.Context, cfg TableConfig) (*Table, error) {
	if cfg.Alpha == 0 {
		cfg.Alpha = DefaultAlpha
	}
	guards := cfg.Guards
	if guards == nil {
		guards = GuardsFor
	}
	t := &Table{Runs: cfg.Runs, Seed: cfg.Seed, Alpha: cfg.Alpha, Scenarios: cfg.Scenarios}
	for _, j := range cfg.Judges {
		title := j.Name()
		if _, ok := j.(MannWhitneyReference); ok {
			title += fmt.Sprintf(" (level %g at every look)", cfg.Alpha)
		}
		t.Columns = append(t.Columns, Column{Title: title, Judge: j, Guard: guards(j.Name())})
	}
	if len(cfg.Calibrate) > 0 {
		if err := t.calibrate(ctx, &cfg); err != nil {
			return nil, err
		}
	}
	for _, s := range cfg.Scenarios {
		row := make([]*Result, len(t.Columns))
		for j, col := range t.Columns {
			r, err := Run(ctx, Config{Scenario: s, Judge: col.Judge, Runs: cfg.Runs, Seed: cfg.Seed, Alpha: cfg.Alpha,
				Guards: col.Guard, Workers: cfg.Workers, Progress: cfg.Progress})
			if err != nil {
				return nil, fmt.Errorf("table: %s with %s: %w", s.Name, col.Title, err)
			}
			row[j] = r
		}
		t.Cells = append(t.Cells, row)
	}
	return t, nil
}

// calibrate adds the calibrated reference column.
func (t *Table) calibrate(ctx context.Context, cfg *TableConfig) error {
	level := 1.0
	for _, name := range cfg.Calibrate {
		s, err := Lookup(name)
		if i := slices.IndexFunc(cfg.Scenarios, func(s Scenario) bool { return s.Name == name }); i >= 0 {
			s, err = cfg.Scenarios[i], nil
		}
		if err != nil {
			return fmt.Errorf("table: calibration scenario: %w", err)
		}
		c, err := Calibrate(ctx, Config{Scenario: s, Runs: cfg.Runs, Seed: cfg.Seed, Alpha: cfg.Alpha, Workers: cfg.Workers}, cfg.Alpha)
		if err != nil {
			return fmt.Errorf("table: %w", err)
		}
		t.Calibrations = append(t.Calibrations, c)
		level = min(level, c.Level)
	}
	t.Columns = append(t.Columns, Column{Title: fmt.Sprintf("mannwhitney-reference (level %.2g, calibrated)", level),
		Judge: MannWhitneyReference{Level: level}})
	return nil
}

// MergeTables puts the columns of tables built separately (one process per
// judge, say, as make simulate-table does) side by side, in order. Every
// table must have the same scenarios in the same order, seed and alpha;
// the runs may differ (the Mann-Whitney columns may run fewer), and the
// merged Runs is then the most common, the others said in their titles.
func MergeTables(ts ...*Table) (*Table, error) {
	if len(ts) == 0 {
		return nil, fmt.Errorf("merge: no tables: %w", ErrInvalidConfig)
	}
	first := ts[0]
	out := &Table{Seed: first.Seed, Alpha: first.Alpha, Scenarios: first.Scenarios}
	out.Cells = make([][]*Result, len(first.Scenarios))
	counts := map[int]int{}
	for k, t := range ts {
		if t.Seed != first.Seed || t.Alpha != first.Alpha {
			return nil, fmt.Errorf("merge: table %d has seed %d alpha %g, table 1 seed %d alpha %g: %w",
				k+1, t.Seed, t.Alpha, first.Seed, first.Alpha, ErrInvalidConfig)
		}
		if len(t.Scenarios) != len(first.Scenarios) || len(t.Cells) != len(t.Scenarios) {
			return nil, fmt.Errorf("merge: table %d has %d scenarios, table 1 %d: %w", k+1, len(t.Scenarios), len(first.Scenarios), ErrInvalidConfig)
		}
		for i, sc := range t.Scenarios {
			if sc.Name != first.Scenarios[i].Name {
				return nil, fmt.Errorf("merge: table %d row %d is %q, table 1's %q: %w", k+1, i+1, sc.Name, first.Scenarios[i].Name, ErrInvalidConfig)
			}
			if len(t.Cells[i]) != len(t.Columns) {
				return nil, fmt.Errorf("merge: table %d row %q has %d cells for %d columns: %w", k+1, sc.Name, len(t.Cells[i]), len(t.Columns), ErrInvalidConfig)
			}
			out.Cells[i] = append(out.Cells[i], t.Cells[i]...)
		}
		out.Columns = append(out.Columns, t.Columns...)
		out.Calibrations = append(out.Calibrations, t.Calibrations...)
		counts[t.Runs] += len(t.Columns)
	}
	for runs, n := range counts {
		if n > counts[out.Runs] || (n == counts[out.Runs] && runs > out.Runs) {
			out.Runs = runs
		}
	}
	j := 0
	for _, t := range ts {
		for range t.Columns {
			if t.Runs != out.Runs {
				out.Columns[j].Title += fmt.Sprintf(" [%d runs]", t.Runs)
			}
			j++
		}
	}
	return out, nil
}

// WriteMarkdown writes t as a Markdown table with a legend.
func (t *Table) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "| scenario | kind |")
	for _, c := range t.Columns {
		fmt.Fprintf(&b, " %s |", c.Title)
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|", len(t.Columns)) + "\n")
	for i, s := range t.Scenarios {
		kind := "faulty: detected"
		if s.Healthy {
			kind = "healthy: false rollbacks"
		}
		fmt.Fprintf(&b, "| `%s` | %s |", s.Name, kind)
		for _, r := range t.Cells[i] {
			fmt.Fprintf(&b, " %s |", cell(r))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n%d rollouts per cell (a column titled [n runs]: n), seed %d, alpha %g. A cell is the rate with its Wilson 95%% interval;", t.Runs, t.Seed, t.Alpha)
	b.WriteString(" for faulty scenarios, then the mean / median intervals of canary traffic until the rollback.")
	b.WriteString(" \"no data\" counts rollbacks by the inconclusive limit (too few requests), which are false rollbacks")
	b.WriteString(" when the canary is healthy and are not counted as detections.")
	if len(t.Calibrations) > 0 {
		var on []string
		for _, c := range t.Calibrations {
			on = append(on, fmt.Sprintf("`%s` (level %.2g: %d of %d)", c.Scenario, c.Level, c.FalseRollbackRate.Count, c.FalseRollbackRate.Runs))
		}
		fmt.Fprintf(&b, " The calibrated level is the largest at which Mann-Whitney, peeked every interval, rolls back at most %g of the rollouts of each of %s, on the same seed.",
			t.Alpha, strings.Join(on, " and "))
	}
	b.WriteString("\n\n")
	for _, s := range t.Scenarios {
		fmt.Fprintf(&b, "- `%s`: %s.\n", s.Name, s.Description)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell formats one result for the table.
func cell(r *Result) string {
	var out string
	if r.Healthy {
		out = formatRate(*r.FalseRollbackRate)
	} else {
		out = formatRate(*r.DetectionRate)
		if r.MeanIntervalsToDetect != nil {
			out += fmt.Sprintf(", %.1f / %g", *r.MeanIntervalsToDetect, *r.MedianIntervalsToDetect)
		}
	}
	if r.NoData > 0 {
		out += fmt.Sprintf(" (%d no data)", r.NoData)
	}
	return out
}

// formatRate prints a rate as "12.3% [10.1, 14.8]" (percent).
func formatRate(r Rate) string {
	return fmt.Sprintf("**%s%%** [%s, %s]", pct(r.Value), pct(r.Lower), pct(r.Upper))
}

// pct prints a share in percent: two decimals under 1%, else one.
func pct(v float64) string {
	if 100*v < 1 && v > 0 {
		return fmt.Sprintf("%.2f", 100*v)
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", 100*v), ".0")
}
