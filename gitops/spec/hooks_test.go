package spec

import (
	"strings"
	"testing"
)

func TestWebhooksValidation(t *testing.T) {
	const ok = "      - {name: load-test, type: rollout, url: \"http://flagger-loadtester.test/\", timeout: 5s, metadata: {cmd: \"hey -z 1m http://podinfo-canary.test:9898/\"}}\n"
	tests := []struct {
		name  string
		hooks string
		want  []string
	}{
		{name: "every type", hooks: ok +
			"      - {name: gate, type: confirm-rollout, url: \"https://gate.example.com/approve\"}\n" +
			"      - {name: smoke, type: pre-rollout, url: \"http://smoke.test/\"}\n" +
			"      - {name: abort, type: rollback, url: \"http://gate.test/abort\"}\n" +
			"      - {name: promote-gate, type: confirm-promotion, url: \"http://gate.test/promote\"}\n" +
			"      - {name: notify, type: post-rollout, url: \"http://events.test/\"}\n" +
			"      - {name: events, type: event, url: \"http://events.test/\"}\n"},
		{name: "unknown type", hooks: "      - {name: x, type: pre-promotion, url: \"http://a.test/\"}\n",
			want: []string{`spec.analysis.webhooks[0].type: want one of confirm-rollout, pre-rollout, rollout, rollback, confirm-promotion, post-rollout, event, got "pre-promotion"`}},
		{name: "not http", hooks: "      - {name: x, type: rollout, url: \"file:///etc/passwd\"}\n",
			want: []string{`spec.analysis.webhooks[0].url: want an http or https URL, got scheme "file"`}},
		{name: "no URL", hooks: "      - {name: x, type: rollout}\n", want: []string{"spec.analysis.webhooks[0].url: required"}},
		{name: "credentials", hooks: "      - {name: x, type: rollout, url: \"https://user:pw@a.test/\"}\n",
			want: []string{"spec.analysis.webhooks[0].url: credentials in the URL are refused"}},
		{name: "duplicate name and long timeout", hooks: ok + "      - {name: load-test, type: event, url: \"http://a.test/\", timeout: 2m}\n",
			want: []string{`spec.analysis.webhooks[1].name: "load-test" is used by another webhook`, "spec.analysis.webhooks[1].timeout: must be in (0, 1m0s], got 2m0s"}},
		{name: "no name", hooks: "      - {type: event, url: \"http://a.test/\"}\n", want: []string{"spec.analysis.webhooks[0].name: required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(base, "    metrics:\n", "    webhooks:\n"+tt.hooks+"    metrics:\n", 1)
			if doc == base {
				t.Fatal("base spec has no analysis.metrics to put webhooks before")
			}
			cs, err := ParseCanaries("c.yaml", []byte(doc), Checks{})
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("ParseCanaries: %v", err)
				}
				if n := len(cs[0].HooksOf(HookRollout)); n != 1 {
					t.Errorf("HooksOf(rollout) = %d hooks, want 1", n)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}
