package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strconv"
	gosync "sync"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

const (
	lambdaSigningSecret = "e2e-signing-secret-0123456789abcdef"
	lambdaOperator      = "U024BE7LH"
)

// lambdaSpec pauses before any traffic moves; the applier takes an hour,
// so after a promote the rollout waits for it and no look needs metrics.
const lambdaSpec = `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata: {name: aleph, namespace: games}
spec:
  stable: v03
  canary: v04
  traffic: {provider: istio, file: apps/games/aleph/virtualservice.yaml, stableSubset: production, canarySubset: canary}
  steps:
    - pause: {}
    - setWeight: 50
    - setWeight: 100
  sync: {engine: none, applyDelay: 1h, timeout: 2h}
  analysis:
    interval: 1h
    judge: threshold
    metrics:
      - {name: error-rate, template: istio-error-rate, max: 1}
  access: {operators: ["slack:U024BE7LH"]}
`

// lambdaFleet makes a real bare fleet repository with the aleph manifests and lambdaSpec.
func lambdaFleet(t testing.TB) *fleet.Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs the git binary")
	}
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	files[".birdwatch/aleph.yaml"] = lambdaSpec
	f, err := fleet.CreateFiles(t.Context(), t.TempDir(), files, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// lambdaSlashEvent is a Lambda function URL event (payload format 2.0)
// carrying a signed, form-encoded Slack slash command, base64-encoded as
// function URLs deliver form posts.
func lambdaSlashEvent(secret, user, text, trigger, responseURL string, at time.Time) []byte {
	v := url.Values{"token": {"gIkuvaNzQIHg97ATvDxqgjtO"}, "team_id": {"T0001"}, "team_domain": {"acme"},
		"channel_id": {"C2147483705"}, "channel_name": {"deploys"}, "user_id": {user}, "user_name": {"steve"},
		"command": {"/birdwatch"}, "text": {text}, "api_app_id": {"A0KRD7HC3"}, "is_enterprise_install": {"false"},
		"response_url": {responseURL}, "trigger_id": {trigger}}
	return functionURLEvent(secret, v.Encode(), at)
}

// functionURLEvent is a Lambda function URL event (payload format 2.0) for
// a form post from Slack signed with secret at time at.
func functionURLEvent(secret, body string, at time.Time) []byte {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	ev := map[string]any{
		"version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
		"headers": map[string]string{"content-type": "application/x-www-form-urlencoded", "host": "abc.lambda-url.us-east-1.on.aws",
			"user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)", "x-slack-request-timestamp": ts,
			"x-slack-signature": "v0=" + hex.EncodeToString(mac.Sum(nil))},
		"requestContext": map[string]any{"accountId": "anonymous", "apiId": "abc", "domainName": "abc.lambda-url.us-east-1.on.aws",
			"http":      map[string]string{"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "3.3.3.3", "userAgent": "Slackbot 1.0"},
			"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "routeKey": "$default", "stage": "$default", "timeEpoch": at.UnixMilli()},
		"body":            b64(body),
		"isBase64Encoded": true,
	}
	b, _ := json.Marshal(ev)
	return b
}

// lambdaButtonEvent is a function URL event carrying a signed block_actions
// interaction (a click on a report button), form-encoded as payload=<json>.
func lambdaButtonEvent(secret, user, actionID, value, trigger, responseURL string, at time.Time) []byte {
	p, _ := json.Marshal(map[string]any{"type": "block_actions", "trigger_id": trigger, "response_url": responseURL,
		"user":       map[string]any{"id": user, "username": "steve", "name": "steve", "team_id": "T0001"},
		"api_app_id": "A0KRD7HC3", "token": "gIkuvaNzQIHg97ATvDxqgjtO", "team": map[string]any{"id": "T0001", "domain": "acme"},
		"container": map[string]any{"type": "message", "message_ts": "1763640000.000100", "channel_id": "C2147483705", "is_ephemeral": false},
		"channel":   map[string]any{"id": "C2147483705", "name": "deploys"},
		"message":   map[string]any{"type": "message", "subtype": "bot_message", "text": "games/aleph v04: advance", "ts": "1763640000.000100"},
		"actions": []any{map[string]any{"action_id": actionID, "block_id": "birdwatch_actions", "value": value, "type": "button",
			"text": map[string]any{"type": "plain_text", "text": "Abort"}, "style": "danger", "action_ts": "1763640001.000200"}}})
	return functionURLEvent(secret, url.Values{"payload": {string(p)}}.Encode(), at)
}

// lambdaScheduledEvent is an EventBridge scheduled event at tick.
func lambdaScheduledEvent(tick time.Time) []byte {
	b, _ := json.Marshal(map[string]any{"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
		"detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
		"time": tick.UTC().Format(time.RFC3339), "region": "us-east-1",
		"resources": []string{"arn:aws:events:us-east-1:123456789012:rule/birdwatch-tick"}, "detail": map[string]any{}})
	return b
}

// lambdaSlack is an httptest stand-in for Slack's response_url endpoint.
type lambdaSlack struct {
	*httptest.Server
	mu    gosync.Mutex
	posts []map[string]any
}

func startLambdaSlack(t testing.TB) *lambdaSlack {
	s := &lambdaSlack{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &m) != nil {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.posts = append(s.posts, m)
		s.mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *lambdaSlack) received() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.posts...)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
