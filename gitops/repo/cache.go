package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	git "github.com/go-git/go-git/v5"
)

// openCache opens the lock files and, holding the operation lock, makes sure
// the bare store exists, rebuilds it if it is too big and unused, and marks
// it used (shared lock on the users file) until Close.
func (r *Repo) openCache(ctx context.Context) (err error) {
	if err := os.MkdirAll(r.opts.CacheDir, 0o700); err != nil {
		return fmt.Errorf("create cache dir: %w", err)
	}
	sum := sha256.Sum256([]byte(r.redacted + "\x00" + r.opts.Branch))
	key := "repo-" + hex.EncodeToString(sum[:12])
	r.dir = filepath.Join(r.opts.CacheDir, key)
	if r.lock, err = openLock(filepath.Join(r.opts.CacheDir, key+".lock")); err != nil {
		return err
	}
	if r.users, err = openLock(filepath.Join(r.opts.CacheDir, key+".users")); err != nil {
		return err
	}
	return r.withLock(ctx, func() error {
		// Only a holder of the operation lock takes the users lock
		// exclusively, so between this try and the shared lock below no
		// other Repo can start or stop counting as a user.
		alone, err := r.users.try(true)
		if err != nil {
			return err
		}
		reset := false
		if alone {
			st, err := statCache(r.dir)
			if err != nil {
				return err
			}
			reset = st.tooBig(r.opts)
		}
		if err := ensureBare(r.dir, reset); err != nil {
			return err
		}
		removeLeftovers(r.dir)
		if ok, err := r.users.try(false); err != nil || !ok {
			return fmt.Errorf("mark cache in use: %w (would block: %v)", err, !ok)
		}
		return nil
	})
}

// cacheStats is what a store holds on disk.
type cacheStats struct {
	packs, loose          int
	packBytes, looseBytes int64
	shallows              int
}

// statCache measures the store at dir (zeros if it does not exist yet).
func statCache(dir string) (cacheStats, error) {
	var st cacheStats
	packs, err := filepath.Glob(filepath.Join(dir, "objects", "pack", "pack-*.pack"))
	if err != nil {
		return st, fmt.Errorf("count packs in %s: %w", dir, err)
	}
	for _, p := range packs {
		if fi, err := os.Stat(p); err == nil {
			st.packs++
			st.packBytes += fi.Size()
		}
	}
	loose, err := filepath.Glob(filepath.Join(dir, "objects", "[0-9a-f][0-9a-f]", "*"))
	if err != nil {
		return st, fmt.Errorf("count loose objects in %s: %w", dir, err)
	}
	for _, p := range loose {
		if fi, err := os.Stat(p); err == nil {
			st.loose++
			st.looseBytes += fi.Size()
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "shallow")); err == nil {
		st.shallows = bytes.Count(b, []byte("\n"))
	}
	return st, nil
}

// minLooseBytes is the loose-object volume below which a cache is never
// rebuilt for its loose objects, however small its pack.
const minLooseBytes = 8 << 20

// maxShallows bounds the shallow file, one line per fetch of a new commit.
const maxShallows = 1000

// tooBig reports whether the store should be rebuilt: more packs than
// MaxCachePacks, more loose objects than MaxLooseObjects, loose objects
// taking more than a quarter of the packs (past minLooseBytes) or a long
// shallow list. A rebuild is one depth-1 fetch.
func (st cacheStats) tooBig(o Options) bool {
	return st.packs > o.MaxCachePacks || st.loose > o.MaxLooseObjects ||
		st.looseBytes > max(st.packBytes/4, minLooseBytes) || st.shallows > maxShallows
}

// ensureBare makes dir a bare repository unless it already is one (or, with
// reset, always). A new store is built beside dir and renamed into place, so
// a crash never leaves a half-made store behind. The caller holds the lock.
func ensureBare(dir string, reset bool) error {
	if !reset {
		if _, err := git.PlainOpen(dir); err == nil {
			return nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove stale cache %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".init-")
	if err != nil {
		return fmt.Errorf("create cache: %w", err)
	}
	if _, err := git.PlainInit(tmp, true); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("init bare cache %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("move cache into place: %w", err)
	}
	return nil
}

// removeLeftovers removes the temporary files of fetches that a crash
// interrupted (a spooled pack can be as big as the repository): writePack's
// birdwatch_* and the thin path's incoming-*.pack, written only by fetches,
// which run under the operation lock the caller holds, so none is live.
// (go-git's tmp_obj_* files of loose objects being written are not
// touched: commits are written without the lock.)
func removeLeftovers(dir string) {
	for _, pattern := range []string{
		filepath.Join(dir, "objects", "pack", "birdwatch_*"),
		filepath.Join(dir, "incoming-*.pack"),
	} {
		names, _ := filepath.Glob(pattern)
		for _, name := range names {
			_ = os.Remove(name)
		}
	}
}

// compactIfAlone rebuilds the store when it is tooBig and this Repo is its
// only user. Each fetch of a new commit adds its changed objects (loose), and
// a full fetch (the first, or a fallback) adds a pack, so a Repo kept open
// for a process's life (serve, a warm Lambda) would otherwise grow its cache
// with every upstream change. Snapshots from this Repo's earlier fetches are
// unreadable afterwards. The caller holds the operation lock.
func (r *Repo) compactIfAlone() error {
	st, err := statCache(r.dir)
	if err != nil || !st.tooBig(r.opts) {
		return err
	}
	// On Linux a failed upgrade of a flock drops the shared lock held
	// (flock(2): conversion is not atomic), so take it back in every case.
	alone, err := r.users.try(true)
	defer func() { _, _ = r.users.try(false) }()
	if err != nil || !alone {
		return err
	}
	return ensureBare(r.dir, true)
}
