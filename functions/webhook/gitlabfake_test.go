package webhook

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// fakeGitLab answers the REST v4 endpoints birdwatch uses the way
// gitlab.com does (paths, PRIVATE-TOKEN, status codes and body shapes from
// GitLab's REST API docs). Merge requests are fakeGitHub's pulls (the same
// bare repository), so commits and diffs come from real Git.
type fakeGitLab struct {
	gh    *fakeGitHub
	token string
	srv   *httptest.Server

	mu       sync.Mutex
	nextID   int64
	notes    map[int][]fakeComment // by merge request IID
	statuses []fakeStatus
	groups   map[string]map[int64]int // group path -> user ID -> access level
	project  map[int64]int            // user ID -> access level in acme/fleet
	calls    map[string]int
}

// GitLab users of the tests, by ID.
const (
	glAlice = 42 // Developer in platform/sre and the project
	glBob   = 43 // Reporter in platform/sre
	glCarol = 44 // named directly, no project access
	glBot   = 90210
)

func newFakeGitLab(t testing.TB, gh *fakeGitHub, token string) *fakeGitLab {
	f := &fakeGitLab{gh: gh, token: token, nextID: 7000, notes: map[int][]fakeComment{}, calls: map[string]int{},
		groups:  map[string]map[int64]int{"platform/sre": {glAlice: 30, glBob: 20}},
		project: map[int64]int{glAlice: 30, glBob: 20}}
	mux := http.NewServeMux()
	routes := map[string]http.HandlerFunc{
		"GET /api/v4/user": func(w http.ResponseWriter, _ *http.Request) {
			f.reply(w, 200, map[string]any{"id": glBot, "username": "birdwatch-bot", "name": "birdwatch", "state": "active", "bot": true})
		},
		"GET /api/v4/groups/{group}/members/all/{user}":                          f.groupMember,
		"GET /api/v4/projects/{project}/members/all/{user}":                      f.projectMember,
		"GET /api/v4/projects/{project}/merge_requests/{iid}/notes":              f.listNotes,
		"POST /api/v4/projects/{project}/merge_requests/{iid}/notes":             f.createNote,
		"PUT /api/v4/projects/{project}/merge_requests/{iid}/notes/{id}":         f.editNote,
		"GET /api/v4/projects/{project}/merge_requests/{iid}":                    f.getMR,
		"GET /api/v4/projects/{project}/merge_requests/{iid}/diffs":              f.diffs,
		"POST /api/v4/projects/{project}/statuses/{sha}":                         f.setStatus,
		"GET /api/v4/projects/{project}/repository/commits":                      f.listCommits,
		"GET /api/v4/projects/{project}/repository/commits/{sha}/merge_requests": f.commitMRs,
	}
	for pattern, h := range routes {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			f.calls[pattern]++
			f.mu.Unlock()
			if p := r.PathValue("project"); p != "" && p != "acme/fleet" {
				f.notFound(w, "Project")
				return
			}
			h(w, r)
		})
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("PRIVATE-TOKEN") != f.token {
			f.reply(w, http.StatusUnauthorized, map[string]any{"message": "401 Unauthorized"})
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// client is an official GitLab client for the fake.
func (f *fakeGitLab) client() *gitlab.Client {
	c, err := gitlab.NewClient(f.token, gitlab.WithBaseURL(f.srv.URL+"/api/v4"), gitlab.WithHTTPClient(f.srv.Client()))
	if err != nil {
		f.gh.t.Fatal(err)
	}
	return c
}

func (f *fakeGitLab) reply(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitLab) notFound(w http.ResponseWriter, what string) {
	f.reply(w, http.StatusNotFound, map[string]any{"message": "404 " + what + " Not Found"})
}

func memberJSON(id int64, level int) map[string]any {
	names := map[int64]string{glAlice: "alice", glBob: "bob", glCarol: "carol"}
	return map[string]any{"id": id, "username": names[id], "name": names[id], "state": "active", "access_level": level,
		"created_at": "2026-01-05T09:00:00.000Z", "expires_at": nil, "web_url": "https://gitlab.example.com/" + names[id]}
}

func (f *fakeGitLab) groupMember(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("user"), 10, 64)
	f.mu.Lock()
	members, ok := f.groups[r.PathValue("group")]
	level, member := members[id]
	f.mu.Unlock()
	if !ok {
		f.notFound(w, "Group")
		return
	}
	if !member {
		f.notFound(w, "Member")
		return
	}
	f.reply(w, 200, memberJSON(id, level))
}

