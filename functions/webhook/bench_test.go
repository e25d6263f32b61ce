package webhook

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// BenchmarkIgnoredDelivery is the request-to-response latency of a signed
// delivery that needs no Git work: a PR comment without a command is read,
// verified, parsed with go-github and answered 200.
func BenchmarkIgnoredDelivery(b *testing.B) {
	h := fuzzHandler(b)
	p := defaults()
	p.Action, p.Body = "created", "Looks good to me."
	body := render(b, "github/issue_comment", p)
	sig := SignGitHub([]byte("s"), body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-GitHub-Event", "issue_comment")
		r.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%d", i))
		r.Header.Set("X-Hub-Signature-256", sig)
		w := httptest.NewRecorder()
		h.GitHub().ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkCommandCommit is the request-to-response latency of a PR
// command that makes a decision commit: authorization through the GitHub
// API (httptest), fetch, decide, commit and compare-and-swap push to a real
// bare repository, the reply comment and the report lookup. Commands
// alternate pause and resume so that each one commits.
func BenchmarkCommandCommit(b *testing.B) {
	e := newEnv(b)
	e.github("push", render(b, "github/push", defaults()))
	steps := []core.Request{{Trigger: "bench"}, {Canary: "games/aleph", Trigger: "bench",
		Command: &rollout.Command{Kind: rollout.CmdPromote, Actor: "github:alice"}}, {Trigger: "bench"}}
	for _, req := range steps {
		if _, err := e.engine.Run(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
	p := defaults()
	p.Action = "created"
	before := len(e.subjects())
	for i := 0; b.Loop(); i++ {
		p.CommentID, p.Number = int64(100000+i), 1000+i
		p.Body = map[bool]string{true: "/birdwatch pause", false: "/birdwatch resume"}[i%2 == 0]
		rec := e.github("issue_comment", render(b, "github/issue_comment", p))
		if r := decode(b, rec); r.Result != "done" || len(r.Outcomes) != 1 || r.Outcomes[0].Commit == "" {
			b.Fatalf("iteration %d: %+v", i, r)
		}
	}
	b.StopTimer()
	if n := len(e.subjects()) - before; n < 1 {
		b.Errorf("%d commits", n)
	}
}
