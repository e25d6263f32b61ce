// Package chatops is birdwatch's Slack front: the /birdwatch slash command
// (status, promote, pause, resume, abort, rollback, skip-analysis) and the
// promote/abort buttons of report messages.
//
// Handler verifies Slack's v0 request signature before it parses anything,
// answers within Slack's three seconds, and hands the work to a
// Dispatcher: Queue runs it on worker goroutines in the same process
// (birdwatch serve), SQSDispatcher sends it to an SQS queue that
// functions/worker consumes (AWS Lambda). Runner does the work: it finds
// the canary, authorizes the user against spec.access, runs the loop with
// the command and posts the result to Slack's response_url.
package chatops

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/birdwatch-gitops/birdwatch/internal/bodylimit"
	"github.com/slack-go/slack"
)

// Defaults for zero Handler fields.
const (
	// DefaultMaxBody caps request bodies: interaction payloads carry the
	// whole message they came from (at most 50 blocks of 3,000 characters).
	DefaultMaxBody = 256 << 10
	// DefaultDispatchTimeout bounds the hand-off so the answer stays within Slack's 3 s.
	DefaultDispatchTimeout = 2 * time.Second
)

// Dispatcher runs a job after the request is answered. Dispatch must
// return quickly; the job must not depend on ctx, which ends with the request.
type Dispatcher interface {
	Dispatch(ctx context.Context, j Job) error
}

// Handler answers Slack's slash command and interaction requests. Its
// fields are set once; it is then safe for concurrent use.
type Handler struct {
	// SigningSecret is the Slack app's signing secret. Never logged.
	SigningSecret string
	Dispatcher    Dispatcher
	// MaxBody caps the request body in bytes; 0 means DefaultMaxBody.
	MaxBody int64
	// Bodies bounds the memory of bodies being read before their signature
	// is checked (503 or 429 past it); nil shares one 8 MiB limiter among
	// the handlers that leave it nil.
	Bodies *bodylimit.Limiter
	// DispatchTimeout bounds Dispatch; 0 means DefaultDispatchTimeout.
	DispatchTimeout time.Duration
	// Log receives one line per request; nil discards. Secrets, tokens and
	// response URLs are never logged.
	Log *slog.Logger
}

// Response is the handler's answer to one request.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// Handle verifies, parses and acknowledges one request: 413 for a body over
// MaxBody, 401 for a bad, missing or stale signature (nothing else is
// looked at), 400 for a signed request that is neither a slash command nor
// an interaction, and otherwise 200: an ephemeral message for a slash
// command (accepted, usage, or why it could not be queued), an empty body
// for an interaction.
func (h *Handler) Handle(ctx context.Context, header http.Header, body []byte) Response {
	if int64(len(body)) > h.maxBody() {
		return h.reject(http.StatusRequestEntityTooLarge, ErrTooLarge)
	}
	if err := h.verify(header, body); err != nil {
		return h.reject(http.StatusUnauthorized, err)
	}
	req, err := parseRequest(body)
	if err != nil {
		return h.reject(http.StatusBadRequest, err)
	}
	switch {
	case req.usage != nil:
		h.logf(slog.LevelInfo, "usage answered", "reason", req.usage)
		return ephemeral(Usage)
	case req.job == nil:
		h.logf(slog.LevelInfo, "request ignored")
		return Response{Status: http.StatusOK}
	}
	j := *req.job
	if sec, err := strconv.ParseInt(header.Get("X-Slack-Request-Timestamp"), 10, 64); err == nil {
		j.IssuedAt = time.Unix(sec, 0).UTC() // signed: verify checked it
	}
	if h.Dispatcher == nil {
		h.logf(slog.LevelError, "no dispatcher configured", "kind", j.Kind)
		return ephemeral("birdwatch is not set up to run commands.")
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.dispatchTimeout())
	defer cancel()
	err = h.Dispatcher.Dispatch(dctx, j)
	h.logf(slog.LevelInfo, "job dispatched", "kind", j.Kind, "canary", j.Canary, "actor", j.Actor(),
		"command", j.CommandID(), "button", j.FromButton, "error", err)
	switch {
	case err != nil && errors.Is(err, ErrQueueFull):
		return ephemeral("birdwatch is busy; please try again in a minute.")
	case err != nil:
		return ephemeral("birdwatch could not queue the command; please try again.")
	case j.FromButton:
		return Response{Status: http.StatusOK}
	}
	what := j.Kind
	if j.Canary != "" {
		what += " " + j.Canary
	}
	return ephemeral(fmt.Sprintf("Working on `%s`; the result will follow here.", what))
}

