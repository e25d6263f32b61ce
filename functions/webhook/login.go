package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-github/v84/github"
)

// LoginResolver tells the account a token acts as; *GitHubAPI implements it.
// When GitHubConfig.Login is empty and Comments implements it, birdwatch
// asks once and recognizes its own comments by that author.
type LoginResolver interface {
	Login(ctx context.Context) (string, error)
}

// Login returns the login of the token's account: GET /user for a user
// token; for a GitHub App installation token, which /user refuses, the
// GraphQL viewer, which is the app's bot ("name[bot]").
func (g *GitHubAPI) Login(ctx context.Context) (string, error) {
	u, _, err := g.client.Users.Get(ctx, "")
	if err == nil && u.GetLogin() != "" {
		return u.GetLogin(), nil
	}
	var er *github.ErrorResponse
	if err != nil && !(errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusForbidden) {
		return "", fmt.Errorf("GET /user: %w", err)
	}
	login, gqlErr := g.viewerLogin(ctx)
	if gqlErr != nil {
		return "", fmt.Errorf("the token's account: GET /user refused it and GraphQL viewer failed: %w", gqlErr)
	}
	return login, nil
}

// viewerLogin asks GraphQL for the viewer's login. GitHub Enterprise serves
// GraphQL at /api/graphql beside the REST /api/v3/.
func (g *GitHubAPI) viewerLogin(ctx context.Context) (string, error) {
	u := "graphql"
	if strings.HasSuffix(g.client.BaseURL.Path, "/api/v3/") {
		u = "../graphql"
	}
	req, err := g.client.NewRequest(http.MethodPost, u, map[string]string{"query": "query { viewer { login } }"})
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if _, err := g.client.Do(ctx, req, &buf); err != nil {
		return "", err
	}
	var out struct {
		Data struct {
			Viewer struct{ Login string } `json:"viewer"`
		} `json:"data"`
	}
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil || out.Data.Viewer.Login == "" {
		return "", fmt.Errorf("no viewer login in the GraphQL answer (%v)", err)
	}
	return out.Data.Viewer.Login, nil
}

// loginCache is the configured login, or the one resolved once (a failed
// resolution is retried at the next use).
type loginCache struct {
	mu       sync.Mutex
	login    string
	resolver LoginResolver
}

// get returns the login, or "" when there is no way to know it: then no
// comment is taken for birdwatch's (a marker alone is never trusted).
func (c *loginCache) get(ctx context.Context) (string, error) {
	if c == nil {
		return "", nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.login != "" || c.resolver == nil {
		return c.login, nil
	}
	login, err := c.resolver.Login(ctx)
	if err != nil {
		return "", fmt.Errorf("find the account birdwatch comments as (or set its login): %w", err)
	}
	c.login = login
	return login, nil
}

func newLoginCache(login string, comments Comments) *loginCache {
	c := &loginCache{login: login}
	if r, ok := comments.(LoginResolver); ok {
		c.resolver = r
	}
	return c
}
