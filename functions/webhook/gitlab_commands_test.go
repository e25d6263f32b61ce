package webhook

import (
	"net/http"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/functions/auth"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
)

// newGitLabEnv is newEnv with the GitLab side wired to a fake GitLab API
// on the same fleet: notes are commands, answered on the merge request.
func newGitLabEnv(t *testing.T) (*env, *fakeGitLab) {
	t.Helper()
	e := newEnv(t)
	gl := newFakeGitLab(t, e.gh, "glpat-test-token-3f9a")
	cfg := e.h.cfg
	api := NewGitLabAPI(gl.client())
	cfg.GitLab.API, cfg.GitLab.WebURL = api, "https://gitlab.example.com"
	cfg.Authorizer = &auth.Authorizer{GitLab: auth.NewGitLab(gl.client()), GitLabProject: "acme/fleet"}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	return e, gl
}

// note delivers a new merge request note by username (user ID id) and returns the response.
func (e *env) note(gl *fakeGitLab, username string, userID int64, body string) (Response, int64) {
	e.t.Helper()
	noteID := gl.addNote(7, username, body)
	p := defaults()
	p.Login, p.UserID, p.Body, p.CommentID, p.HeadSHA = username, userID, body, noteID, "1d5ab7a0f6c3e9b2a8d4c6e0f1a3b5c7d9e1f3a5"
	rec := e.gitlab("Note Hook", render(e.t, "gitlab/note", p))
	if rec.Code != 200 {
		e.t.Fatalf("%s: %d %s", body, rec.Code, rec.Body)
	}
	return decode(e.t, rec), noteID
}

