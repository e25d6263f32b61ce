package repo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
)

// Push sets the remote branch to commit if, and only if, it is still at
// parent (compare-and-swap; never a force push). The check is made twice:
// go-git's RequireRemoteRefs refuses to send if the advertised branch is not
// at parent, and the ref update itself names parent as the old value, which
// the server verifies atomically. Only the objects the remote lacks are sent.
//
// If the branch moved, Push returns an error wrapping ErrRejected that names
// the branch's current commit; that includes the case where another writer
// pushed a commit identical to ours (same parent, files, message, author and
// second), so that exactly one writer sees success. A push whose
// acknowledgement was lost but which did land returns nil. Credential
// failures wrap ErrAuth. Push holds the cache lock while it runs.
func (r *Repo) Push(ctx context.Context, commit, parent *Snapshot) error {
	if commit == nil || parent == nil {
		return errors.New("push: nil snapshot")
	}
	err := r.withLock(ctx, func() error {
		commit.obj.mu.Lock()
		defer commit.obj.mu.Unlock()
		return r.remote(commit.obj).PushContext(ctx, &git.PushOptions{
			RemoteName: remoteName,
			RefSpecs: []config.RefSpec{
				config.RefSpec(fmt.Sprintf("%s:%s", commit.hash, r.branchRef())),
			},
			RequireRemoteRefs: []config.RefSpec{
				config.RefSpec(fmt.Sprintf("%s:%s", parent.hash, r.branchRef())),
			},
			Auth:     r.auth,
			CABundle: r.opts.CABundle,
		})
	})
	if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
		r.pushed(commit)
		return nil
	}
	if err := r.classifyPush(ctx, err, commit, parent); err != nil {
		return err
	}
	r.pushed(commit)
	return nil
}

// pushed records commit, now the remote's head, as the cached head, so that
// the next Fetch finds it up to date and offers it as its have. Its tree is
// whole in the cache: its parent's was, and Commit wrote the rest. A failure
// to record it only costs the next Fetch a small transfer, so it is ignored.
func (r *Repo) pushed(commit *Snapshot) {
	_ = setRef(commit.obj.dir, r.trackingRef(), commit.hash)
}

// classifyPush decides what a failed push means by asking the remote where
// the branch is now. go-git reports a moved branch in several shapes (a
// RequireRemoteRefs mismatch, a non-fast-forward, a server "ng ... failed to
// update ref"), so the branch position, not the message, is the criterion.
func (r *Repo) classifyPush(ctx context.Context, pushErr error, commit, parent *Snapshot) error {
	prefix := fmt.Sprintf("push %s to %s %s", commit.hash, r.redacted, r.opts.Branch)
	pushErr = withoutServerText(pushErr)
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", prefix, pushErr)
	}
	head, err := r.remoteHead(ctx)
	switch {
	case err != nil && errors.Is(err, ErrBranchNotFound):
		return fmt.Errorf("%s: %w: branch was deleted (%v)", prefix, ErrRejected, pushErr)
	case err != nil:
		return fmt.Errorf("%s: %w", prefix, classifyTransport(pushErr))
	case head == commit.hash && !refusedUpdate(pushErr):
		return nil // our update landed; only its acknowledgement was lost
	case head == commit.hash:
		// Another writer pushed an identical commit (same parent, change,
		// author and second): the decision is in place, but not by us.
		return fmt.Errorf("%s: %w: an identical commit was pushed by another writer (%v)",
			prefix, ErrRejected, pushErr)
	case head != parent.hash:
		return fmt.Errorf("%s: %w: branch is at %s, not at parent %s (%v)",
			prefix, ErrRejected, head, parent.hash, pushErr)
	default:
		return fmt.Errorf("%s: %w", prefix, classifyTransport(pushErr))
	}
}

// refusedUpdate reports whether err says our ref update was never applied:
// go-git's RequireRemoteRefs or fast-forward check refused to send it, or the
// server answered "ng". go-git exports no types for these, hence the text.
func refusedUpdate(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "required to be") ||
		strings.Contains(msg, "non-fast-forward") ||
		strings.Contains(msg, "command error on")
}

