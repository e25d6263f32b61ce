package repo

import (
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// FileInfo is what a commit's tree says about a file, without reading it.
type FileInfo struct {
	// Symlink is true for a symbolic link (its blob is the target path).
	Symlink bool
	// Size is the blob's size in bytes.
	Size int64
}

// Stat describes the file at path from its tree entry and object header,
// so a caller can refuse a link or a blob too large before reading it. It
// returns ErrNotFound as ReadFile does.
func (s *Snapshot) Stat(path string) (FileInfo, error) {
	if s == nil {
		return FileInfo{}, fmt.Errorf("stat %s: nil snapshot", path)
	}
	if _, err := cleanPath(path); err != nil {
		return FileInfo{}, fmt.Errorf("stat %s: %w", path, err)
	}
	fi, err := s.stat(s.obj, path)
	if errors.Is(err, plumbing.ErrObjectNotFound) && s.obj.dir != "" {
		fi, err = s.stat(openObjects(s.obj.dir), path) // see ReadFile
	}
	return fi, err
}

func (s *Snapshot) stat(obj *objects, path string) (FileInfo, error) {
	obj.mu.Lock()
	defer obj.mu.Unlock()
	entry, err := s.findEntry(obj, path)
	if err != nil {
		return FileInfo{}, fmt.Errorf("stat %s at %s: %w", path, s.hash, err)
	}
	if !entry.Mode.IsFile() {
		return FileInfo{}, fmt.Errorf("stat %s at %s: %w (not a file)", path, s.hash, ErrNotFound)
	}
	o, err := obj.st.EncodedObject(plumbing.BlobObject, entry.Hash)
	if err != nil {
		return FileInfo{}, fmt.Errorf("stat %s blob %s: %w", path, entry.Hash, err)
	}
	return FileInfo{Symlink: entry.Mode == filemode.Symlink, Size: o.Size()}, nil
}
