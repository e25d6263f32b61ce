// Package gitlabtest is an httptest GitLab in front of a real bare Git
// repository, for birdwatch's GitLab API mode: the REST endpoints and
// response shapes of GitLab's API v4 that gitops/repo calls (branches,
// commits, repository tree, raw blobs, file metadata, create commit with
// actions), the token checked on every call, and GitLab's refusals of a
// commit whose actions no longer fit the branch.
package gitlabtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is the fake GitLab. URL is the API root (…/api/v4), as
// gitlab.WithBaseURL takes it.
type Server struct {
	URL string
	// Project is the project's path ("group/name"); Token the one
	// accepted (PRIVATE-TOKEN header).
	Project, Token string
	// MaxPerPage caps per_page of the tree listing (GitLab: 100).
	MaxPerPage int
	// BeforeCommit, when set, runs when a create-commit call arrives,
	// before GitLab checks its actions: tests move the branch there.
	BeforeCommit func()

	bare  string
	mu    sync.Mutex
	calls []string
	cmu   sync.Mutex // one commit at a time, as GitLab's per-ref lock
}

// New serves the bare repository as project, accepting token.
func New(tb testing.TB, bare, project, token string) *Server {
	tb.Helper()
	s := &Server{Project: project, Token: token, MaxPerPage: 100, bare: bare}
	srv := httptest.NewServer(s)
	tb.Cleanup(srv.Close)
	s.URL = srv.URL + "/api/v4"
	return s
}

// Calls lists the calls served so far, "METHOD /path?query".
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// ServeHTTP routes /api/v4/projects/:id/repository/… by the escaped path
// (client-go escapes the project path, the branch and file paths).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls = append(s.calls, r.Method+" "+r.URL.RequestURI())
	s.mu.Unlock()
	if r.Header.Get("PRIVATE-TOKEN") != s.Token || s.Token == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401 Unauthorized"})
		return
	}
	raw := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/api/v4/projects/"), "/")
	parts := make([]string, len(raw))
	for i, p := range raw {
		var err error
		if parts[i], err = url.PathUnescape(p); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid path"})
			return
		}
	}
	if len(parts) < 3 || parts[1] != "repository" {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "404 Not Found"})
		return
	}
	if parts[0] != s.Project {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Project Not Found"})
		return
	}
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && parts[2] == "branches" && len(parts) == 4:
		s.branch(w, parts[3])
	case r.Method == http.MethodGet && parts[2] == "commits" && len(parts) == 4:
		c, err := s.commitJSON(parts[3])
		if err != nil {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Commit Not Found"})
			return
		}
		writeJSON(w, http.StatusOK, c)
	case r.Method == http.MethodGet && parts[2] == "tree" && len(parts) == 3:
		s.tree(w, q)
	case r.Method == http.MethodGet && parts[2] == "blobs" && len(parts) == 5 && parts[4] == "raw":
		s.blob(w, parts[3])
	case r.Method == http.MethodHead && parts[2] == "files" && len(parts) == 4:
		s.fileMeta(w, parts[3], q.Get("ref"))
	case r.Method == http.MethodPost && parts[2] == "commits" && len(parts) == 3:
		s.createCommit(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "404 Not Found"})
	}
}

func (s *Server) branch(w http.ResponseWriter, name string) {
	sha, err := s.git("rev-parse", "--verify", "-q", "refs/heads/"+name)
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Branch Not Found"})
		return
	}
	c, err := s.commitJSON(sha)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"message": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "commit": c, "merged": false, "protected": true,
		"default": true, "developers_can_push": false, "developers_can_merge": false, "can_push": true,
		"web_url": "https://gitlab.example.com/" + s.Project + "/-/tree/" + name})
}

// commitJSON is a commit as GitLab's commits and branches endpoints show it.
func (s *Server) commitJSON(rev string) (map[string]any, error) {
	out, err := s.git("show", "-s", "--format=%H%n%P%n%aI%n%cI%n%an%n%ae%n%cn%n%ce%n%B", rev+"^{commit}")
	if err != nil {
		return nil, err
	}
	f := strings.SplitN(out, "\n", 9)
	if len(f) < 8 {
		return nil, fmt.Errorf("commit %s: %q", rev, out)
	}
	msg := ""
	if len(f) == 9 {
		msg = f[8]
	}
	title, _, _ := strings.Cut(msg, "\n")
	return map[string]any{"id": f[0], "short_id": f[0][:8], "created_at": f[3], "parent_ids": strings.Fields(f[1]),
		"title": title, "message": msg, "author_name": f[4], "author_email": f[5], "authored_date": f[2],
		"committer_name": f[6], "committer_email": f[7], "committed_date": f[3], "trailers": map[string]any{},
		"extended_trailers": map[string]any{}, "web_url": "https://gitlab.example.com/" + s.Project + "/-/commit/" + f[0]}, nil
}

