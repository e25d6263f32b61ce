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
	cfg := newConfig(modeCLI)
	var output string
	cmd := &cobra.Command{
		Use:   "validate [PATH | --repo URL]",
		Short: "Check Canary and MetricTemplate specs as the loop reads them (a checkout, a folder, a file or a repository URL)",
		Long: `validate checks specs as the loop reads them, and what each canary points at (the traffic
manifest, read by its provider; promote files and paths; templates and their args).
PATH is one of:
  a checkout with .birdwatch/ (default: the current directory), or its .birdwatch/ folder:
    every spec there, one fleet (a canary defined twice is a problem);
  a spec file under some .birdwatch/: that file, with the checkout's MetricTemplates;
  another spec file: that file, its references resolved against its own folder;
  a folder without .birdwatch/: every YAML file in it (and below) holding a Canary or a
    MetricTemplate, references resolved against the folder; the files are not one fleet.
--repo URL clones the repository's branch (--branch, default main) into a temporary cache,
validates its .birdwatch/ and removes the cache; credentials as for run (--git-token-file...).
Every problem of a file is reported in one pass, as file:line: field: problem; an unknown
field says where it lives ("moved to", "did you mean", the birdwatch name of a Flagger or
Argo Rollouts field). With -o json, one JSON object for CI.
Exit codes: 0 valid (warnings allowed), 1 problems found, 2 nothing to validate or the
checkout could not be read.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("-o %s: want text or json", output)
			}
			var res *validation
			var err error
			switch {
			case cmd.Flags().Changed("repo") && len(args) > 0:
				return fmt.Errorf("give a PATH or --repo, not both")
			case cmd.Flags().Changed("repo"):
				res, err = validateRepo(cmd.Context(), cfg)
			default:
				target := "."
				if len(args) == 1 {
					target = args[0]
				}
				res, err = validatePath(target)
			}
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
	cfg.bind(cmd, "git")
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
	// canariesIn counts the valid canaries per file.
	canariesIn map[string]int
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
	canaries, err := spectree.Load(tree, validateChecks())
	v, err := checkLoaded(tree, canaries, err)
	if err != nil {
		return nil, err
	}
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

// validateChecks are the loop's checks: this build's providers, judges,
// templates and metric providers.
func validateChecks() spec.Checks {
	return core.WithMetricChecks(core.Checks(judges()), newMetricsRegistry(nil, 0))
}

// checkLoaded turns what spectree loaded into a validation: the load's
// problems, then each canary's references.
func checkLoaded(tree spectree.Tree, canaries []*spec.Canary, err error) (*validation, error) {
	var problems []spec.Problem
	var perr *spec.Error
	switch {
	case errors.As(err, &perr):
		problems = perr.Problems
	case err != nil:
		return nil, err
	}
	files := map[string]bool{}
	in := map[string]int{}
	for _, c := range canaries {
		files[c.File] = true
		in[c.File]++
		problems = append(problems, spectree.References(tree, c, core.ReadWeights)...)
	}
	v := &validation{OK: len(problems) == 0, Canaries: len(canaries), problems: problems,
		Problems: []problemJSON{}, Warnings: []string{}, canariesIn: in}
	for _, pr := range problems {
		files[pr.File] = true
		v.Problems = append(v.Problems, problemJSON{File: pr.File, Line: pr.Line, Field: pr.Field, Message: pr.Message})
	}
	v.Files = len(files)
	return v, nil
}
