package webhook

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
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v84/github"
)

// fakeGitHub answers the REST endpoints birdwatch uses the way
// api.github.com does (paths, status codes and body shapes from the REST
// docs). Repository content, commits and pull request files come from a
// real bare Git repository through the git CLI. State lives in the value.
type fakeGitHub struct {
	t     testing.TB
	bare  string // the bare repository standing for acme/fleet
	token string
	srv   *httptest.Server

	mu       sync.Mutex
	nextID   int64
	comments map[int][]fakeComment // by pull request number
	statuses []fakeStatus
	checks   []map[string]any
	pulls    map[int]*fakePull
	teams    map[string]string    // login -> membership state in acme/sre
	perms    map[string][2]string // login -> permission, role_name
	calls    map[string]int       // "METHOD pattern" -> count
}

type fakeComment struct {
	ID   int64
	Body string
	User string
}

type fakeStatus struct {
	SHA         string `json:"-"`
	State       string `json:"state"`
	Context     string `json:"context"`
	Description string `json:"description"`
	TargetURL   string `json:"target_url"`
}

// fakePull is a pull request: head is a branch of the bare repository.
type fakePull struct {
	Number          int
	HeadRef         string
	BaseSHA, Merged string // Merged is the merge commit, "" while open
}

func newFakeGitHub(t testing.TB, bare, token string) *fakeGitHub {
	f := &fakeGitHub{t: t, bare: bare, token: token, nextID: 1000, comments: map[int][]fakeComment{},
		pulls: map[int]*fakePull{}, calls: map[string]int{},
		teams: map[string]string{"alice": "active", "dave": "active", "carol": "pending"},
		perms: map[string][2]string{"alice": {"write", "write"}, "dave": {"read", "read"}}}
	mux := http.NewServeMux()
	routes := map[string]http.HandlerFunc{
		"GET /user": func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprint(w, `{"login":"birdwatch-bot","id":90210,"type":"User","site_admin":false}`)
		},
		"GET /orgs/acme/teams/sre/memberships/{user}":           f.membership,
		"GET /repos/acme/fleet/collaborators/{user}/permission": f.permission,
		"GET /repos/acme/fleet/issues/{n}/comments":             f.listComments,
		"POST /repos/acme/fleet/issues/{n}/comments":            f.createComment,
		"PATCH /repos/acme/fleet/issues/comments/{id}":          f.editComment,
		"GET /repos/acme/fleet/pulls/{n}":                       f.getPull,
		"GET /repos/acme/fleet/pulls/{n}/files":                 f.pullFiles,
		"GET /repos/acme/fleet/contents/{path...}":              f.contents,
		"POST /repos/acme/fleet/statuses/{sha}":                 f.createStatus,
		"POST /repos/acme/fleet/check-runs":                     f.createCheckRun,
		"GET /repos/acme/fleet/commits":                         f.listCommits,
		"GET /repos/acme/fleet/commits/{sha}/pulls":             f.commitPulls,
	}
	for pattern, h := range routes {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			f.calls[pattern]++
			f.mu.Unlock()
			h(w, r)
		})
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// client is a go-github client for the fake.
func (f *fakeGitHub) client() *github.Client {
	c := github.NewClient(f.srv.Client()).WithAuthToken(f.token)
	c.BaseURL, _ = url.Parse(f.srv.URL + "/")
	return c
}

