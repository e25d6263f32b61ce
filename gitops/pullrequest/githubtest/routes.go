package githubtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ServeHTTP routes the REST and GraphQL calls birdwatch makes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	if r.URL.Path == "/api/graphql" && r.Method == http.MethodPost {
		s.graphql(w, r)
		return
	}
	prefix := fmt.Sprintf("/api/v3/repos/%s/%s/", s.Owner, s.Repo)
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	parts := strings.Split(rest, "/")
	if s.gitData(w, r, parts) {
		return
	}
	switch {
	case len(parts) == 1 && parts[0] == "pulls" && r.Method == http.MethodGet:
		s.list(w, r)
	case len(parts) == 1 && parts[0] == "pulls" && r.Method == http.MethodPost:
		s.create(w, r)
	case len(parts) == 2 && parts[0] == "pulls" && r.Method == http.MethodPatch:
		s.withPull(w, parts[1], func(p *pull) { s.edit(w, r, p) })
	case len(parts) == 3 && parts[0] == "pulls" && parts[2] == "merge" && r.Method == http.MethodPut:
		s.withPull(w, parts[1], func(p *pull) { s.mergeREST(w, r, p) })
	case len(parts) == 3 && parts[0] == "issues" && parts[2] == "comments" && r.Method == http.MethodPost:
		s.withPull(w, parts[1], func(p *pull) { s.comment(w, r, p) })
	case len(parts) == 3 && parts[0] == "issues" && parts[2] == "labels" && r.Method == http.MethodPost:
		s.withPull(w, parts[1], func(p *pull) { s.label(w, r, p) })
	default:
		writeError(w, http.StatusNotFound, "Not Found")
	}
}

func (s *Server) withPull(w http.ResponseWriter, num string, fn func(*pull)) {
	n, _ := strconv.Atoi(num)
	p := s.find(n)
	if p == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	fn(p)
}

// list is GET /repos/{owner}/{repo}/pulls with state, sort=updated,
// direction, per_page and page.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var sel []*pull
	for _, p := range s.pulls {
		if state == "all" || (state == "open") == p.Open {
			sel = append(sel, p)
		}
	}
	sort.SliceStable(sel, func(i, j int) bool {
		if q.Get("direction") == "asc" {
			return sel[i].Updated.Before(sel[j].Updated)
		}
		return sel[i].Updated.After(sel[j].Updated)
	})
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	start, end := min((page-1)*per, len(sel)), min(page*per, len(sel))
	if end < len(sel) {
		w.Header().Set("Link", fmt.Sprintf(`<%s?state=%s&per_page=%d&page=%d>; rel="next"`, "http://"+r.Host+r.URL.Path, state, per, page+1))
	}
	out := []map[string]any{}
	for _, p := range sel[start:end] {
		out = append(out, s.render(p))
	}
	writeJSON(w, http.StatusOK, out)
}

