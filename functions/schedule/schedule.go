// Package schedule is the fan-out of scheduled runs: an EventBridge
// scheduled event (one "tick") becomes one worker.RepoMessage per
// configured repository on an SQS FIFO queue. The message group is the
// repository, so one repository's runs never overlap, and the
// deduplication ID is the repository and the tick, so a redelivered event
// enqueues nothing twice. functions/worker consumes the queue.
package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/birdwatch-gitops/birdwatch/functions/worker"
)

// Sender is the one SQS call the fan-out makes; *sqs.Client implements it.
type Sender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// ErrNoRepos is returned when no repository is configured.
var ErrNoRepos = errors.New("no repositories configured")

// Handler fans a tick out to the queue. Its fields are set once; it is
// then safe for concurrent use.
type Handler struct {
	// Repos are the repository URLs, one message each per tick.
	Repos []string
	// QueueURL is the SQS queue; a URL ending in ".fifo" gets group and
	// deduplication IDs.
	QueueURL string
	SQS      Sender
	// Now is the clock for events without a time; nil means time.Now.
	Now func() time.Time
	// Log receives one line per tick; nil discards.
	Log *slog.Logger
}

// Result is what one tick enqueued.
type Result struct {
	Tick time.Time `json:"tick"`
	// Sent counts the messages SQS accepted; MessageIDs are their IDs in Repos order.
	Sent       int      `json:"sent"`
	MessageIDs []string `json:"messageIds"`
}

// HandleEvent enqueues one message per repository for ev's tick: its time,
// to the second (EventBridge gives the scheduled time), or now when the
// event has none (a manual invocation). Every repository is tried; the
// error joins the failures, and Lambda's retry of the event cannot
// duplicate the messages that were sent (same deduplication IDs).
func (h *Handler) HandleEvent(ctx context.Context, ev events.EventBridgeEvent) (Result, error) {
	tick := ev.Time
	if tick.IsZero() {
		tick = h.now()
	}
	tick = tick.UTC().Truncate(time.Second)
	res := Result{Tick: tick, MessageIDs: []string{}}
	if len(h.Repos) == 0 {
		return res, ErrNoRepos
	}
	fifo := strings.HasSuffix(h.QueueURL, ".fifo")
	var errs []error
	for _, repo := range h.Repos {
		id, err := h.send(ctx, repo, tick, fifo)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res.Sent++
		res.MessageIDs = append(res.MessageIDs, id)
	}
	err := errors.Join(errs...)
	if h.Log != nil {
		h.Log.Info("tick fanned out", "tick", tick, "repos", len(h.Repos), "sent", res.Sent, "error", err)
	}
	return res, err
}

// send enqueues one repository's message and returns its message ID.
func (h *Handler) send(ctx context.Context, repo string, tick time.Time, fifo bool) (string, error) {
	body, err := json.Marshal(worker.NewRepoMessage(repo, tick))
	if err != nil {
		return "", fmt.Errorf("encode message for %s: %w", repo, err)
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(h.QueueURL), MessageBody: aws.String(string(body))}
	if fifo {
		in.MessageGroupId = aws.String(worker.FIFOID(repo))
		in.MessageDeduplicationId = aws.String(DeduplicationID(repo, tick))
	}
	out, err := h.SQS.SendMessage(ctx, in)
	if err != nil {
		return "", fmt.Errorf("send message for %s: %w", repo, err)
	}
	return aws.ToString(out.MessageId), nil
}

// DeduplicationID is the FIFO deduplication ID of repo's message at tick:
// a hash of both, so it is valid for any URL and equal for a redelivered tick.
func DeduplicationID(repo string, tick time.Time) string {
	return worker.HashID(repo + "\n" + tick.UTC().Format(time.RFC3339))
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
