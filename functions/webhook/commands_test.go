package webhook

import (
	"fmt"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

func (e *env) weights() string {
	e.t.Helper()
	vs, err := e.fleet.Show(e.t.Context(), "main", "apps/games/aleph/virtualservice.yaml")
	if err != nil {
		e.t.Fatal(err)
	}
	var w []string
	for i := range 2 {
		v, err := yamledit.Get([]byte(vs), fmt.Sprintf("spec.http[0].route[%d].weight", i))
		if err != nil {
			e.t.Fatal(err)
		}
		w = append(w, v)
	}
	return strings.Join(w, "/")
}

// comment delivers a new PR comment by login and returns the response.
func (e *env) comment(id int64, login, body string) Response {
	e.t.Helper()
	p := defaults()
	p.Action, p.Login, p.Body, p.CommentID = "created", login, body, id
	e.gh.addComment(7, login, body)
	rec := e.github("issue_comment", render(e.t, "github/issue_comment", p))
	if rec.Code != 200 {
		e.t.Fatalf("%s: %d %s", body, rec.Code, rec.Body)
	}
	return decode(e.t, rec)
}

// TestCommands steers a paused rollout from PR comments against a real
// fleet repository, the real engine and authorization through the GitHub
// API, in order: each case starts where the previous one left off.
func TestCommands(t *testing.T) {
	e := newEnv(t)
	e.github("push", render(t, "github/push", defaults())) // start: weight 10
	if _, err := e.engine.Run(t.Context(), core.Request{Trigger: "test"}); err != nil {
		t.Fatal(err) // synced, then paused at step 2
	}
	tests := []struct {
		name, login, body string
		result            string
		reply             []string // the reply contains each
		commit            bool     // a decision was committed
		weights           string
	}{
		{name: "status by anyone", login: "mallory", body: "/birdwatch status", result: "done",
			reply: []string{"games/aleph `v04` (stable `v03`)", "phase `Paused`", "weight **10%**"}, weights: "90/10"},
		{name: "not an operator", login: "bob", body: "/birdwatch abort", result: "refused",
			reply: []string{"⛔ `abort` by @bob on games/aleph refused", "github:bob is not among the operators of games/aleph (github:acme/sre)"}},
		{name: "operator without write permission", login: "dave", body: "/birdwatch abort games/aleph", result: "refused",
			reply: []string{`has "read" permission on acme/fleet`}},
		{name: "pending team invitation", login: "carol", body: "/birdwatch abort", result: "refused", reply: []string{"not among the operators"}},
		{name: "unknown command", login: "alice", body: "Let's go.\n/birdwatch frobnicate", result: "refused",
			reply: []string{`unknown command "frobnicate"`, "Usage: `" + Usage + "`"}},
		{name: "unknown canary", login: "alice", body: "/birdwatch promote games/nope", result: "refused", reply: []string{"⛔ `promote` by @alice refused: no canary \"games/nope\" (have 'games/aleph')"}},
		{name: "command that does not apply", login: "alice", body: "/birdwatch skip-analysis", result: "refused",
			reply: []string{"was not applied: skip-analysis refused: it does not apply while Paused"}},
		{name: "promote", login: "alice", body: "  /birdwatch promote aleph", result: "done", commit: true, weights: "50/50",
			reply: []string{"✅ `promote` by @alice on games/aleph: done.", "weight **10% → 50%**", "https://github.com/acme/fleet/commit/"}},
		// The refusal does not stop the loop: the weight counts as applied at once (applyDelay 0).
		{name: "pause while waiting for the applier", login: "alice", body: "/birdwatch pause", result: "refused", weights: "50/50",
			reply: []string{"pause refused: it is WaitingForSync", "phase `Progressing`"}, commit: true},
	}
	id := int64(5000)
	replies := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.subjects()
			id++
			r := e.comment(id, tt.login, tt.body)
			if r.Result != tt.result {
				t.Errorf("result %q (%s), want %q", r.Result, r.Detail, tt.result)
			}
			replies++
			bot := e.gh.botComments(7)
			if len(bot) != replies {
				t.Fatalf("%d replies after %d commands", len(bot), replies)
			}
			reply := bot[len(bot)-1].Body
			if !strings.HasPrefix(reply, replyMarker(id)+"\n> `"+strings.TrimSpace(tt.body[strings.Index(tt.body, "/birdwatch"):])+"`") {
				t.Errorf("reply does not quote the command:\n%s", reply)
			}
			for _, want := range tt.reply {
				if !strings.Contains(reply, want) {
					t.Errorf("reply misses %q:\n%s", want, reply)
				}
			}
			if got := len(e.subjects()) - len(before); got != map[bool]int{true: 1}[tt.commit] {
				t.Errorf("%d commits, want commit=%v", got, tt.commit)
			}
			if tt.weights != "" && e.weights() != tt.weights {
				t.Errorf("weights %s, want %s", e.weights(), tt.weights)
			}
		})
	}

	t.Run("redelivered command acts and answers once", func(t *testing.T) {
		before, replies := e.subjects(), len(e.gh.botComments(7))
		p := defaults()
		p.Action, p.Body, p.CommentID = "created", "/birdwatch promote aleph", 5008 // the promote above
		r := decode(t, e.github("issue_comment", render(t, "github/issue_comment", p)))
		if r.Result != "ignored" || !strings.Contains(r.Detail, "already answered") {
			t.Errorf("got %+v", r)
		}
		if len(e.subjects()) != len(before) || len(e.gh.botComments(7)) != replies {
			t.Error("the redelivery committed or replied")
		}
	})

	t.Run("command applied but not answered", func(t *testing.T) {
		// The first delivery committed, then died before replying: the
		// redelivery finds the command ID in the status and says so.
		cmd := &rollout.Command{Kind: rollout.CmdAbort, Actor: "github:alice", ID: commandID("github", 6001)}
		if _, err := e.engine.Run(t.Context(), core.Request{Canary: "games/aleph", Command: cmd, Trigger: "test"}); err != nil {
			t.Fatal(err)
		}
		before := e.subjects()
		r := e.comment(6001, "alice", "/birdwatch abort")
		bot := e.gh.botComments(7)
		if r.Result != "done" || !strings.Contains(bot[len(bot)-1].Body, "was already applied") || len(e.subjects()) != len(before) {
			t.Errorf("got %+v, reply %q", r, bot[len(bot)-1].Body)
		}
		if e.weights() != "100/0" {
			t.Errorf("weights %s after abort", e.weights())
		}
	})
}

