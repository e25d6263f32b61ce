package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/pullrequest/githubtest"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo/gitlabtest"
)

// TestRunGitHubAPIMode: with BIRDWATCH_GIT_API=github, `run --once` makes
// its decision through GitHub's API (githubtest in front of a real bare
// repository): the commit is GitHub's (createCommitOnBranch), and nothing
// is cloned into the cache directory.
func TestRunGitHubAPIMode(t *testing.T) {
	f := serveFleet(t)
	srv := githubtest.New(t, f.Bare, "acme", "gitops", nil)
	cache := filepath.Join(t.TempDir(), "cache")
	out, _, err := run(t, "run", "--once", "--git-api", "github", "--github-repo", "acme/gitops", "--github-api-url", srv.URL,
		"--repo", "https://github.com/acme/gitops.git", "--cache-dir", cache, "--prometheus", "http://127.0.0.1:1")
	if err != nil || !strings.Contains(out, "advance") {
		t.Fatalf("run: %v\n%s", err, out)
	}
	who, err := exec.Command("git", "--git-dir", f.Bare, "log", "-1", "--format=%an %s").Output()
	if err != nil || !strings.HasPrefix(string(who), "birdwatch[bot] birdwatch: games/aleph") {
		t.Fatalf("head commit %q %v; want GitHub's commit of the decision", who, err)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Fatalf("API mode wrote to the Git cache: %v", entries)
	}
	if _, _, err := run(t, "run", "--once", "--git-api", "bitbucket", "--repo", f.URL(), "--cache-dir", cache); err == nil ||
		!strings.Contains(err.Error(), "BIRDWATCH_GIT_API") {
		t.Fatalf("unknown API: %v", err)
	}
}

// TestRunGitLabAPIMode: with BIRDWATCH_GIT_API=gitlab, `run --once` makes
// its decision through GitLab's commits API (gitlabtest in front of a real
// bare repository, checking the token): the commit is GitLab's, by the
// token's user, and nothing is cloned into the cache directory. The project
// comes from the repository URL under BIRDWATCH_GITLAB_URL.
func TestRunGitLabAPIMode(t *testing.T) {
	f := serveFleet(t)
	srv := gitlabtest.New(t, f.Bare, "acme/gitops", "glpat-run-test")
	web := strings.TrimSuffix(srv.URL, "/api/v4")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("glpat-run-test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(t.TempDir(), "cache")
	out, _, err := run(t, "run", "--once", "--git-api", "gitlab", "--gitlab-url", web, "--gitlab-api-token-file", tokenFile,
		"--repo", web+"/acme/gitops.git", "--cache-dir", cache, "--prometheus", "http://127.0.0.1:1")
	if err != nil || !strings.Contains(out, "advance") {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if strings.Contains(out, "glpat-run-test") {
		t.Fatalf("the token is in the output:\n%s", out)
	}
	who, err := exec.Command("git", "--git-dir", f.Bare, "log", "-1", "--format=%an %s").Output()
	if err != nil || !strings.HasPrefix(string(who), "birdwatch bot birdwatch: games/aleph") {
		t.Fatalf("head commit %q %v; want GitLab's commit of the decision", who, err)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Fatalf("API mode wrote to the Git cache: %v", entries)
	}
	if _, _, err := run(t, "run", "--once", "--git-api", "gitlab", "--gitlab-url", web, "--repo", "https://example.com/x.git",
		"--cache-dir", cache); err == nil || !strings.Contains(err.Error(), "BIRDWATCH_GITLAB_PROJECT") {
		t.Fatalf("no project: %v", err)
	}
}
