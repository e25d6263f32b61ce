package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/birdwatch-gitops/birdwatch/functions/auth"
	"github.com/birdwatch-gitops/birdwatch/functions/chatops"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	fanout "github.com/birdwatch-gitops/birdwatch/functions/schedule"
	"github.com/birdwatch-gitops/birdwatch/functions/webhook"
	"github.com/birdwatch-gitops/birdwatch/functions/worker"
	"github.com/spf13/cobra"
)

// lambdaHandlers are the functions one bootstrap binary serves, by _HANDLER.
var lambdaHandlers = []string{"webhook", "chatops", "schedule", "worker"}

func newLambdaCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "lambda [webhook|chatops|schedule|worker]",
		Short: "Serve one AWS Lambda function (the handler named by _HANDLER) through the Lambda runtime API",
		Long: "Run as an AWS Lambda custom runtime (provided.al2023). The handler is the argument or $_HANDLER:\n" +
			"  webhook   GitHub/GitLab webhooks (function URL or HTTP API events)\n" +
			"  chatops   Slack slash command and buttons (function URL or HTTP API events); work goes to BIRDWATCH_QUEUE_URL\n" +
			"  schedule  EventBridge scheduled events: one message per repository to BIRDWATCH_QUEUE_URL\n" +
			"  worker    SQS batches from that queue: runs the loop and chat commands\n" +
			"The binary named bootstrap, run with no arguments by the Lambda runtime, does the same.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := os.Getenv("_HANDLER")
			if len(args) == 1 {
				name = args[0]
			}
			return runLambda(cmd.Context(), name, cmd.ErrOrStderr())
		},
	}
}

// runAsBootstrap is the root command's action: inside a Lambda runtime
// (AWS_LAMBDA_RUNTIME_API is set) the binary is the function's bootstrap,
// started without arguments; anywhere else it shows the help.
func runAsBootstrap(cmd *cobra.Command, _ []string) error {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		return cmd.Help()
	}
	return runLambda(cmd.Context(), os.Getenv("_HANDLER"), cmd.ErrOrStderr())
}

// runLambda builds the named handler once (config and secrets are read
// here, at init, and kept for every invocation) and serves invocations
// until the runtime stops the process.
func runLambda(ctx context.Context, name string, stderr io.Writer) error {
	lc, err := lambdaConfigFromEnv()
	if err != nil {
		return err
	}
	log := newLogger(stderr, lc.LogFormat)
	h, err := newLambdaHandler(ctx, name, lc, &lambdaDeps{}, log)
	if err != nil {
		log.Error("lambda init failed", "handler", name, "error", err.Error())
		return err
	}
	log.Info("lambda ready", "handler", name, "repos", len(lc.Repos))
	lambda.StartWithOptions(h, lambda.WithContext(ctx))
	return nil
}

// lambdaConfig is Config plus the functions' settings, all from BIRDWATCH_* variables.
type lambdaConfig struct {
	Config
	// Repos are the repository URLs (BIRDWATCH_REPOS, comma- or
	// space-separated, or BIRDWATCH_REPO). A URL must not hold a password:
	// tokens come from BIRDWATCH_GIT_TOKEN_FILE or _SECRET_ID.
	Repos []string
	// QueueURL is the SQS queue (FIFO advised) chatops and schedule send to
	// and worker consumes (BIRDWATCH_QUEUE_URL).
	QueueURL string
	// SlackResponseURLPrefixes are where chat answers may be posted
	// (BIRDWATCH_SLACK_RESPONSE_URL_PREFIXES; default Slack's and GovSlack's hooks).
	SlackResponseURLPrefixes []string
}

// lambdaConfigFromEnv reads the environment. The cache defaults to the
// temporary directory, the only writable one in Lambda, and logs to JSON.
func lambdaConfigFromEnv() (*lambdaConfig, error) {
	lc := &lambdaConfig{Config: Config{Branch: env("BIRDWATCH_BRANCH", "main"),
		CacheDir:     env("BIRDWATCH_CACHE_DIR", filepath.Join(os.TempDir(), "birdwatch")),
		GitTokenFile: os.Getenv("BIRDWATCH_GIT_TOKEN_FILE"), SSHKeyFile: os.Getenv("BIRDWATCH_SSH_KEY_FILE"),
		Prometheus: os.Getenv("BIRDWATCH_PROMETHEUS_URL"), PrometheusTimeout: envDuration("BIRDWATCH_PROMETHEUS_TIMEOUT", 10*time.Second),
		PrometheusSigV4Region: os.Getenv("BIRDWATCH_PROMETHEUS_SIGV4_REGION"),
		LogFormat:             env("BIRDWATCH_LOG_FORMAT", "json")},
		QueueURL: os.Getenv("BIRDWATCH_QUEUE_URL"), SlackResponseURLPrefixes: fields(os.Getenv("BIRDWATCH_SLACK_RESPONSE_URL_PREFIXES"))}
	lc.Repos = fields(env("BIRDWATCH_REPOS", os.Getenv("BIRDWATCH_REPO")))
	for _, r := range lc.Repos {
		if u, err := url.Parse(r); err == nil && u.User != nil {
			if _, hasPassword := u.User.Password(); hasPassword {
				return nil, fmt.Errorf("a repository URL holds a password: put the token in BIRDWATCH_GIT_TOKEN_FILE or BIRDWATCH_GIT_TOKEN_SECRET_ID")
			}
		}
	}
	return lc, nil
}

