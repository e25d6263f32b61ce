package main

import (
	"io"
	"time"

	"github.com/spf13/cobra"
)

func newStatusCommand() *cobra.Command {
	cfg := newConfig(modeCLI)
	var watching bool
	var refresh time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Print each canary's phase, step, weight and last analysis, as recorded in Git (sparklines with --prometheus)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			frame := func(w io.Writer) error {
				fleet, reports, err := loadReports(cmd.Context(), cfg, 0)
				if err != nil {
					return err
				}
				printStatus(w, fleet, reports, isTerminal(out))
				return nil
			}
			if !watching {
				return frame(out)
			}
			return watch(cmd.Context(), out, refresh, frame)
		},
	}
	cfg.bind(cmd, "git", "prometheus")
	cmd.Flags().BoolVarP(&watching, "watch", "w", false, "redraw the status every --refresh until interrupted")
	cmd.Flags().DurationVar(&refresh, "refresh", 5*time.Second, "time between two redraws with --watch")
	return cmd
}
