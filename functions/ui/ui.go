// Package ui serves birdwatch's read-only pages: the fleet (every canary,
// where it stands, its last decision and a sparkline per key metric) and
// each rollout (the HTML report's content: charts of canary vs baseline
// with the weight and the decisions, the decisions table, the last
// analysis). Pages are server-rendered HTML that work without JavaScript
// (a <noscript> refresh); a small script fetches the page's content again
// every Refresh and swaps it in place when it changed (ETag), so an open
// page follows the rollout without reloading. `birdwatch serve --ui` and
// the webhook Lambda (GET routes of its Function URL) mount the Handler.
package ui

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Entry is one canary as read from Git: its spec and status (nil when not
// started), or Err when its spec or status cannot be read. Key names the
// canary ("namespace/name") even then.
type Entry struct {
	Key    string
	Canary *spec.Canary
	Status *spec.Status
	Err    error
}

// Fleet reads every canary at the branch head. An error means nothing
// could be read (the repository cannot be fetched); a canary that cannot
// be read is an Entry with Err.
type Fleet interface {
	Entries(ctx context.Context) ([]Entry, error)
}

// FleetFunc adapts a function to Fleet.
type FleetFunc func(ctx context.Context) ([]Entry, error)

// Entries implements Fleet.
func (f FleetFunc) Entries(ctx context.Context) ([]Entry, error) { return f(ctx) }

// Config configures the Handler.
type Config struct {
	// Fleet reads the canaries; required.
	Fleet Fleet
	// Metrics draws charts and sparklines; nil shows none (and says so).
	Metrics metrics.RangeProvider
	// Token, when not empty, is asked for on every page: as
	// "Authorization: Bearer TOKEN", or the cookie a "?token=TOKEN" link
	// sets (the link then redirects to the same page without the token).
	// Empty (and no GitHub) means the pages are open to whoever reaches them.
	Token string
	// GitHub, when set, signs people in with GitHub and lets in the
	// members of an organization or team (beside the Token, if any).
	GitHub *GitHubAuth
	// Refresh is how often an open page asks for new content; 0 means 10s.
	Refresh time.Duration
	// CacheTTL bounds how old the data behind a page may be; 0 means 5s.
	// Every page shares one read of the repository per TTL.
	CacheTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives what went wrong behind a page (pages only say what
	// failed, never a stack trace or an internal error chain); nil discards.
	Log *slog.Logger
}

// Handler serves GET / and GET /canaries/{namespace}/{name} (and GitHub's
// sign-in callback when GitHub is configured).
type Handler struct {
	cfg    Config
	data   *cache
	mux    *http.ServeMux
	auth   *tokenAuth
	github *githubGate
}

// New checks cfg and builds the Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Fleet == nil {
		return nil, errors.New("ui: no fleet to show")
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 10 * time.Second
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, data: newCache(cfg), mux: http.NewServeMux()}
	if cfg.Token != "" {
		h.auth = newTokenAuth(cfg.Token)
	}
	if cfg.GitHub != nil {
		g, err := newGitHubGate(*cfg.GitHub, cfg.Now)
		if err != nil {
			return nil, err
		}
		h.github = g
	}
	h.mux.HandleFunc("GET /{$}", h.fleetPage)
	h.mux.HandleFunc("GET /canaries/{namespace}/{name}", h.rolloutPage)
	return h, nil
}

// ServeHTTP implements http.Handler: authentication, then the page.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if h.github != nil && r.URL.Path == CallbackPath {
		h.github.serveCallback(w, r, h)
		return
	}
	if !h.allowed(w, r) {
		return
	}
	h.mux.ServeHTTP(w, r)
}

// Routes are the patterns the Handler answers, for muxes that mount it
// beside other handlers.
var Routes = []string{"GET /{$}", "GET /canaries/{namespace}/{name}", "GET " + CallbackPath}

func (h *Handler) fleetPage(w http.ResponseWriter, r *http.Request) {
	v := h.data.fleet(r.Context())
	h.render(w, r, page{Title: "birdwatch: fleet", Refresh: h.cfg.Refresh}, func(b *bytes.Buffer) error {
		return fleetTemplate.Execute(b, v)
	})
}

func (h *Handler) rolloutPage(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("namespace") + "/" + r.PathValue("name")
	v, found := h.data.rollout(r.Context(), key)
	if !found {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_ = layoutTemplate.Execute(w, page{Title: "birdwatch: not found", Body: notFoundHTML(key)})
		return
	}
	h.render(w, r, page{Title: "birdwatch: " + key, Refresh: h.cfg.Refresh, Back: true}, func(b *bytes.Buffer) error {
		return writeRollout(b, v)
	})
}

// render writes the page, or only its content when the page's script asks
// (?fragment=1); both carry an ETag of the content, and an unchanged
// content answers 304.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, p page, content func(*bytes.Buffer) error) {
	var b bytes.Buffer
	if err := content(&b); err != nil {
		h.cfg.Log.Error("ui: render page", "path", r.URL.Path, "error", err.Error())
		http.Error(w, "birdwatch could not draw this page; the server log says why", http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(b.Bytes())
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	fragment := r.URL.Query().Get("fragment") == "1"
	w.Header().Add("Vary", "Cookie, Authorization")
	if fragment && strings.Contains(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if fragment {
		_, _ = w.Write(b.Bytes())
		return
	}
	p.Body = htmlOf(b.String())
	p.ETag = etag
	if err := layoutTemplate.Execute(w, p); err != nil {
		h.cfg.Log.Error("ui: render layout", "path", r.URL.Path, "error", err.Error())
	}
}

// setSecurityHeaders lets the pages run their one script and show data:
// images, and nothing else: no other origin, no framing, no sniffing.
func setSecurityHeaders(hdr http.Header) {
	hdr.Set("Content-Security-Policy", fmt.Sprintf("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "+
		"script-src '%s'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'", scriptHash))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")
}
