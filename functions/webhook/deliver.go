package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/birdwatch-gitops/birdwatch/internal/bodylimit"
)

// delivery is one request being handled, for logging.
type delivery struct {
	source, event, id string
	start             time.Time
}

func (d delivery) attrs(extra ...any) []any {
	return append([]any{"source", d.source, "event", d.event, "delivery", d.id}, extra...)
}

// readVerified reads the capped body through the handler's body limiter
// (503 or 429 when too many bodies are in flight, before any byte is read),
// verifies it with verify and records the delivery ID against replays. On
// failure it has written the response. release returns the body's pooled
// buffer; call it once the body is parsed.
func (h *Handler) readVerified(w http.ResponseWriter, r *http.Request, d delivery, verify func([]byte) error) (body []byte, release func(), ok bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(w, d, http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed", r.Method))
		return nil, nil, false
	}
	if d.id == "" {
		h.reject(w, d, http.StatusBadRequest, fmt.Errorf("%w: the delivery has no ID header, so a replay could not be told apart", ErrReplay))
		return nil, nil, false
	}
	b, err := h.cfg.Bodies.Read(w, r, h.cfg.MaxBodyBytes)
	if err != nil {
		status := bodylimit.Status(err)
		if errors.Is(err, bodylimit.ErrTooLarge) {
			err = fmt.Errorf("%w: %w", ErrTooLarge, err)
		}
		if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "5")
		}
		h.reject(w, d, status, err)
		return nil, nil, false
	}
	body = b.Bytes()
	if err := verify(body); err != nil {
		b.Release()
		h.reject(w, d, http.StatusUnauthorized, err)
		return nil, nil, false
	}
	if !h.seen.add(d.id) {
		b.Release()
		h.reject(w, d, http.StatusUnauthorized, fmt.Errorf("%w: %s", ErrReplay, d.id))
		return nil, nil, false
	}
	return body, b.Release, true
}

// reject answers a delivery that is not taken, with a JSON error.
func (h *Handler) reject(w http.ResponseWriter, d delivery, status int, err error) {
	h.log.Warn("webhook rejected", d.attrs("status", status, "reason", err.Error())...)
	writeError(w, status, err)
}

// finish runs (or dispatches) the planned work and writes the response.
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, d delivery, p plan) {
	if p.kind == planIgnore {
		h.log.Info("webhook ignored", d.attrs("reason", p.reason)...)
		writeJSON(w, http.StatusOK, ignored("%s", p.reason))
		return
	}
	if h.cfg.Dispatch == nil {
		resp, err := h.execute(r.Context(), p)
		if err != nil {
			h.failed(d, err)
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		h.done(d, resp)
		writeJSON(w, http.StatusOK, resp)
		return
	}
	err := h.cfg.Dispatch(func(ctx context.Context) error {
		resp, err := h.execute(ctx, p)
		if err != nil {
			h.failed(d, err)
			return err
		}
		h.done(d, resp)
		return nil
	})
	if err != nil {
		h.seen.forget(d.id)
		status := http.StatusInternalServerError
		if errors.Is(err, ErrBusy) {
			status = http.StatusServiceUnavailable
		}
		h.reject(w, d, status, err)
		return
	}
	writeJSON(w, http.StatusAccepted, Response{Result: "accepted", Detail: p.describe()})
}

// failed logs a delivery whose work failed and forgets its ID, so that
// GitHub's or GitLab's redelivery is taken.
func (h *Handler) failed(d delivery, err error) {
	h.seen.forget(d.id)
	h.log.Error("webhook failed", d.attrs("error", err.Error(), "seconds", time.Since(d.start).Seconds())...)
}

func (h *Handler) done(d delivery, resp Response) {
	level := slog.LevelInfo
	if len(resp.Warnings) > 0 {
		level = slog.LevelWarn
	}
	h.log.Log(context.Background(), level, "webhook handled", d.attrs("result", resp.Result, "detail", resp.Detail,
		"outcomes", len(resp.Outcomes), "warnings", resp.Warnings, "seconds", time.Since(d.start).Seconds())...)
}
