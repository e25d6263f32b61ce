package webhook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/birdwatch-gitops/birdwatch/functions/auth"
)

// fuzzHandler is a handler whose planning can run without I/O.
func fuzzHandler(t testing.TB) *Handler {
	h, err := New(Config{Engine: struct{ Engine }{}, GitHub: GitHubConfig{Secret: []byte("s"), Repository: "acme/fleet"},
		GitLab: GitLabConfig{Token: []byte("t"), Project: "acme/fleet"}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// seeds adds every rendered testdata payload to the corpus.
func seeds(f *testing.F, dir string, add func(name string, body []byte)) {
	paths, _ := filepath.Glob(filepath.Join("testdata", dir, "*.json.tmpl"))
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json.tmpl")
		pl := defaults()
		pl.Action, pl.Body, pl.ExternalID = "created", "/birdwatch promote games/aleph", "birdwatch:canary:games/aleph"
		add(name, render(f, dir+"/"+name, pl))
	}
}

func FuzzGitHubPayload(f *testing.F) {
	events := []string{"push", "pull_request", "issue_comment", "check_run", "ping"}
	seeds(f, "github", func(name string, body []byte) {
		for i, ev := range events {
			if ev == name {
				f.Add(uint8(i), body)
			}
		}
	})
	f.Add(uint8(0), []byte(`{"ref":"refs/heads/main","repository":{"full_name":"acme/fleet"},"commits":[null]}`))
	f.Add(uint8(2), []byte(`{"action":"created","issue":{"pull_request":{}},"repository":{"full_name":"acme/fleet"},"comment":{"id":1,"body":"/birdwatch","user":{"login":"a"}}}`))
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, i uint8, body []byte) {
		event := events[int(i)%len(events)]
		ev, err := parseGitHub(event, "application/json", body)
		if err != nil {
			return
		}
		p := h.planGitHub(ev)
		checkPlan(t, p)
	})
}

func FuzzGitLabPayload(f *testing.F) {
	events := []string{gitlabPush, gitlabMerge, gitlabNote}
	names := map[string]string{"push": gitlabPush, "merge_request": gitlabMerge, "note": gitlabNote}
	seeds(f, "gitlab", func(name string, body []byte) {
		for i, ev := range events {
			if names[name] == ev {
				f.Add(uint8(i), body)
			}
		}
	})
	f.Add(uint8(2), []byte(`{"project":{"path_with_namespace":"acme/fleet"},"object_attributes":{"noteable_type":"MergeRequest","note":"/birdwatch abort x/y"}}`))
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, i uint8, body []byte) {
		p, err := h.planGitLab(events[int(i)%len(events)], body)
		if err != nil {
			return
		}
		checkPlan(t, p)
		if p.kind == planCommand {
			t.Errorf("a GitLab note became a command: %+v", p)
		}
	})
}

