package spec

import (
	"strings"
	"testing"
)

// notifyBase appends a spec.notify block to base.
func notifyBase(block string) string { return base + "  notify:\n" + block }

func TestNotifySpecParses(t *testing.T) {
	y := notifyBase(`    slack: {channel: "#deploys", on: [rollback, freeze]}
    teams: {secretRef: teams-deploys}
    discord: {secretRef: discord_url, on: [promote]}
    googleChat: {secretRef: gchat.url}
    webhook: {secretRef: hook-url, signingSecretRef: hook-key, on: [advance, pause]}
`)
	cs, err := ParseCanaries("c.yaml", []byte(y), testChecks)
	if err != nil {
		t.Fatal(err)
	}
	n := cs[0].Spec.Notify
	if n.Teams.SecretRef != "teams-deploys" || n.Discord.On[0] != "promote" || n.GoogleChat.SecretRef != "gchat.url" ||
		n.Webhook.SigningSecretRef != "hook-key" || len(n.Slack.On) != 2 {
		t.Errorf("notify = %+v", n)
	}
}

func TestNotifySpecProblems(t *testing.T) {
	tests := []struct {
		name, block string
		want        []string
	}{
		{"URL instead of a secret name", "    teams: {secretRef: \"https://prod.westeurope.logic.azure.com/workflows/x\"}\n",
			[]string{"c.yaml:23: spec.notify.teams.secretRef: names a deployment secret; the URL itself is a credential"}},
		{"missing secretRef", "    discord: {on: [promote]}\n",
			[]string{"c.yaml:23: spec.notify.discord.secretRef: required"}},
		{"unknown level", "    googleChat:\n      secretRef: chat\n      on: [advance, promoted]\n",
			[]string{`c.yaml:25: spec.notify.googleChat.on[1]: want one of start, advance, pause, resume, promote, rollback, freeze, got "promoted"`}},
		{"webhook without signing key", "    webhook: {secretRef: hook}\n",
			[]string{"c.yaml:23: spec.notify.webhook.signingSecretRef: required"}},
		{"slack level", "    slack: {channel: \"#d\", on: [everything]}\n",
			[]string{`spec.notify.slack.on[0]: want one of`}},
		{"unknown notifier", "    teamz: {secretRef: x}\n", []string{"c.yaml:23: spec.notify.teamz: unknown field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCanaries("c.yaml", []byte(notifyBase(tt.block)), testChecks)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestWants(t *testing.T) {
	tests := []struct {
		on     []string
		action string
		want   bool
	}{
		{nil, "advance", true},
		{[]string{"rollback"}, "rollback", true},
		{[]string{"rollback"}, "advance", false},
	}
	for _, tt := range tests {
		if got := Wants(tt.on, tt.action); got != tt.want {
			t.Errorf("Wants(%v, %s) = %v", tt.on, tt.action, got)
		}
	}
}
