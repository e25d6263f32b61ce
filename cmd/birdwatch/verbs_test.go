package main

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerbsGetAndExitCodes drives promote/abort/retry, get and get --watch
// on a real fleet repository, and checks the exit code of each outcome.
func TestVerbsGetAndExitCodes(t *testing.T) {
	f := serveFleet(t)
	common := []string{"--repo", f.URL(), "--cache-dir", filepath.Join(t.TempDir(), "cache")}
	with := func(args ...string) []string { return append(args, common...) }

	out, _, err := run(t, with("get")...)
	if err != nil || !strings.Contains(out, "games       aleph   v03      v04      NotStarted") {
		t.Fatalf("get before: %v\n%s", err, out)
	}
	if _, _, err := run(t, with("run", "--once", "--prometheus", "http://127.0.0.1:1")...); err != nil {
		t.Fatal(err)
	}
	// A command that does not apply exits non-zero and says why.
	out, _, err = run(t, with("promote", "games/aleph")...)
	var refused refusedError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "promote refused: it does not apply while WaitingForSync at step 2") {
		t.Errorf("promote while waiting: %v\n%s", err, out)
	}
	if _, _, err := run(t, with("run", "--once", "--canary", "games/aleph", "--command", "frobnicate")...); err == nil ||
		!strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %v", err)
	}
	if _, _, err := run(t, with("abort", "games/nope")...); err == nil || !strings.Contains(err.Error(), "games/nope") {
		t.Errorf("unknown canary: %v", err)
	}
	// The step get shows is the one the messages name.
	out, _, err = run(t, with("get", "games/aleph")...)
	if err != nil || !strings.Contains(out, "WaitingForSync   2/7    1%") {
		t.Errorf("get: %v\n%s", err, out)
	}
	out, _, err = run(t, with("get", "-o", "json", "games/aleph")...)
	var item struct {
		Kind   string
		Status struct{ Phase string }
	}
	if err != nil || json.Unmarshal([]byte(out), &item) != nil || item.Kind != "Canary" || item.Status.Phase != "WaitingForSync" {
		t.Errorf("get -o json: %v %+v\n%s", err, item, out)
	}
	if _, _, err := run(t, with("abort", "--actor", "alice", "games/aleph")...); err != nil {
		t.Fatalf("abort: %v", err)
	}
	out, _, err = run(t, with("get", "--watch", "--refresh", "10ms", "-o", "wide", "games/aleph")...)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != exitCodeFailed || !strings.Contains(out, "RolledBack") || !strings.Contains(out, "abort by alice") {
		t.Errorf("get --watch after abort: %v\n%s", err, out)
	}
	// retry starts v04 again and is recorded.
	if _, _, err := run(t, with("retry", "--actor", "bob", "games/aleph")...); err != nil {
		t.Fatalf("retry: %v", err)
	}
	out, _, err = run(t, with("get", "-o", "yaml", "games/aleph")...)
	if err != nil || !strings.Contains(out, "phase: WaitingForSync") || !strings.Contains(out, "retry by bob of v04") {
		t.Errorf("get after retry: %v\n%s", err, out)
	}
	subjects, err := f.Subjects(t.Context())
	if err != nil || len(subjects) != 4 || !strings.Contains(subjects[0], "v04") {
		t.Errorf("history %q %v", subjects, err)
	}
	out, _, err = run(t, "version")
	if err != nil || !strings.HasPrefix(out, "birdwatch ") {
		t.Errorf("version: %v %q", err, out)
	}
}
