package main

import (
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/spf13/cobra"
)

func newStatusCommand() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Print each canary's phase, step, weight and last analysis, as recorded in Git",
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := openRepo(cmd.Context(), &cfg)
			if err != nil {
				return err
			}
			defer r.Close()
			e := &core.Engine{Repo: r, Judges: judges(), Sync: syncEngines()}
			fleet, err := e.Fleet(cmd.Context())
			if err != nil {
				return err
			}
			report.Fleet(cmd.OutOrStdout(), fleet)
			return nil
		},
	}
	cfg.bindRepoFlags(cmd)
	return cmd
}
