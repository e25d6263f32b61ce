package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

// TestRunNotifiesThroughSecrets runs the binary's wiring on a real fleet
// whose spec notifies Teams (down) and a CloudEvents webhook limited to
// rollbacks, with the URLs in a secrets directory: Teams being down
// neither fails nor loses the decision, the webhook hears only the rollback.
func TestRunNotifiesThroughSecrets(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	const slackLine = `notify: {slack: {channel: "#deploys"}}`
	spec := files[".birdwatch/aleph.yaml"]
	if !strings.Contains(spec, slackLine) {
		t.Fatalf("the example no longer has %q", slackLine)
	}
	files[".birdwatch/aleph.yaml"] = strings.Replace(spec, slackLine,
		`notify: {teams: {secretRef: teams-url}, webhook: {secretRef: hook-url, signingSecretRef: hook-key, on: [rollback]}}`, 1)
	f, err := fleet.CreateFiles(t.Context(), t.TempDir(), files, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	var mu gosync.Mutex
	var teamsCalls int
	var events []string
	teams := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		teamsCalls++
		mu.Unlock()
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer teams.Close()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ Type, Subject string }
		_ = json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		events = append(events, ev.Type+" "+ev.Subject+" "+r.Header.Get("webhook-id"))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	secrets := t.TempDir()
	for name, v := range map[string]string{"teams-url": teams.URL + "/workflows/x", "hook-url": hook.URL, "hook-key": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		if err := os.WriteFile(filepath.Join(secrets, name), []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	common := []string{"--repo", f.URL(), "--cache-dir", filepath.Join(t.TempDir(), "cache"), "--notify-secrets-dir", secrets}
	out, errOut, err := run(t, append([]string{"run", "--once"}, common...)...)
	if err != nil || !strings.Contains(out, "games/aleph  v04  advance") {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if teamsCalls != 3 || len(events) != 0 {
		t.Errorf("teams tried %d times (want 3), webhook events %q (want none for an advance)", teamsCalls, events)
	}
	if !strings.Contains(errOut, "notify failed") || !strings.Contains(errOut, "Teams answered HTTP 502") || strings.Contains(errOut, "/workflows/x") {
		t.Errorf("log:\n%s", errOut)
	}
	out, _, err = run(t, append([]string{"run", "--once", "--canary", "games/aleph", "--command", "abort", "--actor", "alice"}, common...)...)
	if err != nil || !strings.Contains(out, "rollback") {
		t.Fatalf("abort: %v\n%s", err, out)
	}
	if len(events) != 1 || !strings.HasPrefix(events[0], "dev.birdwatch.decision.rollback games/aleph games/aleph@") {
		t.Errorf("webhook events %q", events)
	}
	subjects, err := f.Subjects(t.Context())
	if err != nil || len(subjects) != 3 {
		t.Errorf("history %q %v: a notifier must not change what is committed", subjects, err)
	}
}
