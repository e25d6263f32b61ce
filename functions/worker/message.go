package worker

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// TypeRepo is the Envelope type of a RepoMessage.
const TypeRepo = "repo"

// Envelope is the part every message body shares: its type selects the
// Processor. Producers (functions/schedule, functions/chatops) embed it.
type Envelope struct {
	Type string `json:"type"`
}

// RepoMessage asks the worker to run the loop over every canary of one
// repository: what functions/schedule sends once per repository per tick.
type RepoMessage struct {
	Envelope
	// Repo is the repository URL, as configured.
	Repo string `json:"repo"`
	// Tick is the scheduled time that produced the message (UTC).
	Tick time.Time `json:"tick"`
}

// NewRepoMessage returns the message for repo at tick.
func NewRepoMessage(repo string, tick time.Time) RepoMessage {
	return RepoMessage{Envelope: Envelope{Type: TypeRepo}, Repo: repo, Tick: tick.UTC()}
}

// DecodeRepoMessage parses a RepoMessage body; errors wrap ErrBadMessage.
func DecodeRepoMessage(body []byte) (RepoMessage, error) {
	var m RepoMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if m.Type != TypeRepo || m.Repo == "" {
		return m, fmt.Errorf("%w: not a repo message with a repo", ErrBadMessage)
	}
	return m, nil
}

// FIFOID makes s usable as an SQS FIFO MessageGroupId or
// MessageDeduplicationId: those take at most 128 characters among
// alphanumerics and ASCII punctuation. s is kept when it fits, so group
// IDs stay readable (a repository URL usually does); otherwise it is
// replaced by "sha256-" and the hex digest of s.
func FIFOID(s string) string {
	if s != "" && len(s) <= 128 && fifoSafe(s) {
		return s
	}
	return HashID(s)
}

// HashID is "sha256-" and the hex SHA-256 of s (71 characters): a valid
// FIFO ID for any s.
func HashID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + hex.EncodeToString(sum[:])
}

// fifoSafe reports whether s holds only the characters SQS accepts in FIFO IDs.
func fifoSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}
