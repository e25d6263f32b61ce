package pullrequest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v84/github"
)

// enableAutoMergeMutation is GitHub's GraphQL mutation for auto-merge; the
// REST API has none. Hand-written on go-github's transport (one query, so
// no GraphQL client library is pulled in).
const enableAutoMergeMutation = `mutation($id: ID!, $method: PullRequestMergeMethod!) {
  enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: $method}) {
    pullRequest { number autoMergeRequest { enabledAt } }
  }
}`

// graphQLError is the "errors" list of a GraphQL answer.
type graphQLError struct {
	Messages []string
	Types    []string
}

func (e *graphQLError) Error() string { return strings.Join(e.Messages, "; ") }

// mergeableNow reports whether GitHub refused auto-merge because the pull
// request can be merged at once (nothing to wait for) or the repository
// does not allow auto-merge: then the REST merge is the way.
func (e *graphQLError) mergeableNow() bool {
	msg := strings.ToLower(e.Error())
	return strings.Contains(msg, "clean status") || strings.Contains(msg, "auto merge is not allowed") ||
		strings.Contains(msg, "auto-merge is not allowed")
}

type graphQLRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

type graphQLResponse struct {
	Data struct {
		EnablePullRequestAutoMerge *struct {
			PullRequest struct {
				Number           int `json:"number"`
				AutoMergeRequest *struct {
					EnabledAt time.Time `json:"enabledAt"`
				} `json:"autoMergeRequest"`
			} `json:"pullRequest"`
		} `json:"enablePullRequestAutoMerge"`
	} `json:"data"`
	Errors []struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"errors"`
}

// enableAutoMerge runs enablePullRequestAutoMerge for pr. GitHub answers
// GraphQL errors with status 200; they come back as *graphQLError.
func (g *GitHub) enableAutoMerge(ctx context.Context, pr *PR) error {
	req, err := g.client.NewRequest("POST", g.graphqlURL, graphQLRequest{Query: enableAutoMergeMutation,
		Variables: map[string]any{"id": pr.NodeID, "method": strings.ToUpper(g.method)}})
	if err != nil {
		return fmt.Errorf("enable auto-merge on #%d: %w", pr.Number, err)
	}
	var resp graphQLResponse
	if _, err := g.client.Do(ctx, req, &resp); err != nil {
		return fmt.Errorf("enable auto-merge on #%d: %w", pr.Number, restError(err))
	}
	if len(resp.Errors) > 0 {
		e := &graphQLError{}
		for _, x := range resp.Errors {
			e.Messages = append(e.Messages, x.Message)
			e.Types = append(e.Types, x.Type)
		}
		return e
	}
	if resp.Data.EnablePullRequestAutoMerge == nil {
		return fmt.Errorf("enable auto-merge on #%d: empty answer", pr.Number)
	}
	return nil
}

// fromGitHub converts go-github's pull request.
func fromGitHub(p *github.PullRequest) *PR {
	out := &PR{Number: p.GetNumber(), URL: p.GetHTMLURL(), NodeID: p.GetNodeID(), Open: p.GetState() == "open",
		Branch: p.GetHead().GetRef(), HeadSHA: p.GetHead().GetSHA(), Base: p.GetBase().GetRef(),
		Title: p.GetTitle(), Body: p.GetBody()}
	if p.MergedAt != nil {
		t := p.MergedAt.Time
		out.MergedAt = &t
	}
	if p.ClosedAt != nil {
		t := p.ClosedAt.Time
		out.ClosedAt = &t
	}
	for _, l := range p.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	out.Marker, _ = ParseMarker(out.Body)
	return out
}