// tree answers repository/tree (not recursive) for ref and path as GitLab
// does: directories first, then files, then submodules, paginated with
// GitLab's headers.
func (s *Server) tree(w http.ResponseWriter, q url.Values) {
	ref, dir := q.Get("ref"), strings.Trim(q.Get("path"), "/")
	if ref == "" {
		ref = "HEAD"
	}
	spec := ref + "^{tree}"
	if dir != "" {
		spec = ref + ":" + dir
	}
	if t, err := s.git("cat-file", "-t", spec); err != nil || t != "tree" {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Tree Not Found"})
		return
	}
	out, err := s.git("ls-tree", spec)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"message": err.Error()})
		return
	}
	rank := map[string]int{"tree": 0, "blob": 1, "commit": 2}
	var nodes []map[string]any
	for _, line := range strings.Split(out, "\n") {
		meta, name, ok := strings.Cut(line, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 {
			continue
		}
		p := name
		if dir != "" {
			p = dir + "/" + name
		}
		nodes = append(nodes, map[string]any{"id": f[2], "name": name, "type": f[1], "path": p, "mode": f[0]})
	}
	sort.SliceStable(nodes, func(i, j int) bool {
		a, b := nodes[i], nodes[j]
		if rank[a["type"].(string)] != rank[b["type"].(string)] {
			return rank[a["type"].(string)] < rank[b["type"].(string)]
		}
		return a["name"].(string) < b["name"].(string)
	})
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 20
	}
	per = min(per, s.MaxPerPage)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	pages := max((len(nodes)+per-1)/per, 1)
	lo, hi := min((page-1)*per, len(nodes)), min(page*per, len(nodes))
	h := w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(per))
	h.Set("X-Total", strconv.Itoa(len(nodes)))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Prev-Page", "")
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
	}
	h.Set("X-Next-Page", "")
	if page < pages {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
	}
	writeJSON(w, http.StatusOK, append([]map[string]any{}, nodes[lo:hi]...))
}

func (s *Server) blob(w http.ResponseWriter, sha string) {
	if t, err := s.git("cat-file", "-t", sha); err != nil || t != "blob" {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Blob Not Found"})
		return
	}
	out, err := s.gitRaw(nil, nil, "cat-file", "blob", sha)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"message": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(out)
}

// fileMeta answers HEAD repository/files/:path with GitLab's X-Gitlab-*
// headers.
func (s *Server) fileMeta(w http.ResponseWriter, p, ref string) {
	commit, err := s.git("rev-parse", "--verify", "-q", ref+"^{commit}")
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	ls, err := s.git("ls-tree", "-l", commit, "--", p)
	f := strings.Fields(ls)
	if err != nil || len(f) < 4 || f[1] != "blob" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	last, err := s.git("log", "-1", "--format=%H", commit, "--", p)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("X-Gitlab-Blob-Id", f[2])
	h.Set("X-Gitlab-Commit-Id", commit)
	h.Set("X-Gitlab-Encoding", "base64")
	h.Set("X-Gitlab-Execute-Filemode", strconv.FormatBool(f[0] == "100755"))
	h.Set("X-Gitlab-File-Name", filepath.Base(p))
	h.Set("X-Gitlab-File-Path", p)
	h.Set("X-Gitlab-Last-Commit-Id", last)
	h.Set("X-Gitlab-Ref", ref)
	h.Set("X-Gitlab-Size", f[3])
	w.WriteHeader(http.StatusOK)
}

// action is one entry of a create-commit call's actions.
type action struct {
	Action       string `json:"action"`
	FilePath     string `json:"file_path"`
	Content      string `json:"content"`
	Encoding     string `json:"encoding"`
	LastCommitID string `json:"last_commit_id"`
}

