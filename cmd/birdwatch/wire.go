package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/functions/hook"
	"github.com/birdwatch-gitops/birdwatch/gitops/pullrequest"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/sync"
)

// judges is the explicit registry of spec.analysis.judge values.
func judges() map[string]judge.Judge {
	js := []judge.Judge{judge.Sequential{}, judge.Sequential{Binomial: true}, judge.Threshold{}, judge.MannWhitney{}}
	m := make(map[string]judge.Judge, len(js))
	for _, j := range js {
		m[j.Name()] = j
	}
	return m
}

// syncEngines is the explicit registry of spec.sync.engine values. The
// Flux and Argo CD gates read the applied revision's status from revs (the
// engine's repository) and the cluster from the BIRDWATCH_KUBECONFIG,
// BIRDWATCH_KUBE_CONTEXT or BIRDWATCH_EKS_* settings, built on first use;
// without revs they are listed but fail when used.
func syncEngines(cfg *Config, revs ...sync.Revisions) sync.Engines {
	var r sync.Revisions
	if len(revs) > 0 {
		r = revs[0]
	}
	kube := &sync.Kubernetes{Config: kubeConfig(cfg)}
	return sync.Engines{"none": sync.None{}, "flux": sync.Flux{Cluster: kube, Revisions: r},
		"argocd": sync.ArgoCD{Cluster: kube, Revisions: r}}
}

// kubeConfig reads the cluster settings from the environment (called at
// wiring time, never at import): BIRDWATCH_KUBECONFIG and
// BIRDWATCH_KUBE_CONTEXT, or for Lambda BIRDWATCH_EKS_CLUSTER,
// BIRDWATCH_EKS_REGION, BIRDWATCH_EKS_ENDPOINT and BIRDWATCH_EKS_CA_FILE.
// Nothing set means in-cluster, else ~/.kube/config.
func kubeConfig(cfg *Config) sync.KubeConfig {
	kc := sync.KubeConfig{Kubeconfig: cfg.Kubeconfig, Context: cfg.KubeContext}
	if cfg.EKSCluster != "" {
		var ca []byte
		if cfg.EKSCAFile != "" {
			ca, _ = os.ReadFile(cfg.EKSCAFile) // a missing CA fails at the first TLS handshake
		}
		kc.EKS = &sync.EKSConfig{Cluster: cfg.EKSCluster, Region: cfg.EKSRegion, Endpoint: cfg.EKSEndpoint, CAData: ca}
	}
	return kc
}

// pullRequests wires pull-request mode: the GitHub repository is
// BIRDWATCH_GITHUB_REPO ("owner/name") or read from a github.com repository
// URL; the token is BIRDWATCH_GITHUB_TOKEN or the Git token; GitHub
// Enterprise needs BIRDWATCH_GITHUB_API_URL (https://HOST/api/v3/).
// BIRDWATCH_GITHUB_AUTOMERGE=true asks for auto-merge,
// BIRDWATCH_GITHUB_MERGE_METHOD picks merge (default), squash or rebase.
// It returns nil when no GitHub repository is known: canaries in
// pull-request mode then fail with core.ErrNoPullRequests.
func pullRequests(ctx context.Context, cfg *Config) (core.PullRequests, error) {
	owner, name, ok := strings.Cut(cfg.GitHubRepo, "/")
	if !ok {
		if owner, name, ok = githubRepo(cfg.Repo); !ok {
			return nil, nil
		}
	}
	token, err := cfg.secret(ctx, "BIRDWATCH_GITHUB_TOKEN")
	if err == nil && token == "" {
		token, err = cfg.gitToken(ctx)
	}
	if err != nil {
		return nil, err
	}
	gh, err := pullrequest.NewGitHub(pullrequest.GitHubConfig{Owner: owner, Repo: name,
		Token: token, BaseURL: cfg.GitHubAPIURL, AutoMerge: cfg.GitHubAutoMerge, MergeMethod: cfg.GitHubMergeMethod})
	if err != nil {
		return nil, fmt.Errorf("pull-request mode: %w", err)
	}
	return gh, nil
}

