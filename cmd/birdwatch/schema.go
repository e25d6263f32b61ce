package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/birdwatch-gitops/birdwatch/gitops/schema"
)

func newSchemaCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the Canary spec, for editor completion and CI checks",
		Long: `schema prints the JSON Schema (draft 2020-12) of a Canary document, generated from birdwatch's
Go types. Editors with yaml-language-server use it through the first line of a spec:

  ` + schema.Modeline + `

or offline: birdwatch schema > .birdwatch/canary.schema.json and
"# yaml-language-server: $schema=canary.schema.json".
The MetricTemplate kind (issue 19) has no schema yet: validate checks it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := schema.Canary()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", data)
			return err
		},
	}
}
