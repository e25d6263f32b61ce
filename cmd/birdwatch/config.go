package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Config is every setting of a birdwatch process, for the CLI, `serve` and
// the Lambda functions alike. Each field is one row of settingsTable: a
// BIRDWATCH_* variable read the same way in every mode that uses it, and,
// for commands that take it, a flag that wins over the variable. Secrets
// are never fields: a field names the file (or the variable names the
// Secrets Manager id) and secretStore resolves the value when it is used.
type Config struct {
	// Git.
	Repo, Branch, CacheDir, GitTokenFile, SSHKeyFile, LogFormat string
	// GitSigningKeyFile and GitSigningPassphraseFile name the commit signing key.
	GitSigningKeyFile, GitSigningPassphraseFile string
	// StatusKeyFile names the key that seals the statuses birdwatch writes.
	StatusKeyFile string
	// GitAPI is "" (Git protocol, a cached clone) or "github" (API mode).
	GitAPI string
	// Repos are the repositories of the Lambda functions (BIRDWATCH_REPOS, or BIRDWATCH_REPO).
	Repos []string

	// Prometheus.
	Prometheus                                                                    string
	PrometheusTimeout                                                             time.Duration
	PrometheusSigV4Region, PrometheusUsername, PrometheusPasswordFile             string
	PrometheusCAFile, PrometheusCertFile, PrometheusKeyFile, PrometheusServerName string
	// PrometheusBearerTokenFile and PrometheusHeaders reach Prometheus-compatible
	// stores behind a gateway (Grafana Cloud, Mimir's X-Scope-OrgID, Thanos).
	PrometheusBearerTokenFile string
	PrometheusHeaders         []string
	// MetricsSecretsFile holds the metrics providers' secrets as one JSON
	// object (see Config.metricsSecret).
	MetricsSecretsFile string

	// Slack decision messages.
	SlackBotTokenFile, SlackAPIURL string
	// Deployment secrets spec.notify names by secretRef: files in a
	// directory, else AWS Secrets Manager secrets PREFIX+NAME.
	NotifySecretsDir, NotifySecretsPrefix string
	// HooksAllowLinkLocal lets spec.analysis.webhooks reach link-local
	// addresses (cloud metadata services); off by default.
	HooksAllowLinkLocal bool

	// GitHub: pull requests, webhooks, comments, statuses.
	GitHubRepo, GitHubAPIURL, GitHubTokenFile, GitHubLogin, GitHubSecretFile, GitHubMergeMethod string
	CheckRuns, GitHubAutoMerge                                                                  bool

	// GitLab webhooks, and merge request notes, reports and statuses.
	GitLabTokenFile, GitLabProject             string
	GitLabURL, GitLabAPITokenFile, GitLabLogin string

	// Slack chat-ops.
	SlackSecretFile          string
	SlackResponseURLPrefixes []string

	// Kubernetes, for the Flux and Argo CD sync gates.
	Kubeconfig, KubeContext, EKSCluster, EKSRegion, EKSEndpoint, EKSCAFile string

	// serve.
	Addr            string
	Every           time.Duration
	Queue           int
	ShutdownTimeout time.Duration

	// Lambda.
	QueueURL string

	// Pages (functions/ui).
	UI          bool
	UITokenFile string
	UIRefresh   time.Duration
	// GitHub sign-in for the pages.
	UIURL, UIGitHubClientID, UIGitHubClientSecretFile, UIGitHubOrg, UIGitHubTeam string

	// secrets resolves secret values (file, variable or Secrets Manager),
	// each once per process; shared by copies of the Config.
	secrets *secretStore
	// loadErr is the first variable that could not be parsed; commands
	// return it before they run.
	loadErr error
}

// mode is where a setting is used: a bit set.
type mode uint8

const (
	modeCLI mode = 1 << iota
	modeServe
	modeLambda
	modeAll = modeCLI | modeServe | modeLambda
)

