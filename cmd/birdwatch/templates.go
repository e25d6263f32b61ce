package main

import (
	"fmt"
	"github.com/birdwatch-gitops/birdwatch/gitops/schema"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/templates"
	"github.com/spf13/cobra"
)

func newTemplatesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "templates [NAME]",
		Short: "List the embedded metric templates, or print one as a MetricTemplate",
		Long: "templates lists the embedded metric templates of every provider. With a NAME it prints\n" +
			"that template as a MetricTemplate document to keep under .birdwatch/ and use with templateRef\n" +
			"(Prometheus templates can also be used directly as template: NAME).",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				t, err := templates.Metric(args[0])
				if err != nil {
					return err
				}
				return writeMetricTemplate(cmd.OutOrStdout(), t)
			}
			return listTemplates(cmd.OutOrStdout())
		},
	}
}

func listTemplates(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPROVIDER\tKIND\tUNIT\tDESCRIPTION")
	for _, name := range templates.Names() {
		t, err := templates.Metric(name)
		if err != nil {
			return err
		}
		kind := "value"
		if t.Query == "" {
			kind = "counts"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.ProviderType(), kind, t.Unit, t.Description)
	}
	return tw.Flush()
}

// writeMetricTemplate prints t as a MetricTemplate document: its errors and
// requests become bad and total, its arguments required args (their
// descriptions as comments), and a provider other than Prometheus gets a
// provider section naming a secret of the deployment.
func writeMetricTemplate(w io.Writer, t templates.Template) error {
	mt := spec.MetricTemplate{APIVersion: spec.APIVersion, Kind: spec.KindMetricTemplate,
		Metadata: spec.Metadata{Name: t.Name},
		Spec: spec.MetricTemplateSpec{Description: t.Description, Unit: t.Unit, Query: t.Query, Bad: t.Errors, Total: t.Requests,
			Buckets: t.Buckets}}
	if t.ProviderType() != "prometheus" {
		mt.Spec.Provider = &spec.MetricProvider{Type: t.ProviderType(), SecretRef: t.ProviderType()}
	}
	if len(t.Args) > 0 {
		mt.Spec.Args = map[string]string{}
	}
	var b strings.Builder
	b.WriteString(schema.MetricTemplateModeline + "\n")
	fmt.Fprintf(&b, "# %s\n", t.Description)
	fmt.Fprintf(&b, "# Keep under .birdwatch/ and use from a Canary metric with templateRef: {name: %s}.\n", t.Name)
	if mt.Spec.Provider != nil {
		fmt.Fprintf(&b, "# spec.provider.address: the %s API (default: the provider's); secretRef names the deployment's\n", t.ProviderType())
		fmt.Fprintf(&b, "# secret %s (see README: Metrics providers), never a value in Git.\n", metricsSecretVar(mt.Spec.Provider.SecretRef))
	}
	for _, a := range slices.Sorted(maps.Keys(t.Args)) {
		mt.Spec.Args[a] = ""
		fmt.Fprintf(&b, "# args.%s (required, no default): %s\n", a, t.Args[a])
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&mt); err != nil {
		return fmt.Errorf("encode %s: %w", t.Name, err)
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}
