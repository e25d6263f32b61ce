package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	fdiff "github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"
	"github.com/spf13/cobra"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
	"github.com/birdwatch-gitops/birdwatch/rollout/step"
)

func newDiffCommand() *cobra.Command {
	cfg := newConfig(modeCLI)
	var canary, command, actor string
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "Print what the next decision would change, as a unified diff per file, without committing",
		Long: "diff runs the loop's decision for each canary on the branch as it is now (querying Prometheus\n" +
			"and the sync gate like run does) and prints the commit it would make: the message as # lines,\n" +
			"then a git-style unified diff that `git apply` accepts. Nothing is committed or pushed.\n" +
			"`birdwatch run --dry-run` prints the same.",
		Example: "  birdwatch diff --repo file:///srv/fleet.git --prometheus http://localhost:9090\n" +
			"  birdwatch diff --repo https://github.com/acme/fleet --prometheus http://prom:9090 --canary games/aleph --command promote",
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, r, err := newEngine(cmd.Context(), cfg, newLogger(cmd.ErrOrStderr(), cfg.LogFormat))
			if err != nil {
				return err
			}
			defer r.Close()
			req := core.Request{Canary: canary, Trigger: "cli"}
			if command != "" {
				req.Command = &rollout.Command{Kind: rollout.CommandKind(command), Actor: actor}
			}
			return runDiff(cmd.Context(), e, req, cmd.OutOrStdout())
		},
	}
	cfg.bind(cmd, "git", "prometheus", "github", "kube")
	f := cmd.Flags()
	f.StringVar(&canary, "canary", "", "only this canary (namespace/name)")
	f.StringVar(&command, "command", "", "show what a manual command would do: promote, resume, pause, abort, rollback, skip-analysis")
	f.StringVar(&actor, "actor", "cli", "who gives --command, as the history would record it")
	return cmd
}

// runDiff plans one cycle and prints every canary's plan; a canary that
// could not be planned makes the exit code non-zero. It needs e.Metrics:
// the engine cannot measure without it.
func runDiff(ctx context.Context, e *core.Engine, req core.Request, w io.Writer) error {
	if e.Metrics == nil {
		return errors.New("no Prometheus: give --prometheus or BIRDWATCH_PROMETHEUS_URL; the next decision may need to measure")
	}
	plans, err := e.Plan(ctx, req)
	if err != nil {
		return err
	}
	failed := 0
	for _, p := range plans {
		if p.Err != nil {
			failed++
		}
		if err := printPlan(w, p); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d canaries could not be planned", failed, len(plans))
	}
	return nil
}

// printPlan writes one canary's plan: "# " lines naming the decision (the
// commit message it would have, or why nothing would be committed), then
// the files it would change as one git-style unified diff.
func printPlan(w io.Writer, p core.Planned) error {
	d := p.Decision
	var head strings.Builder
	switch {
	case p.Err != nil:
		fmt.Fprintf(&head, "%s: error: %v\n", p.Canary, p.Err)
	case len(p.Files) == 0:
		fmt.Fprintf(&head, "%s %s: %s, nothing to commit: %s\n", p.Canary, d.Status.Generation, d.Action, d.Reason)
	default:
		fmt.Fprintf(&head, "%s: %s would commit on %s:\n\n%s\n", p.Canary, d.Action, shortHash(p.Commit), p.Message)
	}
	if d.Refused != "" {
		fmt.Fprintln(&head, d.Refused)
	}
	for _, h := range p.Hooks {
		fmt.Fprintf(&head, "would call %s (not called: a dry run assumes %s)\n", h, assumedAnswer(h))
	}
	comment := "# " + strings.ReplaceAll(strings.TrimRight(head.String(), "\n"), "\n", "\n# ")
	comment = strings.ReplaceAll(comment, "# \n", "#\n")
	if err := fdiff.NewUnifiedEncoder(w, fdiff.DefaultContextLines).Encode(newPatch(comment, p.Files)); err != nil {
		return fmt.Errorf("write diff of %s: %w", p.Canary, err)
	}
	return nil
}

// assumedAnswer says what a dry run takes hook call h to answer.
func assumedAnswer(h step.HookCall) string {
	if h.Hook.Type == spec.HookRollback {
		return "no rollback is asked"
	}
	return "200"
}

func shortHash(h string) string { return h[:min(len(h), 8)] }

// The types below adapt planned files to go-git's diff.Patch, so that
// go-git's UnifiedEncoder (the one behind `git diff` in go-git) writes the
// diff: git's exact format, with blob hashes on the index lines, which
// `git apply` and `git apply --3way` accept. go-git is already a direct
// dependency and maintained; pmezard/go-difflib is unmaintained and writes
// no git headers.

// patch is a diff.Patch of whole-file changes.
type patch struct {
	message string
	files   []fdiff.FilePatch
}

func newPatch(message string, files []core.PlannedFile) patch {
	p := patch{message: message}
	for _, f := range files {
		p.files = append(p.files, newFilePatch(f))
	}
	return p
}

func (p patch) FilePatches() []fdiff.FilePatch { return p.files }
func (p patch) Message() string                { return p.message }

// filePatch is one file's change, split into line chunks by go-git's
// Myers line diff.
type filePatch struct {
	from, to fdiff.File // nil when the file is created or deleted
	chunks   []fdiff.Chunk
}

func newFilePatch(f core.PlannedFile) filePatch {
	fp := filePatch{to: blob(f.Path, f.New)}
	if f.Old != nil {
		fp.from = blob(f.Path, f.Old)
	}
	for _, d := range diff.Do(string(f.Old), string(f.New)) {
		op := fdiff.Equal
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			op = fdiff.Delete
		case diffmatchpatch.DiffInsert:
			op = fdiff.Add
		}
		fp.chunks = append(fp.chunks, chunk{text: d.Text, op: op})
	}
	return fp
}

func (f filePatch) IsBinary() bool                { return false }
func (f filePatch) Files() (from, to fdiff.File)  { return f.from, f.to }
func (f filePatch) Chunks() []fdiff.Chunk         { return f.chunks }
func blob(path string, content []byte) fdiff.File { return file{path: path, hash: blobHash(content)} }
func blobHash(content []byte) plumbing.Hash {
	return plumbing.ComputeHash(plumbing.BlobObject, content)
}
func (c chunk) Content() string        { return c.text }
func (c chunk) Type() fdiff.Operation  { return c.op }
func (f file) Hash() plumbing.Hash     { return f.hash }
func (f file) Mode() filemode.FileMode { return filemode.Regular }
func (f file) Path() string            { return f.path }

// file is a regular file at path with git blob hash hash.
type file struct {
	path string
	hash plumbing.Hash
}

// chunk is a run of lines that are equal, added or deleted.
type chunk struct {
	text string
	op   fdiff.Operation
}
