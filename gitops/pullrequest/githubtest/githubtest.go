// Package githubtest is a GitHub API for tests, on net/http/httptest, in
// front of a real bare Git repository: pull requests are listed, opened,
// edited, commented, labelled and closed as the GitHub REST API does (same
// paths, same JSON shapes, same 422/405 errors), and merging one really
// merges its branch into the base branch with the git CLI, so a test sees
// on main exactly what GitHub would leave there. GraphQL answers
// enablePullRequestAutoMerge and createCommitOnBranch (with its head
// check), and the Git database reads of birdwatch's API mode (branches,
// git/commits, git/trees, git/blobs) are served from the repository.
package githubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is the fake GitHub. Its exported fields may be set before use; its
// methods are safe for concurrent use.
type Server struct {
	// URL is the REST root to give go-github (GitHub Enterprise style,
	// ".../api/v3/"); GraphQL is served at ".../api/graphql".
	URL string
	// Owner and Repo name the one repository served.
	Owner, Repo string
	// RequireChecks makes enablePullRequestAutoMerge succeed (as when branch
	// protection waits for checks); otherwise GitHub's "clean status" error
	// is returned, because nothing stands in the way of a merge.
	RequireChecks bool

	bare string
	now  func() time.Time

	mu       sync.Mutex
	pulls    []*pull
	comments map[int][]string
	calls    []string
}

// pull is one pull request's state.
type pull struct {
	Number              int
	Title, Body         string
	Head, Base          string
	HeadSHA             string
	Open                bool
	Created, Updated    time.Time
	ClosedAt, MergedAt  *time.Time
	MergeCommit         string
	Labels              []string
	AutoMerge           bool
	MaintainerCanModify bool
}

// New starts the server for the bare repository bare; it stops when the
// test ends. now is GitHub's clock (nil: time.Now).
func New(t testing.TB, bare, owner, repo string, now func() time.Time) *Server {
	t.Helper()
	if now == nil {
		now = time.Now
	}
	s := &Server{Owner: owner, Repo: repo, bare: bare, now: now, comments: map[int][]string{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/api/v3/"
	return s
}

// Calls returns "METHOD path" of every request so far, in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// Comments returns the bodies of the comments on pull request n.
func (s *Server) Comments(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.comments[n]...)
}

// Pull returns pull request n as the REST API shows it; nil when absent.
func (s *Server) Pull(n int) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.find(n); p != nil {
		return s.render(p)
	}
	return nil
}

// Count returns how many pull requests were opened.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pulls)
}

// Merge merges pull request n as a person pressing "Merge" would: a merge
// commit of its head into its base, made with the git CLI; an error if it
// is closed or conflicts.
func (s *Server) Merge(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.find(n)
	if p == nil || !p.Open {
		return fmt.Errorf("pull request #%d is not open", n)
	}
	return s.merge(p)
}

// Close closes pull request n without merging, as a person would.
func (s *Server) Close(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.find(n)
	if p == nil || !p.Open {
		return fmt.Errorf("pull request #%d is not open", n)
	}
	t := s.now().UTC()
	p.Open, p.ClosedAt, p.Updated = false, &t, t
	return nil
}

func (s *Server) find(n int) *pull {
	for _, p := range s.pulls {
		if p.Number == n {
			return p
		}
	}
	return nil
}

// merge makes the merge commit and moves the base branch (caller holds mu).
func (s *Server) merge(p *pull) error {
	base, err := s.git("rev-parse", "refs/heads/"+p.Base)
	if err != nil {
		return err
	}
	head, err := s.git("rev-parse", "refs/heads/"+p.Head)
	if err != nil {
		return err
	}
	tree, err := s.git("merge-tree", "--write-tree", base, head)
	if err != nil {
		return fmt.Errorf("%w: %v", errConflict, err)
	}
	msg := fmt.Sprintf("Merge pull request #%d from %s/%s\n\n%s", p.Number, s.Owner, p.Head, p.Title)
	commit, err := s.git("commit-tree", strings.SplitN(tree, "\n", 2)[0], "-p", base, "-p", head, "-m", msg)
	if err != nil {
		return err
	}
	if _, err := s.git("update-ref", "refs/heads/"+p.Base, commit, base); err != nil {
		return err
	}
	t := s.now().UTC()
	p.Open, p.MergedAt, p.ClosedAt, p.Updated, p.MergeCommit, p.HeadSHA = false, &t, &t, t, commit, head
	return nil
}

var errConflict = fmt.Errorf("merge conflict")

// git runs the git CLI on the bare repository as GitHub's merge bot.
func (s *Server) git(args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"--git-dir", s.bare}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=GitHub", "GIT_AUTHOR_EMAIL=noreply@github.com",
		"GIT_COMMITTER_NAME=GitHub", "GIT_COMMITTER_EMAIL=noreply@github.com")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("git %v: %w: %s%s", args, err, errb.String(), out.String())
	}
	return strings.TrimSpace(out.String()), nil
}

// writeJSON answers like GitHub: JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers GitHub's error shape.
func writeError(w http.ResponseWriter, status int, message string, errs ...map[string]any) {
	body := map[string]any{"message": message, "documentation_url": "https://docs.github.com/rest/pulls/pulls", "status": fmt.Sprint(status)}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	writeJSON(w, status, body)
}