// checkPlan holds for every plan: commands carry who and which comment,
// and their verb is known unless the parse error says why.
func checkPlan(t *testing.T, p plan) {
	t.Helper()
	switch p.kind {
	case planIgnore, planRefuse:
		if p.reason == "" {
			t.Errorf("no reason: %+v", p)
		}
	case planCommand:
		if p.commentID == 0 || p.actor.User == "" || p.actor.Provider != auth.ProviderGitHub {
			t.Errorf("command without origin: %+v", p)
		}
		if _, ok := commandKinds[p.cmd.verb]; !ok && p.cmd.verb != verbStatus && p.cmdErr == "" {
			t.Errorf("unknown verb %q accepted", p.cmd.verb)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/birdwatch promote games/aleph", "  /birdwatch status\n", "> /birdwatch abort", "/birdwatch",
		"/birdwatcher pause", "hi\n/birdwatch skip-analysis aleph\n/birdwatch abort", "/birdwatch PROMOTE a/b c", "/birdwatch\tpause\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		cmd, found, err := parseCommand(body)
		if !found {
			if err != nil || cmd != (parsedCommand{}) {
				t.Errorf("not found but %+v %v", cmd, err)
			}
			return
		}
		if !strings.HasPrefix(cmd.line, commandPrefix) || strings.ContainsAny(cmd.line, "\r\n") {
			t.Errorf("line %q", cmd.line)
		}
		if err == nil {
			if _, ok := commandKinds[cmd.verb]; !ok && cmd.verb != verbStatus {
				t.Errorf("verb %q accepted", cmd.verb)
			}
			if cmd.target != "" && (!targetRE.MatchString(cmd.target) || !utf8.ValidString(cmd.target)) {
				t.Errorf("target %q accepted", cmd.target)
			}
		}
		if q := quoteLine(cmd.line); strings.Count(q, "`") != 2 {
			t.Errorf("quote %q can break out of its code span", q)
		}
	})
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name, body   string
		found        bool
		verb, target string
		err          string
	}{
		{name: "plain", body: "/birdwatch promote", found: true, verb: "promote"},
		{name: "with target", body: "/birdwatch abort games/aleph", found: true, verb: "abort", target: "games/aleph"},
		{name: "name only", body: "/birdwatch pause aleph", found: true, verb: "pause", target: "aleph"},
		{name: "after text, indented", body: "Looks good.\n   /birdwatch Skip-Analysis\nthanks", found: true, verb: "skip-analysis"},
		{name: "first command wins", body: "/birdwatch status\n/birdwatch abort", found: true, verb: "status"},
		{name: "quoted", body: "> /birdwatch abort"},
		{name: "other prefix", body: "/birdwatcher abort"},
		{name: "in a sentence", body: "please run /birdwatch abort"},
		{name: "empty", body: "/birdwatch", found: true, err: "no command given"},
		{name: "unknown", body: "/birdwatch deploy", found: true, verb: "deploy", err: `unknown command "deploy"`},
		{name: "too many", body: "/birdwatch abort a/b now", found: true, verb: "abort", err: "too many arguments"},
		{name: "bad target", body: "/birdwatch abort ../../etc", found: true, verb: "abort", err: "not a canary name"},
		{name: "upper-case target", body: "/birdwatch abort Games/Aleph", found: true, verb: "abort", err: "not a canary name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, found, err := parseCommand(tt.body)
			if found != tt.found || cmd.verb != tt.verb || (err == nil && cmd.target != tt.target) {
				t.Errorf("got %+v found=%v", cmd, found)
			}
			if (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err %v, want %q", err, tt.err)
			}
		})
	}
}

// TestTestdataIsShapedLikeDeliveries checks that every payload template
// renders to an object with the top-level keys the real deliveries have.
func TestTestdataIsShapedLikeDeliveries(t *testing.T) {
	want := map[string][]string{
		"github/push":          {`"ref"`, `"before"`, `"after"`, `"repository"`, `"pusher"`, `"sender"`, `"commits"`, `"head_commit"`},
		"github/pull_request":  {`"action"`, `"number"`, `"pull_request"`, `"repository"`, `"sender"`},
		"github/issue_comment": {`"action"`, `"issue"`, `"comment"`, `"repository"`, `"sender"`},
		"github/check_run":     {`"action"`, `"check_run"`, `"repository"`, `"sender"`, `"installation"`},
		"gitlab/push":          {`"object_kind": "push"`, `"checkout_sha"`, `"project"`, `"commits"`, `"total_commits_count"`},
		"gitlab/merge_request": {`"object_kind": "merge_request"`, `"object_attributes"`, `"user"`, `"project"`},
		"gitlab/note":          {`"object_kind": "note"`, `"object_attributes"`, `"merge_request"`, `"project"`},
	}
	for name, keys := range want {
		body, err := os.ReadFile(filepath.Join("testdata", name+".json.tmpl"))
		if err != nil {
			t.Fatal(err)
		}
		render(t, name, defaults())
		for _, k := range keys {
			if !strings.Contains(string(body), k) {
				t.Errorf("%s lacks %s", name, k)
			}
		}
	}
}

// TestCommandsInCodeQuotesAndHTMLAreNotCommands: a /birdwatch line inside a
// fenced or indented code block, a code span, an HTML comment or a quote
// is talk about a command, not a command (real comment shapes, CRLF).
func TestCommandsInCodeQuotesAndHTMLAreNotCommands(t *testing.T) {
	for name, body := range map[string]string{
		"fenced":             "To roll back, comment:\r\n\r\n```\r\n/birdwatch rollback\r\n```",
		"suggestion":         "```suggestion\r\n/birdwatch promote\r\n```",
		"indented":           "Example:\r\n\r\n    /birdwatch abort\r\n",
		"code span":          "`/birdwatch abort` is how",
		"HTML comment":       "<!-- /birdwatch abort -->\r\nThanks!",
		"multi-line comment": "<!--\r\n/birdwatch promote\r\n-->\r\nReady.",
		"quote":              "> /birdwatch abort\r\n\r\nWhy?",
		"lazy quote":         "> I ran\r\n/birdwatch abort",
		"details":            "<details>\r\n<summary>how</summary>\r\n/birdwatch abort\r\n</details>",
	} {
		if cmd, found, err := parseCommand(body); found {
			t.Errorf("%s: found %+v (err %v) in %q", name, cmd, err, body)
		}
	}
}
