package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/birdwatch-gitops/birdwatch/functions/auth"
	"github.com/birdwatch-gitops/birdwatch/functions/chatops"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	fanout "github.com/birdwatch-gitops/birdwatch/functions/schedule"
	"github.com/birdwatch-gitops/birdwatch/functions/ui"
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

// lambdaConfigFromEnv reads the functions' settings (settingsTable, Lambda
// mode: the cache in the temporary directory, the only writable one, and
// JSON logs). BIRDWATCH_REPOS falls back to BIRDWATCH_REPO; a repository URL
// must not hold a password.
func lambdaConfigFromEnv() (*Config, error) {
	lc := newConfig(modeLambda)
	if lc.loadErr != nil {
		return nil, lc.loadErr
	}
	if len(lc.Repos) == 0 {
		lc.Repos = fields(lc.Repo)
	}
	for _, r := range lc.Repos {
		if u, err := url.Parse(r); err == nil && u.User != nil {
			if _, hasPassword := u.User.Password(); hasPassword {
				return nil, fmt.Errorf("a repository URL holds a password: put the token in BIRDWATCH_GIT_TOKEN_FILE or BIRDWATCH_GIT_TOKEN_SECRET_ID")
			}
		}
	}
	return lc, nil
}

// sqsAPI is the SQS call the functions make; *sqs.Client implements it.
type sqsAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// lambdaDeps are the AWS clients, made from the default AWS configuration
// (region, credentials, AWS_ENDPOINT_URL_SQS, ...) on first use; tests set them.
type lambdaDeps struct {
	cfg *aws.Config
	SQS sqsAPI
	// Secrets replaces the Secrets Manager client the settings' secretStore makes.
	Secrets secretsAPI
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

// newLambdaHandler builds the named function's handler.
func newLambdaHandler(ctx context.Context, name string, lc *Config, d *lambdaDeps, log *slog.Logger) (lambda.Handler, error) {
	if d.Secrets != nil {
		lc.secrets.client = d.Secrets
	}
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

func newChatopsLambda(ctx context.Context, lc *Config, d *lambdaDeps, log *slog.Logger) (lambda.Handler, error) {
	secret, err := lc.secret(ctx, "BIRDWATCH_SLACK_SIGNING_SECRET")
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
func newWorkerLambda(ctx context.Context, lc *Config, d *lambdaDeps, log *slog.Logger) (lambda.Handler, error) {
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
	access, err := slackAccess(ctx, lc)
	if err != nil {
		return nil, err
	}
	runner := &chatops.Runner{Loops: chatLoops, Authorizer: access, ResponseURLPrefixes: lc.SlackResponseURLPrefixes, Log: log}
	h := &worker.Handler{Log: log, Processors: map[string]worker.Processor{
		worker.TypeRepo: &worker.RepoProcessor{Loops: loops, Log: log}, chatops.MessageType: runner}}
	return lambda.NewHandler(h.HandleSQS), nil
}

// lambdaEngines opens one engine per repository (no network: fetches come
// with the first run) and keeps them, with their object caches, for every
// invocation of the warm function.
func lambdaEngines(ctx context.Context, lc *Config, d *lambdaDeps, log *slog.Logger) (map[string]*core.Engine, error) {
	if len(lc.Repos) == 0 {
		return nil, errors.New("no repository: set BIRDWATCH_REPOS or BIRDWATCH_REPO")
	}
	engines := map[string]*core.Engine{}
	for _, r := range lc.Repos {
		c := *lc
		c.Repo = r
		e, _, err := newEngine(ctx, &c, log) // the repos live as long as the process
		if err != nil {
			return nil, fmt.Errorf("%s: %w", redactedRepo(r), err)
		}
		engines[r] = e
	}
	return engines, nil
}

// newWebhookLambda mounts functions/webhook for one repository. Work runs
// before the answer (webhook.Config.Dispatch nil): a Lambda may not run on
// after it answers.
func newWebhookLambda(ctx context.Context, lc *Config, d *lambdaDeps, log *slog.Logger) (lambda.Handler, error) {
	if len(lc.Repos) != 1 {
		return nil, errors.New("webhook serves one repository: set BIRDWATCH_REPO")
	}
	engines, err := lambdaEngines(ctx, lc, d, log)
	if err != nil {
		return nil, err
	}
	ghSecret, err := lc.secret(ctx, "BIRDWATCH_GITHUB_WEBHOOK_SECRET")
	if err != nil {
		return nil, err
	}
	glToken, err := lc.secret(ctx, "BIRDWATCH_GITLAB_TOKEN")
	if err != nil {
		return nil, err
	}
	cfg := webhook.Config{Engine: engines[lc.Repos[0]], Checks: core.Checks(judges()), Branch: lc.Branch, Log: log,
		GitLab: webhook.GitLabConfig{Token: []byte(glToken), Project: lc.GitLabProject}}
	if ghSecret != "" {
		sc := *lc
		sc.Repo = lc.Repos[0]
		client, repoName, err := githubClient(ctx, &sc)
		if err != nil {
			return nil, err
		}
		api := webhook.NewGitHubAPI(client)
		cfg.GitHub = webhook.GitHubConfig{Secret: []byte(ghSecret), Repository: repoName, Comments: api, Pulls: api,
			Statuses: api, CheckRuns: lc.CheckRuns, Login: lc.GitHubLogin}
		cfg.Authorizer = &auth.Authorizer{GitHub: auth.NewGitHub(client), Repository: repoName}
	}
	if err := withGitLabAPI(ctx, lc, &cfg); err != nil {
		return nil, err
	}
	h, err := webhook.New(cfg)
	if err != nil {
		return nil, err
	}
	if !lc.UI {
		return lambda.NewHandler(h.HandleLambda), nil
	}
	// The pages answer the Function URL's GET routes; every other request
	// is a webhook delivery.
	pages, err := newUIHandler(ctx, lc, engines[lc.Repos[0]], log)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	for _, route := range ui.Routes {
		mux.Handle(route, pages)
	}
	return lambda.NewHandler(webhook.LambdaHandler(mux)), nil
}

// redactedRepo drops any user information from a repository URL for messages.
func redactedRepo(r string) string {
	if u, err := url.Parse(r); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return r
}
