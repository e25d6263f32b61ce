// Package sqstest is an Amazon SQS endpoint for tests: an httptest server
// speaking the SQS JSON protocol (awsJson1_0, what aws-sdk-go-v2 uses) for
// SendMessage, with FIFO queues' rules (a group ID is required, a
// deduplication ID seen in the last five minutes enqueues nothing). It
// keeps what was sent and turns it into the events.SQSEvent a Lambda
// consumer would receive. It is a test double for a SaaS API we cannot
// reach here; no real SQS feature beyond these is modelled.
package sqstest

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Message is one accepted message.
type Message struct {
	ID, QueueURL, Body, GroupID, DeduplicationID string
	// Attributes are the message attributes' string values by name.
	Attributes map[string]string
}

// Server is the endpoint. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	// Now is the clock of the deduplication window; set before use.
	Now func() time.Time

	mu       sync.Mutex
	messages []Message
	dedup    map[string]dedupEntry
	next     int
	requests int
}

type dedupEntry struct {
	id string
	at time.Time
}

// Start starts a server closed when the test ends.
func Start(t testing.TB) *Server {
	s := &Server{Now: time.Now, dedup: map[string]dedupEntry{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// QueueURL returns the URL of a queue of this server named name ("x.fifo" for FIFO).
func (s *Server) QueueURL(name string) string { return s.URL + "/123456789012/" + name }

// Client returns a real aws-sdk-go-v2 SQS client whose BaseEndpoint is
// this server, with test credentials and region us-east-1.
func (s *Server) Client() *sqs.Client {
	creds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "test-secret"}, nil
	})
	return sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), Credentials: creds})
}

// Messages returns the accepted messages, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Requests counts the API calls received, accepted or not.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Event returns msgs as the SQS event Lambda delivers to a consumer, with
// the system attributes FIFO consumers read.
func Event(msgs ...Message) events.SQSEvent {
	var ev events.SQSEvent
	for _, m := range msgs {
		sum := md5.Sum([]byte(m.Body))
		queue := m.QueueURL[strings.LastIndex(m.QueueURL, "/")+1:]
		rec := events.SQSMessage{MessageId: m.ID, ReceiptHandle: "rh-" + m.ID, Body: m.Body,
			Md5OfBody: hex.EncodeToString(sum[:]), EventSource: "aws:sqs", AWSRegion: "us-east-1",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:" + queue,
			Attributes: map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1763640000000",
				"SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1763640000001"}}
		if m.GroupID != "" {
			rec.Attributes["MessageGroupId"] = m.GroupID
			rec.Attributes["MessageDeduplicationId"] = m.DeduplicationID
			rec.Attributes["SequenceNumber"] = "18849496460467696128"
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

// sendMessageInput is the SendMessage request body (API reference field names).
type sendMessageInput struct {
	QueueUrl, MessageBody, MessageGroupId, MessageDeduplicationId string
	MessageAttributes                                             map[string]struct {
		DataType, StringValue string
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		apiError(w, "InvalidAction", "want a POST of application/x-amz-json-1.0")
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "AmazonSQS.SendMessage" {
		apiError(w, "UnsupportedOperation", "sqstest serves AmazonSQS.SendMessage only, not "+target)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		apiError(w, "MissingAuthenticationToken", "request is not signed")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var in sendMessageInput
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	if err != nil {
		apiError(w, "InvalidParameterValue", "bad request body")
		return
	}
	out, code, msg := s.send(in)
	if code != "" {
		apiError(w, code, msg)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

// send applies SendMessage's rules and returns the response, or an error code and message.
func (s *Server) send(in sendMessageInput) (map[string]string, string, string) {
	fifo := strings.HasSuffix(in.QueueUrl, ".fifo")
	switch {
	case in.MessageBody == "":
		return nil, "MissingParameter", "The request must contain the parameter MessageBody."
	case len(in.MessageBody) > 256<<10:
		return nil, "InvalidParameterValue", "MessageBody is too long"
	case fifo && in.MessageGroupId == "":
		return nil, "MissingParameter", "The request must contain the parameter MessageGroupId."
	case fifo && in.MessageDeduplicationId == "":
		return nil, "InvalidParameterValue", "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
	case !fifo && (in.MessageGroupId != "" || in.MessageDeduplicationId != ""):
		return nil, "InvalidParameterValue", "MessageGroupId and MessageDeduplicationId are for FIFO queues"
	case len(in.MessageGroupId) > 128 || len(in.MessageDeduplicationId) > 128:
		return nil, "InvalidParameterValue", "group or deduplication ID longer than 128 characters"
	}
	sum := md5.Sum([]byte(in.MessageBody))
	out := map[string]string{"MD5OfMessageBody": hex.EncodeToString(sum[:])}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	key := in.QueueUrl + "\n" + in.MessageDeduplicationId
	if e, ok := s.dedup[key]; fifo && ok && now.Sub(e.at) < 5*time.Minute {
		out["MessageId"] = e.id // accepted, not enqueued again
		return out, "", ""
	}
	s.next++
	m := Message{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", s.next), QueueURL: in.QueueUrl, Body: in.MessageBody,
		GroupID: in.MessageGroupId, DeduplicationID: in.MessageDeduplicationId, Attributes: map[string]string{}}
	for k, v := range in.MessageAttributes {
		m.Attributes[k] = v.StringValue
	}
	if fifo {
		s.dedup[key] = dedupEntry{id: m.ID, at: now}
		out["SequenceNumber"] = fmt.Sprintf("%020d", s.next)
	}
	s.messages = append(s.messages, m)
	out["MessageId"] = m.ID
	return out, "", ""
}

// apiError writes an SQS JSON-protocol error as aws-sdk-go-v2 parses it.
func apiError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Query-Error", "AWS.SimpleQueueService."+code+";Sender")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + code, "message": msg})
}
