package repo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// GitLabOptions configures OpenGitLab.
type GitLabOptions struct {
	// Project is the project's path ("group/name") or numeric ID; Branch
	// defaults to "main".
	Project, Branch string
	// Token is a GitLab token with the api scope (Developer or more).
	Token string
	// APIURL is the REST root, "" for https://gitlab.com/api/v4/
	// (self-managed: "https://HOST/api/v4/").
	APIURL string
	// HTTPClient makes the calls; nil means one with a 30 s timeout.
	HTTPClient *http.Client
	// MaxAttempts, RetryInitial and RetryMax bound Update as in Options.
	MaxAttempts            int
	RetryInitial, RetryMax time.Duration
}

// GitLabRepo reads and commits through GitLab's REST API and never clones
// ("API mode"), like GitHubRepo. Reads list the trees on a path with the
// repository tree API (by commit and path: GitLab serves no tree by its
// hash) and fetch blobs by hash (blobs/:sha/raw), each checked against its
// hash; a tree is rebuilt as a Git tree from its listing, so its hash is
// computed, not checked (GitLab shows no tree hashes of commits).
//
// Commits are made with the commits API (POST repository/commits). GitLab
// has no compare-and-swap on a branch head there, so Update guarantees
// less than a push: each replaced file's action carries last_commit_id, the
// last commit that changed that file as of the commit the decision read,
// and a new file's action is a create; GitLab refuses the whole commit when
// any file birdwatch writes was changed, or created, since (ErrRejected,
// decided again on a fresh read). Just before committing, the branch head is
// read again and a moved branch is ErrRejected too. What remains is a
// window of one request: a commit that lands in it and changes only files
// birdwatch does not write is not detected before, and birdwatch's commit
// goes on top of it (no commit is lost; the decision may have read a spec
// that changed in that window, and the next one reads it). The commit's
// parent then differs from the snapshot's, which UpdateResult.Pushed shows.
// Commits are GitLab's, by the token's user.
type GitLabRepo struct {
	opts    Options
	gl      *gitlab.Client
	project string
	obj     *objects

	mu    sync.Mutex
	trees map[plumbing.Hash]treeAt // where a tree seen in a listing is listed
}

// treeAt names a tree as GitLab's tree API does: a commit and a path.
type treeAt struct{ ref, path string }

// OpenGitLab returns the API-mode repository; it makes no call.
func OpenGitLab(o GitLabOptions) (*GitLabRepo, error) {
	if o.Project == "" {
		return nil, errors.New("open GitLab repository: the project is required")
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	opts := []gitlab.ClientOptionFunc{gitlab.WithHTTPClient(hc), gitlab.WithCustomRetryMax(2)}
	if o.APIURL != "" {
		opts = append(opts, gitlab.WithBaseURL(o.APIURL))
	}
	gl, err := gitlab.NewClient(o.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("open GitLab repository: %w", err)
	}
	g := &GitLabRepo{
		opts: withDefaults(Options{URL: "gitlab", Branch: o.Branch, MaxAttempts: o.MaxAttempts,
			RetryInitial: o.RetryInitial, RetryMax: o.RetryMax}),
		gl: gl, project: o.Project, trees: map[plumbing.Hash]treeAt{},
	}
	g.obj = &objects{st: &apiStore{Storage: memory.NewStorage(), load: g.loadObject}}
	return g, nil
}

// Close releases nothing; it exists for symmetry with Repo.
func (g *GitLabRepo) Close() error { return nil }

func (g *GitLabRepo) where() string { return "GitLab project " + g.project }

// Fetch returns a Snapshot of the branch head: it reads the branch and lists
// the root tree; other trees and files are fetched when read.
func (g *GitLabRepo) Fetch(ctx context.Context) (*Snapshot, error) {
	b, _, err := g.gl.Branches.GetBranch(g.project, g.opts.Branch, gitlab.WithContext(ctx))
	if err != nil {
		if isGitLabStatus(err, http.StatusNotFound) {
			return nil, fmt.Errorf("fetch %s %s: %w", g.where(), g.opts.Branch, ErrBranchNotFound)
		}
		return nil, fmt.Errorf("fetch %s %s: %w", g.where(), g.opts.Branch, gitlabError(err))
	}
	if b.Commit == nil {
		return nil, fmt.Errorf("fetch %s %s: GitLab answered no commit", g.where(), g.opts.Branch)
	}
	return g.snapshot(ctx, b.Commit)
}

// Revision returns a Snapshot of the commit hash (40 hex digits).
func (g *GitLabRepo) Revision(ctx context.Context, hash string) (*Snapshot, error) {
	h, err := parseHash(hash)
	if err != nil {
		return nil, fmt.Errorf("revision %q: %w", hash, err)
	}
	c, _, err := g.gl.Commits.GetCommit(g.project, h.String(), nil, gitlab.WithContext(ctx))
	if err != nil {
		if isGitLabStatus(err, http.StatusNotFound) {
			return nil, fmt.Errorf("revision %s of %s: %w", h, g.where(), ErrRevisionNotFound)
		}
		return nil, fmt.Errorf("revision %s of %s: %w", h, g.where(), gitlabError(err))
	}
	return g.snapshot(ctx, c)
}

// snapshot lists c's root tree and returns its Snapshot.
func (g *GitLabRepo) snapshot(ctx context.Context, c *gitlab.Commit) (*Snapshot, error) {
	ch, err := parseHash(c.ID)
	if err != nil {
		return nil, fmt.Errorf("GitLab answered commit %q: %w", c.ID, err)
	}
	g.obj.mu.Lock()
	root, err := g.listTree(ctx, treeAt{ref: ch.String()})
	if err == nil {
		_, err = g.obj.st.SetEncodedObject(root)
	}
	g.obj.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("read the tree of %s: %w", ch, err)
	}
	s := &Snapshot{obj: g.obj, hash: ch, tree: root.Hash()}
	if c.CommittedDate != nil {
		s.time = *c.CommittedDate
	}
	if len(c.ParentIDs) > 0 {
		if s.parent, err = parseHash(c.ParentIDs[0]); err != nil {
			return nil, fmt.Errorf("GitLab answered parent %q of %s: %w", c.ParentIDs[0], ch, err)
		}
	}
	return s, nil
}