// fields splits a comma- or space-separated list.
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
}

// sqsAPI is the SQS call the functions make; *sqs.Client implements it.
type sqsAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// secretsAPI is the Secrets Manager call; *secretsmanager.Client implements it.
type secretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// lambdaDeps are the AWS clients, made from the default AWS configuration
// (region, credentials, AWS_ENDPOINT_URL_SQS, ...) on first use; tests set them.
type lambdaDeps struct {
	cfg     *aws.Config
	SQS     sqsAPI
	Secrets secretsAPI
	// cache holds resolved secrets by name: each is read once per process.
	cache map[string]string
}

func (d *lambdaDeps) awsConfig(ctx context.Context) (aws.Config, error) {
	if d.cfg == nil {
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
		}
		d.cfg = &cfg
	}
	return *d.cfg, nil
}

func (d *lambdaDeps) sqs(ctx context.Context) (sqsAPI, error) {
	if d.SQS == nil {
		cfg, err := d.awsConfig(ctx)
		if err != nil {
			return nil, err
		}
		d.SQS = sqs.NewFromConfig(cfg)
	}
	return d.SQS, nil
}

// secret resolves BIRDWATCH_<name>: the file BIRDWATCH_<name>_FILE, else the
// Secrets Manager secret (ARN or name) BIRDWATCH_<name>_SECRET_ID, else
// the variable itself; "" when none is set. Values are never logged.
func (d *lambdaDeps) secret(ctx context.Context, name string) (string, error) {
	if v, ok := d.cache[name]; ok {
		return v, nil
	}
	v, err := d.readSecret(ctx, "BIRDWATCH_"+name)
	if err != nil {
		return "", err
	}
	if d.cache == nil {
		d.cache = map[string]string{}
	}
	d.cache[name] = v
	return v, nil
}

func (d *lambdaDeps) readSecret(ctx context.Context, v string) (string, error) {
	if path := os.Getenv(v + "_FILE"); path != "" {
		s, err := readSecretFile(path)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", v, err)
		}
		return s, nil
	}
	if id := os.Getenv(v + "_SECRET_ID"); id != "" {
		if d.Secrets == nil {
			cfg, err := d.awsConfig(ctx)
			if err != nil {
				return "", err
			}
			d.Secrets = secretsmanager.NewFromConfig(cfg)
		}
		out, err := d.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			return "", fmt.Errorf("%s_SECRET_ID: get secret value: %w", v, err)
		}
		return strings.TrimSpace(aws.ToString(out.SecretString)), nil
	}
	return os.Getenv(v), nil
}

// newLambdaHandler builds the named function's handler.
func newLambdaHandler(ctx context.Context, name string, lc *lambdaConfig, d *lambdaDeps, log *slog.Logger) (lambda.Handler, error) {
	switch name {
	case "chatops":
		return newChatopsLambda(ctx, lc, d, log)
	case "schedule":
		if lc.QueueURL == "" || len(lc.Repos) == 0 {
			return nil, errors.New("schedule needs BIRDWATCH_QUEUE_URL and BIRDWATCH_REPOS")
		}
		q, err := d.sqs(ctx)
		if err != nil {
			return nil, err
		}
		h := &fanout.Handler{Repos: lc.Repos, QueueURL: lc.QueueURL, SQS: q, Log: log}
		return lambda.NewHandler(h.HandleEvent), nil
	case "worker":
		return newWorkerLambda(ctx, lc, d, log)
	case "webhook":
		return newWebhookLambda(ctx, lc, d, log)
	}
	return nil, fmt.Errorf("unknown handler %q: _HANDLER must be one of %s", name, strings.Join(lambdaHandlers, ", "))
}

func newChatopsLambda(ctx context.Context, lc *lambdaConfig, d *lambdaDeps, log *slog.Logger) (lambda.Handler, error) {
	secret, err := d.secret(ctx, "SLACK_SIGNING_SECRET")
	if err != nil {
		return nil, err
	}
	if secret == "" || lc.QueueURL == "" {
		return nil, errors.New("chatops needs BIRDWATCH_SLACK_SIGNING_SECRET_FILE (or _SECRET_ID) and BIRDWATCH_QUEUE_URL")
	}
	q, err := d.sqs(ctx)
	if err != nil {
		return nil, err
	}
	h := &chatops.Handler{SigningSecret: secret, Dispatcher: &chatops.SQSDispatcher{SQS: q, QueueURL: lc.QueueURL}, Log: log}
	return lambda.NewHandler(h.HandleLambda), nil
}

