package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/templates"
	"github.com/spf13/cobra"
)

// queryOptions are the flags of birdwatch query besides the Prometheus ones.
type queryOptions struct {
	template, service, namespace, version, stable, canary string
	// templateFile, provider, address, secretRef and headers choose a
	// MetricTemplate file and the provider the queries run on.
	templateFile, provider, address, secretRef string
	// region is the cloud region (cloudwatch); "" means the template's,
	// else the AWS default chain's.
	region  string
	headers map[string]string
	window  time.Duration
	at      string
	args    map[string]string
}

func newQueryCommand() *cobra.Command {
	cfg := newConfig(modeCLI)
	var o queryOptions
	cmd := &cobra.Command{
		Use:   "query",
		Short: "Render a metric template for one version and show what its provider returns",
		Long: "query renders an embedded metric template (--template) or a MetricTemplate file\n" +
			"(--template-file) for one version, runs its queries on the provider (--provider, default\n" +
			"the template's, else Prometheus) and prints the rendered queries with the counts and value,\n" +
			"for writing, debugging and backtesting specs. Secrets come from the deployment's variables\n" +
			"BIRDWATCH_METRICS_SECRET_<NAME>[_FILE|_SECRET_ID].",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runQuery(cmd.Context(), cmd.OutOrStdout(), cfg, o)
		},
	}
	cfg.bind(cmd, "prometheus")
	f := cmd.Flags()
	f.StringVar(&o.template, "template", "", "embedded metric template (see birdwatch templates)")
	f.StringVar(&o.templateFile, "template-file", "", "file holding a MetricTemplate (instead of --template)")
	f.StringVar(&o.provider, "provider", "", "provider type: "+strings.Join(newMetricsRegistry(nil, 0).Names(), ", ")+" (default: the template's)")
	f.StringVar(&o.address, "address", "", "the provider's API address (default: the template's, else the provider's default)")
	f.StringVar(&o.region, "region", "", "the provider's cloud region (cloudwatch; default: the template's, else AWS_REGION)")
	f.StringVar(&o.secretRef, "secret-ref", "", "name of the deployment secret with the provider's credentials")
	f.StringToStringVar(&o.headers, "header", nil, "extra request header name=value, repeatable")
	f.StringVar(&o.service, "service", "", "service name (.Service)")
	f.StringVar(&o.namespace, "namespace", "", "namespace (.Namespace)")
	f.StringVar(&o.version, "version", "", "version to measure (.Version)")
	f.StringVar(&o.stable, "stable", "", "stable version (.Stable); default --version")
	f.StringVar(&o.canary, "canary", "", "canary version (.Canary); default --version")
	f.DurationVar(&o.window, "window", 10*time.Minute, "window the queries aggregate over (.Window, also .Interval)")
	f.StringVar(&o.at, "at", "", "evaluation time, RFC 3339; default now")
	f.StringToStringVar(&o.args, "arg", nil, "template argument name=value (.Args.name), repeatable")
	cmd.MarkFlagsMutuallyExclusive("template", "template-file")
	cmd.MarkFlagsOneRequired("template", "template-file")
	for _, name := range []string{"service", "version"} {
		_ = cmd.MarkFlagRequired(name) // cannot fail: the flags exist
	}
	return cmd
}

func runQuery(ctx context.Context, w io.Writer, cfg *Config, o queryOptions) error {
	tmpl, ref, args, err := queryTemplate(o)
	if err != nil {
		return err
	}
	var at time.Time
	if o.at != "" {
		if at, err = time.Parse(time.RFC3339, o.at); err != nil {
			return fmt.Errorf("parse --at: %w", err)
		}
	}
	p, err := queryProvider(ctx, cfg, ref)
	if err != nil {
		return err
	}
	v := metrics.Vars{Service: o.service, Namespace: o.namespace, Version: o.version,
		Stable: or(o.stable, o.version), Canary: or(o.canary, o.version), Interval: o.window, Window: o.window, Args: args}
	m, merr := metrics.Measure(ctx, p, tmpl, v, at)
	printMeasurement(w, tmpl, v, m, merr == nil)
	return merr
}

