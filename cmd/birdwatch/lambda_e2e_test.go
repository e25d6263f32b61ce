//go:build lambdae2e

// The Lambda end-to-end test runs the real bootstrap binary under the AWS
// Lambda runtime interface emulator. It is behind the lambdae2e build tag
// because it builds the bootstrap (CGO_ENABLED=0, -tags lambda.norpc,
// -trimpath), which takes minutes on a cold build cache: run it with
// `make e2e-lambda`, which builds the bootstrap first and passes its path
// in BIRDWATCH_BOOTSTRAP.

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	fanout "github.com/birdwatch-gitops/birdwatch/functions/schedule"
	"github.com/birdwatch-gitops/birdwatch/functions/worker/sqstest"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/internal/rietest"
)

// bootstrap returns the bootstrap binary: $BIRDWATCH_BOOTSTRAP, or one built now.
func bootstrap(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("BIRDWATCH_BOOTSTRAP"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build bootstrap: %v\n%s", err, b)
	}
	return out
}

// rie is one function: aws-lambda-rie running the bootstrap with its environment.
type rie struct {
	*rietest.Function
}

// startRIE starts aws-lambda-rie for handler; its output is logged when the test fails.
func startRIE(t testing.TB, boot, handler string, env map[string]string) *rie {
	t.Helper()
	var kv []string
	for k, v := range env {
		kv = append(kv, k+"="+v)
	}
	f := rietest.Start(t, boot, handler, kv)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s output:\n%s", handler, f.Output())
		}
	})
	return &rie{f}
}

