package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/simulate"
	"github.com/spf13/cobra"
)

// simulateOptions are the flags of birdwatch simulate.
type simulateOptions struct {
	judge, scenario, output, guards string
	// judges restricts --table to these judges (comma-separated); empty is all.
	judges string
	// scenarios restricts --table to these rows; merge lists tables (JSON
	// from --table --output json) to put side by side.
	scenarios     string
	merge         []string
	runs, workers int
	seed          uint64
	alpha         float64
	table, list   bool
}

func newSimulateCommand() *cobra.Command {
	var o simulateOptions
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Monte Carlo of whole rollouts: a judge's false-rollback rate and speed of detection",
		Long: `simulate runs many rollouts of a scenario through the real state machine and a real
judge, with a look every interval; only the metrics are simulated. It prints the
false-rollback rate (healthy scenarios) or the detection rate and the intervals to
detection (faulty ones), each rate with a Wilson 95% interval. Results depend only
on the flags: the same seed gives the same numbers.

--table runs every judge on every scenario at the same alpha and prints a Markdown
table, with a Mann-Whitney reference peeked at the nominal level and one calibrated
to roll back at most alpha of the rollouts of each healthy scenario (healthy,
healthy-edge, healthy-latency-edge), the budget the sequential judge is held to.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSimulate(cmd, &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.judge, "judge", "sequential", "judge: "+strings.Join(simulateJudgeNames(), ", "))
	f.StringVar(&o.judges, "judges", "", "with --table: only these judges, comma-separated (the calibrated Mann-Whitney column needs mannwhitney-reference)")
	f.StringVar(&o.scenario, "scenario", "healthy", "scenario: "+strings.Join(simulate.ScenarioNames(), ", "))
	f.IntVar(&o.runs, "runs", 1000, "rollouts to simulate")
	f.Uint64Var(&o.seed, "seed", 1, "random seed")
	f.Float64Var(&o.alpha, "alpha", simulate.DefaultAlpha, "spec.analysis.alpha: the false-rollback budget")
	f.StringVar(&o.output, "output", "text", "text or json (--table: markdown or json)")
	f.StringVar(&o.guards, "guards", "auto", "max guards on the metrics: auto (threshold only), on, off")
	f.IntVar(&o.workers, "workers", 0, "parallel workers (0: GOMAXPROCS); results do not depend on it")
	f.BoolVar(&o.table, "table", false, "every judge on every scenario, side by side")
	f.StringVar(&o.scenarios, "scenarios", "", "with --table: only these scenarios, comma-separated")
	f.StringSliceVar(&o.merge, "merge", nil, "with --table: merge these tables (files of --table --output json, same rows, seed and alpha), columns in order, instead of simulating")
	f.BoolVar(&o.list, "list", false, "list the scenarios")
	return cmd
}

// simulateJudges are the spec's judges (the binary's registry) and the
// simulator's Mann-Whitney reference, by name.
func simulateJudges() map[string]judge.Judge {
	m := judges()
	ref := simulate.MannWhitneyReference{}
	m[ref.Name()] = ref
	binomial := judge.Sequential{Binomial: true}
	m[binomial.Name()] = binomial
	ceiling := simulate.LikelihoodRatioReference{}
	m[ceiling.Name()] = ceiling
	oracle := simulate.SequentialOracle{}
	m[oracle.Name()] = oracle
	return m
}

// simulateJudgeNames lists simulateJudges in table order: sequential,
// mannwhitney, threshold, then the others by name.
func simulateJudgeNames() []string {
	order := map[string]int{"sequential": 0, "sequential-binomial": 1, "sequential-oracle": 2, "likelihood-ratio-ceiling": 3, "mannwhitney": 4, "threshold": 5}
	var names []string
	for n := range simulateJudges() {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		ra, oka := order[a]
		rb, okb := order[b]
		switch {
		case oka && okb:
			return ra - rb
		case oka:
			return -1
		case okb:
			return 1
		}
		return strings.Compare(a, b)
	})
	return names
}

func runSimulate(cmd *cobra.Command, o *simulateOptions) error {
	out := cmd.OutOrStdout()
	guards, err := guardMode(o.guards)
	if err != nil {
		return err
	}
	outputs := []string{"text", "json"}
	if o.table {
		outputs = []string{"markdown", "text", "json"}
	}
	if !slices.Contains(outputs, o.output) {
		return fmt.Errorf("unknown --output %q (have %s)", o.output, strings.Join(outputs, ", "))
	}
	switch {
	case o.list:
		return listScenarios(out)
	case o.table:
		return simulateTable(cmd, o, guards)
	}
	j, ok := simulateJudges()[o.judge]
	if !ok {
		return fmt.Errorf("unknown judge %q (have %s)", o.judge, strings.Join(simulateJudgeNames(), ", "))
	}
	s, err := simulate.Lookup(o.scenario)
	if err != nil {
		return err
	}
	began := time.Now()
	p := startProgress(cmd.ErrOrStderr(), o.runs, began)
	r, err := simulate.Run(cmd.Context(), simulate.Config{Scenario: s, Judge: j, Runs: o.runs, Seed: o.seed,
		Alpha: o.alpha, Guards: guards(j.Name()), Workers: o.workers, Progress: p.callback()})
	p.stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "simulated %d rollouts in %s\n", r.Runs, time.Since(began).Round(time.Millisecond))
	if o.output == "json" {
		return writeJSON(out, r)
	}
	return writeSimulation(out, &s, r)
}

// guardMode turns --guards into the per-judge choice.
func guardMode(mode string) (func(string) bool, error) {
	switch mode {
	case "auto":
		return simulate.GuardsFor, nil
	case "on":
		return func(string) bool { return true }, nil
	case "off":
		return func(string) bool { return false }, nil
	}
	return nil, fmt.Errorf("unknown --guards %q (auto, on or off)", mode)
}

func simulateTable(cmd *cobra.Command, o *simulateOptions, guards func(string) bool) error {
	if len(o.merge) > 0 {
		return mergeTables(cmd, o)
	}
	var js []judge.Judge
	all := simulateJudges()
	names := simulateJudgeNames()
	if o.judges != "" {
		names = strings.Split(o.judges, ",")
	}
	calibrate := []string{"healthy", "healthy-edge", "healthy-latency-edge"}
	if !slices.Contains(names, simulate.MannWhitneyReference{}.Name()) {
		calibrate = nil
	}
	for _, n := range names {
		j, ok := all[n]
		if !ok {
			return fmt.Errorf("unknown judge %q in --judges (have %s)", n, strings.Join(simulateJudgeNames(), ", "))
		}
		js = append(js, j)
	}
	began := time.Now()
	scenarios := simulate.Scenarios()
	if o.scenarios != "" {
		var picked []simulate.Scenario
		for _, n := range strings.Split(o.scenarios, ",") {
			s, err := simulate.Lookup(n)
			if err != nil {
				return err
			}
			picked = append(picked, s)
		}
		scenarios = picked
	}
	columns := len(js)
	if calibrate != nil {
		columns++ // the calibrated column
	}
	p := startProgress(cmd.ErrOrStderr(), len(scenarios)*columns*o.runs, began)
	t, err := simulate.BuildTable(cmd.Context(), simulate.TableConfig{Scenarios: scenarios, Judges: js,
		Runs: o.runs, Seed: o.seed, Alpha: o.alpha, Workers: o.workers, Guards: guards, Calibrate: calibrate,
		Progress: p.callback()})
	p.stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "simulated %d rollouts per cell in %s\n", o.runs, time.Since(began).Round(time.Second))
	if o.output == "json" {
		return writeJSON(cmd.OutOrStdout(), t)
	}
	return t.WriteMarkdown(cmd.OutOrStdout())
}

// mergeTables reads the --merge tables and writes them as one.
func mergeTables(cmd *cobra.Command, o *simulateOptions) error {
	var ts []*simulate.Table
	for _, name := range o.merge {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		var t simulate.Table
		if err := json.Unmarshal(b, &t); err != nil {
			return fmt.Errorf("merge: %s: %w", name, err)
		}
		ts = append(ts, &t)
	}
	t, err := simulate.MergeTables(ts...)
	if err != nil {
		return err
	}
	if o.output == "json" {
		return writeJSON(cmd.OutOrStdout(), t)
	}
	return t.WriteMarkdown(cmd.OutOrStdout())
}

func listScenarios(w io.Writer) error {
	for _, s := range simulate.Scenarios() {
		kind := "faulty "
		if s.Healthy {
			kind = "healthy"
		}
		if _, err := fmt.Fprintf(w, "%-20s %s  %s\n", s.Name, kind, s.Description); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeSimulation prints one simulation for a terminal.
func writeSimulation(w io.Writer, s *simulate.Scenario, r *simulate.Result) error {
	var b strings.Builder
	guards := "off"
	if r.Guards {
		guards = "on"
	}
	fmt.Fprintf(&b, "scenario   %s: %s\n", s.Name, s.Description)
	fmt.Fprintf(&b, "traffic    %g requests/s; steps", s.Rate)
	for _, st := range s.Steps {
		fmt.Fprintf(&b, " %d%% %s,", st.Weight, st.Analyze)
	}
	fmt.Fprintf(&b, " then 100%%; a look every %s (%d intervals)\n", r.Interval, r.Intervals)
	fmt.Fprintf(&b, "judge      %s, alpha %g, max guards %s; %d rollouts, seed %d\n", r.Judge, r.Alpha, guards, r.Runs, r.Seed)
	if r.Healthy {
		fmt.Fprintf(&b, "false-rollback rate   %s\n", textRate(*r.FalseRollbackRate))
	} else {
		fmt.Fprintf(&b, "detection rate        %s\n", textRate(*r.DetectionRate))
		if r.MeanIntervalsToDetect != nil {
			fmt.Fprintf(&b, "intervals to detect   mean %.2f, median %g (", *r.MeanIntervalsToDetect, *r.MedianIntervalsToDetect)
			var parts []string
			for k, n := range r.DetectionsByInterval {
				if n > 0 {
					parts = append(parts, fmt.Sprintf("%d: %d", k, n))
				}
			}
			b.WriteString(strings.Join(parts, ", ") + ")\n")
		}
	}
	fmt.Fprintf(&b, "outcomes              promoted %d, rolled back %d, no data %d, unfinished %d\n",
		r.Promoted, r.RolledBack, r.NoData, r.Unfinished)
	fmt.Fprintf(&b, "per rollout           %.1f intervals of canary traffic, %.1f looks\n", r.MeanIntervals, r.MeanLooks)
	_, err := io.WriteString(w, b.String())
	return err
}

func textRate(r simulate.Rate) string {
	return fmt.Sprintf("%.2f%% (%d of %d; Wilson 95%% [%.2f%%, %.2f%%])", 100*r.Value, r.Count, r.Runs, 100*r.Lower, 100*r.Upper)
}

// progress is the single updating line "simulated 1,200/10,000 rollouts
// (12%) in 3.2s" that long simulations keep on a terminal's stderr. A nil
// *progress shows nothing: startProgress returns nil when w is not a
// terminal (tests, CI, redirected output).
type progress struct {
	w     io.Writer
	total int
	began time.Time
	done  atomic.Int64
	quit  chan struct{}
	wg    sync.WaitGroup
}

// progressRefresh is how often the line is redrawn.
const progressRefresh = 200 * time.Millisecond

// startProgress starts redrawing the line on w for total units of work
// begun at began; nil when w is not a terminal.
func startProgress(w io.Writer, total int, began time.Time) *progress {
	if !isTerminal(w) {
		return nil
	}
	return runProgress(w, total, began)
}

// runProgress draws the line on w, whatever w is, until stop: the first
// frame at once, then every progressRefresh.
func runProgress(w io.Writer, total int, began time.Time) *progress {
	p := &progress{w: w, total: total, began: began, quit: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(progressRefresh)
		defer t.Stop()
		for {
			fmt.Fprintf(p.w, "\r%s\x1b[K", progressLine(int(p.done.Load()), p.total, time.Since(p.began)))
			select {
			case <-p.quit:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// callback is the simulate Progress hook counting finished rollouts; nil
// for a nil p, so nothing is counted when nothing is shown.
func (p *progress) callback() func() {
	if p == nil {
		return nil
	}
	return func() { p.done.Add(1) }
}

// stop ends the redrawing and erases the line; a nil p does nothing.
func (p *progress) stop() {
	if p == nil {
		return
	}
	close(p.quit)
	p.wg.Wait()
	fmt.Fprint(p.w, "\r\x1b[K")
}

// progressLine formats done of total rollouts after elapsed, with thousands
// separators and the elapsed time to a tenth of a second.
func progressLine(done, total int, elapsed time.Duration) string {
	pct := 0
	if total > 0 {
		pct = 100 * done / total
	}
	return fmt.Sprintf("simulated %s/%s rollouts (%d%%) in %s", thousands(done), thousands(total), pct, elapsed.Round(100*time.Millisecond))
}

// thousands writes n with "," between groups of three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
