package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/birdwatch-gitops/birdwatch/functions/command"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// Exit codes of the commands that steer or watch a rollout.
const (
	exitCodeError  = 1 // bad usage, unknown canary, Git or metrics trouble
	exitRefused    = 2 // the command did not apply to the rollout's state (the reason is printed)
	exitCodeFailed = 3 // get --watch: the rollout ended rolled back or failed
)

// steeringVerbs are the commands of the one command language that change a rollout.
var steeringVerbs = []string{"promote", "abort", "pause", "resume", "rollback", "skip-analysis", "retry"}

// commandKind checks a verb of the command language; status is not a command.
func commandKind(verb string) (rollout.CommandKind, error) {
	kind, ok := (command.Command{Verb: verb}).Kind()
	if !ok {
		return "", fmt.Errorf("unknown command %q (want one of %s)", verb, strings.Join(steeringVerbs, ", "))
	}
	return kind, nil
}

// newVerbCommands returns promote, abort, ... as commands of their own: each
// runs one cycle for the canary with the command, like
// `run --once --canary NS/NAME --command VERB`.
func newVerbCommands() []*cobra.Command {
	var out []*cobra.Command
	for _, verb := range steeringVerbs {
		cfg := newConfig(modeCLI)
		var actor string
		cmd := &cobra.Command{
			Use:   verb + " NAMESPACE/NAME",
			Short: verbHelp[verb],
			Long: verbHelp[verb] + ".\n\nThe command is decided and committed like any decision (it is recorded in the status\n" +
				"history with --actor). Exit codes: 0 applied, 1 error (unknown canary, Git), 2 refused (the\nreason is printed).",
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				kind, err := commandKind(verb)
				if err != nil {
					return err
				}
				e, r, err := newEngine(cmd.Context(), cfg, newLogger(cmd.ErrOrStderr(), cfg.LogFormat))
				if err != nil {
					return err
				}
				defer r.Close()
				req := core.Request{Canary: args[0], Trigger: "cli", Command: &rollout.Command{Kind: kind, Actor: actor}}
				return runOnce(cmd.Context(), e, req, cmd.OutOrStdout())
			},
		}
		cfg.bind(cmd, "git", "prometheus", "notify", "github", "gitlab", "kube")
		cmd.Flags().StringVar(&actor, "actor", "cli", "who gives the command, recorded in the history")
		out = append(out, cmd)
	}
	return out
}

var verbHelp = map[string]string{
	"promote":       "Continue a paused rollout past its pause (or promote at a blue-green switch)",
	"abort":         "Roll the canary back",
	"rollback":      "Roll the canary back (same as abort)",
	"pause":         "Hold a progressing rollout where it is",
	"resume":        "Continue a paused or frozen rollout",
	"skip-analysis": "End the current analyze step now",
	"retry":         "Start a rolled back or failed version again from its first step",
}

// refusedError is a command that did not apply; it exits with exitRefused.
type refusedError struct{ reasons []string }

func (e refusedError) Error() string { return strings.Join(e.reasons, "; ") }

// newVersionCommand prints the module version and VCS revision the binary was built from.
func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print birdwatch's version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), versionString())
			return nil
		},
	}
}

// version is set by the release build (-ldflags "-X main.version=v1.2.3").
var version = ""

func versionString() string {
	info, ok := debug.ReadBuildInfo()
	v, rev, dirty, gov := version, "unknown", "", "unknown"
	if ok {
		gov = info.GoVersion
		if v == "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	return fmt.Sprintf("birdwatch %s (commit %s%s, %s)", v, rev, dirty, gov)
}
