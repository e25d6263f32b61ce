package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/birdwatch-gitops/birdwatch/functions/chatops"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	gosync "sync"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/auth"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/functions/ui"
	"github.com/birdwatch-gitops/birdwatch/functions/webhook"
	"github.com/google/go-github/v84/github"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
)

func newServeCommand() *cobra.Command { return newServeCommandWith(nil) }

// newServeCommandWith lets tests learn the listen address through ready.
func newServeCommandWith(ready func(addr string)) *cobra.Command {
	sc := newConfig(modeServe)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve GitHub/GitLab webhooks, /healthz and /metrics, and run the loop on a schedule",
		Example: "  birdwatch serve --repo https://github.com/acme/fleet --prometheus http://prometheus:9090 \\\n" +
			"    --github-webhook-secret-file /run/secrets/webhook --github-token-file /run/secrets/github-token",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), sc, cmd.ErrOrStderr(), ready)
		},
	}
	sc.bind(cmd, "git", "prometheus", "notify", "github", "gitlab", "webhook", "kube", "serve", "ui")
	return cmd
}

// runServe serves until ctx ends (SIGTERM or SIGINT in main), then stops
// taking requests, lets work in progress finish within ShutdownTimeout and
// returns.
func runServe(ctx context.Context, sc *Config, stderr io.Writer, ready func(string)) error {
	log := newLogger(stderr, sc.LogFormat)
	e, r, err := newEngine(ctx, sc, log)
	if err != nil {
		return err
	}
	defer r.Close()
	m := newServeMetrics()
	for _, n := range e.Notifiers {
		if c, ok := n.(interface{ Collectors() []prometheus.Collector }); ok {
			m.registry.MustRegister(c.Collectors()...) // birdwatch_notifications_total, birdwatch_notification_retries_total
		}
	}
	metered := &meteredEngine{Engine: e, m: m}
	q := newJobQueue(sc.Queue, log)
	h, err := newWebhookHandler(ctx, sc, metered, q, log)
	if err != nil {
		return err
	}
	slack, err := newSlackHandler(ctx, sc, metered, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", sc.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", sc.Addr, err)
	}
	mux := serveMux(h, m)
	if sc.UI {
		pages, err := newUIHandler(ctx, sc, e, log)
		if err != nil {
			return err
		}
		for _, route := range ui.Routes {
			mux.Handle(route, pages)
		}
	}
	if slack != nil {
		mux.Handle("POST /slack", promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(prometheus.Labels{"handler": "slack"}), slack))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "github", h != nil && sc.GitHubSecretFile != "",
		"gitlab", h != nil && sc.GitLabTokenFile != "", "every", sc.Every.String())
	if ready != nil {
		ready(ln.Addr().String())
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg gosync.WaitGroup
	q.start(workCtx, &wg)
	if sc.Every > 0 {
		wg.Go(func() { schedule(ctx, workCtx, metered, h, sc.Every, log) })
	}
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		stopWork()
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("shutting down", "timeout", sc.ShutdownTimeout.String())
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sc.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	q.close()
	if slack != nil {
		_ = slack.Dispatcher.(*chatops.Queue).Close(shutCtx)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-shutCtx.Done():
		log.Warn("work still running at the shutdown timeout: cancelling it")
	}
	stopWork()
	log.Info("stopped")
	return err
}

// newWebhookHandler wires the webhook handler; nil when no webhook secret
// is configured (the scheduler still runs).
func newWebhookHandler(ctx context.Context, sc *Config, e webhook.Engine, q *jobQueue, log *slog.Logger) (*webhook.Handler, error) {
	ghSecret, err := sc.secret(ctx, "BIRDWATCH_GITHUB_WEBHOOK_SECRET")
	if err != nil {
		return nil, err
	}
	glToken, err := sc.secret(ctx, "BIRDWATCH_GITLAB_TOKEN")
	if err != nil {
		return nil, err
	}
	if ghSecret == "" && glToken == "" {
		log.Warn("no webhook secret or token configured: webhooks are off")
		return nil, nil
	}
	cfg := webhook.Config{Engine: e, Checks: core.Checks(judges()), Branch: sc.Branch, Dispatch: q.dispatch, Log: log,
		GitLab: webhook.GitLabConfig{Token: []byte(glToken), Project: sc.GitLabProject}}
	if ghSecret != "" {
		client, repoName, err := githubClient(ctx, sc)
		if err != nil {
			return nil, err
		}
		api := webhook.NewGitHubAPI(client)
		cfg.GitHub = webhook.GitHubConfig{Secret: []byte(ghSecret), Repository: repoName, Comments: api, Pulls: api,
			Statuses: api, CheckRuns: sc.CheckRuns, Login: sc.GitHubLogin}
		cfg.Authorizer = &auth.Authorizer{GitHub: auth.NewGitHub(client), Repository: repoName}
	}
	if err := withGitLabAPI(ctx, sc, &cfg); err != nil {
		return nil, err
	}
	return webhook.New(cfg)
}

