package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/birdwatch-gitops/birdwatch/rollout"
	"github.com/spf13/cobra"
)

func newRunCommand() *cobra.Command {
	cfg := newConfig(modeCLI)
	var canary, command, actor string
	var once, dryRun bool
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the loop: read canaries from Git, analyse, commit decisions",
		Example: "  birdwatch run --repo file:///srv/fleet.git --prometheus http://localhost:9090 --once\n" +
			"  birdwatch run --repo https://github.com/acme/fleet --prometheus http://prom:9090 --every 30s",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dryRun && every > 0 {
				return fmt.Errorf("--dry-run plans one cycle: drop --every")
			}
			if !dryRun && once == (every > 0) {
				return fmt.Errorf("give exactly one of --once or --every")
			}
			var kind rollout.CommandKind
			if command != "" {
				var err error
				if kind, err = commandKind(command); err != nil {
					return err
				}
			}
			log := newLogger(cmd.ErrOrStderr(), cfg.LogFormat)
			e, r, err := newEngine(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer r.Close()
			req := core.Request{Canary: canary, Trigger: "cli"}
			if command != "" {
				req.Command = &rollout.Command{Kind: kind, Actor: actor}
			}
			if dryRun {
				return runDiff(cmd.Context(), e, req, cmd.OutOrStdout())
			}
			if once {
				return runOnce(cmd.Context(), e, req, cmd.OutOrStdout())
			}
			return runEvery(cmd.Context(), e, req, every, cmd.OutOrStdout())
		},
	}
	cfg.bind(cmd, "git", "prometheus", "notify", "github", "gitlab", "kube")
	f := cmd.Flags()
	f.StringVar(&canary, "canary", "", "only this canary (namespace/name)")
	f.BoolVar(&once, "once", false, "run one cycle and exit")
	f.BoolVar(&dryRun, "dry-run", false, "print what one cycle would commit, as birdwatch diff does, and commit nothing")
	f.DurationVar(&every, "every", 0, "run a cycle at this interval until interrupted")
	f.StringVar(&command, "command", "", "apply a manual command to --canary: promote, resume, pause, abort, rollback, skip-analysis, retry (refused: exit code 2)")
	f.StringVar(&actor, "actor", "cli", "who gives --command, recorded in the history")
	return cmd
}

// runOnce runs one cycle; any canary error makes the exit code non-zero,
// and a command that did not apply is a refusedError.
func runOnce(ctx context.Context, e *core.Engine, req core.Request, w io.Writer) error {
	outcomes, err := e.Run(ctx, req)
	if err != nil {
		return err
	}
	failed := 0
	var refused []string
	for _, o := range outcomes {
		printOutcome(w, o)
		if o.Err != nil {
			failed++
		}
		if req.Command != nil && o.Decision.Refused != "" {
			refused = append(refused, o.Canary+": "+o.Decision.Refused)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d canaries failed", failed, len(outcomes))
	}
	if len(refused) > 0 {
		return refusedError{reasons: refused}
	}
	return nil
}

// runEvery runs a cycle every interval until ctx ends; errors are printed and the loop goes on.
func runEvery(ctx context.Context, e *core.Engine, req core.Request, every time.Duration, w io.Writer) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := runOnce(ctx, e, req, w); err != nil && !errors.As(err, new(refusedError)) {
			fmt.Fprintln(w, "error:", err)
		}
		req.Command = nil // a command applies once
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// printOutcome prints one canary's decision, and its analysis when there was one.
func printOutcome(w io.Writer, o core.Outcome) {
	d := o.Decision
	if o.Err != nil {
		fmt.Fprintf(w, "%s  error: %v\n", o.Canary, o.Err)
		return
	}
	line := fmt.Sprintf("%s  %s  %s  step %d  weight %d  %s", o.Canary, d.Status.Generation, d.Action,
		d.Status.Step, d.Status.Weight, d.Reason)
	if o.Commit != "" {
		line += "  [" + o.Commit[:min(len(o.Commit), 8)] + "]"
	}
	if d.Refused != "" {
		line += "  " + d.Refused
	}
	fmt.Fprintln(w, line)
	if o.Analysis != nil {
		for _, l := range strings.Split(strings.TrimRight(report.AnalysisTable(o.Analysis), "\n"), "\n") {
			fmt.Fprintln(w, "    "+l)
		}
	}
}
