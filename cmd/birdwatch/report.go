package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/spf13/cobra"
)

// reportFlags are the outputs of `birdwatch report`.
type reportFlags struct {
	canary, html, pngDir, markdown string
	points                         int
}

func newReportCommand() *cobra.Command {
	cfg := newConfig(modeCLI)
	var rf reportFlags
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Report a canary's rollout: charts of canary vs baseline, decisions, last analysis (HTML, PNG, Markdown, terminal)",
		Long: "report reads a canary's status from Git and, with --prometheus, its metrics over the rollout from\n" +
			"Prometheus (the spec's own query templates), and writes a self-contained HTML page (--html), one PNG\n" +
			"chart per metric (--png), Markdown with Mermaid charts for PR comments (--markdown, - for stdout),\n" +
			"or, without any of them, the terminal view.",
		Example: "  birdwatch report --repo file:///srv/fleet.git --prometheus http://localhost:9090 --html aleph.html\n" +
			"  birdwatch report --repo https://github.com/acme/fleet --canary games/aleph --png charts/ --markdown -",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReport(cmd.Context(), cfg, rf, cmd.OutOrStdout())
		},
	}
	cfg.bind(cmd, "git", "prometheus")
	f := cmd.Flags()
	f.StringVar(&rf.canary, "canary", "", "the canary (namespace/name); may be left out when the repository has one")
	f.StringVar(&rf.html, "html", "", "write a self-contained HTML page to this file")
	f.StringVar(&rf.pngDir, "png", "", "write one PNG chart per metric into this folder")
	f.StringVar(&rf.markdown, "markdown", "", "write Markdown with Mermaid charts to this file (- for stdout)")
	f.IntVar(&rf.points, "points", 0, "points per series (default 90)")
	return cmd
}

func runReport(ctx context.Context, cfg *Config, rf reportFlags, out io.Writer) error {
	_, reports, err := loadReports(ctx, cfg, rf.points)
	if err != nil {
		return err
	}
	r, err := pickReport(reports, rf.canary)
	if err != nil {
		return err
	}
	if rf.html == "" && rf.pngDir == "" && rf.markdown == "" {
		report.Terminal(out, r, report.TerminalOptions{})
		return nil
	}
	if rf.html != "" {
		if err := writeFile(rf.html, func(w io.Writer) error { return report.HTMLPage(w, r, report.ChartOptions{}) }); err != nil {
			return err
		}
		fmt.Fprintln(out, "wrote", rf.html)
	}
	if rf.pngDir != "" {
		files, err := writeCharts(rf.pngDir, r)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "wrote", strings.Join(files, " "))
	}
	switch rf.markdown {
	case "":
	case "-":
		fmt.Fprint(out, report.ReportMarkdown(r))
	default:
		if err := writeFile(rf.markdown, func(w io.Writer) error {
			_, err := io.WriteString(w, report.ReportMarkdown(r))
			return err
		}); err != nil {
			return err
		}
		fmt.Fprintln(out, "wrote", rf.markdown)
	}
	return nil
}

// loadReports reads every canary and its status from Git and builds its
// report, with its series over the rollout when cfg names a Prometheus.
func loadReports(ctx context.Context, cfg *Config, points int) ([]report.FleetEntry, []report.Report, error) {
	r, err := openRepo(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	e := &core.Engine{Repo: r, Judges: judges(), Sync: syncEngines(cfg)}
	fleet, err := e.Fleet(ctx)
	if err != nil {
		return nil, nil, err
	}
	var prom metrics.RangeProvider
	if cfg.Prometheus != "" {
		p, err := newPrometheus(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		prom = p
	}
	out := make([]report.Report, 0, len(fleet))
	opts := report.SeriesOptions{Points: points, Now: time.Now()}
	for _, en := range fleet {
		out = append(out, report.Build(ctx, en.Canary, en.Status, prom, opts))
	}
	return fleet, out, nil
}

// errNoCanary is returned when the canary to report on cannot be chosen.
var errNoCanary = errors.New("no canary to report on")

// pickReport returns the report of canary key, or the only one when key is "".
func pickReport(reports []report.Report, key string) (report.Report, error) {
	var names []string
	for _, r := range reports {
		if r.Canary == key || (key == "" && len(reports) == 1) {
			return r, nil
		}
		names = append(names, r.Canary)
	}
	if key == "" && len(reports) > 1 {
		return report.Report{}, fmt.Errorf("%w: give --canary, one of %s", errNoCanary, strings.Join(names, ", "))
	}
	if key == "" {
		return report.Report{}, fmt.Errorf("%w: the repository has no canary", errNoCanary)
	}
	return report.Report{}, fmt.Errorf("%w: %s is not one of %s", errNoCanary, key, strings.Join(names, ", "))
}

// writeCharts writes one PNG per metric into dir as NAMESPACE_NAME_METRIC.png.
func writeCharts(dir string, r report.Report) ([]string, error) {
	charts, err := report.ChartsPNG(r, report.ChartOptions{})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	var files []string
	for _, c := range charts {
		p := filepath.Join(dir, fileName(r.Canary+"_"+c.Metric)+".png")
		if err := os.WriteFile(p, c.PNG, 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", p, err)
		}
		files = append(files, p)
	}
	return files, nil
}

// fileName keeps letters, digits, dot and dash; anything else becomes "_".
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// writeFile creates path and writes it with write.
func writeFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// printStatus writes the fleet table then each started canary's terminal
// view, which shows the last analysis (with sparklines when the reports
// have series).
func printStatus(w io.Writer, fleet []report.FleetEntry, reports []report.Report, color bool) {
	table := make([]report.FleetEntry, len(fleet))
	for i, en := range fleet {
		table[i] = en
		if en.Status != nil {
			st := *en.Status
			st.LastAnalysis = nil // shown by the terminal view
			table[i].Status = &st
		}
	}
	report.Fleet(w, table)
	for _, r := range reports {
		if r.Start.IsZero() {
			continue
		}
		fmt.Fprintln(w)
		report.Terminal(w, r, report.TerminalOptions{Color: color})
	}
}

// isTerminal reports whether w is a character device (colours are then welcome).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// watch calls frame now and then every refresh until ctx ends, clearing
// the screen before each frame; a frame's error is shown, not fatal.
func watch(ctx context.Context, w io.Writer, refresh time.Duration, frame func(io.Writer) error) error {
	t := time.NewTicker(refresh)
	defer t.Stop()
	for {
		var buf strings.Builder
		if err := frame(&buf); err != nil {
			fmt.Fprintln(&buf, "error:", err)
		}
		fmt.Fprintf(w, "\x1b[H\x1b[2J%s\nrefreshing every %s; Ctrl-C to stop\n", buf.String(), refresh)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