// TestGitLabMergeRequestCommands steers a rollout from merge request notes
// against a real fleet repository, the real engine and a fake GitLab API:
// authorization by gitlab:GROUP (Developer or more) and gitlab:USER, each
// command answered on the merge request, the rollout's report one note
// edited in place with a commit status per decision, a redelivered note
// acting once.
func TestGitLabMergeRequestCommands(t *testing.T) {
	e, gl := newGitLabEnv(t)
	spec := strings.Replace(testSpec, `access: {operators: ["github:acme/sre"]}`, `access: {operators: ["gitlab:platform/sre", "gitlab:carol"]}`, 1)
	head, _ := e.openPull(7, "aleph-gitlab-access", specPath, spec)
	merged := e.mergePull(7)
	p := defaults()
	p.Action, p.HeadSHA, p.MergeSHA = "merge", head, merged
	if rec := e.gitlab("Merge Request Hook", render(t, "gitlab/merge_request", p)); rec.Code != 200 {
		t.Fatalf("merge: %d %s", rec.Code, rec.Body)
	}
	reports := gl.botNotes(7)
	if len(reports) != 1 || !strings.HasPrefix(reports[0].Body, reportMarker("games/aleph")) || !strings.Contains(reports[0].Body, "start") {
		t.Fatalf("report notes after the merge: %+v", reports)
	}
	if _, err := e.engine.Run(t.Context(), core.Request{Trigger: "test"}); err != nil {
		t.Fatal(err) // synced, then paused at step 2
	}
	commits := len(e.subjects())

	tests := []struct {
		name, user string
		id         int64
		body       string
		result     string
		reply      []string
		commit     bool
	}{
		{name: "Reporter in the group", user: "bob", id: glBob, body: "/birdwatch promote", result: "refused",
			reply: []string{"⛔ `promote` by @bob on games/aleph refused", "gitlab:bob is in group platform/sre with less than Developer access"}},
		{name: "named user without project access", user: "carol", id: glCarol, body: "/birdwatch promote games/aleph", result: "refused",
			reply: []string{"gitlab:carol matches gitlab:carol but has less than Developer access to acme/fleet"}},
		{name: "not an operator", user: "mallory", id: 66, body: "/birdwatch abort", result: "refused",
			reply: []string{"gitlab:mallory is not among the operators of games/aleph"}},
		{name: "a command in a code block is no command", user: "alice", id: glAlice, body: "Try:\n\n```\n/birdwatch abort\n```", result: "ignored"},
		{name: "Developer in the group promotes", user: "alice", id: glAlice, body: "Ship it.\n/birdwatch promote", result: "done", commit: true,
			reply: []string{"✅ `promote` by @alice on games/aleph: done.", "weight **10% → 50%**", "https://gitlab.example.com/acme/fleet/-/commit/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(gl.botNotes(7))
			resp, noteID := e.note(gl, tt.user, tt.id, tt.body)
			if resp.Result != tt.result {
				t.Fatalf("result %q (%s), want %q", resp.Result, resp.Detail, tt.result)
			}
			if got := len(e.subjects()); (got > commits) != tt.commit {
				t.Errorf("%d commits, had %d", got, commits)
			}
			commits = len(e.subjects())
			if tt.reply == nil {
				if n := len(gl.botNotes(7)); n != before {
					t.Errorf("%d new notes for an ignored note", n-before)
				}
				return
			}
			var reply string
			for _, c := range gl.botNotes(7) {
				if strings.HasPrefix(c.Body, replyMarker(noteID)) {
					reply = c.Body
				}
			}
			for _, want := range tt.reply {
				if !strings.Contains(reply, want) {
					t.Errorf("reply to note %d lacks %q:\n%s", noteID, want, reply)
				}
			}
		})
	}

	// The report stays one note, edited in place, and each decision set a commit status.
	var report []fakeComment
	for _, c := range gl.botNotes(7) {
		if strings.HasPrefix(c.Body, reportMarker("games/aleph")) {
			report = append(report, c)
		}
	}
	if len(report) != 1 || !strings.Contains(report[0].Body, "weight **10% → 50%**") || gl.count("PUT /api/v4/projects/{project}/merge_requests/{iid}/notes/{id}") == 0 {
		t.Errorf("report notes %+v", report)
	}
	gl.mu.Lock()
	statuses := append([]fakeStatus(nil), gl.statuses...)
	gl.mu.Unlock()
	if len(statuses) < 2 || statuses[0].Context != "birdwatch/games/aleph" || statuses[0].SHA != head || statuses[0].State != "pending" ||
		!strings.HasPrefix(statuses[0].TargetURL, "https://gitlab.example.com/acme/fleet/-/merge_requests/7#note_") ||
		!strings.Contains(statuses[len(statuses)-1].Description, "weight 50%") {
		t.Errorf("commit statuses %+v", statuses)
	}

	// A redelivered note (GitLab retries with a new event UUID) acts once.
	t.Run("redelivery", func(t *testing.T) {
		notes, subjects := len(gl.botNotes(7)), len(e.subjects())
		gl.mu.Lock()
		last := gl.notes[7][len(gl.notes[7])-1]
		for _, c := range gl.notes[7] {
			if c.User == "alice" {
				last = c
			}
		}
		gl.mu.Unlock()
		q := defaults()
		q.Login, q.UserID, q.Body, q.CommentID = "alice", glAlice, last.Body, last.ID
		rec := e.gitlab("Note Hook", render(t, "gitlab/note", q))
		if r := decode(t, rec); r.Result != "ignored" || !strings.Contains(r.Detail, "already answered") {
			t.Errorf("redelivery: %+v", r)
		}
		if len(gl.botNotes(7)) != notes || len(e.subjects()) != subjects {
			t.Errorf("a redelivered note acted again")
		}
	})
}

// TestGitLabForgedNote: a note delivered with a wrong token is refused
// with 401 before anything is read, asked or committed.
func TestGitLabForgedNote(t *testing.T) {
	e, gl := newGitLabEnv(t)
	p := defaults()
	p.Login, p.UserID, p.Body = "alice", glAlice, "/birdwatch abort games/aleph"
	subjects := len(e.subjects())
	for _, token := range []string{"", "glwt-forged", gitlabToken + " "} {
		rec := e.gitlab("Note Hook", render(t, "gitlab/note", p), func(r *http.Request) { r.Header.Set("X-Gitlab-Token", token) })
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("token %q: %d %s", token, rec.Code, rec.Body)
		}
	}
	gl.mu.Lock()
	calls := len(gl.calls)
	gl.mu.Unlock()
	if calls != 0 || len(e.subjects()) != subjects {
		t.Errorf("a forged note reached GitLab's API (%d routes) or committed", calls)
	}
}
