package webhook

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// functionURLEvent is a Lambda Function URL event as AWS sends it (payload
// format 2.0): lower-case headers, the body base64-encoded or not.
func functionURLEvent(headers map[string]string, body []byte, b64 bool) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: "/webhooks/github",
		Headers: headers, IsBase64Encoded: b64, Body: string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{AccountID: "anonymous", APIID: "abcdefghijklmnopqrstuvwxyz0123",
			DomainName: "abcdefghijklmnopqrstuvwxyz0123.lambda-url.eu-west-1.on.aws", RequestID: "8b1c3a2e-0d1f-4a7b-9c6d-5e4f3a2b1c0d",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/webhooks/github",
				Protocol: "HTTP/1.1", SourceIP: "192.30.252.1", UserAgent: "GitHub-Hookshot/7f3a2c1"}}}
	if b64 {
		ev.Body = base64.StdEncoding.EncodeToString(body)
	}
	return ev
}

func TestLambdaHandler(t *testing.T) {
	e := newEnv(t)
	push := render(t, "github/push", defaults())
	headers := func(sig string) map[string]string {
		return map[string]string{"content-type": "application/json", "x-github-event": "push",
			"x-github-delivery": "d5c8e7a0-cc78-11e3-81ab-4c9367dc0958", "x-hub-signature-256": sig, "user-agent": "GitHub-Hookshot/7f3a2c1"}
	}
	tests := []struct {
		name   string
		ev     events.APIGatewayV2HTTPRequest
		status int
		body   string
	}{
		{name: "forged", ev: functionURLEvent(headers(SignGitHub([]byte("x"), push)), push, false), status: 401, body: "does not match"},
		{name: "bad base64", ev: func() events.APIGatewayV2HTTPRequest {
			ev := functionURLEvent(headers("sha256=00"), push, true)
			ev.Body = "!!!"
			return ev
		}(), status: 400, body: "decode base64 body"},
		{name: "signed, base64 body", ev: functionURLEvent(headers(SignGitHub([]byte(testSecret), push)), push, true), status: 200, body: `"result":"done"`},
		{name: "replayed", ev: functionURLEvent(headers(SignGitHub([]byte(testSecret), push)), push, false), status: 401, body: "already handled"},
		{name: "neither GitHub nor GitLab", ev: functionURLEvent(map[string]string{"content-type": "application/json"}, push, false), status: 400, body: "not a GitHub or GitLab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.h.HandleLambda(t.Context(), tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.body) || resp.IsBase64Encoded {
				t.Errorf("got %d %q", resp.StatusCode, resp.Body)
			}
			if resp.Headers["Content-Type"] != "application/json" {
				t.Errorf("headers %v", resp.Headers)
			}
		})
	}
	if s := e.subjects(); len(s) != 2 {
		t.Errorf("history %q", s)
	}
}

func TestLambdaResponseShapes(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "a=1&b=2" || r.Header.Get("X-Multi") != "x,y" || r.Header.Get("Cookie") != "c=1; d=2" {
			http.Error(w, "request not mapped: "+r.URL.String(), http.StatusTeapot)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "s", Value: "1"})
		w.Header().Add("Vary", "A")
		w.Header().Add("Vary", "B")
		_, _ = w.Write([]byte{0xff, 0xfe, 0x00})
	})
	ev := functionURLEvent(map[string]string{"x-multi": "x,y"}, nil, false)
	ev.RawQueryString, ev.Cookies = "a=1&b=2", []string{"c=1", "d=2"}
	resp, err := LambdaHandler(h)(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !resp.IsBase64Encoded || resp.Body != "//4A" || resp.Headers["Vary"] != "A,B" ||
		len(resp.Cookies) != 1 || resp.Cookies[0] != "s=1" {
		t.Errorf("got %+v", resp)
	}
}

func TestDispatch(t *testing.T) {
	var jobs []func(context.Context) error
	busy := false
	e := newEnv(t, func(c *Config) {
		c.Dispatch = func(job func(context.Context) error) error {
			if busy {
				return ErrBusy
			}
			jobs = append(jobs, job)
			return nil
		}
	})
	push := render(t, "github/push", defaults())
	rec := e.github("push", push)
	if r := decode(t, rec); rec.Code != 202 || r.Result != "accepted" || r.Detail != "running the loop" || len(jobs) != 1 {
		t.Fatalf("got %d %+v", rec.Code, r)
	}
	if s := e.subjects(); len(s) != 1 {
		t.Fatalf("work done before the job ran: %q", s)
	}
	if err := jobs[0](t.Context()); err != nil {
		t.Fatal(err)
	}
	if s := e.subjects(); len(s) != 2 {
		t.Errorf("the job did not run the loop: %q", s)
	}
	busy = true
	rec = e.github("push", push)
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "too many deliveries") {
		t.Errorf("busy: %d %s", rec.Code, rec.Body)
	}
	// A job that fails forgets its delivery, so the redelivery is taken.
	busy = false
	failing := func(r *http.Request) { r.Header.Set("X-GitHub-Delivery", "fa11ed00-cc78-11e3-81ab-4c9367dc0958") }
	e.github("check_run", render(t, "github/check_run", func() payload {
		p := defaults()
		p.Action, p.ExternalID = "rerequested", "birdwatch:validate"
		return p
	}()), failing)
	e.gh.srv.Close() // the GitHub API is down: validation fails
	if err := jobs[len(jobs)-1](t.Context()); err == nil {
		t.Fatal("the job did not fail")
	}
	if !e.h.seen.add("fa11ed00-cc78-11e3-81ab-4c9367dc0958") {
		t.Error("a failed delivery is still remembered")
	}
	if !strings.Contains(e.logs.String(), `"msg":"webhook failed"`) {
		t.Error("the failure was not logged")
	}
}
