package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestLambdaServesThePages: with BIRDWATCH_UI, the webhook function answers
// its Function URL's GET routes with the pages (behind the token) and every
// other request as a webhook delivery.
func TestLambdaServesThePages(t *testing.T) {
	f := serveFleet(t)
	lambdaEnv(t, f.URL())
	const token = "lambda-ui-token-7d2e"
	for k, v := range map[string]string{"BIRDWATCH_GITLAB_TOKEN": "gitlab-hook-token", "BIRDWATCH_GITLAB_PROJECT": "acme/fleet",
		"BIRDWATCH_UI": "true", "BIRDWATCH_UI_TOKEN": token} {
		t.Setenv(k, v)
	}
	lc, err := lambdaConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	h, err := newLambdaHandler(t.Context(), "webhook", lc, &lambdaDeps{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path string, headers map[string]string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		req := events.APIGatewayV2HTTPRequest{RawPath: path, Headers: headers, Body: "{}"}
		req.RequestContext.HTTP.Method = method
		payload, _ := json.Marshal(req)
		raw, err := h.Invoke(t.Context(), payload)
		if err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(raw, &resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	bearer := map[string]string{"Authorization": "Bearer " + token}
	tests := []struct {
		name, method, path string
		headers            map[string]string
		status             int
		want               string
	}{
		{name: "fleet", method: "GET", path: "/", headers: bearer, status: 200, want: `data-canary="games/aleph"`},
		{name: "rollout", method: "GET", path: "/canaries/games/aleph", headers: bearer, status: 200, want: "games/aleph: canary"},
		{name: "no token", method: "GET", path: "/", status: 401, want: "Sign in"},
		{name: "a forged delivery is still a webhook", method: "POST", path: "/",
			headers: map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "forged"}, status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := call(tt.method, tt.path, tt.headers)
			if resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.want) {
				t.Errorf("%d %.300s", resp.StatusCode, resp.Body)
			}
			if strings.Contains(resp.Body, token) {
				t.Error("the page holds the token")
			}
		})
	}
}