// newWorkerLambda runs repository ticks and chat commands on one engine per repository.
func newWorkerLambda(ctx context.Context, lc *lambdaConfig, d *lambdaDeps, log *slog.Logger) (lambda.Handler, error) {
	engines, err := lambdaEngines(ctx, lc, d, log)
	if err != nil {
		return nil, err
	}
	loops := map[string]worker.Loop{}
	var chatLoops []chatops.Loop
	for _, r := range lc.Repos {
		loops[r] = engines[r]
		chatLoops = append(chatLoops, engines[r])
	}
	runner := &chatops.Runner{Loops: chatLoops, ResponseURLPrefixes: lc.SlackResponseURLPrefixes, Log: log}
	h := &worker.Handler{Log: log, Processors: map[string]worker.Processor{
		worker.TypeRepo: &worker.RepoProcessor{Loops: loops, Log: log}, chatops.MessageType: runner}}
	return lambda.NewHandler(h.HandleSQS), nil
}

// lambdaEngines opens one engine per repository (no network: fetches come
// with the first run) and keeps them, with their object caches, for every
// invocation of the warm function.
func lambdaEngines(ctx context.Context, lc *lambdaConfig, d *lambdaDeps, log *slog.Logger) (map[string]*core.Engine, error) {
	if len(lc.Repos) == 0 {
		return nil, errors.New("no repository: set BIRDWATCH_REPOS or BIRDWATCH_REPO")
	}
	cfg := lc.Config
	if err := d.gitTokenFile(ctx, &cfg); err != nil {
		return nil, err
	}
	engines := map[string]*core.Engine{}
	for _, r := range lc.Repos {
		c := cfg
		c.Repo = r
		e, _, err := newEngine(ctx, &c, log) // the repos live as long as the process
		if err != nil {
			return nil, fmt.Errorf("%s: %w", redactedRepo(r), err)
		}
		engines[r] = e
	}
	return engines, nil
}

// gitTokenFile resolves a Git token kept in Secrets Manager
// (BIRDWATCH_GIT_TOKEN_SECRET_ID) into a 0600 file in the function's
// private temporary directory, so the engine reads it like a token file.
func (d *lambdaDeps) gitTokenFile(ctx context.Context, cfg *Config) error {
	if cfg.GitTokenFile != "" || os.Getenv("BIRDWATCH_GIT_TOKEN_SECRET_ID") == "" {
		return nil
	}
	token, err := d.secret(ctx, "GIT_TOKEN")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
		return fmt.Errorf("create cache dir: %w", err)
	}
	path := filepath.Join(cfg.CacheDir, ".git-token")
	if err := os.WriteFile(path, []byte(token), 0o600); err != nil {
		return fmt.Errorf("write git token file: %w", err)
	}
	cfg.GitTokenFile = path
	return nil
}

// newWebhookLambda mounts functions/webhook for one repository. Work runs
// before the answer (webhook.Config.Dispatch nil): a Lambda may not run on
// after it answers.
func newWebhookLambda(ctx context.Context, lc *lambdaConfig, d *lambdaDeps, log *slog.Logger) (lambda.Handler, error) {
	if len(lc.Repos) != 1 {
		return nil, errors.New("webhook serves one repository: set BIRDWATCH_REPO")
	}
	engines, err := lambdaEngines(ctx, lc, d, log)
	if err != nil {
		return nil, err
	}
	ghSecret, err := d.secret(ctx, "GITHUB_WEBHOOK_SECRET")
	if err != nil {
		return nil, err
	}
	glToken, err := d.secret(ctx, "GITLAB_TOKEN")
	if err != nil {
		return nil, err
	}
	cfg := webhook.Config{Engine: engines[lc.Repos[0]], Checks: core.Checks(judges()), Branch: lc.Branch, Log: log,
		GitLab: webhook.GitLabConfig{Token: []byte(glToken), Project: os.Getenv("BIRDWATCH_GITLAB_PROJECT")}}
	if ghSecret != "" {
		// The GitHub client falls back to the Git token: resolve it from
		// Secrets Manager first, as the engines do, or the API calls go out
		// unauthenticated.
		withToken := lc.Config
		if err := d.gitTokenFile(ctx, &withToken); err != nil {
			return nil, err
		}
		sc := &serveConfig{Config: withToken, GitHubRepo: os.Getenv("BIRDWATCH_GITHUB_REPO"),
			GitHubAPIURL: os.Getenv("BIRDWATCH_GITHUB_API_URL"), GitHubTokenFile: os.Getenv("BIRDWATCH_GITHUB_TOKEN_FILE")}
		sc.Repo = lc.Repos[0]
		client, repoName, err := githubClient(sc)
		if err != nil {
			return nil, err
		}
		api := webhook.NewGitHubAPI(client)
		cfg.GitHub = webhook.GitHubConfig{Secret: []byte(ghSecret), Repository: repoName, Comments: api, Pulls: api,
			Statuses: api, CheckRuns: os.Getenv("BIRDWATCH_GITHUB_CHECK_RUNS") == "true"}
		cfg.Authorizer = &auth.Authorizer{GitHub: auth.NewGitHub(client), Repository: repoName}
	}
	h, err := webhook.New(cfg)
	if err != nil {
		return nil, err
	}
	return lambda.NewHandler(h.HandleLambda), nil
}

// redactedRepo drops any user information from a repository URL for messages.
func redactedRepo(r string) string {
	if u, err := url.Parse(r); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return r
}
