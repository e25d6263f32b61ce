package command

import (
	"strings"
	"testing"
)

// TestFromMarkdown runs comment bodies shaped like the ones GitHub delivers
// (CRLF line ends, "Quote reply" quotes, email replies, suggestion blocks,
// <details>, HTML comments from templates) through FromMarkdown: a command
// is only taken from paragraph text, never from code, quotes or HTML.
func TestFromMarkdown(t *testing.T) {
	tests := []struct {
		name, body   string
		found        bool
		verb, target string
		err          string
	}{
		{name: "plain", body: "/birdwatch promote", found: true, verb: "promote"},
		{name: "with target, CRLF", body: "/birdwatch abort games/aleph\r\n", found: true, verb: "abort", target: "games/aleph"},
		{name: "after text, indented by 3", body: "Looks good.\r\n   /birdwatch Skip-Analysis\r\nthanks", found: true, verb: "skip-analysis"},
		{name: "first command wins", body: "/birdwatch status\r\n\r\n/birdwatch abort", found: true, verb: "status"},
		{name: "in a list item", body: "Plan:\r\n\r\n- /birdwatch pause aleph\r\n- watch the dashboards", found: true, verb: "pause", target: "aleph"},
		{name: "after a quote reply", body: "> can you stop it?\r\n\r\n/birdwatch pause", found: true, verb: "pause"},
		{name: "after a fenced block", body: "```\r\n/birdwatch abort\r\n```\r\n\r\n/birdwatch status", found: true, verb: "status"},
		{name: "bold verb is text", body: "/birdwatch **abort**", found: true, verb: "abort"},

		{name: "quote reply", body: "> /birdwatch abort\r\n\r\nWhy would we abort?"},
		{name: "lazy quote continuation", body: "> I ran\r\n/birdwatch abort"},
		{name: "email reply quote", body: "Agreed.\r\n\r\nOn Mon, Dec 7, 2026 at 10:02 AM alice <notifications@github.com> wrote:\r\n\r\n> /birdwatch promote\r\n>\r\n> —\r\n> Reply to this email directly"},
		{name: "fenced code", body: "To roll back, comment:\r\n\r\n```\r\n/birdwatch rollback\r\n```"},
		{name: "tilde fence with info", body: "~~~text\n/birdwatch abort\n~~~"},
		{name: "suggestion block", body: "```suggestion\r\n/birdwatch promote\r\n```"},
		{name: "indented code", body: "Example:\r\n\r\n    /birdwatch abort\r\n"},
		{name: "code span", body: "Run `/birdwatch abort` if it goes red."},
		{name: "code span at line start", body: "`/birdwatch abort` is the command"},
		{name: "HTML comment block", body: "<!-- /birdwatch abort -->\r\nThanks for the PR!"},
		{name: "multi-line HTML comment", body: "<!--\r\nPR template:\r\n/birdwatch promote\r\n-->\r\nReady."},
		{name: "inline HTML comment", body: "Ready <!--\n/birdwatch abort\n--> now."},
		{name: "details block", body: "<details>\r\n<summary>how</summary>\r\n/birdwatch abort\r\n</details>"},
		{name: "in a sentence", body: "please run /birdwatch abort"},
		{name: "other prefix", body: "/birdwatcher abort"},
		{name: "heading is not a paragraph", body: "# /birdwatch abort"},

		{name: "empty", body: "/birdwatch", found: true, err: "no command given"},
		{name: "unknown", body: "/birdwatch deploy", found: true, verb: "deploy", err: `unknown command "deploy"`},
		{name: "verb in code span", body: "/birdwatch `abort`", found: true, err: "unknown command"},
		{name: "too many", body: "/birdwatch abort a/b now", found: true, verb: "abort", err: "too many arguments"},
		{name: "bad target", body: "/birdwatch abort ../../etc", found: true, verb: "abort", err: "not a canary name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, found, err := FromMarkdown(tt.body)
			if found != tt.found || (tt.verb != "" && cmd.Verb != tt.verb) || (err == nil && cmd.Target != tt.target) {
				t.Errorf("got %+v found=%v err=%v", cmd, found, err)
			}
			if (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err %v, want %q", err, tt.err)
			}
		})
	}
}

// TestMatch: a bare name means the canary of that name in any namespace,
// in PR comments and in Slack alike.
func TestMatch(t *testing.T) {
	keys := []string{"games/aleph", "default/aleph", "games/bet"}
	for _, tt := range []struct {
		target string
		want   int
	}{{"games/aleph", 1}, {"aleph", 2}, {"bet", 1}, {"default/bet", 0}, {"gimel", 0}} {
		if got := Match(keys, tt.target); len(got) != tt.want {
			t.Errorf("Match(%q) = %v, want %d", tt.target, got, tt.want)
		}
	}
}
