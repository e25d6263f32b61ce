// Command birdwatch is the one binary of birdwatch: the CLI (validate, run,
// status, demo, ...), and later the HTTP server and the Lambda entry point.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCommand()
	err := root.ExecuteContext(ctx)
	var ee exitError
	var re refusedError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case errors.As(err, &re):
		fmt.Fprintln(os.Stderr, "birdwatch:", re)
		os.Exit(exitRefused)
	case err != nil:
		fmt.Fprintln(os.Stderr, "birdwatch:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "birdwatch",
		Short:         "GitOps canary analysis: judge canaries on metrics, commit the decision to Git",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newValidateCommand(), newRunCommand(), newStatusCommand(), newTemplatesCommand(), newDemoCommand(), newSimulateCommand())
	root.AddCommand(newDiffCommand())
	root.AddCommand(newReportCommand())
	root.AddCommand(newServeCommand())
	root.AddCommand(newJudgeCommand())
	root.AddCommand(newLambdaCommand())
	root.AddCommand(newQueryCommand())
	root.AddCommand(newSettingsCommand())
	root.AddCommand(newImportCommand())
	root.AddCommand(newVerbCommands()...)
	root.AddCommand(newVersionCommand(), newGetCommand(), newSchemaCommand(), newInitCommand())
	root.RunE = runAsBootstrap // with no arguments inside a Lambda runtime, serve the function (lambda.go)
	return root
}
