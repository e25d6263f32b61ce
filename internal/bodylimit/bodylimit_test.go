package bodylimit

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func request(source, body string, length int64) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.RemoteAddr, r.ContentLength = source+":1234", length
	return r
}

// TestBudgets: reservations count against the address's share and the
// total, refusals name the status, and releasing gives everything back.
func TestBudgets(t *testing.T) {
	l := New(100, 2) // 100 bytes in all, 50 per address
	w := httptest.NewRecorder()
	a, err := l.Read(w, request("10.0.0.1", strings.Repeat("a", 40), 40), 60)
	if err != nil || string(a.Bytes()) != strings.Repeat("a", 40) {
		t.Fatalf("first body: %v", err)
	}
	if _, err := l.Read(w, request("10.0.0.1", "0123456789AB", 12), 60); !errors.Is(err, ErrSourceBusy) || Status(err) != 429 {
		t.Errorf("over the address's share: %v", err)
	}
	b, err := l.Read(w, request("10.0.0.2", strings.Repeat("b", 50), 50), 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Read(w, request("10.0.0.3", "0123456789AB", 12), 60); !errors.Is(err, ErrBusy) || Status(err) != 503 {
		t.Errorf("over the budget: %v", err)
	}
	if _, err := l.Read(w, request("10.0.0.4", strings.Repeat("c", 70), 70), 60); !errors.Is(err, ErrTooLarge) || Status(err) != 413 {
		t.Errorf("declared too large: %v", err)
	}
	if _, err := l.Read(w, request("10.0.0.4", strings.Repeat("c", 9), -1), 8); !errors.Is(err, ErrTooLarge) {
		t.Errorf("unknown length, too large: %v", err) // reserves the cap (8), reads 9
	}
	if got := l.InUse(); got != 90 {
		t.Errorf("in use %d, want 90", got)
	}
	a.Release()
	b.Release()
	b.Release() // twice is harmless
	if got := l.InUse(); got != 0 {
		t.Errorf("in use %d after release, want 0", got)
	}
}