// create is POST /repos/{owner}/{repo}/pulls.
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title, Head, Base, Body string
		MaintainerCanModify     bool `json:"maintainer_can_modify"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	sha, err := s.git("rev-parse", "--verify", "refs/heads/"+in.Head)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed",
			map[string]any{"resource": "PullRequest", "field": "head", "code": "invalid"})
		return
	}
	for _, p := range s.pulls {
		if p.Open && p.Head == in.Head && p.Base == in.Base {
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed", map[string]any{"resource": "PullRequest",
				"code": "custom", "message": fmt.Sprintf("A pull request already exists for %s:%s.", s.Owner, in.Head)})
			return
		}
	}
	now := s.now().UTC()
	p := &pull{Number: len(s.pulls) + 1, Title: in.Title, Body: in.Body, Head: in.Head, Base: in.Base, HeadSHA: sha,
		Open: true, Created: now, Updated: now, MaintainerCanModify: in.MaintainerCanModify}
	s.pulls = append(s.pulls, p)
	writeJSON(w, http.StatusCreated, s.render(p))
}

// edit is PATCH /repos/{owner}/{repo}/pulls/{n}: title, body, state.
func (s *Server) edit(w http.ResponseWriter, r *http.Request, p *pull) {
	var in struct{ Title, Body, State *string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	now := s.now().UTC()
	if in.Title != nil {
		p.Title = *in.Title
	}
	if in.Body != nil {
		p.Body = *in.Body
	}
	if in.State != nil && *in.State == "closed" && p.Open {
		p.Open, p.ClosedAt = false, &now
	}
	p.Updated = now
	// The head may have been pushed since: GitHub follows the branch.
	if sha, err := s.git("rev-parse", "--verify", "refs/heads/"+p.Head); err == nil && p.Open {
		p.HeadSHA = sha
	}
	writeJSON(w, http.StatusOK, s.render(p))
}

// mergeREST is PUT /repos/{owner}/{repo}/pulls/{n}/merge.
func (s *Server) mergeREST(w http.ResponseWriter, r *http.Request, p *pull) {
	var in struct {
		SHA         string `json:"sha"`
		MergeMethod string `json:"merge_method"`
	}
	_ = json.NewDecoder(r.Body).Decode(&in)
	head, _ := s.git("rev-parse", "refs/heads/"+p.Head)
	switch {
	case !p.Open:
		writeError(w, http.StatusMethodNotAllowed, "Pull Request is not mergeable")
		return
	case in.SHA != "" && in.SHA != head:
		writeError(w, http.StatusConflict, "Head branch was modified. Review and try the merge again.")
		return
	}
	if err := s.merge(p); err != nil {
		if errors.Is(err, errConflict) {
			writeError(w, http.StatusMethodNotAllowed, "Pull Request is not mergeable")
			return
		}
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sha": p.MergeCommit, "merged": true, "message": "Pull Request successfully merged"})
}

// comment is POST /repos/{owner}/{repo}/issues/{n}/comments.
func (s *Server) comment(w http.ResponseWriter, r *http.Request, p *pull) {
	var in struct{ Body string }
	_ = json.NewDecoder(r.Body).Decode(&in)
	s.comments[p.Number] = append(s.comments[p.Number], in.Body)
	id := 1000 + len(s.comments[p.Number])
	now := s.now().UTC().Format(time.RFC3339)
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": id, "node_id": fmt.Sprintf("IC_kwDOA%d", id), "body": in.Body, "user": s.user("birdwatch-bot"),
		"created_at": now, "updated_at": now, "author_association": "NONE",
		"html_url":  fmt.Sprintf("https://github.com/%s/%s/pull/%d#issuecomment-%d", s.Owner, s.Repo, p.Number, id),
		"issue_url": fmt.Sprintf("%srepos/%s/%s/issues/%d", s.URL, s.Owner, s.Repo, p.Number),
	})
}

// label is POST /repos/{owner}/{repo}/issues/{n}/labels ({"labels": [...]}).
func (s *Server) label(w http.ResponseWriter, r *http.Request, p *pull) {
	// GitHub takes {"labels": [...]} or a bare array (go-github sends the latter).
	var raw json.RawMessage
	_ = json.NewDecoder(r.Body).Decode(&raw)
	var in struct{ Labels []string }
	if err := json.Unmarshal(raw, &in.Labels); err != nil {
		_ = json.Unmarshal(raw, &in)
	}
	for _, l := range in.Labels {
		if !contains(p.Labels, l) {
			p.Labels = append(p.Labels, l)
		}
	}
	writeJSON(w, http.StatusOK, s.labels(p))
}

// graphql answers enablePullRequestAutoMerge like GitHub (an error with
// status 200 when the pull request is already mergeable, "clean status")
// and createCommitOnBranch (gitdata.go).
func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Query     string
		Variables map[string]any
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err == nil && strings.Contains(in.Query, "createCommitOnBranch") {
		s.createCommitOnBranch(w, in.Variables)
		return
	}
	if !strings.Contains(in.Query, "enablePullRequestAutoMerge") {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]any{{"message": "unsupported query"}}})
		return
	}
	id, _ := in.Variables["id"].(string)
	var p *pull
	for _, x := range s.pulls {
		if nodeID(x.Number) == id {
			p = x
		}
	}
	switch {
	case p == nil:
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"enablePullRequestAutoMerge": nil},
			"errors": []map[string]any{{"type": "NOT_FOUND", "path": []string{"enablePullRequestAutoMerge"},
				"message": fmt.Sprintf("Could not resolve to a node with the global id of '%s'", id)}}})
	case !s.RequireChecks:
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"enablePullRequestAutoMerge": nil},
			"errors": []map[string]any{{"type": "UNPROCESSABLE", "path": []string{"enablePullRequestAutoMerge"},
				"locations": []map[string]int{{"line": 2, "column": 3}},
				"message":   "Pull request Pull request is in clean status"}}})
	default:
		p.AutoMerge = true
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"enablePullRequestAutoMerge": map[string]any{
			"pullRequest": map[string]any{"number": p.Number, "autoMergeRequest": map[string]any{
				"enabledAt": s.now().UTC().Format(time.RFC3339)}}}}})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
