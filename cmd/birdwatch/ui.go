package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/functions/ui"
)

// newUIHandler builds the read-only pages on e's repository and metrics.
// Without a token they are open to whoever reaches the address: said once
// in the log.
func newUIHandler(ctx context.Context, cfg *Config, e *core.Engine, log *slog.Logger) (*ui.Handler, error) {
	token, err := cfg.secret(ctx, "BIRDWATCH_UI_TOKEN")
	if err != nil {
		return nil, err
	}
	gh, err := uiGitHub(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if token == "" && gh == nil {
		log.Warn("the pages have no token (--ui-token-file) and no GitHub sign-in (--ui-github-client-id): anyone who reaches this address can read the fleet")
	}
	prom, _ := e.Metrics.(metrics.RangeProvider) // nil: pages without charts
	return ui.New(ui.Config{Fleet: engineFleet{e}, Metrics: prom, Token: token, GitHub: gh, Refresh: cfg.UIRefresh, Log: log})
}

// uiGitHub is the pages' GitHub sign-in; nil when no client ID is set.
// GitHub Enterprise's web address is its API URL's origin.
func uiGitHub(ctx context.Context, cfg *Config) (*ui.GitHubAuth, error) {
	if cfg.UIGitHubClientID == "" {
		return nil, nil
	}
	secret, err := cfg.secret(ctx, "BIRDWATCH_UI_GITHUB_CLIENT_SECRET")
	if err != nil {
		return nil, err
	}
	gh := &ui.GitHubAuth{ClientID: cfg.UIGitHubClientID, ClientSecret: secret, Org: cfg.UIGitHubOrg, Team: cfg.UIGitHubTeam,
		ExternalURL: cfg.UIURL, APIURL: cfg.GitHubAPIURL}
	if cfg.GitHubAPIURL != "" {
		u, err := url.Parse(cfg.GitHubAPIURL)
		if err != nil {
			return nil, fmt.Errorf("--github-api-url: %w", err)
		}
		gh.WebURL = u.Scheme + "://" + u.Host
	}
	return gh, nil
}

// engineFleet reads the pages' fleet through the engine: the branch head's
// canaries and statuses.
type engineFleet struct{ e *core.Engine }

// Entries implements ui.Fleet.
func (f engineFleet) Entries(ctx context.Context) ([]ui.Entry, error) {
	fleet, err := f.e.Fleet(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the fleet: %w", err)
	}
	out := make([]ui.Entry, 0, len(fleet))
	for _, en := range fleet {
		out = append(out, ui.Entry{Key: en.Canary.Key(), Canary: en.Canary, Status: en.Status})
	}
	return out, nil
}
