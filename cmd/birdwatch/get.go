package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/report"
)

func newGetCommand() *cobra.Command {
	cfg := newConfig(modeCLI)
	var output string
	var watching bool
	var refresh time.Duration
	cmd := &cobra.Command{
		Use:   "get [NAMESPACE/NAME]",
		Short: "List canaries and their rollout state as recorded in Git, kubectl style",
		Long: `get prints one row per canary (or the one named): phase, step, weight and versions.
-o wide adds the last analysis and the message; -o json and -o yaml print the Canary specs with
their status. --watch prints a row whenever the rollout changes and ends when it ends.
Exit codes with --watch: 0 promoted (or nothing to roll out), 3 rolled back or failed, 1 error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "" && output != "wide" && output != "json" && output != "yaml" {
				return fmt.Errorf("-o %s: want wide, json or yaml", output)
			}
			key := ""
			if len(args) == 1 {
				key = args[0]
			}
			r, err := openRepo(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer r.Close()
			e := &core.Engine{Repo: r, Judges: judges(), Sync: syncEngines(cfg)}
			load := func(ctx context.Context) ([]core.Entry, error) { return selectEntries(ctx, e, key) }
			if watching {
				return watchGet(cmd.Context(), cmd.OutOrStdout(), load, output, refresh)
			}
			entries, err := load(cmd.Context())
			if err != nil {
				return err
			}
			return printGet(cmd.OutOrStdout(), entries, output, true)
		},
	}
	cfg.bind(cmd, "git")
	cmd.Flags().StringVarP(&output, "output", "o", "", "wide, json or yaml")
	cmd.Flags().BoolVarP(&watching, "watch", "w", false, "print changes until the rollout ends; the exit code says how it ended")
	cmd.Flags().DurationVar(&refresh, "refresh", 5*time.Second, "time between two reads of Git with --watch")
	return cmd
}

// selectEntries reads the fleet and keeps the canary key ("" keeps all).
func selectEntries(ctx context.Context, e *core.Engine, key string) ([]core.Entry, error) {
	fleet, err := e.Fleet(ctx)
	if err != nil || key == "" {
		return fleet, err
	}
	for _, en := range fleet {
		if en.Canary.Key() == key {
			return []core.Entry{en}, nil
		}
	}
	return nil, fmt.Errorf("%s: %w", key, core.ErrUnknownCanary)
}

// getItem is one canary in -o json/yaml: its spec and status, Kubernetes style.
type getItem struct {
	APIVersion string          `json:"apiVersion" yaml:"apiVersion"`
	Kind       string          `json:"kind" yaml:"kind"`
	Metadata   spec.Metadata   `json:"metadata" yaml:"metadata"`
	Spec       spec.CanarySpec `json:"spec" yaml:"spec"`
	Status     *spec.Status    `json:"status,omitempty" yaml:"status,omitempty"`
}

// printGet writes entries in the output format; header says whether a table gets its header row.
func printGet(w io.Writer, entries []core.Entry, output string, header bool) error {
	switch output {
	case "json", "yaml":
		items := make([]getItem, len(entries))
		for i, en := range entries {
			items[i] = getItem{APIVersion: spec.APIVersion, Kind: spec.Kind, Metadata: en.Canary.Metadata, Spec: en.Canary.Spec, Status: en.Status}
		}
		var v any = map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
		if len(items) == 1 {
			v = items[0]
		}
		if output == "json" {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(v); err != nil {
			return err
		}
		return enc.Close()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	if header {
		h := "NAMESPACE\tNAME\tSTABLE\tCANARY\tPHASE\tSTEP\tWEIGHT"
		if output == "wide" {
			h += "\tLAST ANALYSIS\tMESSAGE"
		}
		fmt.Fprintln(tw, h)
	}
	for _, en := range entries {
		fmt.Fprintln(tw, getRow(en, output == "wide"))
	}
	return tw.Flush()
}

// getRow is one table row.
func getRow(en core.Entry, wide bool) string {
	c, st := en.Canary, en.Status
	cols := []string{c.Metadata.Namespace, c.Metadata.Name, c.Spec.Stable, c.Spec.Canary, "-", "-", "-"}
	msg, last := "", "-"
	switch {
	case st == nil && c.Spec.Canary == c.Spec.Stable:
		cols[4], msg = "Idle", "nothing to roll out"
	case st == nil:
		cols[4], msg = "NotStarted", "the next run starts the rollout"
	default:
		n := len(c.Spec.Steps)
		cols[2], cols[3], cols[4] = st.Stable, st.Generation, string(st.Phase)
		cols[5], cols[6] = fmt.Sprintf("%d/%d", report.StepNumber(st.Step, n, st.Phase), n), fmt.Sprintf("%d%%", st.Weight)
		msg = st.Message
		if a := st.LastAnalysis; a != nil {
			last = fmt.Sprintf("%s %s", a.Verdict, a.At.UTC().Format("15:04:05Z"))
		}
	}
	if wide {
		cols = append(cols, last, strings.ReplaceAll(msg, "\t", " "))
	}
	return strings.Join(cols, "\t")
}

// ended reports whether every entry's rollout is over, and whether one ended badly.
func ended(entries []core.Entry) (done, failed bool) {
	done = true
	for _, en := range entries {
		st := en.Status
		switch {
		case st == nil && en.Canary.Spec.Canary == en.Canary.Spec.Stable:
		case st == nil || st.Generation != en.Canary.Spec.Canary || !st.Phase.Terminal():
			done = false
		case st.Phase != spec.PhaseSucceeded:
			failed = true
		}
	}
	return done, failed
}

// watchGet prints the rows that changed at every refresh until every
// rollout has ended; rolled back or failed exits with exitCodeFailed.
func watchGet(ctx context.Context, w io.Writer, load func(context.Context) ([]core.Entry, error), output string, refresh time.Duration) error {
	seen := map[string]string{}
	first := true
	for {
		entries, err := load(ctx)
		if err != nil {
			return err
		}
		var changed []core.Entry
		for _, en := range entries {
			row := getRow(en, true)
			if seen[en.Canary.Key()] != row {
				seen[en.Canary.Key()] = row
				changed = append(changed, en)
			}
		}
		if len(changed) > 0 {
			if err := printGet(w, changed, output, first); err != nil {
				return err
			}
			first = false
		}
		if done, failed := ended(entries); done {
			if failed {
				return exitError{code: exitCodeFailed}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(refresh):
		}
	}
}
