// Package webhook is birdwatch's Git trigger: an http.Handler for GitHub and
// GitLab webhooks, usable from `birdwatch serve`, from AWS Lambda (Function
// URL or API Gateway v2, see LambdaHandler) and from tests.
//
// Every delivery is checked before its payload is parsed: the body is capped
// (413), the GitHub HMAC (X-Hub-Signature-256) or GitLab token
// (X-Gitlab-Token) is compared in constant time (401), and a delivery ID seen
// before is refused as a replay (401). Then only allowlisted events are
// decoded; others get 200 and a log line. What a delivery does:
//
//   - a push, or a merged pull request, to the configured branch runs the
//     loop at once (core.Engine.Run, trigger "webhook");
//   - a pull request that changes a .birdwatch/ spec gets a validation
//     report (a comment edited in place, and a commit status);
//   - a PR comment "/birdwatch status|promote|pause|resume|abort|rollback|
//     skip-analysis [ns/name]" is authorized against spec.access and applied
//     with the comment ID as command ID, so a redelivery acts once; every
//     command is answered on the PR;
//   - a re-run of one of birdwatch's check runs runs the loop (or the
//     validation) again.
//
// Reporter posts the analysis of each decision to the pull request the
// rollout came from.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/auth"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/bodylimit"
)

// Defaults for zero Config fields.
const (
	// DefaultMaxBodyBytes caps a delivery's body (GitHub caps payloads at 25 MB;
	// birdwatch needs far less).
	DefaultMaxBodyBytes = 5 << 20
	// DefaultReplayMemory is how many handled delivery IDs are remembered.
	DefaultReplayMemory = 4096
	// DefaultMaxCommandAge is how old a PR comment may be and still command.
	DefaultMaxCommandAge = 24 * time.Hour
	// DefaultBranch is the branch the loop reads when Config.Branch is "".
	DefaultBranch = "main"
	// Trigger is the core.Request trigger of webhook runs.
	Trigger = "webhook"
)

// Engine is the loop; *core.Engine implements it.
type Engine interface {
	Run(ctx context.Context, req core.Request) ([]core.Outcome, error)
	Fleet(ctx context.Context) ([]core.Entry, error)
}

// Authorizer decides who may command a canary; *auth.Authorizer implements it.
type Authorizer interface {
	Authorize(ctx context.Context, key string, access spec.AccessSpec, who auth.Identity) auth.Decision
}

// Config configures New. Engine and at least one of GitHub.Secret or
// GitLab.Token are required.
type Config struct {
	Engine Engine
	// Checks validate specs in pull requests; use core.Checks(judges) so a
	// PR is checked like the loop checks main.
	Checks spec.Checks
	// Revisions reads the pull request's head commit, so the PR check
	// reads .birdwatch/ as the loop and validate do (gitops/spectree:
	// links, sizes, .git paths, duplicates, referenced files). nil means
	// the engine's repository when it can (*repo.Repo, *repo.GitHubRepo);
	// without one, each changed spec file is read alone through the API.
	Revisions Revisions
	// Branch is the branch the engine reads and commits to; pushes and
	// merges to other branches are ignored. "" means DefaultBranch.
	Branch string
	// Authorizer checks commands; nil refuses every command but status.
	Authorizer Authorizer
	GitHub     GitHubConfig
	GitLab     GitLabConfig
	// MaxBodyBytes caps request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Bodies bounds the memory of bodies being read before their signature
	// is checked (503 or 429 past it); nil means bodylimit.New(0, 0), 64 MiB
	// in all and 16 MiB per source address. Handlers may share one.
	Bodies *bodylimit.Limiter
	// ReplayMemory is how many handled delivery IDs are kept to refuse
	// replays; 0 means DefaultReplayMemory. The memory is per process: across
	// Lambda instances, command IDs in Git keep a redelivered command from
	// acting twice.
	ReplayMemory int
	// Dispatch runs an accepted delivery's work. nil runs it before the
	// response (Lambda; the response then says what happened); serve passes a
	// bounded queue and the response is 202. Dispatch returns ErrBusy (503)
	// when it cannot take the job.
	Dispatch func(job func(ctx context.Context) error) error
	// MaxCommandAge is how old a comment (by its signed created_at) may be
	// and still command; older ones are answered as stale, so a captured
	// delivery cannot be replayed onto a later rollout. 0 means
	// DefaultMaxCommandAge.
	MaxCommandAge time.Duration
	// Now is the clock that ages comments; nil means time.Now.
	Now func() time.Time
	// Log receives one line per delivery; nil discards. Secrets, signatures
	// and payloads are never logged.
	Log *slog.Logger
}

