package chatops

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/worker"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

func statusOf(t *testing.T, f *fleet.Repo) *spec.Status {
	t.Helper()
	b, err := f.Show(t.Context(), "main", ".birdwatch/status/games/aleph.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := spec.ParseStatus("status", []byte(b))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestRunnerSteersARealRollout runs jobs, in order, against a real fleet
// repository whose rollout is paused, and checks both Git and what Slack got.
func TestRunnerSteersARealRollout(t *testing.T) {
	f, e := pausedFleet(t)
	api := startSlack(t)
	r := &Runner{Loops: []Loop{e}, ResponseURLPrefixes: []string{api.URL + "/"}}
	tests := []struct {
		name string
		job  Job
		// commit says whether the job must add a commit; text is in the posted JSON.
		commit       bool
		responseType string
		replace      bool
		text         []string
	}{
		{name: "stranger is refused", job: Job{Kind: "promote", Canary: "games/aleph", UserID: "U0STRANGER", TriggerID: "1.1.a"},
			responseType: "ephemeral", text: []string{"slack:U0STRANGER is not among the operators of games/aleph", ".birdwatch/aleph.yaml"}},
		{name: "stale button is refused", job: Job{Kind: "promote", Canary: "games/aleph", Generation: "v02", FromButton: true,
			UserID: operator, TriggerID: "1.2.a"}, responseType: "ephemeral", text: []string{"about games/aleph v02", "now at v04"}},
		{name: "unknown canary", job: Job{Kind: "abort", Canary: "games/zayin", UserID: operator, TriggerID: "1.3.a"},
			responseType: "ephemeral", text: []string{"⛔ `abort` by <@U024BE7LH> refused: games/zayin: no such canary"}},
		{name: "status", job: Job{Kind: KindStatus, UserID: "U0STRANGER", TriggerID: "1.4.a"},
			responseType: "ephemeral", text: []string{"birdwatch: 1 canaries", "*games/aleph*", "Paused"}},
		{name: "promote button resumes the rollout", job: Job{Kind: "promote", Canary: "games/aleph", Generation: "v04",
			FromButton: true, UserID: operator, TriggerID: "1.5.a"}, commit: true, responseType: "in_channel", replace: true,
			text: []string{"games/aleph v04: advance", "✅ `promote` by <@U024BE7LH> on games/aleph: done.", "canary weight *0% → 50%*", "birdwatch_abort"}},
		{name: "a redelivered job acts once", job: Job{Kind: "promote", Canary: "games/aleph", Generation: "v04",
			FromButton: true, UserID: operator, TriggerID: "1.5.a"}, responseType: "ephemeral", text: []string{"✅ `promote` by <@U024BE7LH> on games/aleph was already applied."}},
		{name: "pause applies only while progressing", job: Job{Kind: "pause", Canary: "games/aleph", UserID: operator, TriggerID: "1.6.a"},
			responseType: "ephemeral", text: []string{"pause refused: it is WaitingForSync"}},
		{name: "abort by slash command", job: Job{Kind: "abort", Canary: "games/aleph", UserID: operator, TriggerID: "1.7.a"},
			commit: true, responseType: "in_channel", text: []string{"games/aleph v04: rollback", "abort by <@U024BE7LH>",
				"canary weight *50% → 0%*"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(subjects(t, f))
			tt.job.ResponseURL = api.responseURL(i)
			if err := r.Run(t.Context(), tt.job); err != nil {
				t.Fatal(err)
			}
			if added := len(subjects(t, f)) - before; added != map[bool]int{true: 1}[tt.commit] {
				t.Errorf("%d commits added", added)
			}
			posts := api.received()
			if len(posts) != i+1 {
				t.Fatalf("%d posts to Slack after %d jobs", len(posts), i+1)
			}
			got := posts[i]
			raw := jsonString(t, got)
			if got["response_type"] != tt.responseType || got["replace_original"] != tt.replace {
				t.Errorf("response_type %v replace_original %v", got["response_type"], got["replace_original"])
			}
			for _, want := range tt.text {
				if !strings.Contains(raw, want) {
					t.Errorf("posted message lacks %q:\n%s", want, raw)
				}
			}
		})
	}
	st := statusOf(t, f)
	if st.Phase != spec.PhaseRolledBack || strings.Join(st.HandledCommands, ",") != "slack-1.5.a,slack-1.7.a" {
		t.Errorf("status %s, handled %v", st.Phase, st.HandledCommands)
	}
	msg, err := f.Message(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "Birdwatch-Trigger: chatops") {
		t.Errorf("commit message:\n%s", msg)
	}
}

// TestRefusedCommandReplayedLaterDoesNotApply: a Slack command refused
// (retry of a paused rollout) is replayed, same trigger ID and signed
// timestamp, within Slack's five minutes, after an abort made it
// applicable. It is refused: the rollout changed after it was given. The
// rollout stays rolled back; a fresh retry applies.
func TestRefusedCommandReplayedLaterDoesNotApply(t *testing.T) {
	f, e := pausedFleet(t)
	api := startSlack(t)
	r := &Runner{Loops: []Loop{e}, ResponseURLPrefixes: []string{api.URL + "/"}}
	issued := func() time.Time {
		time.Sleep(1100 * time.Millisecond) // Slack's timestamps are whole seconds
		return time.Now().Truncate(time.Second)
	}
	retry := Job{Kind: "retry", Canary: "games/aleph", UserID: operator, TriggerID: "5.1.a", IssuedAt: issued()}
	posted := func(i int, j Job, want string) {
		t.Helper()
		j.ResponseURL = api.responseURL(i)
		if err := r.Run(t.Context(), j); err != nil {
			t.Fatal(err)
		}
		if raw := jsonString(t, api.received()[i]); !strings.Contains(raw, want) {
			t.Fatalf("job %d: posted %s, want %q", i, raw, want)
		}
	}
	posted(0, retry, "was not applied: retry refused: only a rolled back or failed rollout can be retried")
	posted(1, Job{Kind: "abort", Canary: "games/aleph", UserID: operator, TriggerID: "5.2.a", IssuedAt: issued()}, "`abort` by <@U024BE7LH> on games/aleph: done.")
	before := len(subjects(t, f))
	posted(2, retry, "⛔ `retry` by <@U024BE7LH> on games/aleph refused: the rollout changed after it was given (rollback at ")
	if st := statusOf(t, f); st.Phase != spec.PhaseRolledBack || len(subjects(t, f)) != before {
		t.Fatalf("the replayed retry acted: %s, %d commits added", st.Phase, len(subjects(t, f))-before)
	}
	fresh := retry
	fresh.TriggerID, fresh.IssuedAt = "5.3.a", issued()
	posted(3, fresh, "`retry` by <@U024BE7LH> on games/aleph: done.")
}

func TestRunnerWithoutOperatorsDeniesEveryone(t *testing.T) {
	f := newFleet(t, map[string]string{".birdwatch/aleph.yaml": strings.Replace(pauseSpec,
		`  access: {operators: ["github:acme/sre", "slack:U024BE7LH"]}`+"\n", "", 1)})
	api := startSlack(t)
	r := &Runner{Loops: []Loop{newEngine(t, f.URL())}, ResponseURLPrefixes: []string{api.URL + "/"}}
	j := Job{Kind: "abort", Canary: "games/aleph", UserID: operator, TriggerID: "9.9.9", ResponseURL: api.responseURL(1)}
	if err := r.Run(t.Context(), j); err != nil {
		t.Fatal(err)
	}
	if raw := jsonString(t, api.received()[0]); !strings.Contains(raw, "nobody may command games/aleph") {
		t.Errorf("posted %s", raw)
	}
	if n := len(subjects(t, f)); n != 1 {
		t.Errorf("%d commits, want only the initial one", n)
	}
}

func TestRunnerFailures(t *testing.T) {
	_, e := pausedFleet(t)
	api := startSlack(t)
	r := &Runner{Loops: []Loop{e}, ResponseURLPrefixes: []string{api.URL + "/"}}
	ok := Job{Kind: KindStatus, UserID: operator, TriggerID: "1.1.1", ResponseURL: api.responseURL(1)}
	tests := []struct {
		name      string
		job       Job
		status    int
		permanent bool
		posts     int
	}{
		{name: "response URL elsewhere is never called", job: func() Job { j := ok; j.ResponseURL = "https://evil.example/x"; return j }(),
			permanent: true},
		{name: "default prefixes refuse the test server", job: ok, permanent: true},
		{name: "no user", job: func() Job { j := ok; j.UserID = ""; return j }(), permanent: true},
		{name: "Slack answers 500: retry", job: ok, status: http.StatusInternalServerError, posts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(api.received())
			api.mu.Lock()
			api.status = max(tt.status, 200)
			api.mu.Unlock()
			rr := r
			if tt.name == "default prefixes refuse the test server" {
				rr = &Runner{Loops: r.Loops}
			}
			err := rr.Run(t.Context(), tt.job)
			if err == nil || worker.IsPermanent(err) != tt.permanent {
				t.Fatalf("err %v, want permanent=%v", err, tt.permanent)
			}
			if strings.Contains(err.Error(), tt.job.ResponseURL) && tt.job.ResponseURL != "" {
				t.Errorf("the error shows the response URL: %v", err)
			}
			if n := len(api.received()) - before; n != tt.posts {
				t.Errorf("%d posts", n)
			}
		})
	}
	if err := r.Process(t.Context(), []byte(`{"type":"chatops","kind":"status"}`)); !worker.IsPermanent(err) || !errors.Is(err, ErrBadJob) {
		t.Errorf("a job without user: %v", err)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRunnerWithAnUnreachableRepository: one repository that cannot be
// read does not stop commands to canaries of the others.
func TestRunnerWithAnUnreachableRepository(t *testing.T) {
	f, e := pausedFleet(t)
	gone := newEngine(t, "file://"+t.TempDir()+"/missing.git")
	api := startSlack(t)
	r := &Runner{Loops: []Loop{gone, e}, ResponseURLPrefixes: []string{api.URL + "/"}}
	tests := []struct {
		name string
		job  Job
		text []string
	}{
		{name: "command on a readable repository", job: Job{Kind: "promote", Canary: "games/aleph", UserID: operator, TriggerID: "3.1"},
			text: []string{`"in_channel"`, "games/aleph v04: advance"}},
		{name: "status shows what it read and warns", job: Job{Kind: KindStatus, UserID: operator, TriggerID: "3.2"},
			text: []string{"*games/aleph*", ":warning: read canaries", "missing.git"}},
		{name: "a canary it cannot find names the failure", job: Job{Kind: "abort", Canary: "games/zayin", UserID: operator, TriggerID: "3.3"},
			text: []string{"could not abort: read canaries", "missing.git"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.job.ResponseURL = api.responseURL(i)
			if err := r.Run(t.Context(), tt.job); err != nil {
				t.Fatal(err)
			}
			raw := jsonString(t, api.received()[i])
			for _, want := range tt.text {
				if !strings.Contains(raw, want) {
					t.Errorf("posted message lacks %q:\n%s", want, raw)
				}
			}
		})
	}
	if s := subjects(t, f); !strings.Contains(s[0], "weight 0 -> 50") {
		t.Errorf("head %q", s[0])
	}
}

// TestBareNameMeansTheSameAsInComments: "/birdwatch abort aleph" in Slack
// acts on games/aleph, the one canary named aleph, as the same line in a PR
// comment does (it used to mean default/aleph, which does not exist).
func TestBareNameMeansTheSameAsInComments(t *testing.T) {
	f, e := pausedFleet(t)
	api := startSlack(t)
	r := &Runner{Loops: []Loop{e}, ResponseURLPrefixes: []string{api.URL + "/"}}
	kind, canary, err := ParseCommandText("abort aleph")
	if err != nil {
		t.Fatal(err)
	}
	before := len(subjects(t, f))
	j := Job{Kind: kind, Canary: canary, UserID: operator, TriggerID: "7.1.a", ResponseURL: api.responseURL(0)}
	if err := r.Run(t.Context(), j); err != nil {
		t.Fatal(err)
	}
	if raw := jsonString(t, api.received()[0]); !strings.Contains(raw, "games/aleph v04: rollback") {
		t.Errorf("posted:\n%s", raw)
	}
	if added := len(subjects(t, f)) - before; added != 1 {
		t.Errorf("%d commits added, want 1", added)
	}
}