func (f *fakeGitHub) notFound(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}`)
}

func (f *fakeGitHub) reply(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func user(login string) map[string]any {
	return map[string]any{"login": login, "id": len(login) * 1000, "type": "User", "site_admin": false,
		"html_url": "https://github.com/" + login, "url": "https://api.github.com/users/" + login}
}

func (f *fakeGitHub) membership(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	state, ok := f.teams[r.PathValue("user")]
	f.mu.Unlock()
	if !ok {
		f.notFound(w)
		return
	}
	f.reply(w, 200, map[string]any{"url": "https://api.github.com/teams/1/memberships/" + r.PathValue("user"), "role": "member", "state": state})
}

func (f *fakeGitHub) permission(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	p, ok := f.perms[r.PathValue("user")]
	f.mu.Unlock()
	if !ok {
		f.notFound(w)
		return
	}
	f.reply(w, 200, map[string]any{"permission": p[0], "role_name": p[1], "user": user(r.PathValue("user"))})
}

func (f *fakeGitHub) commentJSON(n int, c fakeComment) map[string]any {
	return map[string]any{"id": c.ID, "node_id": "IC_" + strconv.FormatInt(c.ID, 10), "body": c.Body, "user": user(c.User),
		"url":       fmt.Sprintf("https://api.github.com/repos/acme/fleet/issues/comments/%d", c.ID),
		"html_url":  fmt.Sprintf("https://github.com/acme/fleet/pull/%d#issuecomment-%d", n, c.ID),
		"issue_url": fmt.Sprintf("https://api.github.com/repos/acme/fleet/issues/%d", n), "author_association": "NONE",
		"created_at": "2026-11-20T11:00:00Z", "updated_at": "2026-11-20T11:00:00Z"}
}

func (f *fakeGitHub) listComments(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("n"))
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []map[string]any{}
	for _, c := range f.comments[n] {
		out = append(out, f.commentJSON(n, c))
	}
	f.reply(w, 200, out)
}

func (f *fakeGitHub) createComment(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("n"))
	var in struct{ Body string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == "" {
		f.reply(w, 422, map[string]any{"message": "Validation Failed"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	c := fakeComment{ID: f.nextID, Body: in.Body, User: "birdwatch-bot"}
	f.comments[n] = append(f.comments[n], c)
	f.reply(w, 201, f.commentJSON(n, c))
}

func (f *fakeGitHub) editComment(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var in struct{ Body string }
	_ = json.NewDecoder(r.Body).Decode(&in)
	f.mu.Lock()
	defer f.mu.Unlock()
	for n, cs := range f.comments {
		for i := range cs {
			if cs[i].ID == id {
				cs[i].Body = in.Body
				f.reply(w, 200, f.commentJSON(n, cs[i]))
				return
			}
		}
	}
	f.notFound(w)
}

// addComment stores a comment made by a person, for tests.
func (f *fakeGitHub) addComment(n int, login, body string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.comments[n] = append(f.comments[n], fakeComment{ID: f.nextID, Body: body, User: login})
	return f.nextID
}

// botComments returns the comments birdwatch made on pull request n.
func (f *fakeGitHub) botComments(n int) []fakeComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeComment
	for _, c := range f.comments[n] {
		if c.User == "birdwatch-bot" {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeGitHub) pull(w http.ResponseWriter, r *http.Request) *fakePull {
	n, _ := strconv.Atoi(r.PathValue("n"))
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pulls[n]
	if !ok {
		f.notFound(w)
	}
	return p
}

func (f *fakeGitHub) pullJSON(p *fakePull) map[string]any {
	head := f.git("rev-parse", "refs/heads/"+p.HeadRef)
	out := map[string]any{"number": p.Number, "state": "open", "merged": p.Merged != "",
		"html_url": fmt.Sprintf("https://github.com/acme/fleet/pull/%d", p.Number),
		"head":     map[string]any{"ref": p.HeadRef, "sha": head, "repo": map[string]any{"full_name": "acme/fleet"}},
		"base":     map[string]any{"ref": "main", "sha": p.BaseSHA, "repo": map[string]any{"full_name": "acme/fleet"}}}
	if p.Merged != "" {
		out["state"], out["merged_at"], out["merge_commit_sha"] = "closed", "2026-11-20T11:00:00Z", p.Merged
	}
	return out
}

func (f *fakeGitHub) getPull(w http.ResponseWriter, r *http.Request) {
	if p := f.pull(w, r); p != nil {
		f.reply(w, 200, f.pullJSON(p))
	}
}

func (f *fakeGitHub) pullFiles(w http.ResponseWriter, r *http.Request) {
	p := f.pull(w, r)
	if p == nil {
		return
	}
	names := map[byte]string{'A': "added", 'M': "modified", 'D': "removed", 'R': "renamed"}
	out := []map[string]any{}
	for _, line := range strings.Split(f.git("diff", "--name-status", p.BaseSHA, "refs/heads/"+p.HeadRef), "\n") {
		status, file, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		out = append(out, map[string]any{"sha": "0000000000000000000000000000000000000000", "filename": file,
			"status": names[status[0]], "additions": 1, "deletions": 1, "changes": 2})
	}
	f.reply(w, 200, out)
}

func (f *fakeGitHub) contents(w http.ResponseWriter, r *http.Request) {
	path, ref := r.PathValue("path"), r.URL.Query().Get("ref")
	out, err := f.gitErr("show", ref+":"+path)
	if err != nil {
		f.notFound(w)
		return
	}
	enc := base64.StdEncoding.EncodeToString([]byte(out))
	var lines []string // the API wraps base64 at 60 characters
	for len(enc) > 60 {
		lines, enc = append(lines, enc[:60]), enc[60:]
	}
	lines = append(lines, enc)
	f.reply(w, 200, map[string]any{"type": "file", "encoding": "base64", "size": len(out), "name": path[strings.LastIndex(path, "/")+1:],
		"path": path, "content": strings.Join(lines, "\n") + "\n", "sha": f.git("rev-parse", ref+":"+path)})
}

func (f *fakeGitHub) createStatus(w http.ResponseWriter, r *http.Request) {
	var in fakeStatus
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.State == "" {
		f.reply(w, 422, map[string]any{"message": "Validation Failed"})
		return
	}
	in.SHA = r.PathValue("sha")
	f.mu.Lock()
	f.statuses = append(f.statuses, in)
	f.mu.Unlock()
	f.reply(w, 201, map[string]any{"id": 1, "state": in.State, "context": in.Context, "description": in.Description, "target_url": in.TargetURL})
}

func (f *fakeGitHub) createCheckRun(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in["name"] == nil || in["head_sha"] == nil {
		f.reply(w, 422, map[string]any{"message": "Validation Failed"})
		return
	}
	f.mu.Lock()
	f.checks = append(f.checks, in)
	f.mu.Unlock()
	in["id"] = 4
	f.reply(w, 201, in)
}

func (f *fakeGitHub) listCommits(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n := q.Get("per_page")
	if n == "" {
		n = "30"
	}
	out := []map[string]any{}
	log := f.git("log", "--format=%H%x1f%B%x1e", "-n", n, q.Get("sha"), "--", q.Get("path"))
	for _, rec := range strings.Split(log, "\x1e") {
		sha, msg, ok := strings.Cut(strings.TrimSpace(rec), "\x1f")
		if !ok {
			continue
		}
		out = append(out, map[string]any{"sha": sha, "commit": map[string]any{"message": strings.TrimSpace(msg),
			"author": map[string]any{"name": "developer", "email": "dev@example.com", "date": "2026-11-20T11:00:00Z"}}})
	}
	f.reply(w, 200, out)
}

func (f *fakeGitHub) commitPulls(w http.ResponseWriter, r *http.Request) {
	out := []map[string]any{}
	for _, p := range f.pullsWithCommit(r.PathValue("sha")) {
		out = append(out, f.pullJSON(p))
	}
	f.reply(w, 200, out)
}

// pullsWithCommit lists the pull requests that merged sha or hold it on
// their head branch (and not on their base).
func (f *fakeGitHub) pullsWithCommit(sha string) []*fakePull {
	f.mu.Lock()
	var pulls []*fakePull
	for _, p := range f.pulls {
		pulls = append(pulls, p)
	}
	f.mu.Unlock()
	var out []*fakePull
	for _, p := range pulls {
		_, inHead := f.gitErr("merge-base", "--is-ancestor", sha, "refs/heads/"+p.HeadRef)
		_, inBase := f.gitErr("merge-base", "--is-ancestor", sha, p.BaseSHA)
		if sha == p.Merged || (inHead == nil && inBase != nil) {
			out = append(out, p)
		}
	}
	return out
}

func (f *fakeGitHub) git(args ...string) string {
	out, err := f.gitErr(args...)
	if err != nil {
		f.t.Errorf("git %v: %v", args, err)
	}
	return strings.TrimSpace(out)
}

func (f *fakeGitHub) gitErr(args ...string) (string, error) {
	var out, errb bytes.Buffer
	cmd := exec.Command("git", append([]string{"--git-dir", f.bare}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s", err, errb.String())
	}
	return out.String(), nil
}

func (f *fakeGitHub) count(pattern string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[pattern]
}
