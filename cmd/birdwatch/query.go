package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/templates"
	"github.com/spf13/cobra"
)

// queryOptions are the flags of birdwatch query besides the Prometheus ones.
type queryOptions struct {
	template, service, namespace, version, stable, canary string
	window                                                time.Duration
	at                                                    string
	args                                                  map[string]string
}

func newQueryCommand() *cobra.Command {
	cfg := newConfig(modeCLI)
	var o queryOptions
	cmd := &cobra.Command{
		Use:   "query",
		Short: "Render a metric template for one version and show what Prometheus returns",
		Long: "query renders the embedded metric template for one version, runs its queries\n" +
			"against Prometheus and prints the rendered PromQL with the errors, requests and value,\n" +
			"for writing and debugging specs.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runQuery(cmd.Context(), cmd.OutOrStdout(), cfg, o)
		},
	}
	cfg.bind(cmd, "prometheus")
	f := cmd.Flags()
	f.StringVar(&o.template, "template", "", "embedded metric template (see birdwatch templates)")
	f.StringVar(&o.service, "service", "", "service name (.Service)")
	f.StringVar(&o.namespace, "namespace", "", "namespace (.Namespace)")
	f.StringVar(&o.version, "version", "", "version to measure (.Version)")
	f.StringVar(&o.stable, "stable", "", "stable version (.Stable); default --version")
	f.StringVar(&o.canary, "canary", "", "canary version (.Canary); default --version")
	f.DurationVar(&o.window, "window", 10*time.Minute, "window the queries aggregate over (.Window, also .Interval)")
	f.StringVar(&o.at, "at", "", "evaluation time, RFC 3339; default now")
	f.StringToStringVar(&o.args, "arg", nil, "template argument name=value (.Args.name), repeatable")
	for _, name := range []string{"template", "service", "version"} {
		_ = cmd.MarkFlagRequired(name) // cannot fail: the flags exist
	}
	return cmd
}

func runQuery(ctx context.Context, w io.Writer, cfg *Config, o queryOptions) error {
	if cfg.Prometheus == "" {
		return errors.New("no Prometheus URL: give --prometheus or BIRDWATCH_PROMETHEUS_URL")
	}
	tmpl, err := templates.Metric(o.template)
	if err != nil {
		return err
	}
	var at time.Time
	if o.at != "" {
		if at, err = time.Parse(time.RFC3339, o.at); err != nil {
			return fmt.Errorf("parse --at: %w", err)
		}
	}
	p, err := newPrometheus(ctx, cfg)
	if err != nil {
		return err
	}
	v := metrics.Vars{Service: o.service, Namespace: o.namespace, Version: o.version,
		Stable: or(o.stable, o.version), Canary: or(o.canary, o.version), Interval: o.window, Window: o.window, Args: o.args}
	m, merr := metrics.Measure(ctx, p, tmpl, v, at)
	printMeasurement(w, tmpl, v, m, merr == nil)
	return merr
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// printMeasurement writes the rendered queries, then, if the measurement is
// complete, the counts and value the template defines.
func printMeasurement(w io.Writer, t templates.Template, v metrics.Vars, m metrics.Measurement, complete bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "template\t%s (%s)\n", t.Name, t.Unit)
	fmt.Fprintf(tw, "version\t%s\n", v.Version)
	var fields []string
	for _, f := range []struct{ name, text string }{{"requests", t.Requests}, {"errors", t.Errors}, {"query", t.Query}} {
		if f.text != "" {
			fields = append(fields, f.name)
		}
	}
	for i, q := range m.Queries {
		if i < len(fields) {
			fmt.Fprintf(tw, "query (%s)\t%s\n", fields[i], strings.Join(strings.Fields(q), " "))
		}
	}
	if !complete {
		_ = tw.Flush()
		return
	}
	if m.HasRequests {
		fmt.Fprintf(tw, "requests\t%g\n", m.Requests)
	}
	if m.HasCounts {
		fmt.Fprintf(tw, "errors\t%g\n", m.Errors)
	}
	fmt.Fprintf(tw, "value\t%g %s\n", m.Value, t.Unit)
	for _, warn := range m.Warnings {
		fmt.Fprintf(tw, "warning\t%s\n", warn)
	}
	_ = tw.Flush() // w is a terminal or buffer; nothing useful to do on error
}
