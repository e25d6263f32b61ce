package repo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// updateShallow records the cache's shallow boundary after a depth-1 fetch
// of head: the commits it held as shallow, plus those the server marked
// shallow (head among them), minus those the server unshallowed. Old entries
// stay: a snapshot or pushed commit may still sit on them, and a have whose
// missing parents were not named shallow would let the server leave out
// objects the cache never had. The list grows by one line per fetch that
// brings a new commit; a rebuild of the cache resets it (see cacheTooBig).
func updateShallow(obj *objects, head plumbing.Hash, added, removed []plumbing.Hash) error {
	old, err := obj.st.Shallow()
	if err != nil {
		return fmt.Errorf("read shallow boundary: %w", err)
	}
	drop := map[plumbing.Hash]bool{}
	for _, h := range removed {
		drop[h] = true
	}
	seen := map[plumbing.Hash]bool{}
	var out []string
	for _, h := range append(append(old, added...), head) {
		if drop[h] || seen[h] {
			continue
		}
		seen[h] = true
		out = append(out, h.String())
	}
	// The head is shallow unless the cache holds its parents: only our own
	// pushed commits are like that, and they are never fetched as new.
	return writeAtomic(filepath.Join(obj.dir, "shallow"), strings.Join(out, "\n")+"\n")
}

// setRef points the loose ref name at h, replacing its file atomically.
func setRef(dir string, name plumbing.ReferenceName, h plumbing.Hash) error {
	return writeAtomic(filepath.Join(dir, filepath.FromSlash(name.String())), h.String()+"\n")
}

// writeAtomic replaces the file at path with content through a temporary
// file in the same folder and a rename, so that a crash leaves the old file
// or the new one, never a torn one. go-git writes refs and the shallow file
// in place.
func writeAtomic(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.WriteString(content)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