// invoke POSTs payload to the function and decodes its answer into out.
func (r *rie) invoke(t testing.TB, payload []byte, out any) {
	t.Helper()
	resp, err := http.Post(r.URL, "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke: %d %s", resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
}

// e2e is the emulated deployment: three functions, the queue, Slack and the fleet.
type e2e struct {
	f                 *fleet.Repo
	q                 *sqstest.Server
	slack             *lambdaSlack
	sched, work, chat *rie
}

// newE2E starts schedule, worker and chatops under aws-lambda-rie, all
// configured for the fleet and for a second, unreachable repository.
func newE2E(t testing.TB) *e2e {
	if _, err := exec.LookPath("aws-lambda-rie"); err != nil {
		t.Skip("aws-lambda-rie is not on PATH: go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest")
	}
	e := &e2e{f: lambdaFleet(t), q: sqstest.Start(t), slack: startLambdaSlack(t)}
	boot := bootstrap(t)
	secretFile := filepath.Join(t.TempDir(), "slack-signing-secret")
	if err := os.WriteFile(secretFile, []byte(lambdaSigningSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := "file://" + filepath.Join(t.TempDir(), "missing.git")
	env := func() map[string]string {
		return map[string]string{"BIRDWATCH_REPOS": e.f.URL() + "," + missing, "BIRDWATCH_CACHE_DIR": t.TempDir(),
			"BIRDWATCH_QUEUE_URL": e.q.QueueURL("birdwatch.fifo"), "AWS_ENDPOINT_URL_SQS": e.q.URL,
			"BIRDWATCH_SLACK_SIGNING_SECRET_FILE": secretFile, "BIRDWATCH_SLACK_RESPONSE_URL_PREFIXES": e.slack.URL + "/commands/"}
	}
	e.sched, e.work, e.chat = startRIE(t, boot, "schedule", env()), startRIE(t, boot, "worker", env()), startRIE(t, boot, "chatops", env())
	return e
}

func (e *e2e) head(t *testing.T) string {
	t.Helper()
	s, err := e.f.Subjects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s[0]
}

// responseURL is a response URL of the local Slack, shaped like Slack's.
func (e *e2e) responseURL(n int) string {
	return fmt.Sprintf("%s/commands/T0001/%d/1aA2bB3cC4dD5eE6fF7gG8hH", e.slack.URL, n)
}

// work runs msgs through the worker and returns the IDs it wants retried.
func (e *e2e) runWorker(t *testing.T, msgs ...sqstest.Message) []string {
	t.Helper()
	var batch events.SQSEventResponse
	e.work.invoke(t, mustJSON(t, sqstest.Event(msgs...)), &batch)
	ids := []string{}
	for _, f := range batch.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// chatops invokes the chatops function with a function URL event.
func (e *e2e) chatops(t testing.TB, event []byte) events.APIGatewayV2HTTPResponse {
	t.Helper()
	var ack events.APIGatewayV2HTTPResponse
	e.chat.invoke(t, event, &ack)
	return ack
}

// TestLambdaThroughTheRuntimeEmulator runs schedule, worker and chatops as
// three functions under aws-lambda-rie with the real bootstrap: a
// scheduled event becomes SQS sends (an SQS JSON-protocol endpoint behind
// aws-sdk-go-v2's BaseEndpoint, set by AWS_ENDPOINT_URL_SQS), the worker
// turns those messages into commits in a real fleet repository, and
// signed Slack commands and button clicks become jobs that the worker
// runs, with the answers posted to an httptest response URL.
func TestLambdaThroughTheRuntimeEmulator(t *testing.T) {
	e := newE2E(t)
	t.Run("schedule fans out, worker decides", e.scheduleAndWork)
	t.Run("forged and replayed commands are refused", e.forged)
	t.Run("operator promotes, stranger is refused", e.commands)
	t.Run("a redelivered job acts once", e.redelivered)
	t.Run("abort button", e.button)
	t.Run("no secret in any log", e.logs)
}

// scheduleAndWork: a tick, delivered twice by EventBridge, enqueues one
// message per repository; the worker runs the fleet's loop and returns the
// unreachable repository's message for a retry.
func (e *e2e) scheduleAndWork(t *testing.T) {
	tick := time.Now().UTC().Truncate(time.Minute)
	var res fanout.Result
	for range 2 {
		e.sched.invoke(t, lambdaScheduledEvent(tick), &res)
	}
	ticks := e.q.Messages()
	if res.Sent != 2 || len(ticks) != 2 || ticks[0].GroupID != e.f.URL() || ticks[0].DeduplicationID != fanout.DeduplicationID(e.f.URL(), tick) {
		t.Fatalf("schedule: %+v, queued %+v", res, ticks)
	}
	if failed := e.runWorker(t, ticks...); len(failed) != 1 || failed[0] != ticks[1].ID {
		t.Errorf("batch failures %v, want only %s", failed, ticks[1].ID)
	}
	if h := e.head(t); !strings.Contains(h, "games/aleph v04 pause at weight 0") {
		t.Fatalf("head %q", h)
	}
}

func (e *e2e) forged(t *testing.T) {
	n := len(e.q.Messages())
	for _, ev := range [][]byte{
		lambdaSlashEvent("not-the-secret", lambdaOperator, "abort games/aleph", "8.0.1", e.responseURL(0), time.Now()),
		lambdaSlashEvent(lambdaSigningSecret, lambdaOperator, "abort games/aleph", "8.0.2", e.responseURL(0), time.Now().Add(-6*time.Minute)),
		lambdaButtonEvent("not-the-secret", lambdaOperator, "birdwatch_abort", "games/aleph@v04", "8.0.3", e.responseURL(0), time.Now()),
	} {
		if ack := e.chatops(t, ev); ack.StatusCode != 401 || len(e.q.Messages()) != n {
			t.Fatalf("bad signature: %d, %d messages", ack.StatusCode, len(e.q.Messages()))
		}
	}
}

func (e *e2e) commands(t *testing.T) {
	n := len(e.q.Messages())
	for i, c := range []struct{ user, text string }{{lambdaOperator, "promote games/aleph"}, {"U0STRANGER", "abort games/aleph"}} {
		ack := e.chatops(t, lambdaSlashEvent(lambdaSigningSecret, c.user, c.text, fmt.Sprintf("8.1.%d", i), e.responseURL(i), time.Now()))
		if ack.StatusCode != 200 || !strings.Contains(ack.Body, "Working on") {
			t.Fatalf("%s: %d %s", c.text, ack.StatusCode, ack.Body)
		}
	}
	jobs := e.q.Messages()[n:]
	if len(jobs) != 2 || jobs[0].GroupID != "chatops:games/aleph" || jobs[0].DeduplicationID != "slack-8.1.0" {
		t.Fatalf("jobs %+v", jobs)
	}
	if failed := e.runWorker(t, jobs...); len(failed) != 0 || !strings.Contains(e.head(t), "weight 0 -> 50") {
		t.Fatalf("failed %v, head %q", failed, e.head(t))
	}
	msg, _ := e.f.Message(t.Context(), "main")
	posts := e.slack.received()
	if len(posts) != 2 || posts[0]["response_type"] != "in_channel" || !strings.Contains(msg, "Birdwatch-Trigger: chatops") ||
		!strings.Contains(fmt.Sprint(posts[1]["text"]), "slack:U0STRANGER is not among the operators") {
		t.Fatalf("posts %v\ncommit %s", posts, msg)
	}
}

// redelivered: SQS delivers the promote job again; it acts once and the
// answer says it was already applied (command.Answer).
func (e *e2e) redelivered(t *testing.T) {
	var promote sqstest.Message
	for _, m := range e.q.Messages() {
		if m.DeduplicationID == "slack-8.1.0" {
			promote = m
		}
	}
	before, posts := e.head(t), len(e.slack.received())
	if failed := e.runWorker(t, promote); len(failed) != 0 || e.head(t) != before {
		t.Fatalf("failed %v, head %q", failed, e.head(t))
	}
	if got := e.slack.received(); len(got) != posts+1 || !strings.Contains(fmt.Sprint(got[posts]["text"]), "already applied") {
		t.Errorf("posts %v", got)
	}
}

// button: a click on the Abort button of the decision message rolls back
// and replaces that message.
func (e *e2e) button(t *testing.T) {
	n, posts := len(e.q.Messages()), len(e.slack.received())
	ack := e.chatops(t, lambdaButtonEvent(lambdaSigningSecret, lambdaOperator, "birdwatch_abort", "games/aleph@v04", "8.2.0",
		e.responseURL(5), time.Now()))
	if ack.StatusCode != 200 || ack.Body != "" || len(e.q.Messages()) != n+1 {
		t.Fatalf("button ack %d %q", ack.StatusCode, ack.Body)
	}
	if failed := e.runWorker(t, e.q.Messages()[n]); len(failed) != 0 || !strings.Contains(e.head(t), "rollback, weight 50 -> 0") {
		t.Fatalf("failed %v, head %q", failed, e.head(t))
	}
	got := e.slack.received()
	if len(got) != posts+1 || got[posts]["replace_original"] != true || got[posts]["response_type"] != "in_channel" {
		t.Errorf("answer %v", got[posts:])
	}
}

func (e *e2e) logs(t *testing.T) {
	for name, r := range map[string]*rie{"schedule": e.sched, "worker": e.work, "chatops": e.chat} {
		logs := r.Output()
		if !strings.Contains(logs, "lambda ready") {
			t.Errorf("%s did not log its start:\n%s", name, logs)
		}
		for _, secret := range []string{lambdaSigningSecret, "1aA2bB3cC4dD5eE6fF7gG8hH", "gIkuvaNzQIHg97ATvDxqgjtO", "e2e-aws-secret"} {
			if strings.Contains(logs, secret) {
				t.Errorf("%s logs contain %q", name, secret)
			}
		}
	}
}

// BenchmarkChatopsAckThroughRIE measures a signed slash command from the
// invocation request to the function's answer through the Lambda runtime
// API of aws-lambda-rie (signature check, parsing, the SQS send to the
// local endpoint): the latency Slack's three-second limit applies to,
// less API Gateway. Run: BIRDWATCH_BOOTSTRAP=... go test -tags lambdae2e
// -run '^$' -bench ChatopsAck ./cmd/birdwatch
func BenchmarkChatopsAckThroughRIE(b *testing.B) {
	e := newE2E(b)
	i := 0
	for b.Loop() {
		i++
		ev := lambdaSlashEvent(lambdaSigningSecret, lambdaOperator, "status", fmt.Sprintf("9.%d", i), e.responseURL(i), time.Now())
		if ack := e.chatops(b, ev); ack.StatusCode != 200 {
			b.Fatalf("ack %d %s", ack.StatusCode, ack.Body)
		}
	}
}
