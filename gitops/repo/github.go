package repo

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-github/v84/github"
)

// GitHubOptions configures OpenGitHub.
type GitHubOptions struct {
	// Owner and Name name the repository; Branch defaults to "main".
	Owner, Name, Branch string
	// Token is the GitHub App installation or fine-grained token.
	Token string
	// APIURL is the REST root, "" for https://api.github.com/ (GitHub
	// Enterprise: "https://HOST/api/v3/"). GraphQLURL "" is derived from it:
	// https://api.github.com/graphql, or ".../api/graphql".
	APIURL, GraphQLURL string
	// HTTPClient makes the calls; nil means one with a 30 s timeout.
	HTTPClient *http.Client
	// MaxAttempts, RetryInitial and RetryMax bound Update as in Options.
	MaxAttempts            int
	RetryInitial, RetryMax time.Duration
}

// GitHubRepo reads and commits through GitHub's API and never clones
// ("API mode"): a Snapshot's trees and blobs are fetched one by one, only
// those a read needs, from the Git database API (git/trees, git/blobs), each
// checked against its hash; commits are made with GraphQL's
// createCommitOnBranch with expectedHeadOid, which GitHub refuses when the
// branch moved (a compare-and-swap). Commits are made, and signed, by
// GitHub as the token's identity, so they show as Verified. It implements
// the loop's Fetch and Update, and Revision.
type GitHubRepo struct {
	opts    Options
	gh      *github.Client
	http    *http.Client
	graphql string
	token   string
	owner   string
	name    string
	obj     *objects
}

// OpenGitHub returns the API-mode repository; it makes no call.
func OpenGitHub(o GitHubOptions) (*GitHubRepo, error) {
	if o.Owner == "" || o.Name == "" {
		return nil, errors.New("open GitHub repository: owner and name are required")
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	gh := github.NewClient(hc)
	graphql := o.GraphQLURL
	if o.APIURL != "" {
		var err error
		if gh, err = gh.WithEnterpriseURLs(o.APIURL, o.APIURL); err != nil {
			return nil, fmt.Errorf("open GitHub repository: %w", err)
		}
		if graphql == "" {
			graphql = strings.TrimSuffix(strings.TrimSuffix(o.APIURL, "/"), "/v3") + "/graphql"
		}
	}
	if graphql == "" {
		graphql = "https://api.github.com/graphql"
	}
	if o.Token != "" {
		gh = gh.WithAuthToken(o.Token)
	}
	g := &GitHubRepo{
		opts: withDefaults(Options{URL: "github", Branch: o.Branch, MaxAttempts: o.MaxAttempts,
			RetryInitial: o.RetryInitial, RetryMax: o.RetryMax}),
		gh: gh, http: hc, graphql: graphql, token: o.Token, owner: o.Owner, name: o.Name,
	}
	g.obj = &objects{st: &apiStore{Storage: memory.NewStorage(), load: g.loadObject}}
	return g, nil
}

// Close releases nothing; it exists for symmetry with Repo.
func (g *GitHubRepo) Close() error { return nil }

func (g *GitHubRepo) where() string { return "github.com/" + g.owner + "/" + g.name }

// Fetch returns a Snapshot of the branch head. It reads the branch, not the
// tree: files are fetched when read.
func (g *GitHubRepo) Fetch(ctx context.Context) (*Snapshot, error) {
	b, resp, err := g.gh.Repositories.GetBranch(ctx, g.owner, g.name, g.opts.Branch, 1)
	if err != nil {
		// GetBranch follows redirects by hand and then reports a 404 as
		// a plain error, with the response.
		if isNotFound(err) || (resp != nil && resp.StatusCode == http.StatusNotFound) {
			return nil, fmt.Errorf("fetch %s %s: %w", g.where(), g.opts.Branch, ErrBranchNotFound)
		}
		return nil, fmt.Errorf("fetch %s %s: %w", g.where(), g.opts.Branch, apiError(err))
	}
	c := b.GetCommit()
	return g.snapshot(c.GetSHA(), c.GetCommit().GetTree().GetSHA(), firstParent(c.Parents), c.GetCommit().GetCommitter().GetDate().Time)
}

// Revision returns a Snapshot of the commit hash (40 hex digits).
func (g *GitHubRepo) Revision(ctx context.Context, hash string) (*Snapshot, error) {
	h, err := parseHash(hash)
	if err != nil {
		return nil, fmt.Errorf("revision %q: %w", hash, err)
	}
	c, _, err := g.gh.Git.GetCommit(ctx, g.owner, g.name, h.String())
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("revision %s of %s: %w", h, g.where(), ErrRevisionNotFound)
		}
		return nil, fmt.Errorf("revision %s of %s: %w", h, g.where(), apiError(err))
	}
	var parent string
	if len(c.Parents) > 0 {
		parent = c.Parents[0].GetSHA()
	}
	return g.snapshot(c.GetSHA(), c.GetTree().GetSHA(), parent, c.GetCommitter().GetDate().Time)
}

