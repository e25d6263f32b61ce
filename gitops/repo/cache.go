package repo

import (
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
			n, err := countPacks(r.dir)
			if err != nil {
				return err
			}
			reset = n > r.opts.MaxCachePacks
		}
		if err := ensureBare(r.dir, reset); err != nil {
			return err
		}
		if ok, err := r.users.try(false); err != nil || !ok {
			return fmt.Errorf("mark cache in use: %w (would block: %v)", err, !ok)
		}
		return nil
	})
}

// countPacks returns the number of pack files in the store (0 if it does
// not exist yet).
func countPacks(dir string) (int, error) {
	packs, err := filepath.Glob(filepath.Join(dir, "objects", "pack", "pack-*.pack"))
	if err != nil {
		return 0, fmt.Errorf("count packs in %s: %w", dir, err)
	}
	return len(packs), nil
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

// compactIfAlone rebuilds the store when it holds more than MaxCachePacks
// packs and this Repo is its only user. go-git fetches a whole tree for every
// new commit, so a Repo kept open for a process's life (serve, a warm
// Lambda) would otherwise grow its cache by one tree per upstream change.
// Snapshots from this Repo's earlier fetches are unreadable afterwards.
// The caller holds the operation lock.
func (r *Repo) compactIfAlone() error {
	n, err := countPacks(r.dir)
	if err != nil || n <= r.opts.MaxCachePacks {
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
