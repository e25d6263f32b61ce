package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// printer shows the demo's progress: one line per look and per decision.
type printer struct {
	w     io.Writer
	start time.Time
}

func (p *printer) say(format string, args ...any) {
	fmt.Fprintf(p.w, "%6.1fs  %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}

// until runs the loop every second until the canary's status has generation
// version in phase want, or the timeout passes.
func (p *printer) until(ctx context.Context, e *core.Engine, errs <-chan error, timeout time.Duration, version string, want spec.Phase) error {
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for time.Now().Before(deadline) {
		outcomes, err := e.Run(ctx, core.Request{Canary: "games/aleph", Trigger: "schedule"})
		if err != nil {
			return err
		}
		for _, o := range outcomes {
			p.outcome(o)
			st := o.Decision.Status
			if o.Err == nil && st.Generation == version && st.Phase == want {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errs:
			return err
		case <-t.C:
		}
	}
	return fmt.Errorf("%w: %s not %s within %s", errNotReached, version, want, timeout)
}

// outcome prints a look (metrics canary vs baseline) and any decision.
func (p *printer) outcome(o core.Outcome) {
	if o.Err != nil {
		p.say("%s  error: %v", o.Canary, o.Err)
		return
	}
	d := o.Decision
	if a := o.Analysis; a != nil {
		var parts []string
		for _, m := range a.Metrics {
			part := fmt.Sprintf("%s %s vs %s", m.Name, report.FormatValue(m.Canary, m.Unit), report.FormatValue(m.Baseline, m.Unit))
			if m.EValue > 0 {
				part += fmt.Sprintf(" (e=%.2g)", m.EValue)
			}
			parts = append(parts, part)
		}
		p.say("  look  %s  weight %3d  %s  -> %s", d.Status.Generation, d.From, strings.Join(parts, "  "), a.Verdict)
	}
	if d.Action == rollout.ActionNone || d.Action == rollout.ActionWait {
		return
	}
	commit := ""
	if o.Commit != "" {
		commit = " [" + o.Commit[:8] + "]"
	}
	p.say("%-8s %s  phase %s, step %d, weight %d: %s%s", strings.ToUpper(string(d.Action)), d.Status.Generation,
		d.Status.Phase, d.Status.Step, d.Status.Weight, d.Reason, commit)
}

// finish prints the fleet's status and its Git history, then the report
// of each scenario (terminal view) and writes their PNG charts and HTML pages.
func (p *printer) finish(ctx context.Context, e *core.Engine, fl *fleet.Repo) error {
	fleet, err := e.Fleet(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(p.w, "\n== birdwatch status ==")
	report.Fleet(p.w, fleet)
	log, err := fl.Log(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(p.w, "\n== git log of the fleet repo (%s) ==\n%s", fl.Bare, log)
	dir, err := p.writeReports(ctx, e, fl, fleet)
	if err != nil {
		return err
	}
	p.say("done: v04 rolled back, v05 promoted; charts and HTML reports of both in %s", dir)
	return nil
}

// writeReports builds the report of each scenario from its status in Git
// (v04's from the rollback commit, as v05's rollout replaced it) and the
// metrics in Prometheus, prints it and writes its charts and HTML page. The
// folder is DIR/report, or, when the demo runs in a temporary folder that
// is removed at the end, $TMPDIR/birdwatch-demo-report (replaced each run).
func (p *printer) writeReports(ctx context.Context, e *core.Engine, fl *fleet.Repo, entries []report.FleetEntry) (string, error) {
	if len(entries) != 1 || entries[0].Status == nil {
		return "", fmt.Errorf("want one started canary, got %d", len(entries))
	}
	c, v05 := entries[0].Canary, entries[0].Status
	v04, err := statusAt(ctx, fl, "v04 rollback", c.StatusPath())
	if err != nil {
		return "", err
	}
	dir := filepath.Join(filepath.Dir(fl.Bare), "report")
	if demoDir := filepath.Dir(fl.Bare); filepath.Dir(demoDir) == filepath.Clean(os.TempDir()) && strings.HasPrefix(filepath.Base(demoDir), "birdwatch-demo-") {
		dir = filepath.Join(os.TempDir(), "birdwatch-demo-report")
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	prom, _ := e.Metrics.(metrics.RangeProvider)
	for _, st := range []*spec.Status{v04, v05} {
		r := report.Build(ctx, c, st, prom, report.SeriesOptions{})
		fmt.Fprintf(p.w, "\n== report of %s ==\n", st.Generation)
		report.Terminal(p.w, r, report.TerminalOptions{})
		charts, err := report.ChartsPNG(r, report.ChartOptions{})
		if err != nil {
			return "", err
		}
		for _, ch := range charts {
			if err := os.WriteFile(filepath.Join(dir, st.Generation+"-"+ch.Metric+".png"), ch.PNG, 0o644); err != nil {
				return "", err
			}
		}
		var page bytes.Buffer
		if err := report.HTMLPage(&page, r, report.ChartOptions{}); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, st.Generation+".html"), page.Bytes(), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// statusAt reads the status file as of the newest commit whose subject contains subject.
func statusAt(ctx context.Context, fl *fleet.Repo, subject, path string) (*spec.Status, error) {
	subjects, err := fl.Subjects(ctx)
	if err != nil {
		return nil, err
	}
	for i, s := range subjects {
		if !strings.Contains(s, subject) {
			continue
		}
		data, err := fl.Show(ctx, fmt.Sprintf("main~%d", i), path)
		if err != nil {
			return nil, err
		}
		return spec.ParseStatus(path, []byte(data))
	}
	return nil, fmt.Errorf("no commit %q in the fleet's history", subject)
}
