package chatops

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/report"
)

// FuzzParseRequest feeds arbitrary bodies to the parser that runs after
// the signature check: it must never panic, and whatever it accepts must
// be a job the runner can act on.
func FuzzParseRequest(f *testing.F) {
	f.Add(slashBody(operator, "promote games/aleph", "1.2.3", respURL))
	f.Add(slashBody(operator, "status", "1.2.3", respURL))
	f.Add(buttonBody(operator, report.SlackActionAbort, "games/aleph@v04", "1.2.3", respURL))
	f.Add([]byte("payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%5B%7B%7D%5D%7D"))
	f.Add([]byte("ssl_check=1"))
	f.Add([]byte("command=%2Fbirdwatch&text=abort+a%2Fb"))
	f.Add([]byte("payload=null"))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseRequest(body)
		if err != nil || req.job == nil {
			return
		}
		if err := req.job.validate(); err != nil {
			t.Errorf("accepted an invalid job %+v: %v", req.job, err)
		}
		if req.job.Kind != KindStatus && !canaryRef.MatchString(req.job.Canary) {
			t.Errorf("command without a valid canary: %+v", req.job)
		}
	})
}

// FuzzParseCommandText checks the slash command grammar on any text.
func FuzzParseCommandText(f *testing.F) {
	for _, s := range []string{"status", "promote games/aleph", "abort aleph", "help", "", "  PAUSE  a/b ", "skip-analysis a/b c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		kind, canary, err := ParseCommandText(text)
		if err != nil {
			return
		}
		if !knownKind(kind) || (kind != KindStatus && canary == "") || (canary != "" && !canaryRef.MatchString(canary)) ||
			strings.ContainsAny(canary, " \n\t<>&") {
			t.Errorf("%q parsed to %q %q", text, kind, canary)
		}
	})
}

// FuzzDecodeJob checks what the worker accepts from the queue.
func FuzzDecodeJob(f *testing.F) {
	f.Add([]byte(`{"type":"chatops","kind":"abort","canary":"games/aleph","userId":"U1","triggerId":"1.2","responseUrl":"https://hooks.slack.com/x"}`))
	f.Add([]byte(`{"type":"chatops","kind":"status","userId":"U1","triggerId":"1.2","responseUrl":"x"}`))
	f.Add([]byte(`{"type":"repo"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		j, err := DecodeJob(body)
		if err == nil && (j.validate() != nil || j.Type != MessageType) {
			t.Errorf("accepted %q", body)
		}
	})
}

// FuzzHandleSigned signs arbitrary bodies, so the fuzzer gets past the
// signature check: the handler answers 200, 400 or 413, never panics, and
// dispatches only valid jobs.
func FuzzHandleSigned(f *testing.F) {
	f.Add(slashBody(operator, "abort games/aleph", "1.2.3", respURL))
	f.Add(buttonBody(operator, report.SlackActionPromote, "games/aleph@v04", "1.2.3", respURL))
	f.Add([]byte("x"))
	f.Fuzz(func(t *testing.T, body []byte) {
		d := &recordingDispatcher{}
		h := &Handler{SigningSecret: signingSecret, Dispatcher: d}
		resp := h.Handle(t.Context(), sign(signingSecret, body, time.Now()), body)
		switch resp.Status {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Errorf("status %d for a signed body", resp.Status)
		}
		for _, j := range d.got() {
			if err := j.validate(); err != nil {
				t.Errorf("dispatched an invalid job: %v", err)
			}
		}
	})
}
