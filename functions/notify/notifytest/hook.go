package notifytest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Delivery is one request a Hook received.
type Delivery struct {
	Path        string
	Query       string
	ContentType string
	Header      http.Header
	Body        []byte
}

// Hook is an httptest webhook endpoint that records deliveries and answers
// with Status (default 200) and Answer. Check runs on each delivery and
// can refuse it with an error message (answered 400, like the services do
// for payloads they cannot read).
type Hook struct {
	Status int
	Answer string
	Header http.Header
	Check  func(d Delivery) string

	mu         sync.Mutex
	deliveries []Delivery
	URL        string
}

// NewHook starts h and returns its URL with path (the secret part of a real
// webhook URL) appended.
func NewHook(t *testing.T, h *Hook, path string) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	h.URL = srv.URL + path
	return h.URL
}

func (h *Hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	d := Delivery{Path: r.URL.Path, Query: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type"), Header: r.Header.Clone(), Body: body}
	h.mu.Lock()
	h.deliveries = append(h.deliveries, d)
	h.mu.Unlock()
	if r.Method != http.MethodPost {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	if h.Check != nil {
		if msg := h.Check(d); msg != "" {
			http.Error(w, msg, http.StatusBadRequest)
			return
		}
	}
	for k, vs := range h.Header {
		w.Header()[k] = vs
	}
	status := h.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, h.Answer)
}

// Deliveries returns what the hook received so far.
func (h *Hook) Deliveries() []Delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Delivery(nil), h.deliveries...)
}
