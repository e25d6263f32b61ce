package chatops

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/functions/auth"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/slack-go/slack"
)

// slackGroupsAPI serves usergroups.users.list as Slack does, for group
// S0614TZR7 holding U0GROUPIE, and counts the calls.
func slackGroupsAPI(t *testing.T) (*slack.Client, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.URL.Path != "/usergroups.users.list" || (r.Header.Get("Authorization") != "Bearer xoxb-groups-test" && r.Form.Get("token") != "xoxb-groups-test") {
			http.NotFound(w, r)
			return
		}
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if r.Form.Get("usergroup") != "S0614TZR7" {
			fmt.Fprint(w, `{"ok":false,"error":"no_such_subteam"}`)
			return
		}
		fmt.Fprint(w, `{"ok":true,"users":["U060RNRCZ","U0GROUPIE"]}`)
	}))
	t.Cleanup(srv.Close)
	return slack.New("xoxb-groups-test", slack.OptionAPIURL(srv.URL+"/")), &calls
}

// TestSlackCommandsGoThroughTheOneAuthorizer: an operator entry naming a
// Slack user group (slack:S...) lets its members command from Slack, as
// functions/auth documents, with the group's members fetched once for a
// burst of commands; a user outside the group is refused with why.
func TestSlackCommandsGoThroughTheOneAuthorizer(t *testing.T) {
	spec := strings.Replace(pauseSpec, `"slack:U024BE7LH"`, `"slack:S0614TZR7"`, 1)
	f := newFleet(t, map[string]string{".birdwatch/aleph.yaml": spec})
	e := newEngine(t, f.URL())
	if _, err := e.Run(t.Context(), core.Request{Trigger: "schedule"}); err != nil {
		t.Fatal(err)
	}
	client, calls := slackGroupsAPI(t)
	api := startSlack(t)
	r := &Runner{Loops: []Loop{e}, ResponseURLPrefixes: []string{api.URL + "/"},
		Authorizer: Access{Auth: &auth.Authorizer{Slack: auth.NewSlack(client)}}}

	before := len(subjects(t, f))
	stranger := Job{Kind: "promote", Canary: "games/aleph", UserID: "U0STRANGER", TriggerID: "8.1.a", ResponseURL: api.responseURL(0)}
	if err := r.Run(t.Context(), stranger); err != nil {
		t.Fatal(err)
	}
	member := Job{Kind: "promote", Canary: "aleph", UserID: "U0GROUPIE", TriggerID: "8.2.a", ResponseURL: api.responseURL(1)}
	if err := r.Run(t.Context(), member); err != nil {
		t.Fatal(err)
	}
	posts := api.received()
	if raw := jsonString(t, posts[0]); !strings.Contains(raw, "slack:U0STRANGER is not among the operators of games/aleph") {
		t.Errorf("the stranger's answer:\n%s", raw)
	}
	if raw := jsonString(t, posts[1]); !strings.Contains(raw, "games/aleph v04: advance") {
		t.Errorf("the group member's answer:\n%s", raw)
	}
	if added := len(subjects(t, f)) - before; added != 1 {
		t.Errorf("%d commits, want the member's promote only", added)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls to usergroups.users.list for two commands, want 1 (cached)", n)
	}
}