// remoteHead lists the remote's refs (no objects) and returns the branch head.
func (r *Repo) remoteHead(ctx context.Context) (plumbing.Hash, error) {
	rem := git.NewRemote(nil, &config.RemoteConfig{Name: remoteName, URLs: []string{r.url}})
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: r.auth, CABundle: r.opts.CABundle})
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("list remote refs: %w", classifyTransport(err))
	}
	for _, ref := range refs {
		if ref.Name() == r.branchRef() {
			return ref.Hash(), nil
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("list remote refs: %w", ErrBranchNotFound)
}

// UpdateResult is the outcome of Update.
type UpdateResult struct {
	// Pushed is the commit now at the head of the branch, or nil when decide
	// asked for no change (or its change was already in place).
	Pushed *Snapshot
	// Attempts counts fetch-decide rounds, 1 when the first push landed.
	Attempts int
}

// Update is the compare-and-swap loop every decision uses: Fetch; decide on
// the snapshot (a nil Change means nothing to do: no commit); Commit; Push.
// When the push is rejected because the branch moved, it waits (capped
// exponential backoff with jitter, see Options), fetches again and calls
// decide again with the NEW snapshot, so the caller re-reads its state and
// re-decides; at most Options.MaxAttempts rounds. A Change that alters
// nothing (ErrNoChange) counts as nothing to do. An error from decide is
// returned as is (wrapped), without retrying. After the last rejected round
// the error wraps ErrRejected.
func (r *Repo) Update(ctx context.Context, decide func(*Snapshot) (*Change, error)) (UpdateResult, error) {
	return retryUpdate(ctx, r.opts, r.redacted, func() (*Snapshot, error) { return r.updateOnce(ctx, decide) })
}

// retryUpdate runs once until it succeeds, fails with an error other than
// ErrRejected, or has run opts.MaxAttempts times, waiting (backoff) between
// rounds. where names the repository and branch in messages.
func retryUpdate(ctx context.Context, opts Options, where string, once func() (*Snapshot, error)) (UpdateResult, error) {
	var res UpdateResult
	for {
		res.Attempts++
		pushed, err := once()
		if err == nil {
			res.Pushed = pushed
			return res, nil
		}
		if !errors.Is(err, ErrRejected) || res.Attempts >= opts.MaxAttempts {
			return res, fmt.Errorf("update %s %s (attempt %d of %d): %w",
				where, opts.Branch, res.Attempts, opts.MaxAttempts, err)
		}
		t := time.NewTimer(backoff(opts, res.Attempts))
		select {
		case <-ctx.Done():
			t.Stop()
			return res, fmt.Errorf("update %s %s: wait to retry: %w", where, opts.Branch, ctx.Err())
		case <-t.C:
		}
	}
}

func (r *Repo) updateOnce(ctx context.Context, decide func(*Snapshot) (*Change, error)) (*Snapshot, error) {
	return updateRound(ctx, r.Fetch, func(ctx context.Context, snap *Snapshot, c Change) (*Snapshot, error) {
		commit, err := r.Commit(ctx, snap, c)
		if err != nil {
			return nil, err
		}
		if err := r.Push(ctx, commit, snap); err != nil {
			return nil, err
		}
		return commit, nil
	}, decide)
}

// updateRound is one round of an Update, for every kind of repository:
// read the branch, decide on it, land the change; a nil change, or one
// that changes nothing (ErrNoChange), lands nothing and returns nil.
func updateRound(ctx context.Context, fetch func(context.Context) (*Snapshot, error),
	land func(context.Context, *Snapshot, Change) (*Snapshot, error), decide func(*Snapshot) (*Change, error)) (*Snapshot, error) {
	snap, err := fetch(ctx)
	if err != nil {
		return nil, err
	}
	change, err := decide(snap)
	if err != nil {
		return nil, fmt.Errorf("decide on %s: %w", snap.Commit(), err)
	}
	if change == nil {
		return nil, nil
	}
	landed, err := land(ctx, snap, *change)
	if errors.Is(err, ErrNoChange) {
		return nil, nil
	}
	return landed, err
}

// backoff is the wait before round attempt+1: drawn uniformly from [d/2, d],
// d = min(RetryMax, RetryInitial*2^(attempt-1)). The jitter spreads writers
// that collided so they do not collide again.
func backoff(opts Options, attempt int) time.Duration {
	d := opts.RetryInitial
	for i := 1; i < attempt && d < opts.RetryMax; i++ {
		d *= 2
	}
	d = min(d, opts.RetryMax)
	return d/2 + rand.N(d/2+1)
}
