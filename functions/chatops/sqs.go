package chatops

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/birdwatch-gitops/birdwatch/functions/worker"
)

// Sender is the one SQS call SQSDispatcher makes; *sqs.Client implements it.
type Sender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQSDispatcher is the Dispatcher of the Lambda function: it sends each job
// as JSON (type MessageType) to an SQS queue that functions/worker consumes
// with a Runner as the processor. On a FIFO queue (URL ending in ".fifo")
// the message group is the canary, so one canary's commands run in order,
// and the deduplication ID is the command ID, so a replayed request within
// SQS's five-minute window enqueues nothing. Safe for concurrent use.
type SQSDispatcher struct {
	SQS      Sender
	QueueURL string
}

// Dispatch sends j.
func (d *SQSDispatcher) Dispatch(ctx context.Context, j Job) error {
	j.Envelope = jobEnvelope
	body, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("encode job: %w", err)
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(d.QueueURL), MessageBody: aws.String(string(body))}
	if strings.HasSuffix(d.QueueURL, ".fifo") {
		group := "chatops"
		if j.Canary != "" {
			group += ":" + j.Canary
		}
		in.MessageGroupId = aws.String(worker.FIFOID(group))
		in.MessageDeduplicationId = aws.String(worker.FIFOID(j.CommandID()))
	}
	if _, err := d.SQS.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("send job to SQS: %w", err)
	}
	return nil
}
