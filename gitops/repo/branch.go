package repo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// OwnBranchPrefix starts the names of the branches birdwatch owns: the
// pull-request branches "birdwatch/<namespace>-<name>/<step>". Nobody else
// is meant to commit there.
const OwnBranchPrefix = "birdwatch/"

// PushBranch publishes commit (made with Commit, usually on a Snapshot of
// the main branch) as the head of branch on the remote, creating the branch
// if it is absent. It never touches the Repo's own branch unless branch
// names it, and then only as Push would.
//
// A branch under OwnBranchPrefix is overwritten whatever it holds (a force
// push). That is safe and needed: birdwatch alone writes there; the commit
// it replaces was either merged (so it is on main) or belongs to a pull
// request that GitHub keeps under refs/pull/N/head; and a decision is not
// rebased but recomputed from the current main, which is how a pull request
// whose weight line conflicts with a human change on main is brought up to
// date without a merge. Any other branch is only created, or moved from
// commit's parent to commit (compare-and-swap, never a force push):
// otherwise the error wraps ErrRejected. A branch already at commit is
// success. Credential failures wrap ErrAuth.
func (r *Repo) PushBranch(ctx context.Context, commit *Snapshot, branch string) error {
	if commit == nil {
		return errors.New("push branch: nil snapshot")
	}
	ref := plumbing.NewBranchReferenceName(branch)
	if err := ref.Validate(); err != nil || strings.HasPrefix(branch, "refs/") {
		return fmt.Errorf("push branch %q: %w", branch, ErrInvalidBranch)
	}
	prefix := fmt.Sprintf("push %s to %s %s", commit.hash, r.redacted, branch)
	opts := &git.PushOptions{RemoteName: remoteName, Auth: r.auth, CABundle: r.opts.CABundle}
	if strings.HasPrefix(branch, OwnBranchPrefix) {
		opts.RefSpecs = []config.RefSpec{config.RefSpec(fmt.Sprintf("+%s:%s", commit.hash, ref))}
	} else {
		head, err := r.remoteRef(ctx, ref)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", prefix, err)
		case head == commit.hash:
			return nil
		case !head.IsZero() && head != commit.parent:
			return fmt.Errorf("%s: %w: branch is at %s, not at parent %s", prefix, ErrRejected, head, commit.parent)
		}
		opts.RefSpecs = []config.RefSpec{config.RefSpec(fmt.Sprintf("%s:%s", commit.hash, ref))}
		if !head.IsZero() {
			opts.RequireRemoteRefs = []config.RefSpec{config.RefSpec(fmt.Sprintf("%s:%s", head, ref))}
		}
	}
	err := r.withLock(ctx, func() error {
		commit.obj.mu.Lock()
		defer commit.obj.mu.Unlock()
		rem := git.NewRemote(commit.obj.st, &config.RemoteConfig{Name: remoteName, URLs: []string{r.url}})
		return rem.PushContext(ctx, opts)
	})
	if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	if refusedUpdate(err) {
		return fmt.Errorf("%s: %w: %v", prefix, ErrRejected, withoutServerText(err))
	}
	return fmt.Errorf("%s: %w", prefix, classifyTransport(err))
}

// remoteRef returns the remote's hash for ref, or the zero hash when the
// remote has no such ref.
func (r *Repo) remoteRef(ctx context.Context, ref plumbing.ReferenceName) (plumbing.Hash, error) {
	rem := git.NewRemote(nil, &config.RemoteConfig{Name: remoteName, URLs: []string{r.url}})
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: r.auth, CABundle: r.opts.CABundle})
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("list remote refs: %w", classifyTransport(err))
	}
	for _, x := range refs {
		if x.Name() == ref {
			return x.Hash(), nil
		}
	}
	return plumbing.ZeroHash, nil
}
