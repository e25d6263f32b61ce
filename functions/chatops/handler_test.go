package chatops

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/birdwatch-gitops/birdwatch/report"
)

const respURL = "https://hooks.slack.com/commands/T0001/1234/1aA2bB3cC4dD5eE6fF7gG8hH"

func TestHandleRejectsWithoutDoingAnything(t *testing.T) {
	now := time.Now()
	body := slashBody(operator, "abort games/aleph", "1.2.3", respURL)
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		status int
	}{
		{name: "no signature", header: http.Header{}, body: body, status: 401},
		{name: "no timestamp", header: func() http.Header { h := sign(signingSecret, body, now); h.Del("X-Slack-Request-Timestamp"); return h }(),
			body: body, status: 401},
		{name: "signed with another secret", header: sign("another-secret", body, now), body: body, status: 401},
		{name: "tampered body", header: sign(signingSecret, body, now), body: bytes.Replace(body, []byte("abort"), []byte("pause"), 1), status: 401},
		{name: "replayed: six minutes old", header: sign(signingSecret, body, now.Add(-6*time.Minute)), body: body, status: 401},
		{name: "from the future", header: sign(signingSecret, body, now.Add(6*time.Minute)), body: body, status: 401},
		{name: "signature not hex", header: func() http.Header { h := sign(signingSecret, body, now); h.Set("X-Slack-Signature", "v0=zz"); return h }(),
			body: body, status: 401},
		{name: "v1 scheme", header: func() http.Header {
			h := sign(signingSecret, body, now)
			h.Set("X-Slack-Signature", strings.Replace(h.Get("X-Slack-Signature"), "v0=", "v1=", 1))
			return h
		}(), body: body, status: 401},
		{name: "oversized", header: sign(signingSecret, bytes.Repeat([]byte("a"), 2000), now), body: bytes.Repeat([]byte("a"), 2000), status: 413},
		{name: "signed but neither command nor interaction", header: sign(signingSecret, []byte("hello=world"), now),
			body: []byte("hello=world"), status: 400},
		{name: "signed but not a form", header: sign(signingSecret, []byte("%zz"), now), body: []byte("%zz"), status: 400},
		{name: "signed command without a user", header: sign(signingSecret, slashBody("", "abort games/aleph", "1.2.3", respURL), now),
			body: slashBody("", "abort games/aleph", "1.2.3", respURL), status: 400},
		{name: "signed button with a forged value", status: 400,
			header: sign(signingSecret, buttonBody(operator, report.SlackActionAbort, "games/aleph", "1.2.3", respURL), now),
			body:   buttonBody(operator, report.SlackActionAbort, "games/aleph", "1.2.3", respURL)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &recordingDispatcher{}
			h := &Handler{SigningSecret: signingSecret, Dispatcher: d, MaxBody: 1900}
			resp := h.Handle(t.Context(), tt.header, tt.body)
			if resp.Status != tt.status {
				t.Errorf("status %d, want %d (%s)", resp.Status, tt.status, resp.Body)
			}
			if len(d.got()) != 0 {
				t.Errorf("dispatched %+v", d.got())
			}
		})
	}
}

func TestHandleSlashCommands(t *testing.T) {
	tests := []struct {
		name        string
		text        string
		dispatchErr error
		wantJob     *Job
		wantText    string
	}{
		{name: "promote", text: "promote games/aleph", wantText: "Working on `promote games/aleph`",
			wantJob: &Job{Kind: "promote", Canary: "games/aleph"}},
		{name: "upper-case verb and extra spaces", text: "  Skip-Analysis   games/aleph ", wantText: "Working on",
			wantJob: &Job{Kind: "skip-analysis", Canary: "games/aleph"}},
		{name: "name without namespace", text: "pause aleph", wantText: "pause aleph",
			wantJob: &Job{Kind: "pause", Canary: "aleph"}},
		{name: "status of all", text: "status", wantText: "Working on `status`", wantJob: &Job{Kind: "status"}},
		{name: "help", text: "help", wantText: Usage},
		{name: "empty", text: "", wantText: Usage},
		{name: "command without canary", text: "abort", wantText: Usage},
		{name: "unknown verb", text: "deploy games/aleph", wantText: Usage},
		{name: "bad canary", text: "abort games/Aleph_1", wantText: Usage},
		{name: "too many words", text: "abort games/aleph now", wantText: Usage},
		{name: "queue full", text: "abort games/aleph", dispatchErr: ErrQueueFull, wantText: "busy"},
		{name: "queue down", text: "abort games/aleph", dispatchErr: errors.New("sqs: 500"), wantText: "could not queue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &recordingDispatcher{err: tt.dispatchErr}
			h := &Handler{SigningSecret: signingSecret, Dispatcher: d}
			body := slashBody(operator, tt.text, "13345224609.738474920.8088930838d88f008e0", respURL)
			resp := h.Handle(t.Context(), sign(signingSecret, body, time.Now()), body)
			var got struct{ ResponseType, Text string }
			if err := json.Unmarshal(resp.Body, &got); err != nil || resp.Status != 200 || resp.ContentType != "application/json" {
				t.Fatalf("answer %d %s %q: %v", resp.Status, resp.ContentType, resp.Body, err)
			}
			if !strings.Contains(got.Text, tt.wantText) {
				t.Errorf("text %q, want %q", got.Text, tt.wantText)
			}
			jobs := d.got()
			if tt.wantJob == nil {
				if len(jobs) != 0 {
					t.Errorf("dispatched %+v", jobs)
				}
				return
			}
			if len(jobs) != 1 {
				t.Fatalf("dispatched %d jobs", len(jobs))
			}
			j := jobs[0]
			if j.Kind != tt.wantJob.Kind || j.Canary != tt.wantJob.Canary || j.UserID != operator || j.TeamID != "T0001" ||
				j.ChannelID != "C2147483705" || j.ResponseURL != respURL || j.FromButton || j.Type != MessageType {
				t.Errorf("job %+v", j)
			}
			if r := j.Request(j.Canary); j.Kind != KindStatus && (r.Command.Actor != "slack:"+operator ||
				r.Command.ID != "slack-13345224609.738474920.8088930838d88f008e0" || r.Trigger != "chatops" || r.Canary != j.Canary) {
				t.Errorf("request %+v %+v", r, r.Command)
			}
		})
	}
}

