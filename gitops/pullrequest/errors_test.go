package pullrequest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-github/v84/github"
)

// TestGitHubErrorsCarryNoServerText: GitHub answers every call with an
// error whose body echoes the token (a proxy, a misbehaving GitHub
// Enterprise); the errors of Find, Propose, Note and Close name the status
// and never the body, and errors.As still finds go-github's error.
func TestGitHubErrorsCarryNoServerText(t *testing.T) {
	const token = "ghs_s3cretTokenEcho"
	for _, tc := range []struct {
		name   string
		code   int
		header map[string]string
		want   string
	}{
		{"422 validation failed", http.StatusUnprocessableEntity, nil, "422 Unprocessable Entity"},
		{"403 rate limited", http.StatusForbidden, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4102444800"}, "403 Forbidden"},
		{"500", http.StatusInternalServerError, nil, "500 Internal Server Error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.code)
				_, _ = w.Write([]byte(`{"message":"Validation Failed for ` + r.Header.Get("Authorization") + `","errors":[{"resource":"PullRequest","code":"custom","message":"echo ` + token + `"}],"documentation_url":"https://docs.github.com/rest","status":"422"}`))
			}))
			defer srv.Close()
			gh, err := NewGitHub(GitHubConfig{Owner: "acme", Repo: "fleet", Token: token, BaseURL: srv.URL + "/"})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			pr := &PR{Number: 7, Open: true, Branch: "birdwatch/games/aleph"}
			_, findErr := gh.Find(ctx, "birdwatch/games/aleph")
			_, proposeErr := gh.Propose(ctx, proposal("birdwatch/games/aleph", 1, 10), nil)
			for name, err := range map[string]error{
				"Find": findErr, "Propose": proposeErr,
				"Note": gh.Note(ctx, pr, "birdwatch-note", "hello"), "Close": gh.Close(ctx, pr, "bye"),
			} {
				if err == nil {
					t.Fatalf("%s: no error", name)
				}
				if msg := err.Error(); strings.Contains(msg, token) || strings.Contains(msg, "Validation Failed") || !strings.Contains(msg, tc.want) {
					t.Errorf("%s: %q; want the status %q and no server text", name, msg, tc.want)
				}
				var e *github.ErrorResponse
				var rl *github.RateLimitError
				if !errors.As(err, &e) && !errors.As(err, &rl) {
					t.Errorf("%s: go-github's error is not in the chain: %v", name, err)
				}
			}
		})
	}
}
