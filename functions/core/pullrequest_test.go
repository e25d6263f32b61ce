package core

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/pullrequest"
	"github.com/birdwatch-gitops/birdwatch/gitops/pullrequest/githubtest"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/sync"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// weightsOnly is testSpec with two setWeight steps and no analysis, so the
// rollout walks on sync alone (no Prometheus needed), in pull-request mode.
func weightsOnly(extra string) string {
	s := strings.Replace(testSpec, "    - setWeight: 10\n    - analyze: 3m\n    - setWeight: 50\n    - analyze: 3m\n",
		"    - setWeight: 10\n    - setWeight: 50\n", 1)
	return s + extra
}

const prMode = "  git: {mode: pullRequest}\n"

func testJudges() map[string]judge.Judge {
	return map[string]judge.Judge{"threshold": judge.Threshold{}}
}

// prEngine wires an engine in pull-request mode against a fake GitHub in
// front of the fleet's bare repository, both on the test clock.
func prEngine(t *testing.T, f *fleet.Repo, c *clock) (*Engine, *githubtest.Server) {
	t.Helper()
	srv := githubtest.New(t, f.Bare, "acme", "fleet", c.Now)
	gh, err := pullrequest.NewGitHub(pullrequest.GitHubConfig{Owner: "acme", Repo: "fleet", Token: "t", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{Repo: openRepo(t, f.URL()), Judges: testJudges(), Sync: sync.Engines{"none": sync.None{}}, PullRequests: gh, Now: c.Now}
	return e, srv
}

// prRun runs the loop once and returns the one outcome.
func prRun(t *testing.T, e *Engine, cmd *rollout.Command) Outcome {
	t.Helper()
	req := Request{Trigger: "test", Command: cmd}
	if cmd != nil {
		req.Canary = "games/aleph"
	}
	out, err := e.Run(context.Background(), req)
	if err != nil || len(out) != 1 {
		t.Fatalf("Run = %v, %v", out, err)
	}
	if out[0].Err != nil {
		t.Fatalf("outcome: %v", out[0].Err)
	}
	return out[0]
}

func mainHead(t *testing.T, f *fleet.Repo) string {
	t.Helper()
	out, err := f.Subjects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

// TestPullRequestWalk follows a rollout through three merged pull requests.
// The applier (engine none, applyDelay 30s) counts from the merge, not from
// when birdwatch proposed: a merge an hour later neither syncs at once nor
// trips the 10-minute sync timeout.
func TestPullRequestWalk(t *testing.T) {
	f := newFleet(t, weightsOnly(prMode+"  sync: {engine: none, applyDelay: 30s}\n"))
	c := newClock(dataEnd.Add(-time.Hour))
	e, srv := prEngine(t, f, c)

	o := prRun(t, e, nil)
	if o.PullRequest == nil || o.PullRequest.Number != 1 || o.Commit == "" || o.Decision.Action != rollout.ActionAdvance {
		t.Fatalf("first run: %+v, PR %+v", o.Decision, o.PullRequest)
	}
	if got := weightsAt(t, f, "main"); got != "100/0" {
		t.Errorf("main changed before the merge: %s", got)
	}
	if got := weightsAt(t, f, "birdwatch/games-aleph/1"); got != "90/10" {
		t.Errorf("branch weights %s, want 90/10", got)
	}
	if o := prRun(t, e, nil); o.Decision.Action != rollout.ActionWait || !strings.Contains(o.Decision.Reason, "waiting for pull request #1") || o.Commit != "" {
		t.Errorf("second run while open: %s %q commit %q", o.Decision.Action, o.Decision.Reason, o.Commit)
	}
	c.advance(time.Hour) // a human reviews for an hour
	if err := srv.Merge(1); err != nil {
		t.Fatal(err)
	}
	merged := c.now
	c.advance(10 * time.Second)
	if o := prRun(t, e, nil); o.Decision.Action != rollout.ActionWait || srv.Count() != 1 {
		t.Errorf("10s after the merge: %s %q (want wait for the 30s applyDelay)", o.Decision.Action, o.Decision.Reason)
	}
	c.advance(30 * time.Second)
	o = prRun(t, e, nil)
	if o.Decision.Action != rollout.ActionAdvance || o.PullRequest.Number != 2 {
		t.Fatalf("after the delay: %s %q PR %+v", o.Decision.Action, o.Decision.Reason, o.PullRequest)
	}
	if err := srv.Merge(2); err != nil {
		t.Fatal(err)
	}
	st := statusAt(t, f, "main")
	synced := st.History[len(st.History)-2]
	if want := merged.Add(30 * time.Second).Format(time.RFC3339); st.Weight != 50 || synced.Decision != "synced" || !strings.Contains(synced.Reason, want) {
		t.Errorf("status on main: weight %d, %s %q; want 50, weight 10 synced at merge+30s %s", st.Weight, synced.Decision, synced.Reason, want)
	}
	c.advance(time.Minute)
	o = prRun(t, e, nil)
	if o.Decision.Action != rollout.ActionPromote || o.PullRequest.Number != 3 {
		t.Fatalf("promotion: %s %q", o.Decision.Action, o.Decision.Reason)
	}
	if err := srv.Merge(3); err != nil {
		t.Fatal(err)
	}
	if st := statusAt(t, f, "main"); st.Phase != spec.PhaseSucceeded {
		t.Errorf("phase on main %s", st.Phase)
	}
	before := srv.Count()
	c.advance(time.Minute)
	if o := prRun(t, e, nil); o.Commit != "" || srv.Count() != before {
		t.Errorf("a succeeded rollout proposed again: %+v", o.Decision)
	}
}

// TestPullRequestClosedUnmerged: a declined decision is not proposed again,
// the note is written once, main is untouched; a command proposes afresh.
func TestPullRequestClosedUnmerged(t *testing.T) {
	f := newFleet(t, weightsOnly(prMode))
	c := newClock(dataEnd.Add(-time.Hour))
	e, srv := prEngine(t, f, c)
	prRun(t, e, nil)
	if err := srv.Close(1); err != nil {
		t.Fatal(err)
	}
	head := mainHead(t, f)
	for i := range 3 {
		c.advance(time.Minute)
		o := prRun(t, e, nil)
		if o.Decision.Action != rollout.ActionWait || o.Commit != "" || !strings.Contains(o.Decision.Reason, "closed without merging") {
			t.Fatalf("run %d after the close: %s %q commit %q", i, o.Decision.Action, o.Decision.Reason, o.Commit)
		}
	}
	if srv.Count() != 1 || len(srv.Comments(1)) != 1 || mainHead(t, f) != head {
		t.Errorf("%d pull requests, comments %q, main %q -> %q", srv.Count(), srv.Comments(1), head, mainHead(t, f))
	}
	if labels := srv.Pull(1)["labels"].([]map[string]any); len(labels) != 2 || labels[1]["name"] != declinedLabel {
		t.Errorf("labels %v", labels)
	}
	o := prRun(t, e, &rollout.Command{Kind: rollout.CmdResume, Actor: "alice", ID: "c1"})
	if o.PullRequest == nil || o.PullRequest.Number != 2 || o.Commit == "" {
		t.Errorf("resume did not propose again: %+v %+v", o.Decision, o.PullRequest)
	}
}

// TestPullRequestConflict: a human changes the weight line on main while
// the pull request is open, so it no longer merges. The next run decides
// again on the new main and updates the same pull request, which then
// merges; the human's commit stays in the history.
func TestPullRequestConflict(t *testing.T) {
	f := newFleet(t, weightsOnly(prMode))
	c := newClock(dataEnd.Add(-time.Hour))
	e, srv := prEngine(t, f, c)
	first := prRun(t, e, nil)
	err := f.Commit(t.Context(), "human: 5% by hand", map[string]fleet.Edit{vsPath: func(b []byte) ([]byte, error) {
		s := strings.Replace(string(b), "weight: 100", "weight: 95", 1)
		return []byte(strings.Replace(s, "weight: 0 # set by birdwatch", "weight: 5 # by hand", 1)), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Merge(1); err == nil {
		t.Fatal("the stale pull request merged over the human's weight line")
	}
	c.advance(time.Minute)
	o := prRun(t, e, nil)
	if o.PullRequest == nil || o.PullRequest.Number != 1 || o.Commit == "" || o.Commit == first.Commit {
		t.Fatalf("not updated in place: %+v commit %s", o.PullRequest, o.Commit)
	}
	if o.Decision.From != 5 {
		t.Errorf("decided from weight %d, want the human's 5", o.Decision.From)
	}
	if err := srv.Merge(1); err != nil {
		t.Fatalf("updated pull request does not merge: %v", err)
	}
	if got := weightsAt(t, f, "main"); got != "90/10" {
		t.Errorf("main weights %s", got)
	}
	if subj := subjects(t, f); !strings.Contains(strings.Join(subj, "\n"), "human: 5% by hand") {
		t.Errorf("human commit lost: %q", subj)
	}
}

// TestPullRequestCommandReplacesOpen: an abort while an advance is open
// replaces it. The abort is decided on main (weight 10, step 1), so the
// rollback goes to that step's branch: the open pull request for step 2 is
// closed as superseded and the rollback proposed in a new one.
func TestPullRequestCommandReplacesOpen(t *testing.T) {
	f := newFleet(t, weightsOnly(prMode))
	c := newClock(dataEnd.Add(-time.Hour))
	e, srv := prEngine(t, f, c)
	prRun(t, e, nil)
	if err := srv.Merge(1); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Minute)
	if o := prRun(t, e, nil); o.PullRequest.Number != 2 || o.Decision.Action != rollout.ActionAdvance {
		t.Fatalf("after the merge: %s %+v", o.Decision.Action, o.PullRequest)
	}
	o := prRun(t, e, &rollout.Command{Kind: rollout.CmdAbort, Actor: "alice", ID: "c9"})
	if o.Decision.Action != rollout.ActionRollback || o.PullRequest == nil || o.PullRequest.Number != 3 {
		t.Fatalf("abort: %s %+v", o.Decision.Action, o.PullRequest)
	}
	if p := srv.Pull(2); p["state"] != "closed" || p["merged_at"] != nil {
		t.Errorf("#2 is %v, merged %v; want closed unmerged", p["state"], p["merged_at"])
	}
	if c := srv.Comments(2); len(c) != 1 || !strings.Contains(c[0], "superseded") {
		t.Errorf("comments on #2: %q", c)
	}
	if got := weightsAt(t, f, "birdwatch/games-aleph/1"); got != "100/0" {
		t.Errorf("branch weights %s, want the rollback's 100/0", got)
	}
	if err := srv.Merge(3); err != nil {
		t.Fatal(err)
	}
	if st := statusAt(t, f, "main"); st.Phase != spec.PhaseRolledBack || st.HandledCommands[0] != "c9" {
		t.Errorf("status on main %s %v", st.Phase, st.HandledCommands)
	}
	c.advance(time.Minute)
	if o := prRun(t, e, nil); o.Commit != "" || srv.Count() != 3 {
		t.Errorf("a rolled-back rollout proposed again: %+v", o.Decision)
	}
}

func TestPullRequestNotConfigured(t *testing.T) {
	f := newFleet(t, weightsOnly(prMode))
	e := &Engine{Repo: openRepo(t, f.URL()), Judges: testJudges(), Sync: sync.Engines{"none": sync.None{}}}
	out, err := e.Run(context.Background(), Request{})
	if err != nil || len(out) != 1 || out[0].Err == nil || !strings.Contains(out[0].Err.Error(), ErrNoPullRequests.Error()) {
		t.Errorf("Run = %+v, %v; want ErrNoPullRequests", out, err)
	}
}
