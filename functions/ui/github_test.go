package ui

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// fakeGitHub answers the OAuth token exchange and the three API calls of a
// sign-in as github.com and api.github.com do (shapes from GitHub's REST
// docs). members are the org's active members; team holds the team's.
func fakeGitHub(t *testing.T, login string, orgMember, teamMember bool) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
		}
		if id != "Iv1.client" || secret != "oauth-secret" || r.Form.Get("code") != "good-code" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"gho_16C7e42F292c6912E7710c838347Ae178B4a","scope":"read:org","token_type":"bearer"}`)
	})
	api := func(pattern string, member bool, body string) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer gho_16C7e42F292c6912E7710c838347Ae178B4a" {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"message":"Requires authentication","documentation_url":"https://docs.github.com/rest"}`)
				return
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			if !member {
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}`)
				return
			}
			fmt.Fprint(w, body)
		})
	}
	api("GET /api/v3/user", true, fmt.Sprintf(`{"login":%q,"id":1,"type":"User","site_admin":false}`, login))
	api("GET /api/v3/user/memberships/orgs/acme", orgMember, fmt.Sprintf(`{"url":"https://api.github.com/orgs/acme/memberships/%s","state":"active","role":"member","organization":{"login":"acme"},"user":{"login":%q}}`, login, login))
	api("GET /api/v3/orgs/acme/teams/deployers/memberships/"+login, teamMember, `{"url":"https://api.github.com/teams/1/memberships/x","role":"member","state":"active"}`)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// signIn walks a browser through the sign-in: the page redirects to
// GitHub, GitHub redirects back with a code, and the callback answers.
func signIn(t *testing.T, h http.Handler, start, code string) (*http.Response, []*http.Cookie) {
	t.Helper()
	first := get(t, h, start, nil)
	if first.StatusCode != http.StatusFound {
		t.Fatalf("no redirect to GitHub: %d", first.StatusCode)
	}
	auth, err := url.Parse(first.Header.Get("Location"))
	if err != nil || !strings.HasSuffix(auth.Path, "/login/oauth/authorize") || auth.Query().Get("client_id") != "Iv1.client" ||
		auth.Query().Get("redirect_uri") != "https://birdwatch.example.com/auth/github/callback" || auth.Query().Get("scope") != "read:org" {
		t.Fatalf("authorize URL %s", auth)
	}
	state := first.Cookies()
	back := CallbackPath + "?code=" + code + "&state=" + url.QueryEscape(auth.Query().Get("state"))
	resp := get(t, h, back, http.Header{"Cookie": {state[0].Name + "=" + state[0].Value}})
	return resp, resp.Cookies()
}

func gitHubHandler(t *testing.T, gh *httptest.Server, team string, clk *clock) *Handler {
	t.Helper()
	h, err := New(Config{Fleet: &fakeFleet{entries: []Entry{{Key: "games/aleph", Canary: exampleCanary(t)}}}, Now: clk.now, Token: "also-a-token",
		GitHub: &GitHubAuth{ClientID: "Iv1.client", ClientSecret: "oauth-secret", Org: "acme", Team: team,
			ExternalURL: "https://birdwatch.example.com", WebURL: gh.URL, APIURL: gh.URL + "/api/v3/", Session: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestGitHubSignIn(t *testing.T) {
	tests := []struct {
		name                  string
		team                  string
		orgMember, teamMember bool
		code                  string
		assertions            func(t *testing.T, h *Handler, clk *clock, resp *http.Response, cookies []*http.Cookie)
	}{
		{name: "org member", orgMember: true, code: "good-code", assertions: func(t *testing.T, h *Handler, clk *clock, resp *http.Response, cookies []*http.Cookie) {
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/canaries/games/aleph" {
				t.Fatalf("callback: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			session := sessionOf(t, cookies)
			if page := get(t, h, "/", http.Header{"Cookie": {session}}); page.StatusCode != 200 {
				t.Errorf("with the session: %d", page.StatusCode)
			}
			clk.add(2 * time.Hour)
			if page := get(t, h, "/", http.Header{"Cookie": {session}}); page.StatusCode != http.StatusFound {
				t.Errorf("an expired session: %d", page.StatusCode)
			}
		}},
		{name: "not an org member", orgMember: false, code: "good-code", assertions: func(t *testing.T, _ *Handler, _ *clock, resp *http.Response, cookies []*http.Cookie) {
			if b := body(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(b, "not a member of acme") {
				t.Errorf("%d %s", resp.StatusCode, b)
			}
			if hasSession(cookies) {
				t.Error("a session for a non-member")
			}
		}},
		{name: "team member", team: "deployers", orgMember: true, teamMember: true, code: "good-code",
			assertions: func(t *testing.T, _ *Handler, _ *clock, resp *http.Response, cookies []*http.Cookie) {
				if resp.StatusCode != http.StatusSeeOther || !hasSession(cookies) {
					t.Errorf("%d, cookies %v", resp.StatusCode, cookies)
				}
			}},
		{name: "org member outside the team", team: "deployers", orgMember: true, teamMember: false, code: "good-code",
			assertions: func(t *testing.T, _ *Handler, _ *clock, resp *http.Response, cookies []*http.Cookie) {
				if b := body(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(b, "acme/deployers") || hasSession(cookies) {
					t.Errorf("%d %s", resp.StatusCode, b)
				}
			}},
		{name: "a bad code", orgMember: true, code: "stolen", assertions: func(t *testing.T, _ *Handler, _ *clock, resp *http.Response, cookies []*http.Cookie) {
			if b := body(t, resp); resp.StatusCode != http.StatusForbidden || hasSession(cookies) || strings.Contains(b, "bad_verification_code") {
				t.Errorf("%d %s", resp.StatusCode, b)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh := fakeGitHub(t, "octocat", tt.orgMember, tt.teamMember)
			clk := &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
			h := gitHubHandler(t, gh, tt.team, clk)
			resp, cookies := signIn(t, h, "/canaries/games/aleph", tt.code)
			tt.assertions(t, h, clk, resp, cookies)
		})
	}
}

// TestGitHubSignInRefusals: forged state, forged sessions, and the page's
// script without a session; the token still works beside GitHub.
func TestGitHubSignInRefusals(t *testing.T) {
	gh := fakeGitHub(t, "octocat", true, true)
	clk := &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	h := gitHubHandler(t, gh, "", clk)
	first := get(t, h, "/", nil)
	state := first.Cookies()[0]
	if resp := get(t, h, CallbackPath+"?code=good-code&state=other", http.Header{"Cookie": {state.Name + "=" + state.Value}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("mismatched state: %d", resp.StatusCode)
	}
	if resp := get(t, h, CallbackPath+"?code=good-code&state=x", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("no state cookie: %d", resp.StatusCode)
	}
	for _, forged := range []string{"octocat|9999999999", "octocat|9999999999.00", sessionCookie} {
		if resp := get(t, h, "/", http.Header{"Cookie": {sessionCookie + "=" + forged}}); resp.StatusCode != http.StatusFound {
			t.Errorf("forged session %q: %d", forged, resp.StatusCode)
		}
	}
	if resp := get(t, h, "/?fragment=1", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the script without a session: %d", resp.StatusCode)
	}
	if resp := get(t, h, "/", http.Header{"Authorization": {"Bearer also-a-token"}}); resp.StatusCode != 200 {
		t.Errorf("the token beside GitHub: %d", resp.StatusCode)
	}
}

func sessionOf(t *testing.T, cookies []*http.Cookie) string {
	t.Helper()
	for _, c := range cookies {
		if c.Name == sessionCookie && c.Value != "" {
			if !c.HttpOnly {
				t.Error("the session cookie is readable by scripts")
			}
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("no session cookie in %v", cookies)
	return ""
}

func hasSession(cookies []*http.Cookie) bool {
	for _, c := range cookies {
		if c.Name == sessionCookie && c.Value != "" {
			return true
		}
	}
	return false
}
