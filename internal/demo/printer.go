package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

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

// finish prints the fleet's status and its Git history.
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
	p.say("done: v04 rolled back, v05 promoted")
	return nil
}
