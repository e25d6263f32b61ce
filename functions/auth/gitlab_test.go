package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// gitlabMembers answers GET /api/v4/{groups,projects}/:id/members/all/:user_id
// like GitLab's REST API: the member, or 404 {"message":"404 Not found"}.
func gitlabMembers(t *testing.T, members map[string]string) *gitlab.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("PRIVATE-TOKEN") != "glpat-auth" {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"message":"401 Unauthorized"}`)
			return
		}
		key := strings.TrimPrefix(r.URL.EscapedPath(), "/api/v4/")
		body, ok := members[key]
		switch {
		case body == "500":
			w.WriteHeader(500)
			fmt.Fprint(w, `{"message":"500 Internal Server Error"}`)
		case !ok:
			w.WriteHeader(404)
			fmt.Fprint(w, `{"message":"404 Not found"}`)
		default:
			fmt.Fprint(w, body)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := gitlab.NewClient("glpat-auth", gitlab.WithBaseURL(srv.URL+"/api/v4"), gitlab.WithoutRetries())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func member(id int, level int, state string) string {
	return fmt.Sprintf(`{"id":%d,"username":"u%d","name":"U","state":%q,"access_level":%d,"created_at":"2026-01-05T09:00:00.000Z","expires_at":null}`, id, id, state, level)
}

func TestAuthorizeGitLab(t *testing.T) {
	client := gitlabMembers(t, map[string]string{
		"groups/platform%2Fsre/members/all/1":  member(1, 30, "active"), // Developer
		"groups/platform%2Fsre/members/all/2":  member(2, 40, "active"), // Maintainer
		"groups/platform%2Fsre/members/all/3":  member(3, 20, "active"), // Reporter
		"groups/platform%2Fsre/members/all/4":  member(4, 30, "blocked"),
		"groups/platform%2Fsre/members/all/5":  "500",
		"projects/acme%2Ffleet/members/all/1":  member(1, 30, "active"),
		"projects/acme%2Ffleet/members/all/2":  member(2, 40, "active"),
		"projects/acme%2Ffleet/members/all/10": member(10, 40, "active"),
	})
	a := &Authorizer{GitLab: NewGitLab(client), GitLabProject: "acme/fleet"}
	access := spec.AccessSpec{Operators: []string{"github:acme/sre", "gitlab:platform/sre", "gitlab:Zoe"}}
	tests := []struct {
		name    string
		who     Identity
		allowed bool
		err     error
		reason  string
	}{
		{"Developer in the group", Identity{Provider: ProviderGitLab, User: "u1", ID: 1}, true, nil, "allowed by gitlab:platform/sre"},
		{"Maintainer in the group", Identity{Provider: ProviderGitLab, User: "u2", ID: 2}, true, nil, ""},
		{"Reporter in the group", Identity{Provider: ProviderGitLab, User: "u3", ID: 3}, false, ErrDenied, "less than Developer access"},
		{"blocked member", Identity{Provider: ProviderGitLab, User: "u4", ID: 4}, false, ErrDenied, "not among the operators"},
		{"lookup fails", Identity{Provider: ProviderGitLab, User: "u5", ID: 5}, false, ErrLookup, "could not check"},
		{"named user, any case, with project access", Identity{Provider: ProviderGitLab, User: "zoe", ID: 10}, true, nil, "allowed by gitlab:Zoe"},
		{"named user without project access", Identity{Provider: ProviderGitLab, User: "ZOE", ID: 11}, false, ErrDenied, "less than Developer access to acme/fleet"},
		{"a GitHub login of the same name", Identity{Provider: ProviderGitHub, User: "zoe"}, false, ErrDenied, "not among the operators"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := a.Authorize(context.Background(), "games/aleph", access, tt.who)
			if d.Allowed != tt.allowed || (tt.err != nil && !errors.Is(d.Err, tt.err)) || !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("%+v", d)
			}
		})
	}
}