// listTree lists the tree at (ref, path) page by page and encodes it as a
// Git tree, recording where its subtrees are listed.
func (g *GitLabRepo) listTree(ctx context.Context, at treeAt) (plumbing.EncodedObject, error) {
	opt := &gitlab.ListTreeOptions{Ref: gitlab.Ptr(at.ref), ListOptions: gitlab.ListOptions{PerPage: 100, Page: 1}}
	if at.path != "" {
		opt.Path = gitlab.Ptr(at.path)
	}
	t := &object.Tree{}
	sub := map[plumbing.Hash]treeAt{}
	for {
		nodes, resp, err := g.gl.Repositories.ListTree(g.project, opt, gitlab.WithContext(ctx))
		if err != nil {
			if isGitLabStatus(err, http.StatusNotFound) {
				return nil, plumbing.ErrObjectNotFound
			}
			return nil, fmt.Errorf("list tree %q of %s: %w", at.path, at.ref, gitlabError(err))
		}
		for _, n := range nodes {
			mode, err := filemode.New(n.Mode)
			if err != nil {
				return nil, fmt.Errorf("tree %q of %s: entry %q: %w", at.path, at.ref, n.Name, err)
			}
			h, err := parseHash(n.ID)
			if err != nil {
				return nil, fmt.Errorf("tree %q of %s: entry %q: %w", at.path, at.ref, n.Name, err)
			}
			t.Entries = append(t.Entries, object.TreeEntry{Name: n.Name, Mode: mode, Hash: h})
			if mode == filemode.Dir {
				sub[h] = treeAt{ref: at.ref, path: path.Join(at.path, n.Name)}
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	// GitLab lists trees before blobs; Git orders entries by name, a
	// directory's name compared as if it ended in "/".
	sort.Slice(t.Entries, func(i, j int) bool { return gitEntryName(t.Entries[i]) < gitEntryName(t.Entries[j]) })
	o := &plumbing.MemoryObject{}
	if err := t.Encode(o); err != nil {
		return nil, err
	}
	g.mu.Lock()
	for h, a := range sub {
		g.trees[h] = a
	}
	g.mu.Unlock()
	return o, nil
}

func gitEntryName(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

// loadObject fetches a tree (listed where a parent tree's listing showed
// it) or a blob; a blob must hash to h. Snapshot reads carry no context,
// so each call has its own 60 s bound.
func (g *GitLabRepo) loadObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	g.mu.Lock()
	at, isTree := g.trees[h]
	g.mu.Unlock()
	switch {
	case isTree && (t == plumbing.TreeObject || t == plumbing.AnyObject):
		o, err := g.listTree(ctx, at)
		if err == nil && o.Hash() != h {
			err = fmt.Errorf("GitLab's tree %q of %s hashes to %s, its parent names %s", at.path, at.ref, o.Hash(), h)
		}
		return o, err
	case t == plumbing.BlobObject || t == plumbing.AnyObject:
		return g.loadBlob(ctx, h)
	}
	return nil, plumbing.ErrObjectNotFound
}

func (g *GitLabRepo) loadBlob(ctx context.Context, h plumbing.Hash) (plumbing.EncodedObject, error) {
	data, _, err := g.gl.Repositories.RawBlobContent(g.project, h.String(), gitlab.WithContext(ctx))
	if err != nil {
		if isGitLabStatus(err, http.StatusNotFound) {
			return nil, plumbing.ErrObjectNotFound
		}
		return nil, fmt.Errorf("read blob %s from %s: %w", h, g.where(), gitlabError(err))
	}
	o := &plumbing.MemoryObject{}
	o.SetType(plumbing.BlobObject)
	if _, err := o.Write(data); err != nil {
		return nil, err
	}
	if o.Hash() != h {
		return nil, fmt.Errorf("GitLab's blob %s hashes to %s", h, o.Hash())
	}
	return o, nil
}

// Update is Repo.Update through the API: fetch the head, decide, commit the
// change with the commits API (see GitLabRepo for what is checked); a
// refused commit is ErrRejected and is retried with a fresh read. Only
// files are added or replaced; existing files keep their modes.
func (g *GitLabRepo) Update(ctx context.Context, decide func(*Snapshot) (*Change, error)) (UpdateResult, error) {
	return retryUpdate(ctx, g.opts, g.where(), func() (*Snapshot, error) { return updateRound(ctx, g.Fetch, g.commit, decide) })
}

// gitlabStale are the messages of GitLab's refusals of a commit whose
// actions do not fit the branch any more (Files::MultiService).
var gitlabStale = []string{
	"has changed since you started editing it",
	"A file with this name already exists",
	"A file with this name doesn't exist",
}

// commit makes c on top of parent with POST repository/commits.
func (g *GitLabRepo) commit(ctx context.Context, parent *Snapshot, c Change) (*Snapshot, error) {
	if err := c.Message.validate(); err != nil {
		return nil, fmt.Errorf("commit on %s: %w", parent.hash, err)
	}
	adds, err := changedAdditions(parent, c.Files)
	if err != nil {
		return nil, fmt.Errorf("commit on %s: %w", parent.hash, err)
	}
	var actions []*gitlab.CommitActionOptions
	for _, a := range adds {
		p := a["path"]
		act := &gitlab.CommitActionOptions{FilePath: gitlab.Ptr(p), Content: gitlab.Ptr(a["contents"]), Encoding: gitlab.Ptr("base64")}
		if _, err := parent.Stat(p); errors.Is(err, ErrNotFound) {
			act.Action = gitlab.Ptr(gitlab.FileCreate)
		} else if err != nil {
			return nil, fmt.Errorf("commit on %s: %w", parent.hash, err)
		} else {
			meta, _, err := g.gl.RepositoryFiles.GetFileMetaData(g.project, p, &gitlab.GetFileMetaDataOptions{Ref: gitlab.Ptr(parent.hash.String())}, gitlab.WithContext(ctx))
			if err != nil {
				return nil, fmt.Errorf("commit on %s: last commit of %s: %w", parent.hash, p, gitlabError(err))
			}
			if _, err := parseHash(meta.LastCommitID); err != nil {
				return nil, fmt.Errorf("commit on %s: GitLab answered last commit %q of %s: %w", parent.hash, meta.LastCommitID, p, err)
			}
			act.Action, act.LastCommitID = gitlab.Ptr(gitlab.FileUpdate), gitlab.Ptr(meta.LastCommitID)
		}
		actions = append(actions, act)
	}
	b, _, err := g.gl.Branches.GetBranch(g.project, g.opts.Branch, gitlab.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("commit on %s: read %s: %w", parent.hash, g.opts.Branch, gitlabError(err))
	}
	if b.Commit == nil || b.Commit.ID != parent.hash.String() {
		return nil, fmt.Errorf("commit on %s: %w: %s moved", parent.hash, ErrRejected, g.opts.Branch)
	}
	out, _, err := g.gl.Commits.CreateCommit(g.project, &gitlab.CreateCommitOptions{
		Branch: gitlab.Ptr(g.opts.Branch), CommitMessage: gitlab.Ptr(c.Message.String()), Actions: actions,
	}, gitlab.WithContext(ctx))
	if err != nil {
		var e *gitlab.ErrorResponse
		if errors.As(err, &e) && e.Response != nil && e.Response.StatusCode == http.StatusBadRequest {
			for _, s := range gitlabStale {
				if strings.Contains(e.Message, s) {
					return nil, fmt.Errorf("commit on %s to %s %s: %w: %s", parent.hash, g.where(), g.opts.Branch, ErrRejected, s)
				}
			}
		}
		return nil, fmt.Errorf("commit on %s to %s %s: %w", parent.hash, g.where(), g.opts.Branch, gitlabError(err))
	}
	return g.snapshot(ctx, out)
}

// isGitLabStatus reports whether err is GitLab's answer with status code.
func isGitLabStatus(err error, code int) bool {
	if code == http.StatusNotFound && errors.Is(err, gitlab.ErrNotFound) {
		return true // client-go's answer to every 404
	}
	var e *gitlab.ErrorResponse
	return errors.As(err, &e) && e.Response != nil && e.Response.StatusCode == code
}

// gitlabError keeps the status of a GitLab error, not its body; 401 and
// 403 wrap ErrAuth.
func gitlabError(err error) error {
	if errors.Is(err, gitlab.ErrNotFound) {
		return errors.New("GitLab answered 404 Not Found")
	}
	var e *gitlab.ErrorResponse
	if !errors.As(err, &e) || e.Response == nil {
		return err
	}
	code := e.Response.StatusCode
	if code == http.StatusUnauthorized || code == http.StatusForbidden {
		return fmt.Errorf("%w: GitLab answered %d %s", ErrAuth, code, http.StatusText(code))
	}
	return fmt.Errorf("GitLab answered %d %s", code, http.StatusText(code))
}
