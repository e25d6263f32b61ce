// Package fleet makes throw-away GitOps repositories with the real git CLI:
// a bare repository playing the Git server and a developer's clone making
// human commits. The demo and the integration tests use it.
package fleet

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Repo is a bare repository (Bare) and a developer's clone of it (Work).
type Repo struct {
	Bare, Work string
}

// Create makes dir/fleet.git holding files as its first commit on main,
// pushed from the clone dir/developer.
func Create(ctx context.Context, dir string, files fs.FS, message string) (*Repo, error) {
	r := &Repo{Bare: filepath.Join(dir, "fleet.git"), Work: filepath.Join(dir, "developer")}
	if err := git(ctx, dir, "init", "--quiet", "--bare", "--initial-branch=main", r.Bare); err != nil {
		return nil, err
	}
	if err := git(ctx, dir, "clone", "--quiet", r.Bare, r.Work); err != nil {
		return nil, err
	}
	if err := os.CopyFS(r.Work, files); err != nil {
		return nil, fmt.Errorf("copy files: %w", err)
	}
	if err := r.commitAndPush(ctx, message); err != nil {
		return nil, err
	}
	return r, nil
}

// URL is the file:// URL of the bare repository.
func (r *Repo) URL() string { return "file://" + r.Bare }

// Edit is a change to one file: it receives the current content and returns the new one.
type Edit func(old []byte) ([]byte, error)

// Put returns an Edit that replaces a file's content (or creates the file).
func Put(content string) Edit { return func([]byte) ([]byte, error) { return []byte(content), nil } }

// Commit pulls main, applies edits by path as the developer, commits and pushes.
func (r *Repo) Commit(ctx context.Context, message string, edits map[string]Edit) error {
	if err := git(ctx, r.Work, "pull", "--quiet", "--rebase", "origin", "main"); err != nil {
		return err
	}
	for file, edit := range edits {
		p := filepath.Join(r.Work, filepath.FromSlash(file))
		old, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		b, err := edit(old)
		if err != nil {
			return fmt.Errorf("edit %s: %w", file, err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return r.commitAndPush(ctx, message)
}

func (r *Repo) commitAndPush(ctx context.Context, message string) error {
	if err := git(ctx, r.Work, "add", "-A"); err != nil {
		return err
	}
	if err := git(ctx, r.Work, "commit", "--quiet", "-m", message); err != nil {
		return err
	}
	// Someone (birdwatch) may push between our pull and our push: rebase and
	// push again, as a person would.
	var err error
	for range 10 {
		if err = git(ctx, r.Work, "push", "--quiet", "origin", "HEAD:main"); err == nil {
			return nil
		}
		if perr := git(ctx, r.Work, "pull", "--quiet", "--rebase", "origin", "main"); perr != nil {
			return perr
		}
	}
	return err
}

// Log returns main's history, newest first: short hash, author, subject.
func (r *Repo) Log(ctx context.Context) (string, error) {
	return r.output(ctx, "log", "--format=%h  %<(10,trunc)%an  %s", "main")
}

// Subjects returns main's commit subjects, newest first.
func (r *Repo) Subjects(ctx context.Context) ([]string, error) {
	out, err := r.output(ctx, "log", "--format=%s", "main")
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSpace(out), "\n"), nil
}

// Show returns a file's content at rev (e.g. "main", "main~1") in the bare repository.
func (r *Repo) Show(ctx context.Context, rev, path string) (string, error) {
	return r.output(ctx, "show", rev+":"+path)
}

// Message returns the full message of the commit at rev.
func (r *Repo) Message(ctx context.Context, rev string) (string, error) {
	return r.output(ctx, "log", "-1", "--format=%B", rev)
}

// output runs git on the bare repository and returns its standard output.
func (r *Repo) output(ctx context.Context, args ...string) (string, error) {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", append([]string{"--git-dir", r.Bare}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %v: %w: %s", args, err, errOut.String())
	}
	return out.String(), nil
}

// git runs the git CLI in dir as the developer, with no user or system config.
func git(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=developer", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=developer", "GIT_COMMITTER_EMAIL=dev@example.com", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %v: %w: %s", args, err, out)
	}
	return nil
}
