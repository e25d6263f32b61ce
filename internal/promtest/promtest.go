package promtest

import (
	"errors"
	"testing"
)

// Server is a Prometheus started for one test; t.Cleanup stops it.
type Server struct {
	*Process
}

// Start starts Prometheus for the test t (see StartProcess), in a directory
// from t.TempDir(), and stops it in t.Cleanup. It skips the test if the
// prometheus or promtool executable is missing and fails it on any other
// startup error.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	p, err := StartProcess(t.Context(), t.TempDir(), opts)
	if errors.Is(err, ErrMissingBinary) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatalf("error starting prometheus: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("error stopping prometheus: %v", err)
		}
	})
	return &Server{Process: p}
}