// githubRepo reads owner and name from a github.com URL: https://,
// ssh:// or scp-like git@github.com:owner/name.git.
func githubRepo(u string) (owner, name string, ok bool) {
	for _, prefix := range []string{"https://github.com/", "ssh://git@github.com/", "git@github.com:"} {
		if rest, found := strings.CutPrefix(u, prefix); found {
			owner, name, ok = strings.Cut(strings.TrimSuffix(strings.TrimSuffix(rest, "/"), ".git"), "/")
			return owner, name, ok && owner != "" && name != "" && !strings.Contains(name, "/")
		}
	}
	return "", "", false
}

// openRepo opens the Git cache for cfg.
func openRepo(ctx context.Context, cfg *Config) (*repo.Repo, error) {
	if cfg.Repo == "" {
		return nil, fmt.Errorf("no repository: give --repo or BIRDWATCH_REPO")
	}
	token, err := cfg.gitToken(ctx)
	if err != nil {
		return nil, err
	}
	signer, err := cfg.commitSigner(ctx)
	if err != nil {
		return nil, err
	}
	return repo.Open(ctx, repo.Options{URL: cfg.Repo, Branch: cfg.Branch, CacheDir: cfg.CacheDir,
		Auth: repo.Auth{Token: token, SSHKeyFile: cfg.SSHKeyFile}, Signer: signer})
}

// loopRepo is the repository the loop uses: a cached clone (*repo.Repo) or
// GitHub's API (*repo.GitHubRepo).
type loopRepo interface {
	core.Repository
	sync.Revisions
	Close() error
}