// GitHubConfig is the GitHub side. An empty Secret disables GitHub deliveries.
type GitHubConfig struct {
	// Secret is the webhook secret that signs deliveries.
	Secret []byte
	// Repository is the GitOps repository as "owner/name"; deliveries about
	// other repositories are ignored.
	Repository string
	// Comments, Pulls and Statuses reach the GitHub API; NewGitHubAPI
	// implements all three. nil Comments means commands and reports cannot
	// be answered on the PR (they still act and are logged).
	Comments Comments
	Pulls    PullRequests
	Statuses Statuses
	// Login is the account birdwatch comments as (a user, or "name[bot]"
	// for a GitHub App). Only its comments are taken as birdwatch's reports
	// and replies, so a person who pastes a marker into a comment can
	// neither have it overwritten nor mute a command. Empty asks the token
	// (Comments as a LoginResolver: GET /user, or the app's bot); when that
	// is not possible no comment is taken for birdwatch's.
	Login string
	// CheckRuns reports with check runs (needs a GitHub App token) instead
	// of commit statuses.
	CheckRuns bool
	// WebURL is the web address of GitHub for commit links; "" means https://github.com.
	WebURL string
}

// GitLabConfig is the GitLab side. An empty Token disables GitLab deliveries.
type GitLabConfig struct {
	// Token is the secret token GitLab sends in X-Gitlab-Token.
	Token []byte
	// Project is the GitOps project's path_with_namespace; others are ignored.
	Project string
	// API reaches GitLab (NewGitLabAPI): merge request notes as commands and
	// answers, the rollout's report as one note edited in place, and a
	// commit status per decision. nil makes GitLab a trigger only: notes
	// are not taken as commands.
	API GitLabAPIs
	// Login is the username birdwatch writes notes as; "" asks the API
	// (GET /user) once. Only its notes are taken as birdwatch's.
	Login string
	// WebURL is GitLab's web address for commit links; "" means https://gitlab.com.
	WebURL string
}

// GitLabAPIs is what birdwatch needs of GitLab's API; *GitLabAPI implements it.
type GitLabAPIs interface {
	Comments
	PullRequests
	Statuses
}

// Handler serves webhook deliveries. It is safe for concurrent use.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	seen     *deliveries
	reporter *Reporter
	// gitlab reports to GitLab merge requests; nil without GitLab.API.
	gitlab *Reporter
}