func firstParent(ps []*github.Commit) string {
	if len(ps) == 0 {
		return ""
	}
	return ps[0].GetSHA()
}

func (g *GitHubRepo) snapshot(commit, tree, parent string, when time.Time) (*Snapshot, error) {
	ch, err := parseHash(commit)
	if err != nil {
		return nil, fmt.Errorf("GitHub answered commit %q: %w", commit, err)
	}
	th, err := parseHash(tree)
	if err != nil {
		return nil, fmt.Errorf("GitHub answered tree %q of %s: %w", tree, commit, err)
	}
	s := &Snapshot{obj: g.obj, hash: ch, tree: th, time: when}
	if parent != "" {
		s.parent = plumbing.NewHash(parent)
	}
	return s, nil
}

// Update is Repo.Update through the API: fetch the head, decide, commit the
// change with createCommitOnBranch expecting the head that was read; a
// moved branch (GitHub's STALE_DATA) is ErrRejected and is retried with a
// fresh read. Only files are added or replaced; modes are GitHub's choice
// (existing files keep theirs).
func (g *GitHubRepo) Update(ctx context.Context, decide func(*Snapshot) (*Change, error)) (UpdateResult, error) {
	return retryUpdate(ctx, g.opts, g.where(), func() (*Snapshot, error) { return updateRound(ctx, g.Fetch, g.commit, decide) })
}

// commit makes c on top of parent with createCommitOnBranch.
func (g *GitHubRepo) commit(ctx context.Context, parent *Snapshot, c Change) (*Snapshot, error) {
	if err := c.Message.validate(); err != nil {
		return nil, fmt.Errorf("commit on %s: %w", parent.hash, err)
	}
	adds, err := changedAdditions(parent, c.Files)
	if err != nil {
		return nil, fmt.Errorf("commit on %s: %w", parent.hash, err)
	}
	headline, body, _ := strings.Cut(c.Message.String(), "\n")
	input := map[string]any{
		"branch":          map[string]any{"repositoryNameWithOwner": g.owner + "/" + g.name, "branchName": g.opts.Branch},
		"message":         map[string]any{"headline": headline, "body": strings.TrimLeft(body, "\n")},
		"fileChanges":     map[string]any{"additions": adds},
		"expectedHeadOid": parent.hash.String(),
	}
	var out struct {
		CreateCommitOnBranch *struct {
			Commit struct {
				Oid           string
				CommittedDate time.Time
				Tree          struct{ Oid string }
			}
		}
	}
	const mutation = `mutation($input: CreateCommitOnBranchInput!) {
  createCommitOnBranch(input: $input) { commit { oid committedDate tree { oid } } }
}`
	if err := g.query(ctx, mutation, map[string]any{"input": input}, &out); err != nil {
		return nil, fmt.Errorf("commit on %s to %s %s: %w", parent.hash, g.where(), g.opts.Branch, err)
	}
	if out.CreateCommitOnBranch == nil {
		return nil, fmt.Errorf("commit on %s to %s: GitHub answered no commit", parent.hash, g.where())
	}
	cm := out.CreateCommitOnBranch.Commit
	return g.snapshot(cm.Oid, cm.Tree.Oid, parent.hash.String(), cm.CommittedDate)
}