func (f *fakeGitLab) projectMember(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("user"), 10, 64)
	f.mu.Lock()
	level, member := f.project[id]
	f.mu.Unlock()
	if !member {
		f.notFound(w, "Member")
		return
	}
	f.reply(w, 200, memberJSON(id, level))
}

func (f *fakeGitLab) noteJSON(iid int, c fakeComment) map[string]any {
	return map[string]any{"id": c.ID, "type": nil, "body": c.Body, "attachment": nil,
		"author":     map[string]any{"id": len(c.User), "username": c.User, "name": c.User, "state": "active"},
		"created_at": "2026-11-20T11:00:00.000Z", "updated_at": "2026-11-20T11:00:00.000Z", "system": strings.HasPrefix(c.Body, "added "),
		"noteable_id": 99001, "noteable_type": "MergeRequest", "noteable_iid": iid, "resolvable": false, "confidential": false, "internal": false}
}

func (f *fakeGitLab) iid(r *http.Request) int {
	n, _ := strconv.Atoi(r.PathValue("iid"))
	return n
}

func (f *fakeGitLab) listNotes(w http.ResponseWriter, r *http.Request) {
	iid := f.iid(r)
	f.mu.Lock()
	out := []map[string]any{}
	for _, c := range f.notes[iid] {
		out = append(out, f.noteJSON(iid, c))
	}
	f.mu.Unlock()
	f.reply(w, 200, out)
}

// addNote records a note by username, as the note event's author wrote it.
func (f *fakeGitLab) addNote(iid int, username, body string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.notes[iid] = append(f.notes[iid], fakeComment{ID: f.nextID, Body: body, User: username})
	return f.nextID
}

