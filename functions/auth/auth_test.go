package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/google/go-github/v84/github"
	"github.com/slack-go/slack"
)

const testToken = "ghp_authTestToken0123456789"

// fakeGitHub answers the two endpoints auth uses the way api.github.com
// does (bodies and status codes from the REST docs), and counts calls.
func fakeGitHub(t *testing.T, calls *atomic.Int32, token string) *github.Client {
	t.Helper()
	teams := map[string]string{"alice": "active", "carol": "pending", "dave": "active"}
	perms := map[string][2]string{"alice": {"write", "maintain"}, "dave": {"read", "read"}, "frank": {"admin", "admin"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orgs/acme/teams/sre/memberships/{user}", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		user := r.PathValue("user")
		if user == "eve" {
			http.Error(w, `{"message":"Server Error"}`, http.StatusInternalServerError)
			return
		}
		state, ok := teams[user]
		if !ok {
			notFound(w, "https://docs.github.com/rest/teams/members#get-team-membership-for-a-user")
			return
		}
		fmt.Fprintf(w, `{"url":"https://api.github.com/teams/1/memberships/%s","role":"member","state":%q}`, user, state)
	})
	mux.HandleFunc("GET /repos/acme/fleet/collaborators/{user}/permission", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		user := r.PathValue("user")
		p, ok := perms[user]
		if !ok {
			notFound(w, "https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user")
			return
		}
		fmt.Fprintf(w, `{"permission":%q,"role_name":%q,"user":{"login":%q,"id":1,"type":"User","site_admin":false}}`, p[0], p[1], user)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := github.NewClient(srv.Client()).WithAuthToken(token)
	c.BaseURL, _ = url.Parse(srv.URL + "/")
	return c
}

func notFound(w http.ResponseWriter, doc string) {
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(w, `{"message":"Not Found","documentation_url":%q,"status":"404"}`, doc)
}

// fakeSlack answers usergroups.users.list like slack.com/api does.
func fakeSlack(t *testing.T) *slack.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path != "/api/usergroups.users.list":
			fmt.Fprint(w, `{"ok":false,"error":"unknown_method"}`)
		case r.Form.Get("usergroup") == "S0614TZR7":
			fmt.Fprint(w, `{"ok":true,"users":["U060R4BJ4","W123A4BC5"]}`)
		default:
			fmt.Fprint(w, `{"ok":false,"error":"no_such_subteam"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return slack.New("xoxb-test", slack.OptionAPIURL(srv.URL+"/api/"))
}

func TestAuthorize(t *testing.T) {
	var calls atomic.Int32
	gh := NewGitHub(fakeGitHub(t, &calls, testToken))
	full := &Authorizer{GitHub: gh, Slack: NewSlack(fakeSlack(t)), Repository: "acme/fleet"}
	ops := func(o ...string) spec.AccessSpec { return spec.AccessSpec{Operators: o} }
	gh1 := func(u string) Identity { return Identity{Provider: ProviderGitHub, User: u} }
	sl := func(u string) Identity { return Identity{Provider: ProviderSlack, User: u} }
	tests := []struct {
		name    string
		a       *Authorizer
		access  spec.AccessSpec
		who     Identity
		allowed bool
		entry   string
		reason  string
		err     error
	}{
		{name: "empty list denies everyone", a: full, access: ops(), who: gh1("alice"), reason: "nobody may command games/aleph", err: ErrDenied},
		{name: "team member with write", a: full, access: ops("github:acme/sre"), who: gh1("alice"), allowed: true, entry: "github:acme/sre"},
		{name: "team member with read only", a: full, access: ops("github:acme/sre"), who: gh1("dave"), reason: `has "read" permission on acme/fleet`, err: ErrDenied},
		{name: "pending invitation is not membership", a: full, access: ops("github:acme/sre"), who: gh1("carol"), reason: "github:carol is not among the operators", err: ErrDenied},
		{name: "not a member", a: full, access: ops("github:acme/sre"), who: gh1("bob"), reason: "not among the operators of games/aleph (github:acme/sre)", err: ErrDenied},
		{name: "user entry, case-insensitive login", a: full, access: ops("github:Frank"), who: gh1("frank"), allowed: true, entry: "github:Frank"},
		{name: "listed user without repo access", a: full, access: ops("github:zed"), who: gh1("zed"), reason: `has "none" permission`, err: ErrDenied},
		{name: "user entry without repository check", a: &Authorizer{}, access: ops("github:zed"), who: gh1("zed"), allowed: true, entry: "github:zed"},
		{name: "lookup failure denies", a: full, access: ops("github:acme/sre"), who: gh1("eve"), reason: "could not check github:eve", err: ErrLookup},
		{name: "a later match wins over a failed lookup", a: &Authorizer{GitHub: gh}, access: ops("github:acme/sre", "github:eve"), who: gh1("eve"), allowed: true, entry: "github:eve", reason: "allowed by github:eve"},
		{name: "team without API", a: &Authorizer{}, access: ops("github:acme/sre"), who: gh1("alice"), reason: "no GitHub API configured", err: ErrDenied},
		{name: "slack user", a: full, access: ops("github:acme/sre", "slack:U024BE7LH"), who: sl("U024BE7LH"), allowed: true, entry: "slack:U024BE7LH"},
		{name: "slack id does not match a github login", a: full, access: ops("slack:U024BE7LH"), who: gh1("U024BE7LH"), err: ErrDenied, reason: "not among"},
		{name: "github login does not match a slack id", a: full, access: ops("github:alice"), who: sl("alice"), err: ErrDenied, reason: "not among"},
		{name: "slack group member", a: full, access: ops("slack:S0614TZR7"), who: sl("W123A4BC5"), allowed: true, entry: "slack:S0614TZR7"},
		{name: "slack group non-member", a: full, access: ops("slack:S0614TZR7"), who: sl("U999"), err: ErrDenied, reason: "not among"},
		{name: "slack group lookup error", a: full, access: ops("slack:S0000BAD0"), who: sl("U999"), err: ErrLookup, reason: "no_such_subteam"},
		{name: "slack group without API", a: &Authorizer{}, access: ops("slack:S0614TZR7"), who: sl("U999"), err: ErrDenied, reason: "no Slack API configured"},
		{name: "unknown provider", a: full, access: ops("github:alice"), who: Identity{Provider: "bitbucket", User: "alice"}, err: ErrDenied, reason: "unknown identity"},
		{name: "empty user", a: full, access: ops("github:alice"), who: gh1(""), err: ErrDenied, reason: "unknown identity"},
		{name: "malformed entries never match", a: full, access: ops("github:", "alice", "slack:"), who: gh1("alice"), err: ErrDenied, reason: "not among"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.a.Authorize(context.Background(), "games/aleph", tt.access, tt.who)
			if d.Allowed != tt.allowed {
				t.Fatalf("allowed %v, want %v (%s)", d.Allowed, tt.allowed, d.Reason)
			}
			if d.Entry != tt.entry {
				t.Errorf("entry %q, want %q", d.Entry, tt.entry)
			}
			if !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", d.Reason, tt.reason)
			}
			if tt.err == nil && d.Err != nil || tt.err != nil && !errors.Is(d.Err, tt.err) {
				t.Errorf("err %v, want %v", d.Err, tt.err)
			}
			if strings.Contains(d.Reason, testToken) || d.Err != nil && strings.Contains(d.Err.Error(), testToken) {
				t.Errorf("the token leaked into %q", d.Reason)
			}
		})
	}
	if calls.Load() == 0 {
		t.Error("the GitHub API was never called")
	}
}

func TestAuthorizeLooksUpOnlyWhatItNeeds(t *testing.T) {
	var calls atomic.Int32
	a := &Authorizer{GitHub: NewGitHub(fakeGitHub(t, &calls, testToken))}
	d := a.Authorize(t.Context(), "games/aleph", spec.AccessSpec{Operators: []string{"slack:U1", "github:frank", "github:acme/sre"}},
		Identity{Provider: ProviderGitHub, User: "frank"})
	if !d.Allowed || calls.Load() != 0 {
		t.Errorf("allowed %v after %d API calls, want allowed after none", d.Allowed, calls.Load())
	}
}

func TestBadTokenIsALookupError(t *testing.T) {
	var calls atomic.Int32
	c := fakeGitHub(t, &calls, "ghp_wrong")
	a := &Authorizer{GitHub: NewGitHub(c)}
	d := a.Authorize(t.Context(), "games/aleph", spec.AccessSpec{Operators: []string{"github:acme/sre"}}, Identity{Provider: ProviderGitHub, User: "alice"})
	if d.Allowed || !errors.Is(d.Err, ErrLookup) || !strings.Contains(d.Reason, "401 Bad credentials") {
		t.Errorf("got %+v", d)
	}
	if strings.Contains(d.Reason, "ghp_wrong") {
		t.Errorf("the token leaked: %s", d.Reason)
	}
}

func TestIdentityString(t *testing.T) {
	if s := (Identity{Provider: ProviderSlack, User: "U1"}).String(); s != "slack:U1" {
		t.Errorf("got %q", s)
	}
}