// githubClient builds the API client and names the repository.
func githubClient(ctx context.Context, sc *Config) (*github.Client, string, error) {
	repoName := sc.GitHubRepo
	if repoName == "" {
		owner, name, ok := githubRepo(sc.Repo)
		if !ok {
			return nil, "", errors.New("give --github-repo owner/name: the repository URL is not on github.com")
		}
		repoName = owner + "/" + name
	}
	token, err := sc.secret(ctx, "BIRDWATCH_GITHUB_TOKEN")
	if err != nil {
		return nil, "", err
	}
	if token == "" {
		if token, err = sc.gitToken(ctx); err != nil {
			return nil, "", err
		}
	}
	client := github.NewClient(nil)
	if token != "" {
		client = client.WithAuthToken(token)
	}
	if sc.GitHubAPIURL != "" {
		u, err := url.Parse(strings.TrimSuffix(sc.GitHubAPIURL, "/") + "/")
		if err != nil {
			return nil, "", fmt.Errorf("--github-api-url: %w", err)
		}
		client.BaseURL = u
	}
	return client, repoName, nil
}

func serveMux(h *webhook.Handler, m *serveMetrics) *http.ServeMux {
	mux := http.NewServeMux()
	if h != nil {
		for name, handler := range map[string]http.Handler{"github": h.GitHub(), "gitlab": h.GitLab()} {
			counter := m.requests.MustCurryWith(prometheus.Labels{"handler": name})
			mux.Handle("/webhooks/"+name, promhttp.InstrumentHandlerCounter(counter, handler))
		}
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	return mux
}

// schedule runs the loop now and then every interval until ctx ends, and
// reports decisions to their pull requests. Runs use work, which outlives
// ctx, so a run under way when SIGTERM comes is finished, not cut.
func schedule(ctx, work context.Context, e *meteredEngine, h *webhook.Handler, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		outcomes, err := e.Run(work, core.Request{Trigger: "schedule"})
		if err != nil && work.Err() == nil {
			log.Error("scheduled run failed", "error", err.Error())
		}
		if h != nil && err == nil {
			if err := h.Report(work, outcomes); err != nil {
				log.Warn("report failed", "error", err.Error())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serveMetrics are the /metrics collectors, on a registry of their own.
type serveMetrics struct {
	registry   *prometheus.Registry
	decisions  *prometheus.CounterVec
	errors     *prometheus.CounterVec
	runSeconds *prometheus.HistogramVec
	requests   *prometheus.CounterVec
}

func newServeMetrics() *serveMetrics {
	m := &serveMetrics{registry: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "birdwatch_decisions_total",
			Help: "Decisions made, by canary and action (none and wait included)."}, []string{"canary", "action"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "birdwatch_errors_total",
			Help: "Failed runs (canary \"\") and failed canary decisions."}, []string{"canary", "trigger"}),
		runSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "birdwatch_run_duration_seconds",
			Help: "Duration of one run of the loop (fetch, analysis of every canary, commits).", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)},
			[]string{"trigger"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "birdwatch_webhook_requests_total",
			Help: "Webhook requests by handler and HTTP status code."}, []string{"handler", "code"}),
	}
	m.registry.MustRegister(m.decisions, m.errors, m.runSeconds, m.requests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// meteredEngine counts what the engine does.
type meteredEngine struct {
	*core.Engine
	m *serveMetrics
}

// Run runs the loop and records its duration, decisions and errors.
func (e *meteredEngine) Run(ctx context.Context, req core.Request) ([]core.Outcome, error) {
	start := time.Now()
	out, err := e.Engine.Run(ctx, req)
	e.m.runSeconds.WithLabelValues(req.Trigger).Observe(time.Since(start).Seconds())
	if err != nil {
		e.m.errors.WithLabelValues(req.Canary, req.Trigger).Inc()
	}
	for _, o := range out {
		e.m.decisions.WithLabelValues(o.Canary, string(o.Decision.Action)).Inc()
		if o.Err != nil {
			e.m.errors.WithLabelValues(o.Canary, req.Trigger).Inc()
		}
	}
	return out, err
}

// jobQueue runs accepted deliveries one at a time, in order, after their
// 202: GitHub gives a webhook 10 s, a decision may take longer.
type jobQueue struct {
	jobs chan func(context.Context) error
	log  *slog.Logger
	mu   gosync.RWMutex
	shut bool
}

func newJobQueue(n int, log *slog.Logger) *jobQueue {
	return &jobQueue{jobs: make(chan func(context.Context) error, max(n, 1)), log: log}
}

// dispatch takes a job, or returns webhook.ErrBusy when the queue is full or closed.
func (q *jobQueue) dispatch(job func(context.Context) error) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.shut {
		return webhook.ErrBusy
	}
	select {
	case q.jobs <- job:
		return nil
	default:
		return webhook.ErrBusy
	}
}

func (q *jobQueue) start(ctx context.Context, wg *gosync.WaitGroup) {
	wg.Go(func() {
		for job := range q.jobs {
			_ = job(ctx) // the handler logs failures
		}
	})
}

// close stops taking jobs; the worker finishes the queued ones.
func (q *jobQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.shut {
		q.shut = true
		close(q.jobs)
	}
}

// newSlackHandler mounts Slack chat-ops on an in-process bounded queue; nil
// when no signing secret is configured.
func newSlackHandler(ctx context.Context, sc *Config, e *meteredEngine, log *slog.Logger) (*chatops.Handler, error) {
	secret, err := sc.secret(ctx, "BIRDWATCH_SLACK_SIGNING_SECRET")
	if err != nil || secret == "" {
		return nil, err
	}
	access, err := slackAccess(ctx, sc)
	if err != nil {
		return nil, err
	}
	runner := &chatops.Runner{Loops: []chatops.Loop{e}, Authorizer: access, Log: log}
	q := chatops.NewQueue(runner.Run, chatops.QueueOptions{Size: sc.Queue, Log: log})
	return &chatops.Handler{SigningSecret: secret, Dispatcher: q, Log: log}, nil
}
