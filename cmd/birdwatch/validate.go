package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
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

// validateDir parses every spec file of a checkout and prints each problem
// as file:line: field: problem.
func validateDir(cmd *cobra.Command, dir string) error {
	root := filepath.Join(dir, spec.SpecDir)
	if _, err := os.Stat(root); err != nil {
		return fmt.Errorf("no %s folder in %s: %w", spec.SpecDir, dir, err)
	}
	checks := core.Checks(judges())
	var files, canaries, problems int
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !spec.IsSpecPath(rel) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		cs, err := spec.ParseCanaries(rel, data, checks)
		var perr *spec.Error
		if errors.As(err, &perr) {
			for _, pr := range perr.Problems {
				fmt.Fprintln(cmd.ErrOrStderr(), pr)
			}
			problems += len(perr.Problems)
			return nil
		}
		canaries += len(cs)
		return err
	})
	if err != nil {
		return err
	}
	if problems > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "%d problem(s) in %d file(s)\n", problems, files)
		return exitError{code: 1}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "ok: %d canaries in %d files\n", canaries, files)
	return nil
}