// String lists the modes for the settings table.
func (m mode) String() string {
	var out []string
	for _, x := range []struct {
		m    mode
		name string
	}{{modeCLI, "cli"}, {modeServe, "serve"}, {modeLambda, "lambda"}} {
		if m&x.m != 0 {
			out = append(out, x.name)
		}
	}
	return strings.Join(out, ", ")
}

// setting is one row of the configuration table.
type setting struct {
	// group selects the flags a command registers (see Config.bind).
	group string
	// flag is the flag name without dashes; "" for variable-only settings.
	flag string
	// env is the BIRDWATCH_* variable.
	env string
	// def is the default, parsed like the variable; lambdaDef replaces it in
	// Lambda when not "" (the only writable directory, JSON logs).
	def, lambdaDef string
	// secret, when set, is the variable holding the secret's value itself;
	// env is then the file holding it, and secret+"_SECRET_ID" names it in
	// AWS Secrets Manager.
	secret string
	// modes are where the setting is used.
	modes mode
	// usage is the flag's help and the table's description.
	usage string
	// field points into the Config: *string, *[]string, *bool, *int or *time.Duration.
	field func(*Config) any
}

// settingsTable is every BIRDWATCH_* setting. The README's settings table is
// generated from it (`birdwatch settings`), and a test keeps the two equal.
var settingsTable = []setting{
	{group: "git", flag: "repo", env: "BIRDWATCH_REPO", modes: modeAll, usage: "GitOps repository URL (file://, https://, ssh://); Lambda also takes BIRDWATCH_REPOS",
		field: func(c *Config) any { return &c.Repo }},
	{group: "lambda", env: "BIRDWATCH_REPOS", modes: modeLambda, usage: "repositories of the Lambda functions, comma- or space-separated (default: BIRDWATCH_REPO)",
		field: func(c *Config) any { return &c.Repos }},
	{group: "git", flag: "branch", env: "BIRDWATCH_BRANCH", def: "main", modes: modeAll, usage: "branch to read and commit to",
		field: func(c *Config) any { return &c.Branch }},
	{group: "git", flag: "cache-dir", env: "BIRDWATCH_CACHE_DIR", def: defaultCacheDir(), lambdaDef: filepath.Join(os.TempDir(), "birdwatch"), modes: modeAll,
		usage: "where the Git object cache lives", field: func(c *Config) any { return &c.CacheDir }},
	{group: "git", flag: "git-token-file", env: "BIRDWATCH_GIT_TOKEN_FILE", secret: "BIRDWATCH_GIT_TOKEN", modes: modeAll, usage: "file holding the HTTPS token for the repository",
		field: func(c *Config) any { return &c.GitTokenFile }},
	{group: "git", flag: "ssh-key-file", env: "BIRDWATCH_SSH_KEY_FILE", modes: modeAll, usage: "SSH private key for ssh:// remotes",
		field: func(c *Config) any { return &c.SSHKeyFile }},
	{group: "git", flag: "git-signing-key-file", env: "BIRDWATCH_GIT_SIGNING_KEY_FILE", secret: "BIRDWATCH_GIT_SIGNING_KEY", modes: modeAll,
		usage: "file holding the SSH or OpenPGP private key that signs birdwatch's commits (for branches that require signed commits)",
		field: func(c *Config) any { return &c.GitSigningKeyFile }},
	{group: "git", flag: "git-signing-passphrase-file", env: "BIRDWATCH_GIT_SIGNING_PASSPHRASE_FILE", secret: "BIRDWATCH_GIT_SIGNING_PASSPHRASE", modes: modeAll,
		usage: "file holding the passphrase of an encrypted signing key",
		field: func(c *Config) any { return &c.GitSigningPassphraseFile }},
	{group: "git", flag: "status-key-file", env: "BIRDWATCH_STATUS_KEY_FILE", secret: "BIRDWATCH_STATUS_KEY", modes: modeAll,
		usage: "file holding the key that seals every status birdwatch commits (HMAC trailer Birdwatch-Status-Seal): a rollout's status changed by a commit birdwatch did not seal (forged, reverted) freezes the canary instead of acting on it. Unset: no seals are written or checked and any commit to a status file is trusted (a warning is logged)",
		field: func(c *Config) any { return &c.StatusKeyFile }},
	{group: "git", flag: "git-api", env: "BIRDWATCH_GIT_API", modes: modeAll,
		usage: "github: run, serve and Lambda read and commit through GitHub's API (GraphQL createCommitOnBranch with the head check), never cloning; the repository is BIRDWATCH_GITHUB_REPO or the github.com URL, the token BIRDWATCH_GITHUB_TOKEN or the Git token. gitlab: the same through GitLab's commits API (last_commit_id per written file and a head check, see the README), the project BIRDWATCH_GITLAB_PROJECT or a URL under BIRDWATCH_GITLAB_URL, the token BIRDWATCH_GITLAB_API_TOKEN or the Git token. No pull-request mode",
		field: func(c *Config) any { return &c.GitAPI }},
	{group: "git", flag: "log-format", env: "BIRDWATCH_LOG_FORMAT", def: "text", lambdaDef: "json", modes: modeAll, usage: "log format: text or json",
		field: func(c *Config) any { return &c.LogFormat }},

	{group: "prometheus", flag: "prometheus", env: "BIRDWATCH_PROMETHEUS_URL", modes: modeAll, usage: "Prometheus base URL",
		field: func(c *Config) any { return &c.Prometheus }},
	{group: "prometheus", flag: "prometheus-timeout", env: "BIRDWATCH_PROMETHEUS_TIMEOUT", def: "10s", modes: modeAll, usage: "timeout of each query",
		field: func(c *Config) any { return &c.PrometheusTimeout }},
	{group: "prometheus", flag: "prometheus-username", env: "BIRDWATCH_PROMETHEUS_USERNAME", modes: modeAll, usage: "basic auth user",
		field: func(c *Config) any { return &c.PrometheusUsername }},
	{group: "prometheus", flag: "prometheus-password-file", env: "BIRDWATCH_PROMETHEUS_PASSWORD_FILE", secret: "BIRDWATCH_PROMETHEUS_PASSWORD", modes: modeAll,
		usage: "file holding the basic auth password", field: func(c *Config) any { return &c.PrometheusPasswordFile }},
	{group: "prometheus", flag: "prometheus-ca-file", env: "BIRDWATCH_PROMETHEUS_CA_FILE", modes: modeAll, usage: "PEM CA bundle for Prometheus' certificate",
		field: func(c *Config) any { return &c.PrometheusCAFile }},
	{group: "prometheus", flag: "prometheus-cert-file", env: "BIRDWATCH_PROMETHEUS_CERT_FILE", modes: modeAll, usage: "client certificate (PEM)",
		field: func(c *Config) any { return &c.PrometheusCertFile }},
	{group: "prometheus", flag: "prometheus-key-file", env: "BIRDWATCH_PROMETHEUS_KEY_FILE", modes: modeAll, usage: "client key (PEM)",
		field: func(c *Config) any { return &c.PrometheusKeyFile }},
	{group: "prometheus", flag: "prometheus-server-name", env: "BIRDWATCH_PROMETHEUS_SERVER_NAME", modes: modeAll, usage: "name checked in Prometheus' certificate",
		field: func(c *Config) any { return &c.PrometheusServerName }},
	{group: "prometheus", flag: "prometheus-bearer-token-file", env: "BIRDWATCH_PROMETHEUS_BEARER_TOKEN_FILE", secret: "BIRDWATCH_PROMETHEUS_BEARER_TOKEN", modes: modeAll,
		usage: "file holding a bearer token for Prometheus-compatible stores (Grafana Cloud, Mimir, Thanos)", field: func(c *Config) any { return &c.PrometheusBearerTokenFile }},
	{group: "prometheus", flag: "prometheus-header", env: "BIRDWATCH_PROMETHEUS_HEADERS", modes: modeAll,
		usage: "extra request headers, Name=value, comma-separated (e.g. X-Scope-OrgID=tenant1)", field: func(c *Config) any { return &c.PrometheusHeaders }},
	{group: "prometheus", flag: "metrics-secrets-file", env: "BIRDWATCH_METRICS_SECRETS_FILE", secret: "BIRDWATCH_METRICS_SECRETS", modes: modeAll,
		usage: "file holding MetricTemplate secrets as one JSON object {\"secretRef name\": value or object}; BIRDWATCH_METRICS_SECRET_<NAME> takes precedence",
		field: func(c *Config) any { return &c.MetricsSecretsFile }},
	{group: "prometheus", flag: "prometheus-sigv4-region", env: "BIRDWATCH_PROMETHEUS_SIGV4_REGION", modes: modeAll,
		usage: "sign queries with AWS SigV4 for Amazon Managed Prometheus in this region", field: func(c *Config) any { return &c.PrometheusSigV4Region }},

	{group: "notify", flag: "slack-bot-token-file", env: "BIRDWATCH_SLACK_BOT_TOKEN_FILE", secret: "BIRDWATCH_SLACK_BOT_TOKEN", modes: modeAll,
		usage: "file holding the Slack bot token that posts decisions to spec.notify.slack", field: func(c *Config) any { return &c.SlackBotTokenFile }},
	{group: "notify", flag: "slack-api-url", env: "BIRDWATCH_SLACK_API_URL", modes: modeAll, usage: "Slack Web API base URL",
		field: func(c *Config) any { return &c.SlackAPIURL }},
	{group: "notify", flag: "notify-secrets-dir", env: "BIRDWATCH_NOTIFY_SECRETS_DIR", modes: modeAll,
		usage: "directory of the secrets spec.notify names by secretRef (Teams, Discord, Google Chat, webhook URLs and signing keys), one file per secret",
		field: func(c *Config) any { return &c.NotifySecretsDir }},
	{group: "notify", flag: "notify-secrets-prefix", env: "BIRDWATCH_NOTIFY_SECRETS_PREFIX", modes: modeAll,
		usage: "read the secrets spec.notify names from AWS Secrets Manager as PREFIX+NAME when they are not in the directory",
		field: func(c *Config) any { return &c.NotifySecretsPrefix }},
	{group: "notify", flag: "hooks-allow-link-local", env: "BIRDWATCH_HOOKS_ALLOW_LINK_LOCAL", modes: modeAll,
		usage: "let spec.analysis.webhooks call link-local addresses (169.254.0.0/16, fe80::/10, where cloud metadata services answer); webhook calls are signed with the deployment secret birdwatch-hooks, found like the notify secrets",
		field: func(c *Config) any { return &c.HooksAllowLinkLocal }},

	{group: "github", flag: "github-repo", env: "BIRDWATCH_GITHUB_REPO", modes: modeAll, usage: "GitOps repository on GitHub, owner/name (default: from a github.com repository URL)",
		field: func(c *Config) any { return &c.GitHubRepo }},
	{group: "github", flag: "github-api-url", env: "BIRDWATCH_GITHUB_API_URL", modes: modeAll, usage: "GitHub Enterprise REST API base URL, https://HOST/api/v3/",
		field: func(c *Config) any { return &c.GitHubAPIURL }},
	{group: "github", flag: "github-token-file", env: "BIRDWATCH_GITHUB_TOKEN_FILE", secret: "BIRDWATCH_GITHUB_TOKEN", modes: modeAll,
		usage: "file holding the GitHub API token (default: the Git token)", field: func(c *Config) any { return &c.GitHubTokenFile }},
	{group: "github", flag: "github-automerge", env: "BIRDWATCH_GITHUB_AUTOMERGE", def: "false", modes: modeAll, usage: "pull-request mode asks GitHub for auto-merge",
		field: func(c *Config) any { return &c.GitHubAutoMerge }},
	{group: "github", flag: "github-merge-method", env: "BIRDWATCH_GITHUB_MERGE_METHOD", modes: modeAll, usage: "pull-request mode's merge method: merge (default), squash or rebase",
		field: func(c *Config) any { return &c.GitHubMergeMethod }},
	{group: "webhook", flag: "github-webhook-secret-file", env: "BIRDWATCH_GITHUB_WEBHOOK_SECRET_FILE", secret: "BIRDWATCH_GITHUB_WEBHOOK_SECRET", modes: modeServe | modeLambda,
		usage: "file holding the GitHub webhook secret; set, GitHub webhooks are served", field: func(c *Config) any { return &c.GitHubSecretFile }},
	{group: "webhook", flag: "github-login", env: "BIRDWATCH_GITHUB_LOGIN", modes: modeServe | modeLambda, usage: "the account birdwatch comments as, e.g. birdwatch[bot]",
		field: func(c *Config) any { return &c.GitHubLogin }},
	{group: "webhook", flag: "github-check-runs", env: "BIRDWATCH_GITHUB_CHECK_RUNS", def: "false", modes: modeServe | modeLambda,
		usage: "report with check runs (GitHub App token) instead of commit statuses", field: func(c *Config) any { return &c.CheckRuns }},
	{group: "webhook", flag: "gitlab-token-file", env: "BIRDWATCH_GITLAB_TOKEN_FILE", secret: "BIRDWATCH_GITLAB_TOKEN", modes: modeServe | modeLambda,
		usage: "file holding the GitLab webhook token; set, GitLab webhooks are served", field: func(c *Config) any { return &c.GitLabTokenFile }},
	{group: "gitlab", flag: "gitlab-project", env: "BIRDWATCH_GITLAB_PROJECT", modes: modeAll, usage: "GitOps project on GitLab, group/name",
		field: func(c *Config) any { return &c.GitLabProject }},
	{group: "gitlab", flag: "gitlab-url", env: "BIRDWATCH_GITLAB_URL", def: "https://gitlab.com", modes: modeAll,
		usage: "GitLab's web address (self-managed: https://HOST); the API is its /api/v4", field: func(c *Config) any { return &c.GitLabURL }},
	{group: "gitlab", flag: "gitlab-api-token-file", env: "BIRDWATCH_GITLAB_API_TOKEN_FILE", secret: "BIRDWATCH_GITLAB_API_TOKEN", modes: modeAll,
		usage: "file holding a GitLab token (api scope, Developer on the project); set, merge request notes are commands, answered on the merge request, with the report as one note and a commit status per decision",
		field: func(c *Config) any { return &c.GitLabAPITokenFile }},
	{group: "webhook", flag: "gitlab-login", env: "BIRDWATCH_GITLAB_LOGIN", modes: modeServe | modeLambda,
		usage: "the username birdwatch writes GitLab notes as (default: asked of the API)", field: func(c *Config) any { return &c.GitLabLogin }},
	{group: "webhook", flag: "slack-signing-secret-file", env: "BIRDWATCH_SLACK_SIGNING_SECRET_FILE", secret: "BIRDWATCH_SLACK_SIGNING_SECRET", modes: modeServe | modeLambda,
		usage: "file holding the Slack app's signing secret; set, the slash command and buttons are served", field: func(c *Config) any { return &c.SlackSecretFile }},
	{group: "lambda", env: "BIRDWATCH_SLACK_RESPONSE_URL_PREFIXES", modes: modeLambda, usage: "where chat answers may be posted (default: Slack's and GovSlack's hooks)",
		field: func(c *Config) any { return &c.SlackResponseURLPrefixes }},

	{group: "kube", flag: "kubeconfig", env: "BIRDWATCH_KUBECONFIG", modes: modeAll, usage: "kubeconfig for the Flux and Argo CD sync gates (default: in-cluster, else ~/.kube/config)",
		field: func(c *Config) any { return &c.Kubeconfig }},
	{group: "kube", flag: "kube-context", env: "BIRDWATCH_KUBE_CONTEXT", modes: modeAll, usage: "kubeconfig context",
		field: func(c *Config) any { return &c.KubeContext }},
	{group: "kube", flag: "eks-cluster", env: "BIRDWATCH_EKS_CLUSTER", modes: modeAll, usage: "EKS cluster name: the gates authenticate with the AWS credential chain",
		field: func(c *Config) any { return &c.EKSCluster }},
	{group: "kube", flag: "eks-region", env: "BIRDWATCH_EKS_REGION", modes: modeAll, usage: "EKS cluster region",
		field: func(c *Config) any { return &c.EKSRegion }},
	{group: "kube", flag: "eks-endpoint", env: "BIRDWATCH_EKS_ENDPOINT", modes: modeAll, usage: "EKS API server endpoint",
		field: func(c *Config) any { return &c.EKSEndpoint }},
	{group: "kube", flag: "eks-ca-file", env: "BIRDWATCH_EKS_CA_FILE", modes: modeAll, usage: "EKS cluster CA bundle (PEM)",
		field: func(c *Config) any { return &c.EKSCAFile }},

	{group: "serve", flag: "addr", env: "BIRDWATCH_ADDR", def: ":8080", modes: modeServe, usage: "listen address",
		field: func(c *Config) any { return &c.Addr }},
	{group: "serve", flag: "every", env: "BIRDWATCH_EVERY", def: "1m", modes: modeServe, usage: "run the loop at this interval; 0 turns the scheduler off",
		field: func(c *Config) any { return &c.Every }},
	{group: "serve", flag: "queue", env: "BIRDWATCH_QUEUE", def: "64", modes: modeServe, usage: "deliveries that may wait for work; more get 503",
		field: func(c *Config) any { return &c.Queue }},
	{group: "serve", flag: "shutdown-timeout", env: "BIRDWATCH_SHUTDOWN_TIMEOUT", def: "30s", modes: modeServe, usage: "how long SIGTERM waits for work in progress",
		field: func(c *Config) any { return &c.ShutdownTimeout }},
	{group: "ui", flag: "ui", env: "BIRDWATCH_UI", def: "false", modes: modeServe | modeLambda,
		usage: "serve the read-only pages: / (the fleet) and /canaries/NS/NAME (a rollout); the Lambda serves them on the webhook function's GET routes",
		field: func(c *Config) any { return &c.UI }},
	{group: "ui", flag: "ui-token-file", env: "BIRDWATCH_UI_TOKEN_FILE", secret: "BIRDWATCH_UI_TOKEN", modes: modeServe | modeLambda,
		usage: "file holding the token the pages ask for (Authorization: Bearer, or the cookie a ?token= link sets); without one the pages are open to whoever reaches them",
		field: func(c *Config) any { return &c.UITokenFile }},
	{group: "ui", flag: "ui-refresh", env: "BIRDWATCH_UI_REFRESH", def: "10s", modes: modeServe | modeLambda, usage: "how often an open page asks for new content",
		field: func(c *Config) any { return &c.UIRefresh }},
	{group: "ui", flag: "ui-url", env: "BIRDWATCH_UI_URL", modes: modeServe | modeLambda,
		usage: "the pages' address as browsers reach it, e.g. https://birdwatch.example.com (GitHub sign-in returns to it)",
		field: func(c *Config) any { return &c.UIURL }},
	{group: "ui", flag: "ui-github-client-id", env: "BIRDWATCH_UI_GITHUB_CLIENT_ID", modes: modeServe | modeLambda,
		usage: "GitHub OAuth App client ID: the pages sign people in with GitHub (with --ui-github-org)",
		field: func(c *Config) any { return &c.UIGitHubClientID }},
	{group: "ui", flag: "ui-github-client-secret-file", env: "BIRDWATCH_UI_GITHUB_CLIENT_SECRET_FILE", secret: "BIRDWATCH_UI_GITHUB_CLIENT_SECRET",
		modes: modeServe | modeLambda, usage: "file holding the GitHub OAuth App's client secret (it also signs the session cookies)",
		field: func(c *Config) any { return &c.UIGitHubClientSecretFile }},
	{group: "ui", flag: "ui-github-org", env: "BIRDWATCH_UI_GITHUB_ORG", modes: modeServe | modeLambda, usage: "only this organization's members may see the pages",
		field: func(c *Config) any { return &c.UIGitHubOrg }},
	{group: "ui", flag: "ui-github-team", env: "BIRDWATCH_UI_GITHUB_TEAM", modes: modeServe | modeLambda, usage: "only this team's members (its slug, in --ui-github-org)",
		field: func(c *Config) any { return &c.UIGitHubTeam }},
	{group: "lambda", env: "BIRDWATCH_QUEUE_URL", modes: modeLambda, usage: "SQS queue (FIFO advised) chatops and schedule send to and worker consumes",
		field: func(c *Config) any { return &c.QueueURL }},
}

