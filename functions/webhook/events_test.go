package webhook

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestIgnoredDeliveries(t *testing.T) {
	e := newEnv(t)
	with := func(f func(*payload)) payload { p := defaults(); f(&p); return p }
	comment := func(f func(*payload)) payload {
		return with(func(p *payload) { p.Action, p.Body = "created", "/birdwatch status"; f(p) })
	}
	tests := []struct {
		name, source, event, file string
		p                         payload
		detail                    string
	}{
		{"unknown event", "github", "star", "github/star", defaults(), `event "star" is not handled`},
		{"ping", "github", "ping", "github/ping", defaults(), "ping: Keep it logically awesome."},
		{"push to another branch", "github", "push", "github/push", with(func(p *payload) { p.Ref = "refs/heads/feature" }), "not to branch main"},
		{"push to a tag", "github", "push", "github/push", with(func(p *payload) { p.Ref = "refs/tags/v1" }), "not to branch main"},
		{"push to another repository", "github", "push", "github/push", with(func(p *payload) { p.Repo = "acme/other" }), `repository "acme/other"`},
		{"branch deleted", "github", "push", "github/push", with(func(p *payload) { p.Deleted = true }), "deleted"},
		{"birdwatch's own commit", "github", "push", "github/push",
			with(func(p *payload) {
				p.Message = "birdwatch: games/aleph v04 advance\n\nBirdwatch-Canary: games/aleph\nBirdwatch-Decision: advance"
			}), "own decision"},
		{"pull request labeled", "github", "pull_request", "github/pull_request", with(func(p *payload) { p.Action = "labeled" }), `action "labeled"`},
		{"pull request into another branch", "github", "pull_request", "github/pull_request", with(func(p *payload) { p.BaseRef = "release" }), "into release"},
		{"pull request closed unmerged", "github", "pull_request", "github/pull_request", with(func(p *payload) { p.Action, p.State = "closed", "closed" }), `action "closed"`},
		{"comment edited", "github", "issue_comment", "github/issue_comment", comment(func(p *payload) { p.Action = "edited" }), `action "edited"`},
		{"comment on an issue", "github", "issue_comment", "github/issue_comment", comment(func(p *payload) { p.IsPull = false }), "not a pull request"},
		{"comment by a bot", "github", "issue_comment", "github/issue_comment", comment(func(p *payload) { p.UserType = "Bot" }), "bot"},
		{"comment without a command", "github", "issue_comment", "github/issue_comment", comment(func(p *payload) { p.Body = "LGTM, ship it" }), "no /birdwatch command"},
		{"quoted command", "github", "issue_comment", "github/issue_comment", comment(func(p *payload) { p.Body = "> /birdwatch abort\nwhy?" }), "no /birdwatch command"},
		{"another bot's word", "github", "issue_comment", "github/issue_comment", comment(func(p *payload) { p.Body = "/birdwatcher promote" }), "no /birdwatch command"},
		{"check run created", "github", "check_run", "github/check_run", with(func(p *payload) { p.Action = "created" }), `action "created"`},
		{"someone else's check run", "github", "check_run", "github/check_run", with(func(p *payload) { p.Action, p.ExternalID = "rerequested", "ci-42" }), "not a birdwatch check run"},
		{"gitlab pipeline", "gitlab", "Pipeline Hook", "gitlab/push", defaults(), `event "Pipeline Hook" is not handled`},
		{"gitlab push to another project", "gitlab", "Push Hook", "gitlab/push", with(func(p *payload) { p.Repo = "acme/other" }), `project "acme/other"`},
		{"gitlab push to another branch", "gitlab", "Push Hook", "gitlab/push", with(func(p *payload) { p.Ref = "refs/heads/x" }), "not to branch main"},
		{"gitlab branch deleted", "gitlab", "Push Hook", "gitlab/push", with(func(p *payload) { p.After = zeroSHA }), "deleted"},
		{"gitlab merge request opened", "gitlab", "Merge Request Hook", "gitlab/merge_request", with(func(p *payload) { p.Action = "open" }), `action "open"`},
		{"gitlab note without command", "gitlab", "Note Hook", "gitlab/note", with(func(p *payload) { p.Body = "nice" }), "no /birdwatch command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := render(t, tt.file, tt.p)
			var w = e.github
			if tt.source == "gitlab" {
				w = e.gitlab
			}
			rec := w(tt.event, body)
			r := decode(t, rec)
			if rec.Code != 200 || r.Result != "ignored" || !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("got %d %+v, want ignored with %q", rec.Code, r, tt.detail)
			}
		})
	}
	if s := e.subjects(); len(s) != 1 {
		t.Errorf("ignored deliveries changed the repository: %q", s)
	}
	if n := strings.Count(e.logs.String(), `"msg":"webhook ignored"`); n != len(tests) {
		t.Errorf("%d ignore log lines for %d deliveries", n, len(tests))
	}
}