// New checks cfg and returns the handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Engine == nil {
		return nil, errors.New("webhook: no engine")
	}
	if len(cfg.GitHub.Secret) == 0 && len(cfg.GitLab.Token) == 0 {
		return nil, errors.New("webhook: neither a GitHub secret nor a GitLab token is set: deliveries cannot be verified")
	}
	if len(cfg.GitHub.Secret) > 0 && cfg.GitHub.Repository == "" {
		return nil, errors.New("webhook: GitHub repository (owner/name) is required")
	}
	if len(cfg.GitLab.Token) > 0 && cfg.GitLab.Project == "" {
		return nil, errors.New("webhook: GitLab project (path_with_namespace) is required")
	}
	if cfg.Branch == "" {
		cfg.Branch = DefaultBranch
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxCommandAge <= 0 {
		cfg.MaxCommandAge = DefaultMaxCommandAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if ce, ok := cfg.Engine.(*core.Engine); ok && cfg.Revisions == nil {
		cfg.Revisions, _ = ce.Repo.(Revisions)
	}
	if cfg.Bodies == nil {
		cfg.Bodies = bodylimit.New(0, 0)
	}
	if cfg.ReplayMemory <= 0 {
		cfg.ReplayMemory = DefaultReplayMemory
	}
	if cfg.GitHub.WebURL == "" {
		cfg.GitHub.WebURL = "https://github.com"
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, log: log, seen: newDeliveries(cfg.ReplayMemory)}
	h.reporter = &Reporter{Engine: cfg.Engine, Repository: cfg.GitHub.Repository, Branch: cfg.Branch,
		Comments: cfg.GitHub.Comments, Pulls: cfg.GitHub.Pulls, Statuses: cfg.GitHub.Statuses, Login: cfg.GitHub.Login,
		CheckRuns: cfg.GitHub.CheckRuns, WebURL: cfg.GitHub.WebURL, Log: log}
	if cfg.GitLab.WebURL == "" {
		cfg.GitLab.WebURL = "https://gitlab.com"
		h.cfg.GitLab.WebURL = cfg.GitLab.WebURL
	}
	if api := cfg.GitLab.API; api != nil && len(cfg.GitLab.Token) > 0 {
		h.gitlab = &Reporter{Engine: cfg.Engine, Repository: cfg.GitLab.Project, Branch: cfg.Branch,
			Comments: api, Pulls: api, Statuses: api, Login: cfg.GitLab.Login, WebURL: cfg.GitLab.WebURL, Log: log,
			CommitLink: func(hash string) string { return gitlabCommitURL(cfg.GitLab.WebURL, cfg.GitLab.Project, hash) }}
	}
	return h, nil
}

// Report reports outcomes to the pull requests (GitHub) and merge requests
// (GitLab) their rollouts came from, for callers that run the loop
// themselves (serve's scheduler).
func (h *Handler) Report(ctx context.Context, outcomes []core.Outcome) error {
	errs := []error{h.reporter.Report(ctx, outcomes)}
	if h.gitlab != nil {
		errs = append(errs, h.gitlab.Report(ctx, outcomes))
	}
	return errors.Join(errs...)
}

// forge is the reporter of the Git host a plan came from.
func (h *Handler) forge(source string) *Reporter {
	if source == sourceGitLab && h.gitlab != nil {
		return h.gitlab
	}
	return h.reporter
}

// Reporter returns the GitHub PR reporter the handler uses; Report reports
// to GitLab too.
func (h *Handler) Reporter() *Reporter { return h.reporter }

// GitHub returns the handler of GitHub deliveries (mount at /webhooks/github).
func (h *Handler) GitHub() http.Handler { return http.HandlerFunc(h.serveGitHub) }

// GitLab returns the handler of GitLab deliveries (mount at /webhooks/gitlab).
func (h *Handler) GitLab() http.Handler { return http.HandlerFunc(h.serveGitLab) }

// ServeHTTP routes a delivery by its headers: X-GitHub-Event to GitHub,
// X-Gitlab-Event to GitLab, anything else is 400. It lets one Lambda
// function URL take both.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Header.Get("X-GitHub-Event") != "":
		h.serveGitHub(w, r)
	case r.Header.Get("X-Gitlab-Event") != "":
		h.serveGitLab(w, r)
	default:
		writeError(w, http.StatusBadRequest, errors.New("not a GitHub or GitLab webhook delivery"))
	}
}

// Response is the JSON body of a handled delivery.
type Response struct {
	// Result is done, ignored, accepted, refused, validated or failed.
	Result string `json:"result"`
	// Detail says why, in words.
	Detail string `json:"detail,omitempty"`
	// Outcomes lists what the loop did per canary.
	Outcomes []OutcomeSummary `json:"outcomes,omitempty"`
	// Warnings are failures to report (the decision itself stands).
	Warnings []string `json:"warnings,omitempty"`
}

// OutcomeSummary is one canary's outcome in a Response.
type OutcomeSummary struct {
	Canary  string `json:"canary"`
	Action  string `json:"action"`
	Phase   string `json:"phase,omitempty"`
	Weight  int    `json:"weight"`
	Commit  string `json:"commit,omitempty"`
	Refused string `json:"refused,omitempty"`
	Error   string `json:"error,omitempty"`
}

func summarize(outcomes []core.Outcome) []OutcomeSummary {
	out := make([]OutcomeSummary, 0, len(outcomes))
	for _, o := range outcomes {
		s := OutcomeSummary{Canary: o.Canary, Action: string(o.Decision.Action), Phase: string(o.Decision.Status.Phase),
			Weight: o.Decision.Status.Weight, Commit: o.Commit, Refused: o.Decision.Refused}
		if o.Err != nil {
			s.Error = o.Err.Error()
		}
		out = append(out, s)
	}
	return out
}

func ignored(format string, args ...any) Response {
	return Response{Result: "ignored", Detail: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// deliveries remembers the last n handled delivery IDs.
type deliveries struct {
	mu    sync.Mutex
	n     int
	ids   map[string]struct{}
	order []string
}

func newDeliveries(n int) *deliveries { return &deliveries{n: n, ids: map[string]struct{}{}} }

// add records id and reports whether it was new.
func (d *deliveries) add(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.ids[id]; ok {
		return false
	}
	d.ids[id] = struct{}{}
	d.order = append(d.order, id)
	if len(d.order) > d.n {
		delete(d.ids, d.order[0])
		d.order = d.order[1:]
	}
	return true
}

// forget removes id, so a redelivery of a failed delivery is taken.
func (d *deliveries) forget(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.ids, id)
}
