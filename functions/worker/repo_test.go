package worker

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func repoBody(t *testing.T, url string, tick time.Time) string {
	t.Helper()
	b, err := json.Marshal(NewRepoMessage(url, tick))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRepoMessagesRunTheLoop runs ticks through the SQS handler on a real
// fleet repository: each tick makes the decision that is due, as a commit.
func TestRepoMessagesRunTheLoop(t *testing.T) {
	f := newFleet(t, pauseSpec)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := &Handler{Log: log, Processors: map[string]Processor{
		TypeRepo: &RepoProcessor{Loops: map[string]Loop{f.URL(): newEngine(t, f.URL())}, Log: log}}}
	tick := time.Now().UTC()
	for i, want := range []string{"weight 0 -> 10", "pause at weight 10"} {
		ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: repoBody(t, f.URL(), tick),
			Attributes: map[string]string{"MessageGroupId": FIFOID(f.URL())}}}}
		resp, err := h.HandleSQS(t.Context(), ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("tick %d: %+v %v\n%s", i, resp, err, logs.String())
		}
		subjects, err := f.Subjects(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := subjects[0]; !strings.Contains(got, want) || !strings.Contains(got, "games/aleph v04") {
			t.Errorf("tick %d: head commit %q, want it to say %q", i, got, want)
		}
		msg, err := f.Message(t.Context(), "main")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg, "Birdwatch-Trigger: schedule") {
			t.Errorf("tick %d: commit lacks the schedule trigger:\n%s", i, msg)
		}
	}
}

func TestRepoProcessorErrors(t *testing.T) {
	good := newFleet(t, pauseSpec)
	broken := newFleet(t, strings.Replace(pauseSpec, "judge: threshold", "judge: astrology", 1))
	gone := "file://" + t.TempDir() + "/missing.git"
	p := &RepoProcessor{Loops: map[string]Loop{good.URL(): newEngine(t, good.URL()),
		broken.URL(): newEngine(t, broken.URL()), gone: newEngine(t, gone)}}
	tests := []struct {
		name      string
		body      string
		permanent bool
		is        error
		contains  string
	}{
		{name: "unconfigured repository", body: repoBody(t, "https://evil.example/x.git", time.Now()),
			permanent: true, is: ErrUnknownRepo},
		{name: "not a repo message", body: `{"type":"repo"}`, permanent: true, is: ErrBadMessage},
		{name: "invalid spec is permanent", body: repoBody(t, broken.URL(), time.Now()), permanent: true,
			contains: "astrology"},
		{name: "unreachable repository is retried", body: repoBody(t, gone, time.Now()), contains: "missing.git"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Process(t.Context(), []byte(tt.body))
			if err == nil || IsPermanent(err) != tt.permanent {
				t.Fatalf("err %v, want permanent=%v", err, tt.permanent)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err %v is not %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("err %v lacks %q", err, tt.contains)
			}
		})
	}
	// Nothing was committed to the repository with the broken spec.
	if s, err := broken.Subjects(t.Context()); err != nil || len(s) != 1 {
		t.Errorf("broken fleet history %v %v", s, err)
	}
}
