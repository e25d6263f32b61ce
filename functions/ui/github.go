package ui

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v84/github"
	"golang.org/x/oauth2"
	githubendpoint "golang.org/x/oauth2/github"
)

// GitHubAuth signs people in with GitHub (an OAuth App) and lets in only
// the members of an organization, or of one of its teams.
type GitHubAuth struct {
	// ClientID and ClientSecret are the OAuth App's; the secret also keys
	// the session cookies, so every instance (every Lambda) accepts the
	// sessions of the others, and a new secret ends them all.
	ClientID, ClientSecret string
	// Org is the organization whose members may see the pages; required.
	Org string
	// Team, when set, narrows them to that team's members (its slug).
	Team string
	// ExternalURL is the pages' base URL as browsers reach it, e.g.
	// https://birdwatch.example.com; the callback is ExternalURL + CallbackPath.
	ExternalURL string
	// WebURL and APIURL are GitHub's (https://github.com/ and
	// https://api.github.com/ when empty); GitHub Enterprise sets both.
	WebURL, APIURL string
	// Session is how long a sign-in lasts; 0 means 12 hours.
	Session time.Duration
}

// CallbackPath is where GitHub sends people back after they sign in.
const CallbackPath = "/auth/github/callback"

const (
	sessionCookie = "birdwatch_session"
	stateCookie   = "birdwatch_oauth_state"
)

// githubGate signs people in with GitHub and keeps who they are in an
// HMAC-signed cookie: login, expiry.
type githubGate struct {
	cfg   GitHubAuth
	oauth *oauth2.Config
	key   []byte
	now   func() time.Time
}

func newGitHubGate(cfg GitHubAuth, now func() time.Time) (*githubGate, error) {
	if cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.Org == "" || cfg.ExternalURL == "" {
		return nil, errors.New("ui: GitHub sign-in needs a client ID, a client secret, an organization and the pages' external URL")
	}
	if cfg.Session <= 0 {
		cfg.Session = 12 * time.Hour
	}
	endpoint := githubendpoint.Endpoint
	if cfg.WebURL != "" {
		web := strings.TrimSuffix(cfg.WebURL, "/")
		endpoint = oauth2.Endpoint{AuthURL: web + "/login/oauth/authorize", TokenURL: web + "/login/oauth/access_token"}
	}
	mac := hmac.New(sha256.New, []byte(cfg.ClientSecret))
	mac.Write([]byte("birdwatch ui session v1"))
	return &githubGate{cfg: cfg, key: mac.Sum(nil), now: now, oauth: &oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		Endpoint: endpoint, Scopes: []string{"read:org"}, RedirectURL: strings.TrimSuffix(cfg.ExternalURL, "/") + CallbackPath}}, nil
}

// sign returns value.HMAC.
func (g *githubGate) sign(value string) string {
	mac := hmac.New(sha256.New, g.key)
	mac.Write([]byte(value))
	return value + "." + hex.EncodeToString(mac.Sum(nil))
}

// verify returns the value of a signed string, or false.
func (g *githubGate) verify(signed string) (string, bool) {
	i := strings.LastIndexByte(signed, '.')
	if i < 0 {
		return "", false
	}
	value := signed[:i]
	return value, hmac.Equal([]byte(g.sign(value)), []byte(signed))
}

// session returns the signed-in login, or "".
func (g *githubGate) session(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	value, ok := g.verify(c.Value)
	if !ok {
		return ""
	}
	login, exp, ok := strings.Cut(value, "|")
	unix, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || g.now().Unix() >= unix {
		return ""
	}
	return login
}

// start sends the browser to GitHub, remembering where it was going.
func (g *githubGate) start(w http.ResponseWriter, r *http.Request) {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce) // crypto/rand never fails on Linux
	next := r.URL.Path
	if r.URL.RawQuery != "" {
		next += "?" + r.URL.RawQuery
	}
	state := base64.RawURLEncoding.EncodeToString(nonce)
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: g.sign(state + "|" + next), Path: CallbackPath, HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, g.oauth.AuthCodeURL(state), http.StatusFound)
}