// verify checks the v0 signature over the raw body with slack-go's
// verifier, which also rejects timestamps more than five minutes away.
func (h *Handler) verify(header http.Header, body []byte) error {
	sv, err := slack.NewSecretsVerifier(header, h.SigningSecret)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	if _, err := sv.Write(body); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	if err := sv.Ensure(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	return nil
}

// ServeHTTP serves Handle over net/http (birdwatch serve).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	b, err := h.bodies().Read(w, r, h.maxBody())
	if err != nil {
		status := bodylimit.Status(err)
		h.logf(slog.LevelWarn, "request rejected", "status", status, "reason", err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	defer b.Release()
	resp := h.Handle(r.Context(), r.Header, b.Bytes())
	if resp.ContentType != "" {
		w.Header().Set("Content-Type", resp.ContentType)
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// HandleLambda serves Handle to a Lambda function URL or an API Gateway
// HTTP API (payload format 2.0), whose bodies may come base64-encoded.
func (h *Handler) HandleLambda(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		if int64(base64.StdEncoding.DecodedLen(len(req.Body))) > h.maxBody()+3 {
			return toLambda(h.reject(http.StatusRequestEntityTooLarge, ErrTooLarge)), nil
		}
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return toLambda(h.reject(http.StatusBadRequest, fmt.Errorf("%w: base64 body: %w", ErrBadRequest, err))), nil
		}
		body = b
	}
	header := http.Header{}
	for k, v := range req.Headers {
		header.Set(k, v)
	}
	return toLambda(h.Handle(ctx, header, body)), nil
}

func toLambda(r Response) events.APIGatewayV2HTTPResponse {
	out := events.APIGatewayV2HTTPResponse{StatusCode: r.Status, Body: string(r.Body)}
	if r.ContentType != "" {
		out.Headers = map[string]string{"Content-Type": r.ContentType}
	}
	return out
}

// reject answers an error status with a short text and logs why.
func (h *Handler) reject(status int, err error) Response {
	h.logf(slog.LevelWarn, "request rejected", "status", status, "reason", err)
	return Response{Status: status, ContentType: "text/plain; charset=utf-8", Body: []byte(http.StatusText(status) + "\n")}
}

// ephemeral is a 200 answer only the user sees.
func ephemeral(text string) Response {
	b, _ := json.Marshal(map[string]string{"response_type": slack.ResponseTypeEphemeral, "text": text})
	return Response{Status: http.StatusOK, ContentType: "application/json", Body: b}
}

func (h *Handler) logf(level slog.Level, msg string, attrs ...any) {
	if h.Log != nil {
		h.Log.Log(context.Background(), level, msg, attrs...)
	}
}

func (h *Handler) maxBody() int64 {
	if h.MaxBody > 0 {
		return h.MaxBody
	}
	return DefaultMaxBody
}

// defaultBodies is the limiter of handlers without their own.
var defaultBodies = bodylimit.New(8<<20, 0)

func (h *Handler) bodies() *bodylimit.Limiter {
	if h.Bodies != nil {
		return h.Bodies
	}
	return defaultBodies
}

func (h *Handler) dispatchTimeout() time.Duration {
	if h.DispatchTimeout > 0 {
		return h.DispatchTimeout
	}
	return DefaultDispatchTimeout
}