func TestHandleButtons(t *testing.T) {
	tests := []struct {
		name     string
		body     []byte
		wantKind string
	}{
		{name: "promote", body: buttonBody(operator, report.SlackActionPromote, "games/aleph@v04", "1.2.ab", respURL), wantKind: "promote"},
		{name: "abort", body: buttonBody(operator, report.SlackActionAbort, "games/aleph@v04", "1.2.ab", respURL), wantKind: "abort"},
		{name: "someone else's button", body: buttonBody(operator, "approve_expense", "42", "1.2.ab", respURL)},
		{name: "a modal, not a message", body: []byte("payload=" + `{"type":"view_submission","user":{"id":"U1"},"view":{"id":"V1"}}`)},
		{name: "ssl check", body: []byte("ssl_check=1&token=" + verificationToken)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &recordingDispatcher{}
			h := &Handler{SigningSecret: signingSecret, Dispatcher: d}
			resp := h.Handle(t.Context(), sign(signingSecret, tt.body, time.Now()), tt.body)
			if resp.Status != 200 || len(resp.Body) != 0 {
				t.Fatalf("answer %d %q, want an empty 200", resp.Status, resp.Body)
			}
			jobs := d.got()
			if tt.wantKind == "" {
				if len(jobs) != 0 {
					t.Errorf("dispatched %+v", jobs)
				}
				return
			}
			if len(jobs) != 1 || jobs[0].Kind != tt.wantKind || jobs[0].Canary != "games/aleph" || jobs[0].Generation != "v04" ||
				!jobs[0].FromButton || jobs[0].TriggerID != "1.2.ab" || jobs[0].UserID != operator {
				t.Errorf("jobs %+v", jobs)
			}
		})
	}
}

// TestServeHTTP goes through a real HTTP server, as birdwatch serve does.
func TestServeHTTP(t *testing.T) {
	d := &recordingDispatcher{}
	srv := httptest.NewServer(&Handler{SigningSecret: signingSecret, Dispatcher: d, MaxBody: 4096})
	defer srv.Close()
	post := func(header http.Header, body []byte) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header = header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	body := slashBody(operator, "status", "1.2.3", respURL)
	if resp, b := post(sign(signingSecret, body, time.Now()), body); resp.StatusCode != 200 || !strings.Contains(b, "ephemeral") {
		t.Errorf("signed command: %d %s", resp.StatusCode, b)
	}
	big := bytes.Repeat([]byte("x"), 1<<20)
	if resp, _ := post(sign(signingSecret, big, time.Now()), big); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB body: %d", resp.StatusCode)
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	if len(d.got()) != 1 {
		t.Errorf("dispatched %d jobs, want 1", len(d.got()))
	}
}

// TestHandleLambda feeds a function URL event (payload format 2.0): lower-case
// header names and a base64 body, as Lambda delivers form posts.
func TestHandleLambda(t *testing.T) {
	body := slashBody(operator, "abort games/aleph", "1.2.3", respURL)
	headers := map[string]string{}
	for k, v := range sign(signingSecret, body, time.Now()) {
		headers[strings.ToLower(k)] = v[0]
	}
	tests := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
		jobs   int
	}{
		{name: "base64 body", req: events.APIGatewayV2HTTPRequest{Headers: headers, IsBase64Encoded: true,
			Body: base64.StdEncoding.EncodeToString(body)}, status: 200, jobs: 1},
		{name: "plain body", req: events.APIGatewayV2HTTPRequest{Headers: headers, Body: string(body)}, status: 200, jobs: 1},
		{name: "bad base64", req: events.APIGatewayV2HTTPRequest{Headers: headers, IsBase64Encoded: true, Body: "!!"}, status: 400},
		{name: "oversized base64", req: events.APIGatewayV2HTTPRequest{Headers: headers, IsBase64Encoded: true,
			Body: base64.StdEncoding.EncodeToString(make([]byte, DefaultMaxBody+10))}, status: 413},
		{name: "unsigned", req: events.APIGatewayV2HTTPRequest{Body: string(body)}, status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &recordingDispatcher{}
			h := &Handler{SigningSecret: signingSecret, Dispatcher: d}
			resp, err := h.HandleLambda(t.Context(), tt.req)
			if err != nil || resp.StatusCode != tt.status || len(d.got()) != tt.jobs {
				t.Errorf("got %d %q, %d jobs, %v", resp.StatusCode, resp.Body, len(d.got()), err)
			}
		})
	}
}
