package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Config is every setting of a birdwatch process. Each field has a flag for
// the CLI and an environment variable (BIRDWATCH_*) for functions and
// containers; a flag given on the command line wins.
type Config struct {
	// Repo is the GitOps repository URL: file://, https:// or ssh:// (BIRDWATCH_REPO).
	Repo string
	// Branch is the branch read and committed to (BIRDWATCH_BRANCH, default main).
	Branch string
	// CacheDir holds the bare object store reused between runs (BIRDWATCH_CACHE_DIR,
	// default $XDG_CACHE_HOME/birdwatch or the temp dir in Lambda).
	CacheDir string
	// GitTokenFile is a file holding an HTTPS token (BIRDWATCH_GIT_TOKEN_FILE); the
	// token itself may be given as BIRDWATCH_GIT_TOKEN. Never logged.
	GitTokenFile string
	// SSHKeyFile is an SSH private key for ssh:// remotes (BIRDWATCH_SSH_KEY_FILE).
	SSHKeyFile string
	// Prometheus is the Prometheus HTTP API base URL (BIRDWATCH_PROMETHEUS_URL).
	Prometheus string
	// PrometheusTimeout bounds each query (BIRDWATCH_PROMETHEUS_TIMEOUT, default 10s).
	PrometheusTimeout time.Duration
	// PrometheusSigV4Region signs queries with AWS SigV4 for Amazon Managed Service
	// for Prometheus in that region, with the default AWS credential chain
	// (BIRDWATCH_PROMETHEUS_SIGV4_REGION).
	PrometheusSigV4Region string
	// PrometheusUsername and PrometheusPasswordFile set HTTP basic auth
	// (BIRDWATCH_PROMETHEUS_USERNAME, BIRDWATCH_PROMETHEUS_PASSWORD_FILE). The password is never logged.
	PrometheusUsername, PrometheusPasswordFile string
	// PrometheusCAFile, PrometheusCertFile, PrometheusKeyFile and PrometheusServerName
	// configure TLS: a custom CA, a client certificate, the name checked
	// (BIRDWATCH_PROMETHEUS_CA_FILE, _CERT_FILE, _KEY_FILE, _SERVER_NAME).
	PrometheusCAFile, PrometheusCertFile, PrometheusKeyFile, PrometheusServerName string
	// LogFormat is text or json (BIRDWATCH_LOG_FORMAT; json in Lambda).
	LogFormat string
	// SlackBotTokenFile holds a Slack bot token; set, every committed decision of a
	// canary with spec.notify.slack is posted to its channel (BIRDWATCH_SLACK_BOT_TOKEN_FILE,
	// or the token in BIRDWATCH_SLACK_BOT_TOKEN). Never logged.
	SlackBotTokenFile string
	// SlackAPIURL overrides Slack's Web API base URL (BIRDWATCH_SLACK_API_URL).
	SlackAPIURL string
}

// bindRepoFlags registers the Git flags on cmd.
func (c *Config) bindRepoFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.Repo, "repo", env("BIRDWATCH_REPO", ""), "GitOps repository URL (file://, https://, ssh://) [BIRDWATCH_REPO]")
	f.StringVar(&c.Branch, "branch", env("BIRDWATCH_BRANCH", "main"), "branch to read and commit to [BIRDWATCH_BRANCH]")
	f.StringVar(&c.CacheDir, "cache-dir", env("BIRDWATCH_CACHE_DIR", defaultCacheDir()), "where the Git object cache lives [BIRDWATCH_CACHE_DIR]")
	f.StringVar(&c.GitTokenFile, "git-token-file", env("BIRDWATCH_GIT_TOKEN_FILE", ""), "file holding an HTTPS token [BIRDWATCH_GIT_TOKEN_FILE, or the token in BIRDWATCH_GIT_TOKEN]")
	f.StringVar(&c.SSHKeyFile, "ssh-key-file", env("BIRDWATCH_SSH_KEY_FILE", ""), "SSH private key for ssh:// remotes [BIRDWATCH_SSH_KEY_FILE]")
	f.StringVar(&c.LogFormat, "log-format", env("BIRDWATCH_LOG_FORMAT", "text"), "log format: text or json [BIRDWATCH_LOG_FORMAT]")
	f.StringVar(&c.SlackBotTokenFile, "slack-bot-token-file", env("BIRDWATCH_SLACK_BOT_TOKEN_FILE", ""), "Slack bot token for decision messages [BIRDWATCH_SLACK_BOT_TOKEN_FILE, or the token in BIRDWATCH_SLACK_BOT_TOKEN]")
	f.StringVar(&c.SlackAPIURL, "slack-api-url", env("BIRDWATCH_SLACK_API_URL", ""), "Slack Web API base URL [BIRDWATCH_SLACK_API_URL]")
}