// changedAdditions are createCommitOnBranch's additions for the files whose
// content differs from parent's, sorted by path; ErrNoChange when none does.
func changedAdditions(parent *Snapshot, files map[string][]byte) ([]map[string]string, error) {
	if _, err := newChangeTree(files); err != nil {
		return nil, err
	}
	var adds []map[string]string
	for p, data := range files {
		old, err := parent.ReadFile(p)
		if err == nil && bytes.Equal(old, data) {
			continue
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		adds = append(adds, map[string]string{"path": p, "contents": base64.StdEncoding.EncodeToString(data)})
	}
	if len(adds) == 0 {
		return nil, ErrNoChange
	}
	sort.Slice(adds, func(i, j int) bool { return adds[i]["path"] < adds[j]["path"] })
	return adds, nil
}

// query posts one GraphQL request. A STALE_DATA error (the branch is not at
// expectedHeadOid) wraps ErrRejected; 401 and 403 wrap ErrAuth. GitHub's
// error messages are kept (they name refs and types, not credentials); an
// http error's body is not.
func (g *GitHubRepo) query(ctx context.Context, q string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": q, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.graphql, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if g.token != "" {
		req.Header.Set("Authorization", "bearer "+g.token)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		return fmt.Errorf("graphql: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case err != nil:
		return fmt.Errorf("graphql: read answer: %w", err)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: graphql: %s", ErrAuth, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("graphql: %s", resp.Status)
	}
	var ans struct {
		Data   json.RawMessage
		Errors []struct{ Type, Message string }
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("graphql: decode answer: %w", err)
	}
	for _, e := range ans.Errors {
		if e.Type == "STALE_DATA" {
			return fmt.Errorf("%w: %s", ErrRejected, e.Message)
		}
	}
	if len(ans.Errors) > 0 {
		return fmt.Errorf("graphql: %s: %s", ans.Errors[0].Type, ans.Errors[0].Message)
	}
	return json.Unmarshal(ans.Data, out)
}

// loadObject fetches a tree or blob from GitHub's Git database API and
// re-encodes it as a Git object; its hash must be h. Snapshot reads carry
// no context, so each call has its own 60 s bound.
func (g *GitHubRepo) loadObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var o plumbing.EncodedObject
	var err error
	switch t {
	case plumbing.TreeObject:
		o, err = g.loadTree(ctx, h)
	case plumbing.BlobObject:
		o, err = g.loadBlob(ctx, h)
	case plumbing.AnyObject:
		if o, err = g.loadTree(ctx, h); errors.Is(err, plumbing.ErrObjectNotFound) {
			o, err = g.loadBlob(ctx, h)
		}
	default:
		return nil, plumbing.ErrObjectNotFound
	}
	if err != nil {
		return nil, err
	}
	if o.Hash() != h {
		return nil, fmt.Errorf("GitHub's %s %s hashes to %s", t, h, o.Hash())
	}
	return o, nil
}

func (g *GitHubRepo) loadTree(ctx context.Context, h plumbing.Hash) (plumbing.EncodedObject, error) {
	tr, _, err := g.gh.Git.GetTree(ctx, g.owner, g.name, h.String(), false)
	if err != nil {
		if isNotFound(err) {
			return nil, plumbing.ErrObjectNotFound
		}
		return nil, fmt.Errorf("read tree %s from %s: %w", h, g.where(), apiError(err))
	}
	t := &object.Tree{}
	for _, e := range tr.Entries {
		mode, err := filemode.New(e.GetMode())
		if err != nil {
			return nil, fmt.Errorf("tree %s: entry %q: %w", h, e.GetPath(), err)
		}
		t.Entries = append(t.Entries, object.TreeEntry{Name: e.GetPath(), Mode: mode, Hash: plumbing.NewHash(e.GetSHA())})
	}
	o := &plumbing.MemoryObject{}
	if err := t.Encode(o); err != nil {
		return nil, err
	}
	return o, nil
}

func (g *GitHubRepo) loadBlob(ctx context.Context, h plumbing.Hash) (plumbing.EncodedObject, error) {
	data, _, err := g.gh.Git.GetBlobRaw(ctx, g.owner, g.name, h.String())
	if err != nil {
		if isNotFound(err) {
			return nil, plumbing.ErrObjectNotFound
		}
		return nil, fmt.Errorf("read blob %s from %s: %w", h, g.where(), apiError(err))
	}
	o := &plumbing.MemoryObject{}
	o.SetType(plumbing.BlobObject)
	if _, err := o.Write(data); err != nil {
		return nil, err
	}
	return o, nil
}

// apiStore is an in-memory object store that fetches what it lacks.
type apiStore struct {
	*memory.Storage
	load func(plumbing.ObjectType, plumbing.Hash) (plumbing.EncodedObject, error)
}

// EncodedObject returns the object, fetching and keeping it when absent.
func (s *apiStore) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	o, err := s.Storage.EncodedObject(t, h)
	if !errors.Is(err, plumbing.ErrObjectNotFound) {
		return o, err
	}
	if o, err = s.load(t, h); err != nil {
		return nil, err
	}
	if _, err := s.Storage.SetEncodedObject(o); err != nil {
		return nil, err
	}
	return o, nil
}

func isNotFound(err error) bool {
	var e *github.ErrorResponse
	return errors.As(err, &e) && e.Response != nil && e.Response.StatusCode == http.StatusNotFound
}

// apiError keeps the status of a GitHub REST error, not its body; 401 and
// 403 wrap ErrAuth.
func apiError(err error) error {
	var e *github.ErrorResponse
	if !errors.As(err, &e) || e.Response == nil {
		return err
	}
	code := e.Response.StatusCode
	if code == http.StatusUnauthorized || code == http.StatusForbidden {
		return fmt.Errorf("%w: GitHub answered %d %s", ErrAuth, code, http.StatusText(code))
	}
	return fmt.Errorf("GitHub answered %d %s", code, http.StatusText(code))
}
