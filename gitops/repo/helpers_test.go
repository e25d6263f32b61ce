package repo

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// seedFiles returns the content of a typical GitOps repository.
func seedFiles() map[string]string {
	return map[string]string{
		".birdwatch/canaries/aleph.yaml":        "apiVersion: birdwatch.dev/v1alpha1\nkind: Canary\nmetadata:\n  name: aleph\n  namespace: games\n",
		"apps/games/aleph/virtualservice.yaml":  "apiVersion: networking.istio.io/v1\nkind: VirtualService\nspec:\n  http:\n  - route:\n    - weight: 100\n    - weight: 0\n",
		"apps/games/aleph/destinationrule.yaml": "kind: DestinationRule\n",
		"apps/games/beth/kustomization.yaml":    "resources: []\n",
		"README.md":                             "# gitops\n",
		"scripts/deploy.sh":                     "#!/bin/sh\necho deploy\n",
		"a.b":                                   "sorts before the a/ directory\n",
		"a/c":                                   "inside a/\n",
		"a0":                                    "sorts after the a/ directory\n",
	}
}

// requireGit skips the test when the git CLI is missing.
func requireGit(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		tb.Skip("git not in PATH: these tests run against real Git repositories")
	}
}

// gitEnv isolates the git CLI from the machine's configuration.
func gitEnv(home string) []string {
	return append(os.Environ(), isolatedGitEnv(home)...)
}

// isolatedGitEnv is the part of gitEnv that replaces the user's settings.
func isolatedGitEnv(home string) []string {
	return []string{
		"HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Human Operator",
		"GIT_AUTHOR_EMAIL=human@example.com",
		"GIT_COMMITTER_NAME=Human Operator",
		"GIT_COMMITTER_EMAIL=human@example.com",
		"GIT_TERMINAL_PROMPT=0",
	}
}

// gitIn runs the git CLI in dir and returns its stdout without the final
// newlines. It is safe to call from goroutines.
func gitIn(dir string, args ...string) (string, error) {
	out, err := gitRaw(dir, args...)
	return strings.TrimRight(out, "\n"), err
}

// gitRaw runs the git CLI in dir and returns its stdout unchanged.
func gitRaw(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv(dir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), dir, err, errb.String())
	}
	return out.String(), nil
}

func mustGit(tb testing.TB, dir string, args ...string) string {
	tb.Helper()
	out, err := gitIn(dir, args...)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// upstream is a bare repository made with the git CLI, plus a human's clone.
type upstream struct {
	root string // parent folder, the base path for git daemon / http-backend
	bare string // root/gitops.git
	work string // a human's working clone
}

// newUpstream creates root/gitops.git whose main branch has files (plus one
// executable script) in two commits.
func newUpstream(tb testing.TB, files map[string]string) *upstream {
	tb.Helper()
	requireGit(tb)
	root := tb.TempDir()
	u := &upstream{root: root, bare: filepath.Join(root, "gitops.git"), work: filepath.Join(root, "human")}
	mustGit(tb, root, "init", "-q", "--bare", "-b", "main", u.bare)
	mustGit(tb, u.bare, "config", "receive.denyNonFastForwards", "true")
	mustGit(tb, u.bare, "config", "http.receivepack", "true")
	mustGit(tb, root, "init", "-q", "-b", "main", u.work)
	mustGit(tb, u.work, "remote", "add", "origin", u.bare)
	mustGit(tb, u.work, "commit", "-q", "--allow-empty", "-m", "initial")
	for p, c := range files {
		writeFile(tb, filepath.Join(u.work, p), c)
	}
	if _, ok := files["scripts/deploy.sh"]; ok {
		if err := os.Chmod(filepath.Join(u.work, "scripts/deploy.sh"), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	mustGit(tb, u.work, "add", "-A")
	mustGit(tb, u.work, "commit", "-q", "-m", "seed manifests")
	mustGit(tb, u.work, "push", "-q", "origin", "main")
	return u
}

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// humanCommit appends line to path in the human's clone and pushes it,
// rebasing on whatever others pushed meanwhile, as a person would. Safe for
// goroutines (returns errors instead of failing the test).
func (u *upstream) humanCommit(path, line, subject string) error {
	if _, err := gitIn(u.work, "pull", "-q", "--rebase", "origin", "main"); err != nil {
		return err
	}
	full := filepath.Join(u.work, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(full, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if _, err := gitIn(u.work, "add", path); err != nil {
		return err
	}
	if _, err := gitIn(u.work, "commit", "-q", "-m", subject); err != nil {
		return err
	}
	for range 20 { // others may push between our pull and push
		if _, err = gitIn(u.work, "push", "-q", "origin", "main"); err == nil {
			return nil
		}
		if _, err := gitIn(u.work, "pull", "-q", "--rebase", "origin", "main"); err != nil {
			return err
		}
	}
	return err
}

func (u *upstream) head(tb testing.TB) string {
	tb.Helper()
	return mustGit(tb, u.bare, "rev-parse", "refs/heads/main")
}

// show returns the exact bytes of `git show rev:path` in the bare repository.
func (u *upstream) show(tb testing.TB, rev, path string) string {
	tb.Helper()
	out, err := gitRaw(u.bare, "show", rev+":"+path)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