// openLoopRepo opens the repository for the loop: BIRDWATCH_GIT_API=github
// or gitlab reads and commits through that host's API, otherwise the Git
// cache.
func openLoopRepo(ctx context.Context, cfg *Config) (loopRepo, error) {
	switch cfg.GitAPI {
	case "":
		r, err := openRepo(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return r, nil
	case "github":
	case "gitlab":
		return openGitLabRepo(ctx, cfg)
	default:
		return nil, fmt.Errorf("BIRDWATCH_GIT_API: %q is not \"github\", \"gitlab\" or empty", cfg.GitAPI)
	}
	owner, name, ok := strings.Cut(cfg.GitHubRepo, "/")
	if !ok {
		if owner, name, ok = githubRepo(cfg.Repo); !ok {
			return nil, errors.New("BIRDWATCH_GIT_API=github: give BIRDWATCH_GITHUB_REPO (owner/name) or a github.com repository URL")
		}
	}
	token, err := cfg.secret(ctx, "BIRDWATCH_GITHUB_TOKEN")
	if err == nil && token == "" {
		token, err = cfg.gitToken(ctx)
	}
	if err != nil {
		return nil, err
	}
	g, err := repo.OpenGitHub(repo.GitHubOptions{Owner: owner, Name: name, Branch: cfg.Branch, Token: token, APIURL: cfg.GitHubAPIURL})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// openGitLabRepo opens GitLab's API mode: the project is
// BIRDWATCH_GITLAB_PROJECT or the path of a repository URL on
// BIRDWATCH_GITLAB_URL, the token BIRDWATCH_GITLAB_API_TOKEN or the Git
// token.
func openGitLabRepo(ctx context.Context, cfg *Config) (loopRepo, error) {
	web := strings.TrimSuffix(cfg.GitLabURL, "/")
	project := cfg.GitLabProject
	if project == "" {
		if rest, ok := strings.CutPrefix(cfg.Repo, web+"/"); ok {
			project = strings.TrimSuffix(strings.TrimSuffix(rest, "/"), ".git")
		}
	}
	if project == "" || !strings.Contains(project, "/") {
		return nil, fmt.Errorf("BIRDWATCH_GIT_API=gitlab: give BIRDWATCH_GITLAB_PROJECT (group/name) or a repository URL under %s", web)
	}
	token, err := cfg.secret(ctx, "BIRDWATCH_GITLAB_API_TOKEN")
	if err == nil && token == "" {
		token, err = cfg.gitToken(ctx)
	}
	if err != nil {
		return nil, err
	}
	g, err := repo.OpenGitLab(repo.GitLabOptions{Project: project, Branch: cfg.Branch, Token: token, APIURL: web + "/api/v4/"})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// newEngine wires the loop for cfg. The caller closes the returned repo.
func newEngine(ctx context.Context, cfg *Config, log *slog.Logger) (*core.Engine, loopRepo, error) {
	r, err := openLoopRepo(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	e := &core.Engine{Repo: r, Judges: judges(), Sync: syncEngines(cfg, r), Log: log,
		Hooks: &hook.Client{Secrets: cfg.notifySecrets(), AllowLinkLocal: cfg.HooksAllowLinkLocal}}
	e.PullRequests, err = pullRequests(ctx, cfg)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	key, err := cfg.secret(ctx, "BIRDWATCH_STATUS_KEY")
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	if key == "" && log != nil {
		log.Warn("BIRDWATCH_STATUS_KEY is not set: statuses are not sealed or checked, so a status file committed by anyone is acted on (docs/reliability.md)")
	}
	if key != "" {
		e.StatusKey = []byte(key)
	}
	if cfg.Prometheus != "" {
		p, err := newPrometheus(ctx, cfg)
		if err != nil {
			r.Close()
			return nil, nil, err
		}
		e.Metrics = p
	}
	if cfg.secrets == nil {
		cfg.secrets = newSecretStore() // before the loop's goroutines resolve secretRefs
	}
	e.Providers = newMetricsRegistry(cfg.metricsSecret, cfg.PrometheusTimeout)
	if e.Metrics != nil {
		e.Providers.SetDefault("prometheus", e.Metrics)
	}
	d, err := newDispatcher(ctx, cfg, e.Metrics, log)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	e.Notifiers = append(e.Notifiers, d)
	return e, r, nil
}

// newLogger builds the process logger.
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// newPrometheus builds the metrics provider from cfg: timeout, basic auth,
// TLS and SigV4 (Amazon Managed Prometheus, default AWS credential chain).
func newPrometheus(ctx context.Context, cfg *Config) (*metrics.Prometheus, error) {
	pc := metrics.PrometheusConfig{URL: cfg.Prometheus, Timeout: cfg.PrometheusTimeout}
	password, err := cfg.secret(ctx, "BIRDWATCH_PROMETHEUS_PASSWORD")
	if err != nil {
		return nil, err
	}
	if cfg.PrometheusUsername != "" || password != "" {
		pc.BasicAuth = &metrics.BasicAuth{Username: cfg.PrometheusUsername, Password: password}
	}
	if pc.BearerToken, err = cfg.secret(ctx, "BIRDWATCH_PROMETHEUS_BEARER_TOKEN"); err != nil {
		return nil, err
	}
	if pc.Headers, err = parseHeaders(cfg.PrometheusHeaders); err != nil {
		return nil, err
	}
	if cfg.PrometheusCAFile != "" || cfg.PrometheusCertFile != "" || cfg.PrometheusKeyFile != "" || cfg.PrometheusServerName != "" {
		pc.TLS = &metrics.TLSConfig{CAFile: cfg.PrometheusCAFile, CertFile: cfg.PrometheusCertFile,
			KeyFile: cfg.PrometheusKeyFile, ServerName: cfg.PrometheusServerName}
	}
	if cfg.PrometheusSigV4Region != "" {
		creds, err := metrics.DefaultAWSCredentials(ctx, cfg.PrometheusSigV4Region)
		if err != nil {
			return nil, err
		}
		pc.SigV4 = &metrics.SigV4Config{Region: cfg.PrometheusSigV4Region, Credentials: creds}
	}
	return metrics.NewPrometheus(pc)
}