func (f *fakeGitLab) createNote(w http.ResponseWriter, r *http.Request) {
	var in struct{ Body string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == "" {
		f.reply(w, 400, map[string]any{"message": map[string]any{"note": []string{"can't be blank"}}})
		return
	}
	iid := f.iid(r)
	id := f.addNote(iid, "birdwatch-bot", in.Body)
	f.reply(w, 201, f.noteJSON(iid, fakeComment{ID: id, Body: in.Body, User: "birdwatch-bot"}))
}

func (f *fakeGitLab) editNote(w http.ResponseWriter, r *http.Request) {
	var in struct{ Body string }
	_ = json.NewDecoder(r.Body).Decode(&in)
	iid := f.iid(r)
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.notes[iid] {
		if c.ID == id {
			if c.User != "birdwatch-bot" {
				f.reply(w, 403, map[string]any{"message": "403 Forbidden"})
				return
			}
			f.notes[iid][i].Body = in.Body
			f.reply(w, 200, f.noteJSON(iid, f.notes[iid][i]))
			return
		}
	}
	f.notFound(w, "Note")
}

// botNotes returns birdwatch's notes on merge request iid.
func (f *fakeGitLab) botNotes(iid int) []fakeComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeComment
	for _, c := range f.notes[iid] {
		if c.User == "birdwatch-bot" {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeGitLab) mrJSON(p *fakePull) map[string]any {
	head := f.gh.git("rev-parse", "refs/heads/"+p.HeadRef)
	out := map[string]any{"id": 99000 + p.Number, "iid": p.Number, "project_id": 4711, "title": "aleph: ship the next version",
		"state": "opened", "target_branch": "main", "source_branch": p.HeadRef, "sha": head, "merge_commit_sha": nil,
		"web_url":   fmt.Sprintf("https://gitlab.example.com/acme/fleet/-/merge_requests/%d", p.Number),
		"diff_refs": map[string]any{"base_sha": p.BaseSHA, "head_sha": head, "start_sha": p.BaseSHA}}
	if p.Merged != "" {
		out["state"], out["merge_commit_sha"], out["merged_at"] = "merged", p.Merged, "2026-11-20T11:00:00.000Z"
	}
	return out
}

func (f *fakeGitLab) pull(w http.ResponseWriter, r *http.Request) *fakePull {
	f.gh.mu.Lock()
	defer f.gh.mu.Unlock()
	p, ok := f.gh.pulls[f.iid(r)]
	if !ok {
		f.notFound(w, "Merge Request")
	}
	return p
}

func (f *fakeGitLab) getMR(w http.ResponseWriter, r *http.Request) {
	if p := f.pull(w, r); p != nil {
		f.reply(w, 200, f.mrJSON(p))
	}
}

func (f *fakeGitLab) diffs(w http.ResponseWriter, r *http.Request) {
	p := f.pull(w, r)
	if p == nil {
		return
	}
	out := []map[string]any{}
	for _, line := range strings.Split(f.gh.git("diff", "--name-status", p.BaseSHA, "refs/heads/"+p.HeadRef), "\n") {
		status, file, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		out = append(out, map[string]any{"old_path": file, "new_path": file, "a_mode": "100644", "b_mode": "100644",
			"diff": "@@ -1 +1 @@\n", "new_file": status == "A", "renamed_file": false, "deleted_file": status == "D", "generated_file": false})
	}
	f.reply(w, 200, out)
}

func (f *fakeGitLab) setStatus(w http.ResponseWriter, r *http.Request) {
	var in struct {
		State, Name, Description string
		TargetURL                string `json:"target_url"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || !strings.Contains("pending running success failed canceled skipped", in.State) || in.State == "" {
		f.reply(w, 400, map[string]any{"message": "state is invalid"})
		return
	}
	sha := r.PathValue("sha")
	f.mu.Lock()
	f.statuses = append(f.statuses, fakeStatus{SHA: sha, State: in.State, Context: in.Name, Description: in.Description, TargetURL: in.TargetURL})
	f.mu.Unlock()
	f.reply(w, 201, map[string]any{"id": 93, "sha": sha, "ref": nil, "status": in.State, "name": in.Name, "target_url": in.TargetURL,
		"description": in.Description, "created_at": "2026-11-20T12:00:00.000Z", "allow_failure": false,
		"author": map[string]any{"id": glBot, "username": "birdwatch-bot"}})
}

func (f *fakeGitLab) listCommits(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n := q.Get("per_page")
	if n == "" {
		n = "20"
	}
	out := []map[string]any{}
	log := f.gh.git("log", "--format=%H%x1f%B%x1e", "-n", n, q.Get("ref_name"), "--", q.Get("path"))
	for _, rec := range strings.Split(log, "\x1e") {
		sha, msg, ok := strings.Cut(strings.TrimSpace(rec), "\x1f")
		if !ok {
			continue
		}
		title, _, _ := strings.Cut(msg, "\n")
		out = append(out, map[string]any{"id": sha, "short_id": sha[:8], "title": title, "message": strings.TrimSpace(msg),
			"author_name": "developer", "author_email": "dev@example.com", "created_at": "2026-11-20T11:00:00.000Z"})
	}
	f.reply(w, 200, out)
}

func (f *fakeGitLab) commitMRs(w http.ResponseWriter, r *http.Request) {
	out := []map[string]any{}
	for _, p := range f.gh.pullsWithCommit(r.PathValue("sha")) {
		out = append(out, f.mrJSON(p))
	}
	f.reply(w, 200, out)
}

func (f *fakeGitLab) count(pattern string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[pattern]
}
