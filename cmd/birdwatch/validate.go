package main

import (
	"encoding/json"
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
	var output string
	cmd := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check every Canary spec under DIR/.birdwatch (default: the current directory)",
		Long: `validate checks the checkout's .birdwatch/ as the loop reads it, and what each canary points at.
Problems are printed as file:line: field: problem (with -o json, one JSON object for CI).
Exit codes: 0 valid (warnings allowed), 1 problems found, 2 the checkout could not be read.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if output != "text" && output != "json" {
				return fmt.Errorf("-o %s: want text or json", output)
			}
			res, err := validateDir(dir)
			if err != nil {
				if output == "json" {
					_ = json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"ok": false, "error": err.Error()})
				} else {
					fmt.Fprintln(cmd.ErrOrStderr(), "birdwatch:", err)
				}
				return exitError{code: 2}
			}
			return res.print(cmd, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

// validation is what validate found, as -o json prints it.
type validation struct {
	OK        bool          `json:"ok"`
	Canaries  int           `json:"canaries"`
	Files     int           `json:"files"`
	Problems  []problemJSON `json:"problems"`
	Warnings  []string      `json:"warnings"`
	problems  []spec.Problem
	exposures []appliers.Exposure
}

type problemJSON struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// print writes the result and returns the exit status (exit code 1 on problems).
func (v *validation) print(cmd *cobra.Command, output string) error {
	if output == "json" {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return err
		}
	} else {
		for _, pr := range v.problems {
			fmt.Fprintln(cmd.ErrOrStderr(), pr)
		}
		for _, e := range v.exposures {
			fmt.Fprintln(cmd.ErrOrStderr(), "warning:", e)
		}
		if v.OK {
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d canaries in %d files\n", v.Canaries, v.Files)
		} else {
			fmt.Fprintf(cmd.ErrOrStderr(), "%d problem(s) in %d file(s)\n", len(v.problems), v.Files)
		}
	}
	if !v.OK {
		return exitError{code: 1}
	}
	return nil
}

// validateDir reads the checkout's .birdwatch/ folder as the loop reads a
// commit (spectree: no links, no file over 1 MiB, no .git, no duplicates),
// then checks what each canary points at (manifest, promote files and
// values), and prints each problem as file:line: field: problem.
func validateDir(dir string) (*validation, error) {
	if _, err := os.Stat(filepath.Join(dir, spec.SpecDir)); err != nil {
		return nil, fmt.Errorf("no %s folder in %s: %w", spec.SpecDir, dir, err)
	}
	tree := spectree.Dir(dir)
	canaries, err := spectree.Load(tree, core.WithMetricChecks(core.Checks(judges()), newMetricsRegistry(nil, 0)))
	var problems []spec.Problem
	var perr *spec.Error
	switch {
	case errors.As(err, &perr):
		problems = perr.Problems
	case err != nil:
		return nil, err
	}
	files := map[string]bool{}
	for _, c := range canaries {
		files[c.File] = true
		problems = append(problems, spectree.References(tree, c, core.ReadWeights)...)
	}
	v := &validation{OK: len(problems) == 0, Canaries: len(canaries), problems: problems,
		Problems: []problemJSON{}, Warnings: []string{}}
	for _, pr := range problems {
		files[pr.File] = true
		v.Problems = append(v.Problems, problemJSON{File: pr.File, Line: pr.Line, Field: pr.Field, Message: pr.Message})
	}
	v.Files = len(files)
	// Flux or Argo CD applying .birdwatch/ would fail every sync: a warning,
	// since the applier's source may be another repository.
	exposures, err := appliers.Check(dir)
	if err != nil {
		return nil, err
	}
	v.exposures = exposures
	for _, e := range exposures {
		v.Warnings = append(v.Warnings, e.String())
	}
	return v, nil
}
