package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// recorder is a Processor that records the bodies it saw and fails those
// listed in fail (transient) or permanent.
type recorder struct {
	mu              gosync.Mutex
	seen            []string
	fail, permanent map[string]bool
}

func (r *recorder) Process(_ context.Context, body []byte) error {
	var m struct{ ID string }
	_ = json.Unmarshal(body, &m)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, m.ID)
	switch {
	case r.fail[m.ID]:
		return errors.New("transient trouble")
	case r.permanent[m.ID]:
		return Permanent(errors.New("hopeless"))
	}
	return nil
}

// msg is an SQS record of type "test" in a FIFO group ("" for a standard queue).
func msg(id, group string) events.SQSMessage {
	m := events.SQSMessage{MessageId: id, Body: `{"type":"test","ID":"` + id + `"}`,
		Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
	if group != "" {
		m.Attributes["MessageGroupId"] = group
	}
	return m
}

func TestHandleSQSReportsPartialBatchFailures(t *testing.T) {
	tests := []struct {
		name            string
		records         []events.SQSMessage
		fail, permanent []string
		cancel          bool
		// wantFailed are the item identifiers returned; wantSeen the messages processed, in order.
		wantFailed, wantSeen []string
	}{
		{name: "all succeed", records: []events.SQSMessage{msg("a1", "A"), msg("b1", "B")},
			wantFailed: []string{}, wantSeen: []string{"a1", "b1"}},
		{name: "a failure holds back the rest of its FIFO group only",
			records: []events.SQSMessage{msg("a1", "A"), msg("b1", "B"), msg("a2", "A"), msg("b2", "B")},
			fail:    []string{"a1"}, wantFailed: []string{"a1", "a2"}, wantSeen: []string{"a1", "b1", "b2"}},
		{name: "standard queue messages fail alone",
			records: []events.SQSMessage{msg("s1", ""), msg("s2", ""), msg("s3", "")},
			fail:    []string{"s2"}, wantFailed: []string{"s2"}, wantSeen: []string{"s1", "s2", "s3"}},
		{name: "permanent errors are dropped, not retried",
			records:   []events.SQSMessage{msg("a1", "A"), msg("a2", "A")},
			permanent: []string{"a1"}, wantFailed: []string{}, wantSeen: []string{"a1", "a2"}},
		{name: "not JSON and unknown types are dropped", records: []events.SQSMessage{
			{MessageId: "x1", Body: "not json"}, {MessageId: "x2", Body: `{"type":"nope"}`}, msg("a1", "A")},
			wantFailed: []string{}, wantSeen: []string{"a1"}},
		{name: "an ended context returns everything unprocessed", cancel: true,
			records:    []events.SQSMessage{msg("a1", "A"), msg("b1", "B")},
			wantFailed: []string{"a1", "b1"}, wantSeen: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{fail: set(tt.fail), permanent: set(tt.permanent)}
			var logs bytes.Buffer
			h := &Handler{Processors: map[string]Processor{"test": rec}, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
			ctx, cancel := context.WithCancel(t.Context())
			if tt.cancel {
				cancel()
			}
			defer cancel()
			resp, err := h.HandleSQS(ctx, events.SQSEvent{Records: tt.records})
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if failed == nil {
				failed = []string{}
			}
			if !slices.Equal(failed, tt.wantFailed) || !slices.Equal(rec.seen, tt.wantSeen) {
				t.Errorf("failed %v (want %v), processed %v (want %v)", failed, tt.wantFailed, rec.seen, tt.wantSeen)
			}
			// The response is what Lambda reads: "batchItemFailures", never null.
			b, _ := json.Marshal(resp)
			if !strings.HasPrefix(string(b), `{"batchItemFailures":[`) {
				t.Errorf("response JSON %s", b)
			}
			if len(tt.permanent) > 0 && !strings.Contains(logs.String(), `"msg":"message dropped"`) {
				t.Errorf("a dropped message must be logged:\n%s", logs.String())
			}
		})
	}
}

func set(ids []string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func TestFIFOID(t *testing.T) {
	tests := []struct {
		name, in string
		keep     bool
	}{
		{name: "https URL", in: "https://github.com/acme/fleet.git", keep: true},
		{name: "file URL", in: "file:///srv/fleet.git", keep: true},
		{name: "space", in: "file:///srv/my fleet.git"},
		{name: "too long", in: "https://example.com/" + strings.Repeat("x", 120)},
		{name: "non-ASCII", in: "https://example.com/flöte"},
		{name: "empty", in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FIFOID(tt.in)
			if (got == tt.in) != tt.keep || len(got) > 128 || !fifoSafe(got) || got == "" {
				t.Errorf("FIFOID(%q) = %q", tt.in, got)
			}
			if !tt.keep && got != HashID(tt.in) {
				t.Errorf("a replaced ID must be the hash: %q", got)
			}
		})
	}
	if HashID("a") == HashID("b") {
		t.Error("different inputs hash alike")
	}
}

func TestDecodeRepoMessage(t *testing.T) {
	tick := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	good, _ := json.Marshal(NewRepoMessage("file:///srv/fleet.git", tick.In(time.FixedZone("x", 3600))))
	tests := []struct {
		name    string
		body    string
		wantErr bool
	}{
		{name: "valid", body: string(good)},
		{name: "other type", body: `{"type":"chatops","repo":"x"}`, wantErr: true},
		{name: "no repo", body: `{"type":"repo"}`, wantErr: true},
		{name: "bad tick", body: `{"type":"repo","repo":"x","tick":"yesterday"}`, wantErr: true},
		{name: "not JSON", body: `{`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeRepoMessage([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil && !errors.Is(err, ErrBadMessage) {
				t.Errorf("error %v does not wrap ErrBadMessage", err)
			}
			if err == nil && (!m.Tick.Equal(tick) || m.Tick.Location() != time.UTC || m.Repo != "file:///srv/fleet.git") {
				t.Errorf("decoded %+v", m)
			}
		})
	}
}

func FuzzDecodeRepoMessage(f *testing.F) {
	for _, s := range []string{`{"type":"repo","repo":"file:///x","tick":"2026-11-20T12:00:00Z"}`, `{}`, `[]`, `{"type":"repo","repo":""}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := DecodeRepoMessage(body)
		if err == nil && (m.Type != TypeRepo || m.Repo == "") {
			t.Errorf("accepted %q as %+v", body, m)
		}
	})
}