// callback finishes the sign-in: the state must match the cookie, the
// code must give a token, and the token's user must be a member.
func (g *githubGate) callback(w http.ResponseWriter, r *http.Request) (login string, next string, err error) {
	c, cerr := r.Cookie(stateCookie)
	if cerr != nil {
		return "", "", errors.New("no sign-in under way in this browser")
	}
	value, ok := g.verify(c.Value)
	state, next, _ := strings.Cut(value, "|")
	if !ok || state == "" || r.URL.Query().Get("state") != state {
		return "", "", errors.New("the sign-in's state does not match")
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: "", Path: CallbackPath, MaxAge: -1})
	tok, err := g.oauth.Exchange(r.Context(), r.URL.Query().Get("code"))
	if err != nil {
		return "", "", fmt.Errorf("exchange the code: %w", err)
	}
	login, err = g.member(r.Context(), tok)
	if err != nil {
		return "", "", err
	}
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/"
	}
	return login, next, nil
}

// errNotMember refuses a signed-in user who is not in the org or team.
var errNotMember = errors.New("not a member")

// member returns the token's login if it is an active member of the org
// (and team).
func (g *githubGate) member(ctx context.Context, tok *oauth2.Token) (string, error) {
	client := github.NewClient(g.oauth.Client(ctx, tok))
	if g.cfg.APIURL != "" {
		u, err := url.Parse(strings.TrimSuffix(g.cfg.APIURL, "/") + "/")
		if err != nil {
			return "", fmt.Errorf("GitHub API URL: %w", err)
		}
		client.BaseURL = u
	}
	user, _, err := client.Users.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("read the user: %w", err)
	}
	login := user.GetLogin()
	if g.cfg.Team != "" {
		m, resp, err := client.Teams.GetTeamMembershipBySlug(ctx, g.cfg.Org, g.cfg.Team, login)
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return login, errNotMember
		}
		if err != nil {
			return "", fmt.Errorf("read the team membership: %w", err)
		}
		if m.GetState() != "active" {
			return login, errNotMember
		}
		return login, nil
	}
	m, resp, err := client.Organizations.GetOrgMembership(ctx, "", g.cfg.Org)
	if resp != nil && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden) {
		return login, errNotMember
	}
	if err != nil {
		return "", fmt.Errorf("read the organization membership: %w", err)
	}
	if m.GetState() != "active" {
		return login, errNotMember
	}
	return login, nil
}

// serveCallback answers GitHub's redirect: a session cookie and the page
// the person wanted, or a page saying why not (never the error chain).
func (g *githubGate) serveCallback(w http.ResponseWriter, r *http.Request, h *Handler) {
	login, next, err := g.callback(w, r)
	if err != nil {
		h.cfg.Log.Warn("ui: GitHub sign-in refused", "login", login, "error", err.Error())
		msg := "The sign-in with GitHub did not complete. <a href=\"/\">Try again</a>."
		if errors.Is(err, errNotMember) {
			who := g.cfg.Org
			if g.cfg.Team != "" {
				who += "/" + g.cfg.Team
			}
			msg = "GitHub says you are not a member of " + template.HTMLEscapeString(who) + ": these pages are for its members."
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_ = layoutTemplate.Execute(w, page{Title: "birdwatch: sign in", Body: htmlOf("<h1>Sign in</h1><p>" + msg + "</p>")})
		return
	}
	exp := g.now().Add(g.cfg.Session).Unix()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: g.sign(login + "|" + strconv.FormatInt(exp, 10)), Path: "/",
		HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode, MaxAge: int(g.cfg.Session.Seconds())})
	h.cfg.Log.Info("ui: signed in with GitHub", "login", login)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}
