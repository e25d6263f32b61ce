// Package worker is birdwatch's SQS consumer: a Lambda handler for SQS
// batches (events.SQSEvent) that hands each message to the Processor of
// its type and reports the messages to retry as partial batch failures
// (events.SQSEventResponse), so one bad message does not redeliver the
// batch. Producers are functions/schedule (one RepoMessage per repository
// per tick) and functions/chatops (chat commands to run).
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Processor handles one message body. An error makes the message a batch
// item failure (SQS delivers it again) unless IsPermanent(err).
// Implementations must be safe for concurrent use.
type Processor interface {
	Process(ctx context.Context, body []byte) error
}

// ProcessorFunc adapts a function to Processor.
type ProcessorFunc func(ctx context.Context, body []byte) error

// Process calls f.
func (f ProcessorFunc) Process(ctx context.Context, body []byte) error { return f(ctx, body) }

// Handler consumes SQS batches. Its fields are set once; it is then safe
// for concurrent use.
type Handler struct {
	// Processors maps an Envelope type to its processor.
	Processors map[string]Processor
	// Log receives one line per message; nil discards.
	Log *slog.Logger
}

// groupAttribute is the SQS system attribute naming a FIFO message's group.
const groupAttribute = "MessageGroupId"

// HandleSQS processes ev's messages in order and returns those to retry.
// Messages that cannot succeed on retry (not birdwatch messages, unknown
// types, permanent errors) are logged and dropped. For FIFO queues, once a
// message of a group fails, the later messages of that group in the batch
// are returned unprocessed, which keeps the group's order; other groups
// go on. When ctx ends, the remaining messages are returned unprocessed.
// The error is always nil: failures are per message.
func (h *Handler) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	failedGroups := map[string]bool{}
	for _, m := range ev.Records {
		group := m.Attributes[groupAttribute]
		var err error
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("not processed: %w", ctx.Err())
		case group != "" && failedGroups[group]:
			err = errors.New("not processed: an earlier message of its group failed")
		default:
			err = h.process(ctx, m)
		}
		if err == nil || IsPermanent(err) {
			continue
		}
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		if group != "" {
			failedGroups[group] = true
		}
	}
	return resp, nil
}

// process runs one message through its processor and logs the outcome.
func (h *Handler) process(ctx context.Context, m events.SQSMessage) error {
	start := time.Now()
	var env Envelope
	err := json.Unmarshal([]byte(m.Body), &env)
	if err != nil {
		err = Permanent(fmt.Errorf("%w: %w", ErrBadMessage, err))
	} else if p, ok := h.Processors[env.Type]; !ok {
		err = Permanent(fmt.Errorf("%w: unknown type %q", ErrBadMessage, env.Type))
	} else {
		err = p.Process(ctx, []byte(m.Body))
	}
	h.log(m, env.Type, time.Since(start), err)
	return err
}

func (h *Handler) log(m events.SQSMessage, typ string, took time.Duration, err error) {
	if h.Log == nil {
		return
	}
	attrs := []any{"message", m.MessageId, "type", typ, "group", m.Attributes[groupAttribute],
		"receiveCount", m.Attributes["ApproximateReceiveCount"], "took", took.Round(time.Millisecond)}
	switch {
	case err == nil:
		h.Log.Info("message processed", attrs...)
	case IsPermanent(err):
		h.Log.Error("message dropped", append(attrs, "error", err)...)
	default:
		h.Log.Warn("message failed, to be retried", append(attrs, "error", err)...)
	}
}