// queryTemplate loads the template of o and says where its queries run:
// flags over the MetricTemplate's provider over the embedded template's.
// The arguments are the template's defaults overridden by --arg.
func queryTemplate(o queryOptions) (templates.Template, metrics.ProviderRef, map[string]string, error) {
	var ref metrics.ProviderRef
	var tmpl templates.Template
	args := map[string]string{}
	if o.templateFile != "" {
		data, err := os.ReadFile(o.templateFile)
		if err != nil {
			return tmpl, ref, nil, err
		}
		checks := core.WithMetricChecks(spec.Checks{}, newMetricsRegistry(nil, 0))
		ts, err := spec.ParseMetricTemplates(o.templateFile, data, checks)
		if err != nil {
			return tmpl, ref, nil, err
		}
		if len(ts) != 1 {
			return tmpl, ref, nil, fmt.Errorf("%s holds %d MetricTemplates, want 1", o.templateFile, len(ts))
		}
		tmpl, ref = core.TemplateOf(ts[0]), core.ProviderRef(ts[0])
		maps.Copy(args, ts[0].Spec.Args)
	} else {
		t, err := templates.Metric(o.template)
		if err != nil {
			return tmpl, ref, nil, err
		}
		tmpl, ref = t, metrics.ProviderRef{Type: t.ProviderType()}
	}
	maps.Copy(args, o.args)
	if o.provider != "" {
		ref = metrics.ProviderRef{Type: o.provider}
	}
	if o.address != "" {
		ref.Address = o.address
	}
	if o.secretRef != "" {
		ref.SecretRef = o.secretRef
	}
	if o.region != "" {
		ref.Region = o.region
	}
	if len(o.headers) > 0 {
		ref.Headers = o.headers
	}
	return tmpl, ref, args, nil
}

// queryProvider builds the provider ref names: the configured Prometheus
// for a bare prometheus ref, else the registry's.
func queryProvider(ctx context.Context, cfg *Config, ref metrics.ProviderRef) (metrics.Provider, error) {
	if ref.Type == "prometheus" && ref.Address == "" {
		if cfg.Prometheus == "" {
			return nil, errors.New("no Prometheus URL: give --prometheus or BIRDWATCH_PROMETHEUS_URL (or --provider and --address)")
		}
		return newPrometheus(ctx, cfg)
	}
	return newMetricsRegistry(cfg.metricsSecret, cfg.PrometheusTimeout).Provider(ctx, ref)
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
	for _, f := range []struct{ name, text string }{{"requests", t.Requests}, {"errors", t.Errors}, {"query", t.Query}, {"buckets", t.Buckets}} {
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
	if m.HasBuckets && len(m.Buckets.Bounds) > 0 {
		var les []string
		for i, le := range m.Buckets.Bounds {
			les = append(les, fmt.Sprintf("le=%g:%g", le, m.Buckets.Counts[i]))
		}
		fmt.Fprintf(tw, "buckets\t%s (cumulative, from raw counter samples)\n", strings.Join(les, " "))
	}
	if m.Raw {
		fmt.Fprintf(tw, "counted\tfrom raw counter samples (not increase())\n")
	}
	for _, n := range m.Notes {
		fmt.Fprintf(tw, "note\t%s\n", n)
	}
	for _, d := range m.Dropped {
		fmt.Fprintf(tw, "pod left out\t%s\n", d)
	}
	if m.Skipped != "" {
		fmt.Fprintf(tw, "not evidence\t%s\n", m.Skipped)
	}
	for _, warn := range m.Warnings {
		fmt.Fprintf(tw, "warning\t%s\n", warn)
	}
	_ = tw.Flush() // w is a terminal or buffer; nothing useful to do on error
}
