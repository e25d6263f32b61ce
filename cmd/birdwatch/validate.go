package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/appliers"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/spectree"
	"github.com/spf13/cobra"
)

func newValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check every Canary spec under DIR/.birdwatch (default: the current directory)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return validateDir(cmd, dir)
		},
	}
}

// validateDir reads the checkout's .birdwatch/ folder as the loop reads a
// commit (spectree: no links, no file over 1 MiB, no .git, no duplicates),
// then checks what each canary points at (manifest, promote files and
// values), and prints each problem as file:line: field: problem.
func validateDir(cmd *cobra.Command, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, spec.SpecDir)); err != nil {
		return fmt.Errorf("no %s folder in %s: %w", spec.SpecDir, dir, err)
	}
	tree := spectree.Dir(dir)
	canaries, err := spectree.Load(tree, core.Checks(judges()))
	var problems []spec.Problem
	var perr *spec.Error
	switch {
	case errors.As(err, &perr):
		problems = perr.Problems
	case err != nil:
		return err
	}
	files := map[string]bool{}
	for _, c := range canaries {
		files[c.File] = true
		problems = append(problems, spectree.References(tree, c, core.ReadWeights)...)
	}
	for _, pr := range problems {
		files[pr.File] = true
		fmt.Fprintln(cmd.ErrOrStderr(), pr)
	}
	// Flux or Argo CD applying .birdwatch/ would fail every sync: a warning,
	// since the applier's source may be another repository.
	exposures, err := appliers.Check(dir)
	if err != nil {
		return err
	}
	for _, e := range exposures {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", e)
	}
	if len(problems) > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "%d problem(s) in %d file(s)\n", len(problems), len(files))
		return exitError{code: 1}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "ok: %d canaries in %d files\n", len(canaries), len(files))
	return nil
}
