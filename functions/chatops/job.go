package chatops

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/functions/worker"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// MessageType is the worker.Envelope type of a Job sent through SQS.
const MessageType = "chatops"

// jobEnvelope marks a Job's JSON for functions/worker.
var jobEnvelope = worker.Envelope{Type: MessageType}

// KindStatus is the read-only job kind; every other kind is a rollout.CommandKind.
const KindStatus = "status"

// Job is a verified chat command, run after Slack got its acknowledgement.
// It is JSON so it can travel through SQS to functions/worker.
type Job struct {
	worker.Envelope
	// Kind is KindStatus or a rollout.CommandKind (promote, pause, ...).
	Kind string `json:"kind"`
	// Canary is "namespace/name"; "" for a status of every canary.
	Canary string `json:"canary,omitempty"`
	// Generation, set by a button, limits the command to the rollout of
	// that canary version, so a click on an old message cannot act on a
	// newer rollout; "" means the current one.
	Generation string `json:"generation,omitempty"`
	// UserID is the Slack user who asked; TeamID and ChannelID where.
	UserID    string `json:"userId"`
	TeamID    string `json:"teamId,omitempty"`
	ChannelID string `json:"channelId,omitempty"`
	// TriggerID is Slack's ID of this interaction; it makes the command's ID.
	TriggerID string `json:"triggerId"`
	// ResponseURL is where the result is posted. It lets anyone post to
	// the channel for a while, so it is never logged.
	ResponseURL string `json:"responseUrl"`
	// FromButton is true for a click on a report's button: a result that
	// changed something replaces that report.
	FromButton bool `json:"fromButton,omitempty"`
	// IssuedAt is the request's signed timestamp (X-Slack-Request-Timestamp).
	// A command acts only on the rollout as it was then: if the rollout
	// changed after it, the command is refused, so a refused command
	// replayed within Slack's five-minute window cannot apply to a later
	// state. Zero skips that check.
	IssuedAt time.Time `json:"issuedAt,omitzero"`
}

// Actor is the job's user as spec.access.operators and the history name it: "slack:<user id>".
func (j Job) Actor() string { return "slack:" + j.UserID }

// CommandID is the command's delivery ID, "slack-<trigger id>": the status
// records it, so a redelivered job acts once.
func (j Job) CommandID() string { return "slack-" + j.TriggerID }

// Request is the loop's request for a command job on the canary key
// ("namespace/name") the job's reference resolved to.
func (j Job) Request(key string) core.Request {
	return core.Request{Canary: key, Trigger: "chatops",
		Command: &rollout.Command{Kind: rollout.CommandKind(j.Kind), Actor: j.Actor(), ID: j.CommandID()}}
}

// Slack IDs: users (U..., W...), teams, channels are upper-case
// alphanumerics; trigger IDs are digits, dots and hex.
var (
	slackID   = regexp.MustCompile(`^[A-Z0-9]{1,32}$`)
	triggerID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
)

// validate checks what the runner relies on.
func (j Job) validate() error {
	switch {
	case j.Type != "" && j.Type != MessageType:
		return fmt.Errorf("%w: type %q", ErrBadJob, j.Type)
	case !slackID.MatchString(j.UserID):
		return fmt.Errorf("%w: user id %.40q", ErrBadJob, j.UserID)
	case !triggerID.MatchString(j.TriggerID):
		return fmt.Errorf("%w: trigger id %.40q", ErrBadJob, j.TriggerID)
	case j.ResponseURL == "":
		return fmt.Errorf("%w: no response URL", ErrBadJob)
	case !knownKind(j.Kind):
		return fmt.Errorf("%w: kind %.40q", ErrBadJob, j.Kind)
	case j.Kind != KindStatus && j.Canary == "":
		return fmt.Errorf("%w: %s needs a canary", ErrBadJob, j.Kind)
	case j.Canary != "" && !canaryRef.MatchString(j.Canary):
		return fmt.Errorf("%w: canary %.80q", ErrBadJob, j.Canary)
	}
	return nil
}

// DecodeJob parses a job sent by SQSDispatcher and checks it; errors wrap ErrBadJob.
func DecodeJob(body []byte) (Job, error) {
	var j Job
	if err := json.Unmarshal(body, &j); err != nil {
		return j, fmt.Errorf("%w: %w", ErrBadJob, err)
	}
	if j.Type != MessageType {
		return j, fmt.Errorf("%w: type %q", ErrBadJob, j.Type)
	}
	return j, j.validate()
}
