package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/functions/auth"
	"github.com/birdwatch-gitops/birdwatch/functions/webhook"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// withGitLabAPI wires GitLab's API into cfg when a GitLab webhook token and
// an API token are set: notes become commands authorized by gitlab:
// entries, answered on the merge request, with reports and statuses.
// Without an API token GitLab stays a trigger.
func withGitLabAPI(ctx context.Context, c *Config, cfg *webhook.Config) error {
	if len(cfg.GitLab.Token) == 0 {
		return nil
	}
	token, err := c.secret(ctx, "BIRDWATCH_GITLAB_API_TOKEN")
	if err != nil || token == "" {
		return err
	}
	web := strings.TrimSuffix(c.GitLabURL, "/")
	client, err := gitlab.NewClient(token, gitlab.WithBaseURL(web+"/api/v4"))
	if err != nil {
		return fmt.Errorf("GitLab client: %w", err)
	}
	cfg.GitLab.API, cfg.GitLab.Login, cfg.GitLab.WebURL = webhook.NewGitLabAPI(client), c.GitLabLogin, web
	if cfg.Authorizer == nil {
		cfg.Authorizer = &auth.Authorizer{}
	}
	a, ok := cfg.Authorizer.(*auth.Authorizer)
	if !ok {
		return fmt.Errorf("GitLab commands need *auth.Authorizer, have %T", cfg.Authorizer)
	}
	a.GitLab, a.GitLabProject = auth.NewGitLab(client), c.GitLabProject
	return nil
}
