package repo

import (
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// objects is one go-git object store opened on the cache directory. go-git's
// filesystem storage is not safe for concurrent use (it fills maps lazily),
// so every access holds mu. It reads pack indexes once, when first used, so
// each locked operation opens a fresh one to see packs other processes added.
type objects struct {
	mu  sync.Mutex
	st  storage.Storer
	dir string // "" for a store that is not on disk (GitHub API mode)
	// trees are the trees decoded through this store (see treeCache).
	trees treeCache
	// written is the store's object cache: objects Commit writes go in
	// too, so that the push reading a chain it just wrote finds them in
	// memory instead of inflating them again; nil for other stores.
	written cache.Object
}

func openObjects(dir string) *objects {
	// No KeepDescriptors: pack files are opened per read and closed again,
	// so a Snapshot holds no file descriptor and needs no Close.
	c := cache.NewObjectLRUDefault()
	return &objects{st: filesystem.NewStorage(osfs.New(dir), c), dir: dir, written: c}
}

// Snapshot is an immutable view of one commit of the branch: its files are
// read straight from the tree objects in the cache, without a checkout.
// It is safe for concurrent use and readable while its Repo is open; after
// Close, a later Open may rebuild the cache under it.
type Snapshot struct {
	obj    *objects
	hash   plumbing.Hash
	tree   plumbing.Hash
	parent plumbing.Hash // zero for a root commit
	time   time.Time
}

func newSnapshot(obj *objects, h plumbing.Hash) (*Snapshot, error) {
	obj.mu.Lock()
	defer obj.mu.Unlock()
	c, err := object.GetCommit(obj.st, h)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	s := &Snapshot{obj: obj, hash: c.Hash, tree: c.TreeHash, time: c.Committer.When}
	if len(c.ParentHashes) > 0 {
		s.parent = c.ParentHashes[0]
	}
	return s, nil
}

// Commit returns the snapshot's commit hash as 40 hex digits ("" for a nil
// Snapshot).
func (s *Snapshot) Commit() string {
	if s == nil {
		return ""
	}
	return s.hash.String()
}

// Time returns the commit's committer time, to the second, in the
// committer's time zone (zero for a nil Snapshot).
func (s *Snapshot) Time() time.Time {
	if s == nil {
		return time.Time{}
	}
	return s.time
}

// ReadFile returns the content of the file at path (repo-relative,
// slash-separated). It returns ErrNotFound when there is no file there (absent,
// a directory or a submodule) and ErrInvalidPath for a path cleanPath rejects.
// A symbolic link reads as its target path.
func (s *Snapshot) ReadFile(path string) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("read %s: nil snapshot", path)
	}
	if _, err := cleanPath(path); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	data, err := s.readFile(s.obj, path)
	if errors.Is(err, plumbing.ErrObjectNotFound) && s.obj.dir != "" {
		// Another process sharing the cache may have written packs after
		// this store read its pack indexes (seen under load with five
		// runs on one cache): look once more with a fresh store.
		data, err = s.readFile(openObjects(s.obj.dir), path)
	}
	return data, err
}

// readFile reads path through the store obj.
func (s *Snapshot) readFile(obj *objects, path string) ([]byte, error) {
	obj.mu.Lock()
	defer obj.mu.Unlock()
	entry, err := s.findEntry(obj, path)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, s.hash, err)
	}
	if !entry.Mode.IsFile() {
		return nil, fmt.Errorf("read %s at %s: %w (not a file)", path, s.hash, ErrNotFound)
	}
	blob, err := object.GetBlob(obj.st, entry.Hash)
	if err != nil {
		return nil, fmt.Errorf("read %s blob %s: %w", path, entry.Hash, err)
	}
	rd, err := blob.Reader()
	if err != nil {
		return nil, fmt.Errorf("read %s blob %s: %w", path, entry.Hash, err)
	}
	defer func() { _ = rd.Close() }()
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("read %s blob %s: %w", path, entry.Hash, err)
	}
	return data, nil
}

// findEntry looks path up one tree at a time, so that a file used as a
// directory reads as ErrNotFound; the caller holds obj.mu.
func (s *Snapshot) findEntry(obj *objects, p string) (*object.TreeEntry, error) {
	treeHash := s.tree
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		tree, err := obj.tree(treeHash)
		if err != nil {
			return nil, fmt.Errorf("read tree %s: %w", treeHash, err)
		}
		at, ok := tree.find(seg)
		if !ok {
			return nil, ErrNotFound
		}
		entry := tree.entries[at]
		if i == len(segs)-1 {
			return &entry, nil
		}
		if entry.Mode != filemode.Dir {
			return nil, ErrNotFound
		}
		treeHash = entry.Hash
	}
	return nil, ErrNotFound
}

// List returns every file path under dir (recursively, repo-relative,
// sorted bytewise). dir "" or "." is the whole tree. It returns an empty
// list, not an error, when dir is absent or is a file, and ErrInvalidPath for
// a path cleanPath rejects. Submodules are not files and are left out.
func (s *Snapshot) List(dir string) ([]string, error) {
	if s == nil {
		return nil, fmt.Errorf("list %s: nil snapshot", dir)
	}
	segs, err := cleanDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	prefix := strings.Join(segs, "/")
	files, err := s.list(s.obj, dir, prefix)
	if errors.Is(err, plumbing.ErrObjectNotFound) && s.obj.dir != "" {
		files, err = s.list(openObjects(s.obj.dir), dir, prefix) // see ReadFile
	}
	return files, err
}

// list walks the tree at prefix through the store obj.
func (s *Snapshot) list(obj *objects, dir, prefix string) ([]string, error) {
	obj.mu.Lock()
	defer obj.mu.Unlock()
	treeHash := s.tree
	if prefix != "" {
		entry, err := s.findEntry(obj, prefix)
		if errors.Is(err, ErrNotFound) {
			return []string{}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list %s at %s: %w", dir, s.hash, err)
		}
		if entry.Mode != filemode.Dir {
			return []string{}, nil
		}
		treeHash = entry.Hash
	}
	tree, err := object.GetTree(obj.st, treeHash)
	if err != nil {
		return nil, fmt.Errorf("list %s: read tree %s: %w", dir, treeHash, err)
	}
	return walkFiles(tree, prefix)
}

func walkFiles(tree *object.Tree, prefix string) ([]string, error) {
	w := object.NewTreeWalker(tree, true, nil)
	defer w.Close()
	out := []string{}
	for {
		name, entry, err := w.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("walk tree %s: %w", tree.Hash, err)
		}
		if entry.Mode.IsFile() {
			out = append(out, path.Join(prefix, name))
		}
	}
	sort.Strings(out)
	return out, nil
}
