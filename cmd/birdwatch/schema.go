package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/birdwatch-gitops/birdwatch/gitops/schema"
)

func newSchemaCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "schema [canary|metrictemplate]",
		Short: "Print the JSON Schema of the Canary (default) or the MetricTemplate spec, for editor completion and CI checks",
		Long: `schema prints the JSON Schema (draft 2020-12) of a Canary document, or with the argument
metrictemplate of a MetricTemplate document, generated from birdwatch's Go types. Editors with
yaml-language-server use them through the first line of a spec file:

  ` + schema.Modeline + `
  ` + schema.MetricTemplateModeline + `

or offline: birdwatch schema > .birdwatch/canary.schema.json and
"# yaml-language-server: $schema=canary.schema.json".`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"canary", "metrictemplate"},
		RunE: func(cmd *cobra.Command, args []string) error {
			gen := schema.Canary
			if len(args) == 1 {
				switch strings.ToLower(args[0]) {
				case "canary":
				case "metrictemplate":
					gen = schema.MetricTemplate
				default:
					return fmt.Errorf("schema %s: want canary or metrictemplate", args[0])
				}
			}
			data, err := gen()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", data)
			return err
		},
	}
}
