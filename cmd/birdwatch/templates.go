package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/birdwatch-gitops/birdwatch/templates"
	"github.com/spf13/cobra"
)

func newTemplatesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "templates",
		Short: "List the embedded metric templates",
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tUNIT\tDESCRIPTION")
			for _, name := range templates.Names() {
				t, err := templates.Metric(name)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, t.Unit, t.Description)
			}
			return tw.Flush()
		},
	}
}
