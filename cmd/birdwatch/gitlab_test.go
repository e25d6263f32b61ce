package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/functions/auth"
	"github.com/birdwatch-gitops/birdwatch/functions/webhook"
)

// TestWithGitLabAPI: with a webhook token and an API token, GitLab's API
// client points at BIRDWATCH_GITLAB_URL's /api/v4 with the token, and the
// authorizer learns gitlab: identities; without the API token GitLab stays
// a trigger.
func TestWithGitLabAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/gitlab/api/v4/user" || r.Header.Get("PRIVATE-TOKEN") != "glpat-wiring" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"401 Unauthorized"}`)
			return
		}
		fmt.Fprint(w, `{"id":90210,"username":"birdwatch-bot","state":"active"}`)
	}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "gitlab-api")
	if err := os.WriteFile(tokenFile, []byte("glpat-wiring\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newConfig(modeServe)
	c.GitLabURL, c.GitLabProject = srv.URL+"/gitlab/", "acme/fleet"

	cfg := webhook.Config{GitLab: webhook.GitLabConfig{Token: []byte("hook-token"), Project: "acme/fleet"}}
	if err := withGitLabAPI(context.Background(), c, &cfg); err != nil || cfg.GitLab.API != nil {
		t.Fatalf("without an API token: err %v, API %v", err, cfg.GitLab.API)
	}
	c.GitLabAPITokenFile = tokenFile
	if err := withGitLabAPI(context.Background(), c, &cfg); err != nil {
		t.Fatal(err)
	}
	login, err := cfg.GitLab.API.(*webhook.GitLabAPI).Login(context.Background())
	if err != nil || login != "birdwatch-bot" || cfg.GitLab.WebURL != srv.URL+"/gitlab" {
		t.Errorf("login %q err %v web %q", login, err, cfg.GitLab.WebURL)
	}
	a, ok := cfg.Authorizer.(*auth.Authorizer)
	if !ok || a.GitLab == nil || a.GitLabProject != "acme/fleet" {
		t.Errorf("authorizer %+v", cfg.Authorizer)
	}
}