func TestPushRunsTheLoop(t *testing.T) {
	e := newEnv(t)
	rec := e.github("push", render(t, "github/push", defaults()))
	r := decode(t, rec)
	if rec.Code != 200 || r.Result != "done" || len(r.Outcomes) != 1 {
		t.Fatalf("got %d %+v", rec.Code, r)
	}
	o := r.Outcomes[0]
	if o.Canary != "games/aleph" || o.Action != "advance" || o.Weight != 10 || o.Commit == "" {
		t.Errorf("outcome %+v", o)
	}
	msg, err := e.fleet.Message(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msg, "birdwatch: games/aleph v04 advance, weight 0 -> 10") || !strings.Contains(msg, "Birdwatch-Trigger: webhook") {
		t.Errorf("commit message:\n%s", msg)
	}
	// No pull request brought v04 (the initial commit is not in one): no report.
	if n := e.gh.count("POST /repos/acme/fleet/issues/{n}/comments"); n != 0 {
		t.Errorf("%d comments for a rollout without a pull request", n)
	}
}

func TestGitLabTriggers(t *testing.T) {
	e := newEnv(t)
	rec := e.gitlab("Push Hook", render(t, "gitlab/push", defaults()))
	if r := decode(t, rec); r.Result != "done" || len(r.Outcomes) != 1 || r.Outcomes[0].Commit == "" {
		t.Fatalf("push: %d %+v", rec.Code, r)
	}
	p := defaults()
	p.Action, p.State, p.HeadSHA, p.MergeSHA = "merge", "merged", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", "2c26b46b68ffc68ff99b453c1d30413413422d70"
	rec = e.gitlab("Merge Request Hook", render(t, "gitlab/merge_request", p))
	if r := decode(t, rec); r.Result != "done" || r.Outcomes[0].Action != "pause" || r.Outcomes[0].Phase != "Paused" {
		t.Fatalf("merge: %d %+v", rec.Code, r)
	}
	p.Body = "/birdwatch promote games/aleph"
	rec = e.gitlab("Note Hook", render(t, "gitlab/note", p))
	if r := decode(t, rec); r.Result != "refused" || !strings.Contains(r.Detail, "gitlab:alice refused") {
		t.Errorf("note: %d %+v", rec.Code, r)
	}
	p.Body = "/birdwatch frobnicate"
	if r := decode(t, e.gitlab("Note Hook", render(t, "gitlab/note", p))); r.Result != "refused" || !strings.Contains(r.Detail, "unknown command") {
		t.Errorf("bad note: %+v", r)
	}
	s := e.subjects()
	if len(s) != 3 || !strings.Contains(s[0], "pause") || !strings.Contains(s[1], "advance") {
		t.Errorf("history %q", s)
	}
}

func TestCheckRunRerequestRunsTheLoop(t *testing.T) {
	e := newEnv(t)
	p := defaults()
	p.Action, p.ExternalID = "rerequested", "birdwatch:canary:games/aleph"
	r := decode(t, e.github("check_run", render(t, "github/check_run", p)))
	if r.Result != "done" || len(r.Outcomes) != 1 || r.Outcomes[0].Canary != "games/aleph" || r.Outcomes[0].Commit == "" {
		t.Errorf("got %+v", r)
	}
	p.ExternalID = "birdwatch:canary:games/nope"
	r = decode(t, e.github("check_run", render(t, "github/check_run", p)))
	if r.Result != "failed" || !strings.Contains(r.Detail, "no such canary") {
		t.Errorf("unknown canary: %+v", r)
	}
}

func TestFormEncodedDelivery(t *testing.T) {
	e := newEnv(t)
	body := []byte("payload=" + strings.ReplaceAll(strings.ReplaceAll(string(render(t, "github/push", defaults())), "%", "%25"), "&", "%26"))
	body = []byte(strings.NewReplacer("+", "%2B", "\n", "%0A", " ", "+", "#", "%23").Replace(string(body)))
	rec := e.github("push", body, func(r *http.Request) {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	})
	if r := decode(t, rec); rec.Code != 200 || r.Result != "done" {
		t.Errorf("got %d %+v", rec.Code, r)
	}
	if s := e.subjects(); !slices.ContainsFunc(s, func(x string) bool { return strings.Contains(x, "advance") }) {
		t.Errorf("history %q", s)
	}
}
