package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/birdwatch-gitops/birdwatch/gitops/importer"
)

func newImportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import flagger|argo FILE...",
		Short: "Turn Flagger or Argo Rollouts specs into birdwatch Canary specs and the manifests they need",
		Long: `import reads Flagger objects (Canary, MetricTemplate, AlertProvider) or Argo Rollouts objects
(Rollout, AnalysisTemplate, ClusterAnalysisTemplate) from FILEs, and the GitOps checkout (--dir) for
what they refer to. It writes the Canary under .birdwatch/, the manifests Flagger or Argo Rollouts
would have generated in the cluster, and prints per field what it mapped, approximated, or could
not carry over. Then run: birdwatch validate DIR.`,
	}
	var dir string
	var dryRun bool
	cmd.PersistentFlags().StringVar(&dir, "dir", ".", "the GitOps checkout to read and write")
	cmd.PersistentFlags().BoolVar(&dryRun, "dry-run", false, "print the report and the files, write nothing")
	for _, tool := range []struct {
		name, short string
		run         func(*importer.Checkout, []*importer.Object) (*importer.Result, error)
	}{
		{"flagger", "Import Flagger Canary specs (with their MetricTemplates and AlertProviders)", importer.Flagger},
		{"argo", "Import Argo Rollouts (canary or blueGreen) with their AnalysisTemplates", importer.Argo},
	} {
		cmd.AddCommand(&cobra.Command{
			Use:   tool.name + " FILE...",
			Short: tool.short,
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runImport(cmd, dir, args, dryRun, tool.run)
			},
		})
	}
	return cmd
}

func runImport(cmd *cobra.Command, dir string, files []string, dryRun bool, run func(*importer.Checkout, []*importer.Object) (*importer.Result, error)) error {
	co, err := importer.LoadCheckout(dir)
	if err != nil {
		return err
	}
	var objs []*importer.Object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		rel := f
		if r, err := filepath.Rel(dir, f); err == nil && filepath.IsLocal(r) {
			rel = filepath.ToSlash(r)
		}
		o, err := importer.ParseObjects(rel, data)
		if err != nil {
			return err
		}
		objs = append(objs, o...)
	}
	res, err := run(co, objs)
	if err != nil {
		return err
	}
	if err := writeResult(cmd, dir, res, dryRun); err != nil {
		return err
	}
	if !dryRun {
		fmt.Fprintf(cmd.OutOrStdout(), "next: birdwatch validate %s\n", dir)
	}
	return nil
}

// writeResult prints the notes and writes (or, with dryRun, prints) the files.
func writeResult(cmd *cobra.Command, dir string, res *importer.Result, dryRun bool) error {
	res.SortNotes()
	out := cmd.OutOrStdout()
	for _, n := range res.Notes {
		fmt.Fprintln(out, n)
	}
	for _, p := range slices.Sorted(maps.Keys(res.Files)) {
		if dryRun {
			fmt.Fprintf(out, "--- %s\n%s", p, res.Files[p])
			continue
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, res.Files[p], 0o644); err != nil {
			return err
		}
	}
	return nil
}
