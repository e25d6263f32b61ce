package repo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// revisionRef is the cache-local ref a fetched revision lands on. It is
// overwritten by every Revision call; it only exists because a fetch needs
// a destination. Objects stay in the cache after it moves.
const revisionRef = "refs/birdwatch/revision"

// Revision returns a Snapshot of the commit hash (40 hex digits) of the
// remote, for reading files as they were at that commit (the sync gates read
// the status file at the revision Argo CD or Flux applied). A commit the
// cache already holds, such as the branch head of the last Fetch, is read
// without contacting the remote; any other is fetched alone at depth 1.
//
// Fetching a commit that is not a branch tip needs a server that allows it
// (GitHub and GitLab do; git http-backend and git daemon need
// uploadpack.allowReachableSHA1InWant): without that, or when the remote
// has no such commit, the error wraps ErrRevisionNotFound.
func (r *Repo) Revision(ctx context.Context, hash string) (*Snapshot, error) {
	h, err := parseHash(hash)
	if err != nil {
		return nil, fmt.Errorf("revision %q: %w", hash, err)
	}
	if snap, err := cachedSnapshot(openObjects(r.dir), h); err == nil {
		return snap, nil
	}
	var snap *Snapshot
	err = r.withLock(ctx, func() error {
		obj := openObjects(r.dir)
		obj.mu.Lock()
		ferr := git.NewRemote(obj.st, &config.RemoteConfig{Name: remoteName, URLs: []string{r.url}}).
			FetchContext(ctx, &git.FetchOptions{
				RemoteName: remoteName,
				RefSpecs:   []config.RefSpec{config.RefSpec(fmt.Sprintf("+%s:%s", h, revisionRef))},
				Depth:      1,
				Auth:       r.auth,
				Tags:       git.NoTags,
				CABundle:   r.opts.CABundle,
			})
		obj.mu.Unlock()
		if ferr != nil && !errors.Is(ferr, git.NoErrAlreadyUpToDate) {
			return r.classifyRevisionFetch(ctx, ferr)
		}
		var serr error
		snap, serr = cachedSnapshot(obj, h)
		return serr
	})
	if err != nil {
		return nil, fmt.Errorf("fetch revision %s from %s: %w", h, r.redacted, err)
	}
	return snap, nil
}

// cachedSnapshot returns a Snapshot of h when the cache holds the commit and
// its root tree.
func cachedSnapshot(obj *objects, h plumbing.Hash) (*Snapshot, error) {
	obj.mu.Lock()
	c, err := object.GetCommit(obj.st, h)
	if err == nil {
		_, err = object.GetTree(obj.st, c.TreeHash)
	}
	obj.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return newSnapshot(obj, h)
}

// classifyRevisionFetch maps a failed fetch of one commit to this package's
// errors. Servers refuse an unknown want in several shapes (an "ERR not our
// ref" line, or just closing the connection, which reads as a broken pipe),
// so, as for pushes, the criterion is not the message: if the remote still
// answers a ref listing, it was the commit that was refused.
func (r *Repo) classifyRevisionFetch(ctx context.Context, err error) error {
	if errors.Is(err, git.ErrExactSHA1NotSupported) {
		return fmt.Errorf("%w: the server does not allow fetching a commit by hash (%v)", ErrRevisionNotFound, withoutServerText(err))
	}
	if c := classifyTransport(err); errors.Is(c, ErrAuth) || ctx.Err() != nil {
		return c
	}
	if _, lerr := r.remoteRef(ctx, r.branchRef()); lerr != nil {
		return classifyTransport(err)
	}
	return fmt.Errorf("%w: %v", ErrRevisionNotFound, withoutServerText(err))
}

// parseHash accepts exactly 40 hex digits (any case).
func parseHash(s string) (plumbing.Hash, error) {
	if len(s) != 40 {
		return plumbing.ZeroHash, fmt.Errorf("%w: want 40 hex digits", ErrInvalidRevision)
	}
	for _, c := range strings.ToLower(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return plumbing.ZeroHash, fmt.Errorf("%w: want 40 hex digits", ErrInvalidRevision)
		}
	}
	return plumbing.NewHash(strings.ToLower(s)), nil
}
