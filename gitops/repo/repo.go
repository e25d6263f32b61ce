// Package repo is birdwatch's Git I/O. It keeps a depth-1, single-branch,
// bare object store per remote in a cache directory (no worktree, reused by
// later invocations, which fetch instead of cloning), reads files straight
// from tree objects, writes commits by creating only the changed blobs, the
// trees along their paths and the commit object, and pushes them with
// compare-and-swap: the push fails with ErrRejected unless the branch is still
// at the commit that was read. It never force-pushes.
//
// Locking: Open, Fetch and Push hold an exclusive flock on
// "<CacheDir>/<key>.lock" for their duration only (not from Open to Close),
// so several processes (or Repos) can share a CacheDir and interleave their
// Fetch/decide/Commit/Push cycles; the compare-and-swap push, not the lock,
// keeps the branch consistent. Commit and Snapshot reads take no file lock:
// objects are content-addressed, immutable and written by atomic rename, and
// none is deleted while any Repo has the cache open.
//
// Fetch is incremental: a new commit costs what it changed (a thin pack
// against the cached head, stored as loose objects), not a new tree; see
// fetchLocked. Open also takes a shared flock on "<key>.users" until Close.
// Open, and a Fetch, rebuild the cache from scratch once it holds too much
// (Options.MaxCachePacks, MaxLooseObjects), but only when they can take
// that lock exclusively (no other Repo, in any process, has the cache
// open), so no live Snapshot loses its objects.
package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Defaults applied by Open to zero Options fields.
const (
	// DefaultBranch is the branch used when Options.Branch is "".
	DefaultBranch = "main"
	// DefaultAuthorName is the commit author name when Options.Author.Name is "".
	DefaultAuthorName = "birdwatch"
	// DefaultAuthorEmail is the commit author email when Options.Author.Email is "".
	DefaultAuthorEmail = "birdwatch@users.noreply.github.com"
	// DefaultMaxAttempts is Update's number of rounds when Options.MaxAttempts is 0.
	DefaultMaxAttempts = 8
	// DefaultRetryInitial is the first backoff bound when Options.RetryInitial is 0.
	DefaultRetryInitial = 100 * time.Millisecond
	// DefaultRetryMax caps the backoff when Options.RetryMax is 0.
	DefaultRetryMax = 5 * time.Second
	// DefaultMaxCachePacks is the pack count above which Open, or a Fetch of
	// the cache's only user, rebuilds the cache, when Options.MaxCachePacks
	// is 0. A pack holds a whole tree (incremental fetches add loose
	// objects), so this bounds the disk (a warm Lambda's /tmp) at about that
	// many trees.
	DefaultMaxCachePacks = 4
	// DefaultMaxLooseObjects is the loose-object count above which the
	// cache is rebuilt, when Options.MaxLooseObjects is 0 (git's gc.auto is
	// 6,700).
	DefaultMaxLooseObjects = 6700
)

// remoteName is the name of the in-memory remote; it is never written to the
// cache's config, so no URL is stored on disk.
const remoteName = "origin"

// Signature names a commit author and committer. In Options, a zero field
// means DefaultAuthorName / DefaultAuthorEmail.
type Signature struct {
	Name, Email string
}

// Options configures Open. Only URL is required.
type Options struct {
	// URL of the remote: a file:// URL or local path, https://, ssh:// or
	// scp-like "git@host:org/repo.git", or git://. A user or password in an
	// http(s) URL fills Auth.Username / Auth.Token where those are empty and
	// is then dropped from the URL.
	URL string
	// Branch to read and update; "" means DefaultBranch ("main").
	Branch string
	// CacheDir holds the object stores, one per URL+branch; "" means
	// "$TMPDIR/birdwatch-git". Several processes may share it.
	CacheDir string
	// Auth holds the credentials; the zero Auth is anonymous (see Auth).
	Auth Auth
	// Author is the author and committer of commits; zero fields default to
	// DefaultAuthorName and DefaultAuthorEmail.
	Author Signature
	// Signer, when set, signs every commit (see NewSigner), so that
	// branches that require signed commits accept them.
	Signer Signer
	// CABundle holds extra PEM CA certificates trusted for https remotes;
	// nil means the system roots only.
	CABundle []byte
	// MaxAttempts bounds Update's fetch-decide-push rounds; 0 means
	// DefaultMaxAttempts (8).
	MaxAttempts int
	// RetryInitial and RetryMax bound Update's backoff after a rejected push:
	// the n-th wait is drawn from [d/2, d] with d = min(RetryMax,
	// RetryInitial*2^(n-1)). Zero means DefaultRetryInitial / DefaultRetryMax.
	RetryInitial, RetryMax time.Duration
	// Clock gives the committer time; nil means time.Now.
	Clock func() time.Time
	// MaxCachePacks and MaxLooseObjects bound the cache: a full fetch adds
	// a pack holding the whole tree, an incremental one loose objects for
	// what changed, and Open, or a Fetch of the cache's only user, rebuilds
	// the store (one depth-1 fetch) when it holds more packs or loose
	// objects than these, or loose objects larger than a quarter of its
	// packs, and no other Repo has it open. 0 means DefaultMaxCachePacks (4)
	// and DefaultMaxLooseObjects (6,700).
	MaxCachePacks, MaxLooseObjects int
}

