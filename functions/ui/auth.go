package ui

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
)

// cookieName holds the page session set by a ?token= link.
const cookieName = "birdwatch_ui"

// tokenAuth asks for one shared token. The cookie holds an HMAC of the
// token, not the token, so a cookie read off a browser does not work as a
// bearer token, and rotating the token ends every cookie.
type tokenAuth struct {
	token  []byte
	cookie string
}

func newTokenAuth(token string) *tokenAuth {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("birdwatch ui cookie v1"))
	return &tokenAuth{token: []byte(token), cookie: hex.EncodeToString(mac.Sum(nil))}
}

func (a *tokenAuth) match(s string) bool { return subtle.ConstantTimeCompare([]byte(s), a.token) == 1 }

// valid says whether r carries the token, as a bearer token or the cookie.
func (a *tokenAuth) valid(r *http.Request) bool {
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && a.match(bearer) {
		return true
	}
	c, err := r.Cookie(cookieName)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(a.cookie)) == 1
}

// link answers a ?token= link that matches: it sets the cookie and
// redirects (303) to the same URL without the token, so the token stays
// out of the address bar, the history and the logs of whatever the page
// links to. It returns false, writing nothing, for any other request.
func (a *tokenAuth) link(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	if t := q.Get("token"); t == "" || !a.match(t) {
		return false
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: a.cookie, Path: "/", HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteStrictMode})
	q.Del("token")
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
	return true
}

// allowed answers whether r may see the page; when not, it has answered:
// the token link's redirect, GitHub's sign-in for a browser's page, or 401.
func (h *Handler) allowed(w http.ResponseWriter, r *http.Request) bool {
	if h.auth == nil && h.github == nil {
		return true
	}
	if (h.auth != nil && h.auth.valid(r)) || (h.github != nil && h.github.session(r) != "") {
		return true
	}
	if h.auth != nil && h.auth.link(w, r) {
		return false
	}
	if h.github != nil && r.URL.Query().Get("fragment") == "" {
		h.github.start(w, r)
		return false
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="birdwatch"`)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_ = layoutTemplate.Execute(w, page{Title: "birdwatch: sign in", Body: htmlOf(
		`<h1>Sign in</h1><p>These pages need birdwatch's page token: open the link with <code>?token=…</code> you were given, ` +
			`or send <code>Authorization: Bearer …</code>.</p>`)})
	return false
}
