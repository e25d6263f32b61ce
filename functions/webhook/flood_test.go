package webhook

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// heldDelivery is a forged 5 MiB delivery whose body arrives slowly: the
// handler blocks reading it until the writer is closed.
type heldDelivery struct {
	w    *io.PipeWriter
	done chan int // the response status
}

// serveHeld starts a forged delivery from source; it returns at once.
func serveHeld(h http.Handler, source string) *heldDelivery {
	pr, pw := io.Pipe()
	r := httptest.NewRequest(http.MethodPost, "/webhooks/github", pr)
	r.ContentLength = DefaultMaxBodyBytes
	r.RemoteAddr = source + ":40000"
	r.Header.Set("X-GitHub-Event", "push")
	r.Header.Set("X-GitHub-Delivery", "forged-"+source)
	r.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
	d := &heldDelivery{w: pw, done: make(chan int, 1)}
	go func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		d.done <- w.Code
	}()
	go func() { _, _ = pw.Write(make([]byte, 1024)) }() // the first bytes arrive, the rest never do
	return d
}

// answered waits for a response that needs no body: a refusal comes at
// once; a handler still reading after 10 s is reading a body it should
// have refused.
func (d *heldDelivery) answered(t *testing.T) int {
	t.Helper()
	select {
	case code := <-d.done:
		return code
	case <-time.After(10 * time.Second):
		t.Fatal("the handler is reading a body it should have refused")
		return 0
	}
}

// TestFloodOfForgedBodiesIsBounded: bodies are read (before their signature
// can be checked) only within the limiter's budget: one address holds at
// most 16 MiB (429 past it), all addresses 64 MiB (503 past it); a real
// delivery from elsewhere is still taken during the flood, and every byte
// is given back when the forged bodies end.
func TestFloodOfForgedBodiesIsBounded(t *testing.T) {
	e := newEnv(t)
	h := e.h.GitHub()
	var held []*heldDelivery
	waitInUse := func(n int) {
		t.Helper()
		for i := 0; e.h.cfg.Bodies.InUse() != int64(n)*DefaultMaxBodyBytes; i++ {
			if i > 1000 {
				t.Fatalf("%d bytes in use, want %d bodies", e.h.cfg.Bodies.InUse(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for range 3 {
		held = append(held, serveHeld(h, "203.0.113.7"))
	}
	waitInUse(3)
	if code := serveHeld(h, "203.0.113.7").answered(t); code != http.StatusTooManyRequests {
		t.Errorf("4th body from one address: %d, want 429", code)
	}
	for i := range 9 {
		held = append(held, serveHeld(h, fmt.Sprintf("198.51.100.%d", i+1)))
	}
	waitInUse(12)
	if code := serveHeld(h, "192.0.2.200").answered(t); code != http.StatusServiceUnavailable {
		t.Errorf("13th body: %d, want 503", code)
	}

	ping := render(t, "github/ping", defaults())
	if w := e.github("ping", ping, func(r *http.Request) { r.RemoteAddr = "140.82.115.1:443" }); w.Code != http.StatusOK {
		t.Errorf("a real delivery during the flood: %d %s", w.Code, w.Body)
	}

	for _, d := range held {
		d.w.CloseWithError(io.ErrUnexpectedEOF)
		if code := <-d.done; code != http.StatusBadRequest {
			t.Errorf("a forged body that ended early: %d, want 400", code)
		}
	}
	if n := e.h.cfg.Bodies.InUse(); n != 0 {
		t.Errorf("%d bytes still reserved after the flood", n)
	}
}