// newConfig reads every setting used in m from its variable, or its
// default. A variable that does not parse is kept in loadErr: commands
// return it before they run (bind), Lambda at init (lambdaConfigFromEnv).
func newConfig(m mode) *Config {
	c := &Config{secrets: newSecretStore()}
	for _, s := range settingsTable {
		if s.modes&m == 0 {
			continue
		}
		def := s.def
		if m == modeLambda && s.lambdaDef != "" {
			def = s.lambdaDef
		}
		raw, from := def, "default"
		if v, ok := os.LookupEnv(s.env); ok && v != "" {
			raw, from = v, s.env
		}
		if err := setValue(s.field(c), raw); err != nil && c.loadErr == nil {
			c.loadErr = fmt.Errorf("%s=%q: %w", from, raw, err)
		}
	}
	return c
}

// bind registers the flags of the given groups on cmd, each defaulting to
// the value newConfig read, and makes cmd return c.loadErr before it runs.
func (c *Config) bind(cmd *cobra.Command, groups ...string) {
	f := cmd.Flags()
	for _, s := range settingsTable {
		if s.flag == "" || !slices.Contains(groups, s.group) {
			continue
		}
		usage := s.usage + " [" + s.env
		if s.secret != "" {
			usage += ", or the value in " + s.secret + " or Secrets Manager id " + s.secret + "_SECRET_ID"
		}
		usage += "]"
		switch p := s.field(c).(type) {
		case *string:
			f.StringVar(p, s.flag, *p, usage)
		case *bool:
			f.BoolVar(p, s.flag, *p, usage)
		case *int:
			f.IntVar(p, s.flag, *p, usage)
		case *time.Duration:
			f.DurationVar(p, s.flag, *p, usage)
		case *[]string:
			f.StringSliceVar(p, s.flag, *p, usage)
		}
	}
	if c.loadErr != nil {
		next := cmd.PreRunE
		cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
			if c.loadErr != nil {
				return c.loadErr
			}
			if next != nil {
				return next(cmd, args)
			}
			return nil
		}
	}
}

// setValue parses raw into the field p points to; "" is the zero value.
func setValue(p any, raw string) error {
	switch p := p.(type) {
	case *string:
		*p = raw
	case *[]string:
		*p = fields(raw)
	case *bool:
		if raw == "" {
			*p = false
			return nil
		}
		v, err := strconv.ParseBool(raw)
		if err != nil {
			return errors.New("want true or false")
		}
		*p = v
	case *int:
		if raw == "" {
			*p = 0
			return nil
		}
		v, err := strconv.Atoi(raw)
		if err != nil {
			return errors.New("want a whole number")
		}
		*p = v
	case *time.Duration:
		if raw == "" {
			*p = 0
			return nil
		}
		v, err := time.ParseDuration(raw)
		if err != nil {
			return errors.New("want a duration such as 30s or 1m")
		}
		*p = v
	default:
		return fmt.Errorf("unsupported setting type %T", p)
	}
	return nil
}

// fields splits a comma- or space-separated list.
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
}

func defaultCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "birdwatch")
	}
	return filepath.Join(os.TempDir(), "birdwatch")
}