// Repo is a cached, bare, depth-1 copy of one branch of one remote. Its
// methods are safe for concurrent use: Fetch and Push serialise on the cache
// lock, Commit only adds content-addressed objects.
type Repo struct {
	opts     Options
	url      string // transport URL, without a password
	redacted string // for messages
	auth     transport.AuthMethod
	release  io.Closer // held by auth (an SSH agent connection); may be nil
	dir      string    // the bare object store

	mu    sync.Mutex // guards lock and users, serialises flock use on them
	lock  *fileLock  // exclusive per operation; nil after Close
	users *fileLock  // shared from Open to Close: "this cache is in use"

	infoMu sync.Mutex
	info   FetchInfo // of the last successful Fetch
}

// Open creates, or reuses, the bare object store for opts.URL and
// opts.Branch under opts.CacheDir. It does not contact the remote; Fetch
// does. An unreadable store is rebuilt from scratch, and so is one with more
// than Options.MaxCachePacks packs that no other Repo has open. With ssh and
// no key file it connects to the SSH agent, which Close releases.
func Open(ctx context.Context, opts Options) (*Repo, error) {
	opts = withDefaults(opts)
	if opts.URL == "" {
		return nil, errors.New("open repo: empty URL")
	}
	ep, err := transport.NewEndpoint(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("open repo: parse URL: %w", err)
	}
	if ep.Protocol == "http" || ep.Protocol == "https" {
		// Credentials in the URL move to Auth, so no secret stays in a URL
		// that error messages may show.
		if opts.Auth.Username == "" {
			opts.Auth.Username = ep.User
		}
		if opts.Auth.Token == "" {
			opts.Auth.Token = ep.Password
		}
		ep.User, ep.Password = "", ""
	}
	r := &Repo{opts: opts, url: ep.String(), redacted: redactedURL(ep)}
	if r.auth, r.release, err = opts.Auth.transportAuth(ep); err != nil {
		return nil, fmt.Errorf("open repo %s: %w", r.redacted, err)
	}
	if err := r.openCache(ctx); err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("open repo %s: %w", r.redacted, err)
	}
	return r, nil
}

func withDefaults(o Options) Options {
	if o.Branch == "" {
		o.Branch = DefaultBranch
	}
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(os.TempDir(), "birdwatch-git")
	}
	if o.Author.Name == "" {
		o.Author.Name = DefaultAuthorName
	}
	if o.Author.Email == "" {
		o.Author.Email = DefaultAuthorEmail
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.RetryInitial <= 0 {
		o.RetryInitial = DefaultRetryInitial
	}
	if o.RetryMax <= 0 {
		o.RetryMax = DefaultRetryMax
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.MaxCachePacks <= 0 {
		o.MaxCachePacks = DefaultMaxCachePacks
	}
	if o.MaxLooseObjects <= 0 {
		o.MaxLooseObjects = DefaultMaxLooseObjects
	}
	return o
}

// Close releases the cache lock file and any SSH agent connection.
// Snapshots stay readable. Close is idempotent; Fetch and Push fail after it.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	if r.lock != nil {
		errs = append(errs, r.lock.close())
		r.lock = nil
	}
	if r.users != nil {
		errs = append(errs, r.users.close())
		r.users = nil
	}
	if r.release != nil {
		errs = append(errs, r.release.Close())
		r.release = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close repo %s: %w", r.redacted, err)
	}
	return nil
}

// withLock runs fn holding the in-process mutex and the cache's flock.
func (r *Repo) withLock(ctx context.Context, fn func() error) (err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lock == nil {
		return errors.New("repo is closed")
	}
	if err := r.lock.lock(ctx); err != nil {
		return err
	}
	defer func() {
		if uerr := r.lock.unlock(); uerr != nil && err == nil {
			err = uerr
		}
	}()
	return fn()
}

func (r *Repo) branchRef() plumbing.ReferenceName {
	return plumbing.NewBranchReferenceName(r.opts.Branch)
}

func (r *Repo) trackingRef() plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName(remoteName, r.opts.Branch)
}

func (r *Repo) remote(obj *objects) *git.Remote {
	spec := config.RefSpec(fmt.Sprintf("+%s:%s", r.branchRef(), r.trackingRef()))
	return git.NewRemote(obj.st, &config.RemoteConfig{
		Name: remoteName, URLs: []string{r.url}, Fetch: []config.RefSpec{spec},
	})
}

// Fetch brings the branch head into the cache (depth 1, this branch only, no
// tags; only what changed since the cached head is transferred, see
// fetchLocked and LastFetch) and returns a Snapshot
// of it. It returns ErrBranchNotFound if the remote has no such branch and
// ErrAuth if the credentials are refused.
func (r *Repo) Fetch(ctx context.Context) (*Snapshot, error) {
	var snap *Snapshot
	err := r.withLock(ctx, func() error {
		if err := r.compactIfAlone(); err != nil {
			return err
		}
		var err error
		snap, err = r.fetchLocked(ctx)
		if errors.Is(err, plumbing.ErrObjectNotFound) && ctx.Err() == nil {
			// The cache lost objects (a crash mid-write, a manual gc):
			// rebuild it once, if no other Repo uses it. Depth 1 makes
			// that cheap.
			// A failed upgrade drops the shared lock on Linux: take it back always.
			if alone, lerr := r.users.try(true); lerr == nil && alone {
				if err = ensureBare(r.dir, true); err == nil {
					snap, err = r.fetchLocked(ctx)
				}
			}
			_, _ = r.users.try(false)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("fetch %s %s: %w", r.redacted, r.opts.Branch, err)
	}
	return snap, nil
}
