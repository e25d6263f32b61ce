package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunAndStatus drives the binary's wiring end to end on a real fleet
// repository: the first step needs no metrics, so Prometheus may be absent.
func TestRunAndStatus(t *testing.T) {
	f := serveFleet(t)
	cache := filepath.Join(t.TempDir(), "cache")
	common := []string{"--repo", f.URL(), "--cache-dir", cache}

	out, _, err := run(t, append([]string{"status"}, common...)...)
	if err != nil || !strings.Contains(out, "games/aleph  v03     v04     -      -     -       not started") {
		t.Fatalf("status before: %v\n%s", err, out)
	}
	// Decisions are posted to the spec's Slack channel when a bot token is set.
	var posted []string
	slackAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.URL.Path != "/chat.postMessage" { // the chart upload in the thread is tested in functions/notify
			_, _ = w.Write([]byte(`{"ok":false,"error":"not_in_this_test"}`))
			return
		}
		posted = append(posted, r.URL.Path+" "+r.PostForm.Get("channel")+" "+r.PostForm.Get("text"))
		_, _ = w.Write([]byte(`{"ok":true,"channel":"C024BE91L","ts":"1503435956.000247"}`))
	}))
	defer slackAPI.Close()
	tokenFile := filepath.Join(t.TempDir(), "slack")
	if err := os.WriteFile(tokenFile, []byte("xoxb-run-test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(t, append([]string{"run", "--once", "--prometheus", "http://127.0.0.1:1",
		"--slack-bot-token-file", tokenFile, "--slack-api-url", slackAPI.URL + "/"}, common...)...)
	if err != nil || !strings.Contains(out, "games/aleph  v04  advance  step 1  weight 1  weight 0 -> 1  [") {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if len(posted) != 1 || !strings.HasPrefix(posted[0], "/chat.postMessage #deploys ") || !strings.Contains(posted[0], "games/aleph") {
		t.Errorf("Slack posts %q", posted)
	}
	out, _, err = run(t, append([]string{"status"}, common...)...)
	if err != nil || !strings.Contains(out, "games/aleph  v03     v04     WaitingForSync  2/7   1") {
		t.Fatalf("status after: %v\n%s", err, out)
	}
	// A command through the CLI is recorded with its actor.
	out, _, err = run(t, append([]string{"run", "--once", "--canary", "games/aleph", "--command", "abort", "--actor", "alice"}, common...)...)
	if err != nil || !strings.Contains(out, "rollback") {
		t.Fatalf("abort: %v\n%s", err, out)
	}
	subjects, err := f.Subjects(t.Context())
	if err != nil || len(subjects) != 3 || !strings.HasPrefix(subjects[0], "birdwatch: games/aleph v04 rollback, weight 1 -> 0") {
		t.Errorf("history %q %v", subjects, err)
	}
}
