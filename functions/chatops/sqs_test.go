package chatops

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/birdwatch-gitops/birdwatch/functions/worker"
	"github.com/birdwatch-gitops/birdwatch/functions/worker/sqstest"
)

// TestSlackToSQSToWorkerToGit is the Lambda path in one process: a signed
// slash command acknowledged by Handler with an SQSDispatcher (real
// aws-sdk-go-v2 client, SQS JSON-protocol endpoint), the queued message
// consumed by worker.Handler with the Runner as processor, a commit in a
// real fleet repository and the answer posted to the response URL.
func TestSlackToSQSToWorkerToGit(t *testing.T) {
	f, e := pausedFleet(t)
	api := startSlack(t)
	q := sqstest.Start(t)
	h := &Handler{SigningSecret: signingSecret, Dispatcher: &SQSDispatcher{SQS: q.Client(), QueueURL: q.QueueURL("birdwatch.fifo")}}
	body := slashBody(operator, "promote games/aleph", "4.5.6", api.responseURL(1))
	for range 2 { // a replayed request (same trigger) is deduplicated by SQS
		if resp := h.Handle(t.Context(), sign(signingSecret, body, time.Now()), body); resp.Status != 200 {
			t.Fatalf("ack %d %s", resp.Status, resp.Body)
		}
	}
	msgs := q.Messages()
	if len(msgs) != 1 || msgs[0].GroupID != "chatops:games/aleph" || msgs[0].DeduplicationID != "slack-4.5.6" {
		t.Fatalf("queued %+v", msgs)
	}
	if strings.Contains(msgs[0].Body, verificationToken) {
		t.Error("the job carries Slack's verification token")
	}
	before := len(subjects(t, f))
	w := &worker.Handler{Processors: map[string]worker.Processor{MessageType: &Runner{Loops: []Loop{e},
		ResponseURLPrefixes: []string{api.URL + "/"}}}}
	resp, err := w.HandleSQS(t.Context(), sqstest.Event(msgs...))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("worker: %+v %v", resp, err)
	}
	if got := subjects(t, f); len(got) != before+1 || !strings.Contains(got[0], "weight 0 -> 50") {
		t.Errorf("commits %v", got)
	}
	if posts := api.received(); len(posts) != 1 || posts[0]["response_type"] != "in_channel" {
		t.Errorf("posts %v", posts)
	}
}

// failingSQS is a Sender that always fails.
type failingSQS struct{}

func (failingSQS) SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return nil, errors.New("AccessDenied")
}

func TestSQSDispatcher(t *testing.T) {
	q := sqstest.Start(t)
	tests := []struct {
		name      string
		d         *SQSDispatcher
		job       Job
		wantErr   string
		wantGroup string
	}{
		{name: "standard queue", d: &SQSDispatcher{SQS: q.Client(), QueueURL: q.QueueURL("birdwatch")},
			job: Job{Kind: "status", UserID: "U1", TriggerID: "1.1"}},
		{name: "fifo status", d: &SQSDispatcher{SQS: q.Client(), QueueURL: q.QueueURL("b.fifo")},
			job: Job{Kind: "status", UserID: "U1", TriggerID: "1.2"}, wantGroup: "chatops"},
		{name: "send fails", d: &SQSDispatcher{SQS: failingSQS{}, QueueURL: "q.fifo"}, job: Job{Kind: "status", TriggerID: "1.3"},
			wantErr: "send job to SQS: AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(q.Messages())
			err := tt.d.Dispatch(t.Context(), tt.job)
			if (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			msgs := q.Messages()
			if len(msgs) != n+1 {
				t.Fatalf("%d messages", len(msgs))
			}
			m := msgs[n]
			j, err := DecodeJob([]byte(m.Body))
			if err == nil || !errors.Is(err, ErrBadJob) { // no response URL: decodes, then fails validation
				t.Errorf("decode %v", err)
			}
			if j.Type != MessageType || j.TriggerID != tt.job.TriggerID || m.GroupID != tt.wantGroup {
				t.Errorf("message %+v job %+v", m, j)
			}
		})
	}
}
