package main

import (
	"time"

	"github.com/birdwatch-gitops/birdwatch/internal/demo"
	"github.com/spf13/cobra"
)

func newDemoCommand() *cobra.Command {
	var opts demo.Options
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the main job end to end on this machine: a local GitOps repo, a simulated Istio mesh, a real Prometheus",
		Long: "demo creates a throw-away GitOps repository holding the aleph example, a simulated Istio mesh that\n" +
			"applies what is committed (as Flux would) and serves Istio metrics, and a real Prometheus (Debian's\n" +
			"prometheus package) scraping it; then runs birdwatch's loop. Canary v04 answers 500 to half its requests\n" +
			"and is rolled back; canary v05 is healthy and is promoted; canary v06 is dark-launched to developers\n" +
			"(cookie user=developer) before any weight moves, then promoted. Everything started is stopped on exit.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Out = cmd.OutOrStdout()
			opts.Judges = judges()
			return demo.Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dir, "dir", "", "folder for the demo's files (default: a temporary folder)")
	f.BoolVar(&opts.Keep, "keep", false, "keep the temporary folder (fleet repo, Prometheus data) after the run")
	f.DurationVar(&opts.ScenarioTimeout, "scenario-timeout", 90*time.Second, "give up on a scenario after this long")
	return cmd
}