// createCommit applies POST repository/commits like GitLab's
// Files::MultiService: every action is checked against the branch head
// (create: the file must not exist; update: it must, and last_commit_id,
// when given, must be the last commit that changed it), then the commit is
// written on the head and the branch moved only if it is still there.
func (s *Server) createCommit(w http.ResponseWriter, r *http.Request) {
	var in struct {
		B       string   `json:"branch"`
		M       string   `json:"commit_message"`
		Actions []action `json:"actions"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.B == "" || in.M == "" || len(in.Actions) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "branch, commit_message, actions are missing"})
		return
	}
	if s.BeforeCommit != nil {
		s.BeforeCommit()
	}
	s.cmu.Lock()
	defer s.cmu.Unlock()
	ref := "refs/heads/" + in.B
	head, err := s.git("rev-parse", "--verify", "-q", ref)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "You can only create or edit files when you are on a branch"})
		return
	}
	for _, a := range in.Actions {
		exists := false
		if out, err := s.git("ls-tree", head, "--", a.FilePath); err == nil && out != "" {
			exists = true
		}
		switch a.Action {
		case "create":
			if exists {
				writeJSON(w, http.StatusBadRequest, map[string]any{"message": "A file with this name already exists"})
				return
			}
		case "update":
			if !exists {
				writeJSON(w, http.StatusBadRequest, map[string]any{"message": "A file with this name doesn't exist"})
				return
			}
			if a.LastCommitID != "" {
				if last, _ := s.git("log", "-1", "--format=%H", head, "--", a.FilePath); last != a.LastCommitID {
					writeJSON(w, http.StatusBadRequest, map[string]any{"message": "You are attempting to update a file that has changed since you started editing it."})
					return
				}
			}
		default:
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "actions[0][action] does not have a valid value"})
			return
		}
	}
	commit, err := s.commitActions(head, in.M, in.Actions)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error()})
		return
	}
	if _, err := s.git("update-ref", ref, commit, head); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Could not update " + ref + ". Please refresh and try again."})
		return
	}
	c, err := s.commitJSON(commit)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"message": err.Error()})
		return
	}
	c["stats"] = map[string]int{"additions": len(in.Actions), "deletions": 0, "total": len(in.Actions)}
	c["status"], c["last_pipeline"], c["project_id"] = nil, nil, 1
	writeJSON(w, http.StatusCreated, c)
}

// commitActions writes the commit of the actions on head with a temporary
// index, as the token's user; existing files keep their modes.
func (s *Server) commitActions(head, msg string, actions []action) (string, error) {
	dir, err := os.MkdirTemp("", "gitlabtest-index-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(dir, "index")}
	if _, err := s.gitRaw(env, nil, "read-tree", head); err != nil {
		return "", err
	}
	for _, a := range actions {
		data := []byte(a.Content)
		if a.Encoding == "base64" {
			if data, err = base64.StdEncoding.DecodeString(a.Content); err != nil {
				return "", fmt.Errorf("content of %s: not base64", a.FilePath)
			}
		}
		blob, err := s.gitRaw(env, data, "hash-object", "-w", "--stdin")
		if err != nil {
			return "", err
		}
		mode := "100644"
		if out, err := s.gitRaw(env, nil, "ls-files", "-s", "--", a.FilePath); err == nil && len(out) > 6 {
			mode = string(out[:6])
		}
		if _, err := s.gitRaw(env, nil, "update-index", "--add", "--cacheinfo", mode+","+strings.TrimSpace(string(blob))+","+a.FilePath); err != nil {
			return "", err
		}
	}
	tree, err := s.gitRaw(env, nil, "write-tree")
	if err != nil {
		return "", err
	}
	now := time.Now().UTC().Format(time.RFC3339)
	commit, err := s.gitRaw(append(env, "GIT_AUTHOR_DATE="+now, "GIT_COMMITTER_DATE="+now), []byte(msg),
		"commit-tree", strings.TrimSpace(string(tree)), "-p", head)
	return strings.TrimSpace(string(commit)), err
}

func (s *Server) git(args ...string) (string, error) {
	out, err := s.gitRaw(nil, nil, args...)
	return strings.TrimRight(string(out), "\n"), err
}

// gitRaw runs git on the bare repository as the token's user.
func (s *Server) gitRaw(env []string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"--git-dir", s.bare}, args...)...)
	cmd.Env = append(append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=birdwatch bot", "GIT_AUTHOR_EMAIL=birdwatch-bot@noreply.gitlab.example.com",
		"GIT_COMMITTER_NAME=birdwatch bot", "GIT_COMMITTER_EMAIL=birdwatch-bot@noreply.gitlab.example.com"), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %v: %w: %s", args, err, errb.String())
	}
	return out, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