// bindMetricsFlags registers the Prometheus flags on cmd.
func (c *Config) bindMetricsFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.Prometheus, "prometheus", env("BIRDWATCH_PROMETHEUS_URL", ""), "Prometheus base URL [BIRDWATCH_PROMETHEUS_URL]")
	f.DurationVar(&c.PrometheusTimeout, "prometheus-timeout", envDuration("BIRDWATCH_PROMETHEUS_TIMEOUT", 10*time.Second), "timeout of each query [BIRDWATCH_PROMETHEUS_TIMEOUT]")
	f.StringVar(&c.PrometheusUsername, "prometheus-username", env("BIRDWATCH_PROMETHEUS_USERNAME", ""), "basic auth user [BIRDWATCH_PROMETHEUS_USERNAME]")
	f.StringVar(&c.PrometheusPasswordFile, "prometheus-password-file", env("BIRDWATCH_PROMETHEUS_PASSWORD_FILE", ""), "basic auth password file [BIRDWATCH_PROMETHEUS_PASSWORD_FILE]")
	f.StringVar(&c.PrometheusCAFile, "prometheus-ca-file", env("BIRDWATCH_PROMETHEUS_CA_FILE", ""), "PEM CA bundle for Prometheus' certificate [BIRDWATCH_PROMETHEUS_CA_FILE]")
	f.StringVar(&c.PrometheusCertFile, "prometheus-cert-file", env("BIRDWATCH_PROMETHEUS_CERT_FILE", ""), "client certificate (PEM) [BIRDWATCH_PROMETHEUS_CERT_FILE]")
	f.StringVar(&c.PrometheusKeyFile, "prometheus-key-file", env("BIRDWATCH_PROMETHEUS_KEY_FILE", ""), "client key (PEM) [BIRDWATCH_PROMETHEUS_KEY_FILE]")
	f.StringVar(&c.PrometheusServerName, "prometheus-server-name", env("BIRDWATCH_PROMETHEUS_SERVER_NAME", ""), "name checked in Prometheus' certificate [BIRDWATCH_PROMETHEUS_SERVER_NAME]")
	f.StringVar(&c.PrometheusSigV4Region, "prometheus-sigv4-region", env("BIRDWATCH_PROMETHEUS_SIGV4_REGION", ""), "sign queries with AWS SigV4 for Amazon Managed Prometheus in this region [BIRDWATCH_PROMETHEUS_SIGV4_REGION]")
}

// gitToken returns the HTTPS token from the file or the environment.
func (c *Config) gitToken() (string, error) {
	if c.GitTokenFile != "" {
		b, err := os.ReadFile(c.GitTokenFile)
		if err != nil {
			return "", fmt.Errorf("read git token file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return os.Getenv("BIRDWATCH_GIT_TOKEN"), nil
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func defaultCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "birdwatch")
	}
	return filepath.Join(os.TempDir(), "birdwatch")
}

// slackBotToken returns the Slack bot token from the file or the environment; "" when none.
func (c *Config) slackBotToken() (string, error) {
	if c.SlackBotTokenFile != "" {
		b, err := os.ReadFile(c.SlackBotTokenFile)
		if err != nil {
			return "", fmt.Errorf("read Slack bot token file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return os.Getenv("BIRDWATCH_SLACK_BOT_TOKEN"), nil
}
