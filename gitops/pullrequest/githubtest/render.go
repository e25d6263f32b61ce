package githubtest

import (
	"fmt"
	"time"
)

// render is a pull request in the REST API's shape (the fields of GitHub's
// "pull-request" schema that clients read; URLs point at github.com).
func (s *Server) render(p *pull) map[string]any {
	html := fmt.Sprintf("https://github.com/%s/%s/pull/%d", s.Owner, s.Repo, p.Number)
	api := fmt.Sprintf("%srepos/%s/%s/pulls/%d", s.URL, s.Owner, s.Repo, p.Number)
	base, _ := s.git("rev-parse", "refs/heads/"+p.Base)
	state := "closed"
	if p.Open {
		state = "open"
	}
	var autoMerge any
	if p.AutoMerge {
		autoMerge = map[string]any{"enabled_by": s.user("birdwatch-bot"), "merge_method": "merge",
			"commit_title": nil, "commit_message": nil}
	}
	return map[string]any{
		"url": api, "id": 1_700_000_000 + p.Number, "node_id": nodeID(p.Number), "html_url": html,
		"diff_url": html + ".diff", "patch_url": html + ".patch",
		"issue_url":    fmt.Sprintf("%srepos/%s/%s/issues/%d", s.URL, s.Owner, s.Repo, p.Number),
		"commits_url":  api + "/commits",
		"comments_url": fmt.Sprintf("%srepos/%s/%s/issues/%d/comments", s.URL, s.Owner, s.Repo, p.Number),
		"number":       p.Number, "state": state, "locked": false, "title": p.Title,
		"user": s.user("birdwatch-bot"), "body": p.Body, "labels": s.labels(p),
		"created_at": ts(&p.Created), "updated_at": ts(&p.Updated), "closed_at": ts(p.ClosedAt), "merged_at": ts(p.MergedAt),
		"merge_commit_sha": nullable(p.MergeCommit), "assignee": nil, "assignees": []any{},
		"requested_reviewers": []any{}, "requested_teams": []any{}, "milestone": nil, "draft": false,
		"head": s.ref(p.Head, p.HeadSHA), "base": s.ref(p.Base, base),
		"author_association": "NONE", "auto_merge": autoMerge, "active_lock_reason": nil,
		"maintainer_can_modify": p.MaintainerCanModify,
	}
}

func (s *Server) ref(branch, sha string) map[string]any {
	return map[string]any{
		"label": s.Owner + ":" + branch, "ref": branch, "sha": sha, "user": s.user(s.Owner),
		"repo": map[string]any{"id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": s.Repo,
			"full_name": s.Owner + "/" + s.Repo, "private": true, "owner": s.user(s.Owner),
			"html_url": fmt.Sprintf("https://github.com/%s/%s", s.Owner, s.Repo), "default_branch": "main",
			"allow_auto_merge": s.RequireChecks},
	}
}

func (s *Server) user(login string) map[string]any {
	return map[string]any{"login": login, "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==",
		"html_url": "https://github.com/" + login, "type": "User", "site_admin": false}
}

func (s *Server) labels(p *pull) []map[string]any {
	out := []map[string]any{}
	for i, l := range p.Labels {
		out = append(out, map[string]any{"id": 208045946 + i, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=",
			"url": fmt.Sprintf("%srepos/%s/%s/labels/%s", s.URL, s.Owner, s.Repo, l), "name": l,
			"description": "", "color": "f29513", "default": false})
	}
	return out
}

// nodeID is the GraphQL id GitHub gives pull request n (shape only).
func nodeID(n int) string { return fmt.Sprintf("PR_kwDOBirdw%05d", n) }

func ts(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
