// Package spectree reads a repository's .birdwatch/ folder the way Git
// holds it, for the loop (a commit, through repo.Snapshot) and for
// `birdwatch validate` (a checkout on disk) alike, so validate refuses what
// the loop refuses: symbolic links (named), files over MaxFileBytes, paths
// with a .git component in any case, duplicate canaries; and, per canary,
// the files a spec points at (traffic manifest, promote files) that are
// missing, links, too large or unreadable, and promote values that do not
// render or paths that do not resolve.
package spectree

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
)

// MaxFileBytes caps every file birdwatch reads under .birdwatch/ and every
// file a spec points at: 1 MiB, far above any real spec or manifest, far
// below what would strain a 256 MB Lambda.
const MaxFileBytes = 1 << 20

// ErrNotFound is returned by Tree methods for a path with no file.
var ErrNotFound = errors.New("no such file")

// Entry is one file of a tree.
type Entry struct {
	Path string // repository-relative, slash-separated
	// Symlink is true for a symbolic link; Other for anything that is
	// neither a regular file nor a link (a device, a FIFO).
	Symlink, Other bool
	Size           int64
}

// Tree is a repository's files: Dir for a checkout, Snapshot for a commit.
type Tree interface {
	// List returns every entry under dir (recursively, links not followed), sorted.
	List(dir string) ([]Entry, error)
	// Stat describes path without following links anywhere along it.
	Stat(path string) (Entry, error)
	// ReadFile reads a regular file (the caller has checked Stat).
	ReadFile(path string) ([]byte, error)
}

// Dir is a checkout on disk, read like Git would hold it: a link (to a
// file or a folder, anywhere along a path) is a link, never followed.
type Dir string

// List implements Tree.
func (d Dir) List(dir string) ([]Entry, error) {
	root := filepath.Join(string(d), filepath.FromSlash(dir))
	if e, err := d.Stat(dir); err != nil || e.Symlink || e.Other {
		if e.Symlink || e.Other {
			return []Entry{e}, nil
		}
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
	}
	var out []Entry
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(string(d), p)
		if err != nil {
			return err
		}
		info, err := de.Info()
		if err != nil {
			return err
		}
		out = append(out, entryOf(filepath.ToSlash(rel), info))
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, err
}

// Stat implements Tree: every component is checked with Lstat, so a
// folder that is a link is reported as the link it is.
func (d Dir) Stat(p string) (Entry, error) {
	cur := string(d)
	parts := strings.Split(p, "/")
	for i, part := range parts {
		cur = filepath.Join(cur, part)
		info, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return Entry{Path: p}, fmt.Errorf("%s: %w", p, ErrNotFound)
		}
		if err != nil {
			return Entry{Path: p}, err
		}
		e := entryOf(path.Join(parts[:i+1]...), info)
		if e.Symlink || i == len(parts)-1 {
			return e, nil
		}
		if !info.IsDir() {
			return Entry{Path: p}, fmt.Errorf("%s: %w", p, ErrNotFound)
		}
	}
	return Entry{Path: p}, fmt.Errorf("%s: %w", p, ErrNotFound)
}

// ReadFile implements Tree; it reads at most MaxFileBytes+1 bytes, so a
// file that grows after Stat cannot grow the process.
func (d Dir) ReadFile(p string) ([]byte, error) {
	f, err := os.Open(filepath.Join(string(d), filepath.FromSlash(p)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
}

func entryOf(p string, info fs.FileInfo) Entry {
	m := info.Mode()
	return Entry{Path: p, Symlink: m&fs.ModeSymlink != 0, Other: !m.IsRegular() && m&fs.ModeSymlink == 0 && !m.IsDir(),
		Size: info.Size()}
}

// Snapshot is a commit's tree, read from Git objects.
type Snapshot struct{ *repo.Snapshot }

// List implements Tree.
func (s Snapshot) List(dir string) ([]Entry, error) {
	paths, err := s.Snapshot.List(dir)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(paths))
	for _, p := range paths {
		e, err := s.Stat(p)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Stat implements Tree.
func (s Snapshot) Stat(p string) (Entry, error) {
	fi, err := s.Snapshot.Stat(p)
	if errors.Is(err, repo.ErrNotFound) {
		return Entry{Path: p}, fmt.Errorf("%s: %w", p, ErrNotFound)
	}
	if err != nil {
		return Entry{Path: p}, err
	}
	return Entry{Path: p, Symlink: fi.Symlink, Size: fi.Size}, nil
}

// ReadFile implements Tree.
func (s Snapshot) ReadFile(p string) ([]byte, error) { return s.Snapshot.ReadFile(p) }
