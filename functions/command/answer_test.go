package command

import (
	"strings"
	"testing"
)

// TestAnswer: every case worded once, the same for PR comments and Slack;
// only the escaping of the free text differs.
func TestAnswer(t *testing.T) {
	md := func(s string) string { return strings.NewReplacer("<", "&lt;", "`", "'").Replace(s) }
	for _, tc := range []struct {
		name   string
		a      Answer
		result string
		text   string
	}{
		{"unparsable", Answer{Case: Unparsable, Actor: "@alice", Why: `unknown command "frobnicate"`}, "refused",
			"⛔ @alice: unknown command \"frobnicate\". Usage: `" + Usage + "`"},
		{"too old", Answer{Case: TooOld, Verb: "abort", Actor: "@alice", Why: "this comment was written 2026-11-19T10:00:00Z, more than 24h0m0s ago"}, "refused",
			"⛔ `abort` by @alice refused: this comment was written 2026-11-19T10:00:00Z, more than 24h0m0s ago: commands act only when fresh, so a captured one cannot be replayed. Give it again."},
		{"no canary", Answer{Case: NoCanary, Verb: "promote", Actor: "<@U024BE7LH>", Why: `no canary "games/nope" (have games/aleph)`}, "refused",
			"⛔ `promote` by <@U024BE7LH> refused: no canary \"games/nope\" (have games/aleph)"},
		{"no authorizer", Answer{Case: NoAuthorizer, Verb: "abort", Actor: "@bob", Canary: "games/aleph"}, "refused",
			"⛔ `abort` by @bob on games/aleph refused: no authorizer is configured, so nobody may command it"},
		{"not allowed, escaped", Answer{Case: NotAllowed, Verb: "abort", Actor: "@bob", Canary: "games/aleph", Why: "github:bob is not among the operators of games/aleph (<script>)"}, "refused",
			"⛔ `abort` by @bob on games/aleph refused: github:bob is not among the operators of games/aleph (&lt;script>)"},
		{"stale button", Answer{Case: Stale, Verb: "promote", Actor: "<@U1>", Canary: "games/aleph", Why: "that message is about v02, and the rollout is now at v04"}, "refused",
			"⛔ `promote` by <@U1> on games/aleph refused: that message is about v02, and the rollout is now at v04"},
		{"replayed refusal", Answer{Case: Replayed, Verb: "promote", Actor: "<@U1>", Canary: "games/aleph", Why: "promote refused: it does not apply while WaitingForSync"}, "refused",
			"⛔ `promote` by <@U1> on games/aleph was refused before and is not applied now: promote refused: it does not apply while WaitingForSync"},
		{"already applied", Answer{Case: AlreadyApplied, Verb: "abort", Actor: "@alice", Canary: "games/aleph"}, "done",
			"✅ `abort` by @alice on games/aleph was already applied."},
		{"not applied", Answer{Case: NotApplied, Verb: "skip-analysis", Actor: "@alice", Canary: "games/aleph", Why: "skip-analysis refused: it does not apply while Paused"}, "refused",
			"⚠️ `skip-analysis` by @alice on games/aleph was not applied: skip-analysis refused: it does not apply while Paused"},
		{"failed", Answer{Case: Failed, Verb: "abort", Actor: "@alice", Canary: "games/aleph", Why: "push: rejected"}, "failed",
			"❌ `abort` by @alice on games/aleph failed: push: rejected"},
		{"done", Answer{Case: Done, Verb: "abort", Actor: "@alice", Canary: "games/aleph"}, "done",
			"✅ `abort` by @alice on games/aleph: done."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Result(); got != tc.result {
				t.Errorf("Result = %q, want %q", got, tc.result)
			}
			if got := tc.a.Text(md); got != tc.text {
				t.Errorf("Text =\n%s\nwant\n%s", got, tc.text)
			}
		})
	}
}