func TestCommandNeedsACanaryName(t *testing.T) {
	second := strings.NewReplacer("name: aleph", "name: beth", "apps/games/aleph/", "apps/games/aleph/").Replace(testSpec)
	e := newEnv(t)
	if err := e.fleet.Commit(t.Context(), "add beth", map[string]fleet.Edit{".birdwatch/beth.yaml": fleet.Put(second)}); err != nil {
		t.Fatal(err)
	}
	// Pull request #7 changes no spec: the command must name its canary.
	e.gh.pulls[7] = &fakePull{Number: 7, HeadRef: "main", BaseSHA: e.dev("rev-parse", "origin/main")}
	r := e.comment(7001, "alice", "/birdwatch pause")
	bot := e.gh.botComments(7)
	if r.Result != "refused" || !strings.Contains(bot[0].Body, "⛔ `pause` by @alice refused: name the canary: '/birdwatch pause namespace/name' (have 'games/aleph', 'games/beth')") {
		t.Errorf("got %+v: %s", r, bot[0].Body)
	}
	// Pull request #8 changes beth's spec: a command on it is for beth.
	e.openPull(8, "beth-v05", ".birdwatch/beth.yaml", strings.Replace(second, "canary: v04", "canary: v05", 1))
	p := defaults()
	p.Action, p.Body, p.CommentID, p.Number = "created", "/birdwatch status", 7002, 8
	r = decode(t, e.github("issue_comment", render(t, "github/issue_comment", p)))
	if bot := e.gh.botComments(8); r.Result != "done" || len(bot) != 1 || !strings.Contains(bot[0].Body, "games/beth: not started") {
		t.Errorf("got %+v: %v", r, bot)
	}
}

// TestPastedMarkersAreNotTrusted has a person paste birdwatch's markers into
// comments: the command is still answered, and the person's comment is not
// taken for birdwatch's report and overwritten.
func TestPastedMarkersAreNotTrusted(t *testing.T) {
	e := newEnv(t)
	e.gh.addComment(7, "mallory", replyMarker(8001)+"\nalready answered, honest")
	e.gh.addComment(7, "mallory", reportMarker("games/aleph")+"\nnothing to see")
	if r := e.comment(8001, "alice", "/birdwatch status"); r.Result != "done" {
		t.Errorf("the command was muted: %+v", r)
	}
	c, err := upsertComment(t.Context(), NewGitHubAPI(e.gh.client()), "acme/fleet", 7, "birdwatch-bot", reportMarker("games/aleph"), reportMarker("games/aleph")+"\nreport")
	if err != nil || c.Author != "birdwatch-bot" {
		t.Errorf("report comment %+v %v", c, err)
	}
	e.gh.mu.Lock()
	defer e.gh.mu.Unlock()
	for _, c := range e.gh.comments[7] {
		if c.User == "mallory" && !strings.Contains(c.Body, "honest") && !strings.Contains(c.Body, "nothing to see") {
			t.Errorf("mallory's comment was edited: %q", c.Body)
		}
	}
}

// TestOwnRepliesKnownByAuthorWithoutConfiguration: with no login
// configured (the default), birdwatch asks the token who it is (GET /user)
// and takes only that account's comments for its replies: a reply marker
// pasted by someone else does not mute a command, and the answer comes
// from birdwatch's account.
func TestOwnRepliesKnownByAuthorWithoutConfiguration(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.GitHub.Login = "" })
	e.gh.addComment(7, "mallory", replyMarker(8101)+"\nalready answered, honest")
	if r := e.comment(8101, "alice", "/birdwatch status"); r.Result != "done" {
		t.Errorf("a pasted marker muted the command: %+v", r)
	}
	bot := e.gh.botComments(7)
	if len(bot) != 1 || !strings.HasPrefix(bot[0].Body, replyMarker(8101)) {
		t.Fatalf("birdwatch's replies: %+v", bot)
	}
	// birdwatch's own reply is recognized: a redelivery is not answered twice.
	p := defaults()
	p.Action, p.Login, p.Body, p.CommentID = "created", "alice", "/birdwatch status", 8101
	r := decode(t, e.github("issue_comment", render(t, "github/issue_comment", p)))
	if r.Result != "ignored" || len(e.gh.botComments(7)) != 1 {
		t.Errorf("redelivery: %+v, %d replies", r, len(e.gh.botComments(7)))
	}
}
