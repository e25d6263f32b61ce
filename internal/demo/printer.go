package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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
	// routes are the routes of the last commit shown.
	routes spec.Routing
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
		p.say("  look  %s  weight %3d  %-8s  %s  -> %s", d.Status.Generation, d.From, lookTraffic(d.Status),
			strings.Join(parts, "  "), a.Verdict)
	}
	if d.Action == rollout.ActionNone || d.Action == rollout.ActionWait {
		return
	}
	commit := ""
	if o.Commit != "" {
		commit = " [" + o.Commit[:8] + "]"
	}
	routes := ""
	if d.Routes != nil && !(d.Routes.Empty() && p.routes.Empty()) { // removing none is not news
		routes = ", routes: " + describeRoutes(*d.Routes)
	}
	if o.Commit != "" {
		p.routes = d.Status.Routes
	}
	p.say("%-8s %s  phase %s, step %d, weight %d%s: %s%s", strings.ToUpper(string(d.Action)), d.Status.Generation,
		d.Status.Phase, d.Status.Step, d.Status.Weight, routes, d.Reason, commit)
}

// lookTraffic is what the canary served in the look just judged, as the
// status records it (live, matched, mirrored, none).
func lookTraffic(st spec.Status) string {
	if st.LastAnalysis == nil || st.LastAnalysis.Traffic == "" {
		return "-"
	}
	return st.LastAnalysis.Traffic
}

// describeRoutes shows the routes a decision commits, with their matches:
// "header developers (cookie user=developer)", "mirror shadow 20%" or "none".
func describeRoutes(r spec.Routing) string {
	if r.Empty() {
		return "none"
	}
	return report.RoutesText(r)
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
	p.say("done: v04 rolled back, v05 promoted, v06 dark-launched and promoted; charts and HTML reports of the three in %s", dir)
	return nil
}

// writeReports builds the report of each scenario from its spec and status
// in Git and the metrics in Prometheus, prints it and writes its charts and
// HTML page. The folder is DIR/report, or, when the demo runs in a
// temporary folder that is removed at the end, $TMPDIR/birdwatch-demo-report
// (replaced each run).
func (p *printer) writeReports(ctx context.Context, e *core.Engine, fl *fleet.Repo, entries []report.FleetEntry) (string, error) {
	scenarios, err := scenarioRollouts(ctx, e, fl, entries)
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
	for _, sc := range scenarios {
		st := sc.st
		r := report.Build(ctx, sc.c, st, prom, report.SeriesOptions{})
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

// scenarioRollout is one scenario's Canary spec and final status.
type scenarioRollout struct {
	c  *spec.Canary
	st *spec.Status
}

// scenarioRollouts returns the three scenarios' rollouts: v04's as of its
// rollback commit and v05's as of its promotion commit (later rollouts
// replaced them), v06's as the fleet holds it now.
func scenarioRollouts(ctx context.Context, e *core.Engine, fl *fleet.Repo, entries []report.FleetEntry) ([]scenarioRollout, error) {
	if len(entries) != 1 || entries[0].Status == nil {
		return nil, fmt.Errorf("want one started canary, got %d", len(entries))
	}
	var out []scenarioRollout
	for _, subject := range []string{"v04 rollback", "v05 promoted"} {
		c, st, err := rolloutAt(ctx, fl, subject, core.Checks(e.Judges))
		if err != nil {
			return nil, err
		}
		out = append(out, scenarioRollout{c, st})
	}
	return append(out, scenarioRollout{entries[0].Canary, entries[0].Status}), nil
}

// rolloutAt reads the Canary spec and its status as of the newest commit
// whose subject contains subject.
func rolloutAt(ctx context.Context, fl *fleet.Repo, subject string, checks spec.Checks) (*spec.Canary, *spec.Status, error) {
	rev, err := revOf(ctx, fl, subject)
	if err != nil {
		return nil, nil, err
	}
	data, err := fl.Show(ctx, rev, specPath)
	if err != nil {
		return nil, nil, err
	}
	cs, err := spec.ParseCanaries(specPath, []byte(data), checks)
	if err != nil {
		return nil, nil, fmt.Errorf("%s at %s: %w", specPath, rev, err)
	}
	if len(cs) != 1 {
		return nil, nil, fmt.Errorf("%s at %s: %d canaries, want 1", specPath, rev, len(cs))
	}
	path := cs[0].StatusPath()
	if data, err = fl.Show(ctx, rev, path); err != nil {
		return nil, nil, err
	}
	st, err := spec.ParseStatus(path, []byte(data))
	if err != nil {
		return nil, nil, err
	}
	return cs[0], st, nil
}

// revOf names the newest commit on main whose subject contains subject ("main~3").
func revOf(ctx context.Context, fl *fleet.Repo, subject string) (string, error) {
	subjects, err := fl.Subjects(ctx)
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(subjects, func(s string) bool { return strings.Contains(s, subject) })
	if i < 0 {
		return "", fmt.Errorf("no commit %q in the fleet's history", subject)
	}
	return fmt.Sprintf("main~%d", i), nil
}
