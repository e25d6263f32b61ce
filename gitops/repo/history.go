package repo

// Status-seal history (issue 18): the commits gitops/statusseal walks to
// find who last changed a status. Kept in this file so that the rest of
// the package's fetch and commit code is untouched.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/birdwatch-gitops/birdwatch/gitops/statusseal"
)

// historyRef is the cache-local ref a deepening fetch lands on.
const historyRef = "refs/birdwatch/history"

// StatusHistory is the history statusseal.Check walks. The cache is depth
// 1, so a commit it lacks is fetched by deepening the branch: 16 commits,
// then 4 times more each time, up to statusseal.MaxWalk. Only a decision
// about to be committed is checked, and the status's last change is then
// usually birdwatch's own recent commit, so most checks fetch nothing or
// one short deepening.
func (r *Repo) StatusHistory() statusseal.History {
	return &repoHistory{r: r, obj: openObjects(r.dir), depth: 1}
}

type repoHistory struct {
	r     *Repo
	mu    sync.Mutex
	obj   *objects
	depth int
}

func (h *repoHistory) store() *objects {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.obj
}

// Commit reads c from the cache, deepening it when c is missing.
func (h *repoHistory) Commit(ctx context.Context, c plumbing.Hash) (statusseal.Commit, error) {
	for {
		obj := h.store()
		obj.mu.Lock()
		out, err := statusseal.Objects{Storer: obj.st}.Commit(ctx, c)
		obj.mu.Unlock()
		if !errors.Is(err, plumbing.ErrObjectNotFound) {
			return out, err
		}
		if err := h.deepen(ctx); err != nil {
			return statusseal.Commit{}, fmt.Errorf("commit %s: %w", c, err)
		}
	}
}

// File finds path in tree.
func (h *repoHistory) File(ctx context.Context, tree plumbing.Hash, path string) (plumbing.Hash, error) {
	obj := h.store()
	obj.mu.Lock()
	defer obj.mu.Unlock()
	return statusseal.Objects{Storer: obj.st}.File(ctx, tree, path)
}

// Blob reads blob b.
func (h *repoHistory) Blob(ctx context.Context, b plumbing.Hash) ([]byte, error) {
	obj := h.store()
	obj.mu.Lock()
	defer obj.mu.Unlock()
	return statusseal.Objects{Storer: obj.st}.Blob(ctx, b)
}

// deepen fetches the branch deeper and opens a fresh store on the cache
// (a store reads pack indexes once).
func (h *repoHistory) deepen(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.depth > statusseal.MaxWalk {
		return fmt.Errorf("%w: not within %d commits of the branch", plumbing.ErrObjectNotFound, statusseal.MaxWalk)
	}
	h.depth = max(16, h.depth*4)
	r := h.r
	err := r.withLock(ctx, func() error {
		obj := openObjects(r.dir)
		obj.mu.Lock()
		defer obj.mu.Unlock()
		err := git.NewRemote(obj.st, &config.RemoteConfig{Name: remoteName, URLs: []string{r.url}}).
			FetchContext(ctx, &git.FetchOptions{
				RemoteName: remoteName,
				RefSpecs:   []config.RefSpec{config.RefSpec(fmt.Sprintf("+%s:%s", r.branchRef(), historyRef))},
				Depth:      h.depth,
				Auth:       r.auth,
				Tags:       git.NoTags,
				CABundle:   r.opts.CABundle,
			})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return classifyTransport(err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fetch %s %s %d commits deep: %w", r.redacted, r.opts.Branch, h.depth, err)
	}
	h.obj = openObjects(r.dir)
	return nil
}

// StatusHistory is the history statusseal.Check walks, read through
// GitHub's API: commits from git/commits, trees and blobs as Snapshot
// reads them (fetched when first needed, checked against their hash).
func (g *GitHubRepo) StatusHistory() statusseal.History { return githubHistory{g} }

type githubHistory struct{ g *GitHubRepo }

// Commit reads c with GET git/commits.
func (h githubHistory) Commit(ctx context.Context, c plumbing.Hash) (statusseal.Commit, error) {
	gc, _, err := h.g.gh.Git.GetCommit(ctx, h.g.owner, h.g.name, c.String())
	if err != nil {
		if isNotFound(err) {
			return statusseal.Commit{}, fmt.Errorf("commit %s of %s: %w", c, h.g.where(), plumbing.ErrObjectNotFound)
		}
		return statusseal.Commit{}, fmt.Errorf("commit %s of %s: %w", c, h.g.where(), apiError(err))
	}
	out := statusseal.Commit{Hash: c, Tree: plumbing.NewHash(gc.GetTree().GetSHA()), Message: gc.GetMessage()}
	for _, p := range gc.Parents {
		out.Parents = append(out.Parents, plumbing.NewHash(p.GetSHA()))
	}
	return out, nil
}

// File finds path in tree.
func (h githubHistory) File(ctx context.Context, tree plumbing.Hash, path string) (plumbing.Hash, error) {
	h.g.obj.mu.Lock()
	defer h.g.obj.mu.Unlock()
	return statusseal.Objects{Storer: h.g.obj.st}.File(ctx, tree, path)
}

// Blob reads blob b.
func (h githubHistory) Blob(ctx context.Context, b plumbing.Hash) ([]byte, error) {
	h.g.obj.mu.Lock()
	defer h.g.obj.mu.Unlock()
	return statusseal.Objects{Storer: h.g.obj.st}.Blob(ctx, b)
}

// StatusHistory is the history statusseal.Check walks, read through
// GitLab's API: commits from repository/commits (its root tree listed, as
// Revision does), trees and blobs as Snapshot reads them.
func (g *GitLabRepo) StatusHistory() statusseal.History { return gitlabHistory{g} }

type gitlabHistory struct{ g *GitLabRepo }

// Commit reads c and lists its root tree.
func (h gitlabHistory) Commit(ctx context.Context, c plumbing.Hash) (statusseal.Commit, error) {
	gc, _, err := h.g.gl.Commits.GetCommit(h.g.project, c.String(), nil, gitlab.WithContext(ctx))
	if err != nil {
		if isGitLabStatus(err, http.StatusNotFound) {
			return statusseal.Commit{}, fmt.Errorf("commit %s of %s: %w", c, h.g.where(), plumbing.ErrObjectNotFound)
		}
		return statusseal.Commit{}, fmt.Errorf("commit %s of %s: %w", c, h.g.where(), gitlabError(err))
	}
	snap, err := h.g.snapshot(ctx, gc)
	if err != nil {
		return statusseal.Commit{}, err
	}
	out := statusseal.Commit{Hash: c, Tree: snap.tree, Message: gc.Message}
	for _, p := range gc.ParentIDs {
		ph, err := parseHash(p)
		if err != nil {
			return statusseal.Commit{}, fmt.Errorf("GitLab answered parent %q of %s: %w", p, c, err)
		}
		out.Parents = append(out.Parents, ph)
	}
	return out, nil
}

// File finds path in tree.
func (h gitlabHistory) File(ctx context.Context, tree plumbing.Hash, path string) (plumbing.Hash, error) {
	h.g.obj.mu.Lock()
	defer h.g.obj.mu.Unlock()
	return statusseal.Objects{Storer: h.g.obj.st}.File(ctx, tree, path)
}

// Blob reads blob b.
func (h gitlabHistory) Blob(ctx context.Context, b plumbing.Hash) ([]byte, error) {
	h.g.obj.mu.Lock()
	defer h.g.obj.mu.Unlock()
	return statusseal.Objects{Storer: h.g.obj.st}.Blob(ctx, b)
}
