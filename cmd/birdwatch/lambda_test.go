package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/birdwatch-gitops/birdwatch/functions/worker/sqstest"
)

// lambdaEnv sets the functions' environment for one test and returns the SQS endpoint and Slack.
func lambdaEnv(t *testing.T, repos string) (*sqstest.Server, *lambdaSlack) {
	t.Helper()
	q, slackAPI := sqstest.Start(t), startLambdaSlack(t)
	secret := filepath.Join(t.TempDir(), "signing-secret")
	if err := os.WriteFile(secret, []byte(lambdaSigningSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"BIRDWATCH_REPOS": repos, "BIRDWATCH_REPO": "", "BIRDWATCH_CACHE_DIR": t.TempDir(),
		"BIRDWATCH_QUEUE_URL": q.QueueURL("birdwatch.fifo"), "BIRDWATCH_SLACK_SIGNING_SECRET_FILE": secret,
		"BIRDWATCH_SLACK_RESPONSE_URL_PREFIXES": slackAPI.URL + "/", "BIRDWATCH_LOG_FORMAT": "json",
		"BIRDWATCH_GIT_TOKEN_FILE": "", "BIRDWATCH_GIT_TOKEN_SECRET_ID": ""} {
		t.Setenv(k, v)
	}
	return q, slackAPI
}

// invoke builds the named handler and invokes it with payload through
// aws-lambda-go's JSON path, returning the decoded response.
func invoke(t *testing.T, name string, d *lambdaDeps, payload []byte, out any) {
	t.Helper()
	lc, err := lambdaConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	h, err := newLambdaHandler(t.Context(), name, lc, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.Invoke(t.Context(), payload)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := json.Unmarshal(resp, out); err != nil {
		t.Fatalf("%s answered %s: %v", name, resp, err)
	}
}

// TestLambdaFunctionsInProcess chains the four handlers as AWS would, in
// one process: schedule -> SQS -> worker -> commit; chatops -> SQS ->
// worker -> commit and an answer on the response URL.
func TestLambdaFunctionsInProcess(t *testing.T) {
	f := lambdaFleet(t)
	q, slackAPI := lambdaEnv(t, f.URL())
	d := &lambdaDeps{SQS: q.Client()}

	var sched struct{ Sent int }
	invoke(t, "schedule", d, lambdaScheduledEvent(time.Now()), &sched)
	msgs := q.Messages()
	if sched.Sent != 1 || len(msgs) != 1 || msgs[0].GroupID != f.URL() {
		t.Fatalf("schedule sent %d, queued %+v", sched.Sent, msgs)
	}
	var batch events.SQSEventResponse
	invoke(t, "worker", d, mustJSON(t, sqstest.Event(msgs[0])), &batch)
	subjects, _ := f.Subjects(t.Context())
	if len(batch.BatchItemFailures) != 0 || !strings.Contains(subjects[0], "pause at weight 0") {
		t.Fatalf("worker: %+v, head %q", batch, subjects[0])
	}

	var ack events.APIGatewayV2HTTPResponse
	invoke(t, "chatops", d, lambdaSlashEvent("wrong-secret", lambdaOperator, "promote games/aleph", "5.5.5",
		slackAPI.URL+"/commands/1", time.Now()), &ack)
	if ack.StatusCode != 401 || len(q.Messages()) != 1 {
		t.Fatalf("forged command: %d, %d messages", ack.StatusCode, len(q.Messages()))
	}
	invoke(t, "chatops", d, lambdaSlashEvent(lambdaSigningSecret, lambdaOperator, "promote games/aleph", "5.5.6",
		slackAPI.URL+"/commands/2", time.Now()), &ack)
	if ack.StatusCode != 200 || !strings.Contains(ack.Body, "Working on `promote games/aleph`") || len(q.Messages()) != 2 {
		t.Fatalf("command: %d %s", ack.StatusCode, ack.Body)
	}
	invoke(t, "worker", d, mustJSON(t, sqstest.Event(q.Messages()[1])), &batch)
	subjects, _ = f.Subjects(t.Context())
	if len(batch.BatchItemFailures) != 0 || !strings.Contains(subjects[0], "weight 0 -> 50") {
		t.Fatalf("worker: %+v, head %q", batch, subjects[0])
	}
	if posts := slackAPI.received(); len(posts) != 1 || posts[0]["response_type"] != "in_channel" {
		t.Errorf("Slack got %v", posts)
	}
	// The Abort button of that message: an empty 200, then a rollback replacing the message.
	invoke(t, "chatops", d, lambdaButtonEvent(lambdaSigningSecret, lambdaOperator, "birdwatch_abort", "games/aleph@v04", "5.5.7",
		slackAPI.URL+"/commands/3", time.Now()), &ack)
	if ack.StatusCode != 200 || ack.Body != "" || len(q.Messages()) != 3 {
		t.Fatalf("button: %d %q", ack.StatusCode, ack.Body)
	}
	invoke(t, "worker", d, mustJSON(t, sqstest.Event(q.Messages()[2])), &batch)
	subjects, _ = f.Subjects(t.Context())
	if posts := slackAPI.received(); !strings.Contains(subjects[0], "rollback, weight 50 -> 0") || len(posts) != 2 || posts[1]["replace_original"] != true {
		t.Errorf("head %q, posts %v", subjects[0], posts)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewLambdaHandlerErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler string
		env     map[string]string
		want    string
	}{
		{name: "unknown handler", handler: "bootstrap", want: `unknown handler "bootstrap": _HANDLER must be one of webhook, chatops, schedule, worker`},
		{name: "no handler", handler: "", want: `unknown handler ""`},
		{name: "chatops without a signing secret", handler: "chatops", env: map[string]string{"BIRDWATCH_SLACK_SIGNING_SECRET_FILE": ""},
			want: "chatops needs BIRDWATCH_SLACK_SIGNING_SECRET_FILE"},
		{name: "chatops with an unreadable secret file", handler: "chatops",
			env: map[string]string{"BIRDWATCH_SLACK_SIGNING_SECRET_FILE": "/nonexistent/secret"}, want: "BIRDWATCH_SLACK_SIGNING_SECRET_FILE: read secret file"},
		{name: "schedule without a queue", handler: "schedule", env: map[string]string{"BIRDWATCH_QUEUE_URL": ""},
			want: "schedule needs BIRDWATCH_QUEUE_URL and BIRDWATCH_REPOS"},
		{name: "worker without repos", handler: "worker", env: map[string]string{"BIRDWATCH_REPOS": ""}, want: "no repository"},
		{name: "webhook with two repos", handler: "webhook", env: map[string]string{"BIRDWATCH_REPOS": "file:///a.git,file:///b.git"},
			want: "webhook serves one repository"},
		{name: "webhook without secrets", handler: "webhook", env: map[string]string{"BIRDWATCH_REPOS": "file:///a.git"},
			want: "neither a GitHub secret nor a GitLab token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := lambdaEnv(t, "file:///srv/fleet.git")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			lc, err := lambdaConfigFromEnv()
			if err != nil {
				t.Fatal(err)
			}
			_, err = newLambdaHandler(t.Context(), tt.handler, lc, &lambdaDeps{SQS: q.Client()}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLambdaConfigFromEnv(t *testing.T) {
	tests := []struct {
		name, repos, repo string
		want              []string
		wantErr           string
	}{
		{name: "list", repos: "https://github.com/acme/a.git, https://github.com/acme/b.git\nfile:///c.git",
			want: []string{"https://github.com/acme/a.git", "https://github.com/acme/b.git", "file:///c.git"}},
		{name: "single BIRDWATCH_REPO", repo: "https://github.com/acme/a.git", want: []string{"https://github.com/acme/a.git"}},
		{name: "user without password is fine", repos: "https://git@github.com/acme/a.git", want: []string{"https://git@github.com/acme/a.git"}},
		{name: "token in the URL", repos: "https://x-access-token:ghp_secret@github.com/acme/a.git", wantErr: "holds a password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("BIRDWATCH_REPOS", tt.repos)
			t.Setenv("BIRDWATCH_REPO", tt.repo)
			lc, err := lambdaConfigFromEnv()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "ghp_secret") {
					t.Errorf("err %v", err)
				}
				return
			}
			if err != nil || strings.Join(lc.Repos, "|") != strings.Join(tt.want, "|") || lc.LogFormat != "json" {
				t.Errorf("repos %q log %q err %v", lc.Repos, lc.LogFormat, err)
			}
		})
	}
}

// fakeSecrets is a Secrets Manager fake of secretsAPI that counts its calls.
type fakeSecrets struct {
	values map[string]string
	calls  int
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.calls++
	v, ok := f.values[aws.ToString(in.SecretId)]
	if !ok {
		return nil, errors.New("ResourceNotFoundException: Secrets Manager can't find the specified secret")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(v)}, nil
}

func TestLambdaSecrets(t *testing.T) {
	arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:birdwatch/slack-AbCdEf"
	file := filepath.Join(t.TempDir(), "s")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		env       map[string]string
		want      string
		wantErr   string
		wantCalls int
	}{
		{name: "file first", env: map[string]string{"BIRDWATCH_X_FILE": file, "BIRDWATCH_X_SECRET_ID": arn}, want: "from-file"},
		{name: "secrets manager, read once", env: map[string]string{"BIRDWATCH_X_SECRET_ID": arn}, want: "from-sm", wantCalls: 1},
		{name: "plain variable", env: map[string]string{"BIRDWATCH_X": "plain"}, want: "plain"},
		{name: "nothing", want: ""},
		{name: "missing secret", env: map[string]string{"BIRDWATCH_X_SECRET_ID": "nope"}, wantErr: "BIRDWATCH_X_SECRET_ID: get secret value: ResourceNotFoundException", wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"BIRDWATCH_X", "BIRDWATCH_X_FILE", "BIRDWATCH_X_SECRET_ID"} {
				t.Setenv(k, tt.env[k])
			}
			sm := &fakeSecrets{values: map[string]string{arn: " from-sm\n"}}
			store := newSecretStore()
			store.client = sm
			for range 2 {
				got, err := store.resolve(t.Context(), "BIRDWATCH_X", os.Getenv("BIRDWATCH_X_FILE"))
				if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) || got != tt.want {
					t.Fatalf("got %q %v", got, err)
				}
				if err != nil {
					break
				}
			}
			if sm.calls != tt.wantCalls {
				t.Errorf("%d Secrets Manager calls, want %d", sm.calls, tt.wantCalls)
			}
		})
	}
}

func TestLambdaGitTokenFromSecretsManager(t *testing.T) {
	t.Setenv("BIRDWATCH_GIT_TOKEN_FILE", "")
	t.Setenv("BIRDWATCH_GIT_TOKEN_SECRET_ID", "birdwatch/git")
	cfg := newConfig(modeLambda)
	cfg.secrets.client = &fakeSecrets{values: map[string]string{"birdwatch/git": "ghp_token"}}
	token, err := cfg.gitToken(t.Context())
	if err != nil || token != "ghp_token" {
		t.Errorf("token %q err %v", token, err)
	}
}

// TestBootstrapWithoutRuntimeShowsHelp: run with no arguments outside a Lambda runtime.
func TestBootstrapWithoutRuntimeShowsHelp(t *testing.T) {
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "")
	root := newRootCommand()
	var buf bytes.Buffer
	root.SetOut(&buf)
	root.SetArgs([]string{})
	err := root.ExecuteContext(t.Context())
	out := buf.String()
	if err != nil || !strings.Contains(out, "Available Commands") || !strings.Contains(out, "lambda") {
		t.Errorf("err %v, output:\n%s", err, out)
	}
}
