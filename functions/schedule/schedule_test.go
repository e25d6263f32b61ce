package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/birdwatch-gitops/birdwatch/functions/worker"
	"github.com/birdwatch-gitops/birdwatch/functions/worker/sqstest"
)

// scheduledEvent is an EventBridge scheduled event as Lambda receives it
// (shape from the EventBridge documentation's "Scheduled Event" example).
const scheduledEvent = `{
  "version": "0",
  "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
  "detail-type": "Scheduled Event",
  "source": "aws.events",
  "account": "123456789012",
  "time": "2026-11-20T12:01:00Z",
  "region": "us-east-1",
  "resources": ["arn:aws:events:us-east-1:123456789012:rule/birdwatch-tick"],
  "detail": {}
}`

func event(t *testing.T, raw string) events.EventBridgeEvent {
	t.Helper()
	var ev events.EventBridgeEvent
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// fakeSQS is a Sender that records inputs and fails for repos listed in fail.
type fakeSQS struct {
	inputs []*sqs.SendMessageInput
	fail   string
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.inputs = append(f.inputs, in)
	if f.fail != "" && strings.Contains(aws.ToString(in.MessageBody), f.fail) {
		return nil, errors.New("throttled")
	}
	return &sqs.SendMessageOutput{MessageId: aws.String("id-" + aws.ToString(in.MessageGroupId))}, nil
}

func TestHandleEventFansOutOneMessagePerRepo(t *testing.T) {
	repos := []string{"https://github.com/acme/fleet", "https://github.com/acme/other-fleet.git"}
	tick := time.Date(2026, 11, 20, 12, 1, 0, 0, time.UTC)
	tests := []struct {
		name      string
		queue     string
		event     string
		fail      string
		wantSent  int
		wantErr   string
		wantTick  time.Time
		wantGroup bool
	}{
		{name: "fifo queue", queue: "https://sqs.us-east-1.amazonaws.com/123456789012/birdwatch.fifo",
			event: scheduledEvent, wantSent: 2, wantTick: tick, wantGroup: true},
		{name: "standard queue", queue: "https://sqs.us-east-1.amazonaws.com/123456789012/birdwatch",
			event: scheduledEvent, wantSent: 2, wantTick: tick},
		{name: "manual invocation uses the clock", queue: "q.fifo", event: `{}`, wantSent: 2,
			wantTick: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), wantGroup: true},
		{name: "one failing repo does not stop the others", queue: "q.fifo", event: scheduledEvent,
			fail: "other-fleet", wantSent: 1, wantErr: "send message for https://github.com/acme/other-fleet.git: throttled",
			wantTick: tick, wantGroup: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSQS{fail: tt.fail}
			h := &Handler{Repos: repos, QueueURL: tt.queue, SQS: f,
				Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 999, time.Local) }}
			res, err := h.HandleEvent(t.Context(), event(t, tt.event))
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			if res.Sent != tt.wantSent || len(res.MessageIDs) != tt.wantSent || !res.Tick.Equal(tt.wantTick) {
				t.Errorf("result %+v", res)
			}
			if len(f.inputs) != len(repos) {
				t.Fatalf("%d sends for %d repos", len(f.inputs), len(repos))
			}
			for i, in := range f.inputs {
				m, err := worker.DecodeRepoMessage([]byte(aws.ToString(in.MessageBody)))
				if err != nil || m.Repo != repos[i] || !m.Tick.Equal(tt.wantTick) {
					t.Errorf("message %d: %+v %v", i, m, err)
				}
				if aws.ToString(in.QueueUrl) != tt.queue {
					t.Errorf("queue %s", aws.ToString(in.QueueUrl))
				}
				group, dedup := aws.ToString(in.MessageGroupId), aws.ToString(in.MessageDeduplicationId)
				if tt.wantGroup != (group != "") || tt.wantGroup != (dedup != "") {
					t.Errorf("group %q dedup %q on queue %s", group, dedup, tt.queue)
				}
				if tt.wantGroup && (group != repos[i] || dedup != DeduplicationID(repos[i], tt.wantTick)) {
					t.Errorf("group %q dedup %q, want the repo and its tick hash", group, dedup)
				}
			}
		})
	}
}

func TestHandleEventWithoutRepos(t *testing.T) {
	h := &Handler{QueueURL: "q.fifo", SQS: &fakeSQS{}}
	if _, err := h.HandleEvent(t.Context(), event(t, scheduledEvent)); !errors.Is(err, ErrNoRepos) {
		t.Errorf("err %v, want ErrNoRepos", err)
	}
}

func TestDeduplicationID(t *testing.T) {
	at := time.Date(2026, 11, 20, 12, 1, 0, 0, time.UTC)
	a := DeduplicationID("https://github.com/acme/fleet", at)
	tests := []struct {
		name  string
		other string
		same  bool
	}{
		{name: "same repo and tick in another zone", other: DeduplicationID("https://github.com/acme/fleet", at.In(time.FixedZone("CET", 3600))), same: true},
		{name: "next tick", other: DeduplicationID("https://github.com/acme/fleet", at.Add(time.Minute))},
		{name: "other repo", other: DeduplicationID("https://github.com/acme/fleet2", at)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (a == tt.other) != tt.same || len(tt.other) > 128 {
				t.Errorf("%q vs %q", a, tt.other)
			}
		})
	}
}

// TestRedeliveredTickEnqueuesOnce sends through the real aws-sdk-go-v2 SQS
// client to an SQS JSON-protocol endpoint: EventBridge delivering the same
// tick twice leaves one message per repository on the FIFO queue, and the
// SDK's MD5 check of each response passes.
func TestRedeliveredTickEnqueuesOnce(t *testing.T) {
	srv := sqstest.Start(t)
	repos := []string{"file:///srv/fleet.git", "file:///srv/my fleet.git"}
	h := &Handler{Repos: repos, QueueURL: srv.QueueURL("birdwatch.fifo"), SQS: srv.Client()}
	first, err := h.HandleEvent(t.Context(), event(t, scheduledEvent))
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.HandleEvent(t.Context(), event(t, scheduledEvent))
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 || strings.Join(first.MessageIDs, ",") != strings.Join(again.MessageIDs, ",") {
		t.Fatalf("%d messages queued, ids %v then %v", len(msgs), first.MessageIDs, again.MessageIDs)
	}
	if msgs[0].GroupID != repos[0] || msgs[1].GroupID != worker.HashID(repos[1]) {
		t.Errorf("groups %q %q: a URL with a space must be hashed", msgs[0].GroupID, msgs[1].GroupID)
	}
	next := event(t, strings.Replace(scheduledEvent, "12:01:00Z", "12:02:00Z", 1))
	if _, err := h.HandleEvent(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages()); n != 4 {
		t.Errorf("the next tick queued %d messages in all, want 4", n)
	}
}
