package repo

import (
	"context"
	"fmt"
	"io"
	"path"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Change is one commit to make: the full new content of each file to create
// or overwrite, and the message. Files not named keep their content.
type Change struct {
	// Files maps repo-relative, slash-separated paths to their complete new
	// content (an empty slice is an empty file). Existing executable files
	// stay executable; new files are regular (mode 100644).
	Files map[string][]byte
	// Message is the commit message; its Subject must be non-empty.
	Message Message
}

// Commit writes a commit on top of parent that applies c: the changed blobs,
// the trees along their paths and the commit object, authored and committed
// by Options.Author at Options.Clock(). It touches no branch or ref; Push
// publishes it. It returns ErrNoChange (writing nothing) when every file
// already has the requested content, ErrInvalidPath for a bad path or one
// that is a directory, symlink or submodule in the parent, and
// ErrInvalidMessage for a bad message. With Options.Signer it signs the
// commit; a signing failure (wrapping ErrSigningKey) writes no commit.
//
// Commit takes no file lock: objects are content-addressed and written by
// atomic rename, so concurrent writers cannot corrupt each other.
func (r *Repo) Commit(ctx context.Context, parent *Snapshot, c Change) (*Snapshot, error) {
	if parent == nil {
		return nil, fmt.Errorf("commit: nil parent snapshot")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("commit on %s: %w", parent.hash, err)
	}
	if err := c.Message.validate(); err != nil {
		return nil, fmt.Errorf("commit on %s: %w", parent.hash, err)
	}
	changes, err := newChangeTree(c.Files)
	if err != nil {
		return nil, fmt.Errorf("commit on %s: %w", parent.hash, err)
	}
	hash, err := r.writeCommit(parent, changes, c.Message)
	if err != nil {
		return nil, fmt.Errorf("commit on %s: %w", parent.hash, err)
	}
	return newSnapshot(parent.obj, hash)
}

func (r *Repo) writeCommit(parent *Snapshot, changes *dirNode, msg Message) (plumbing.Hash, error) {
	obj := parent.obj
	obj.mu.Lock()
	defer obj.mu.Unlock()
	tree, changed, err := writeTree(obj, parent.tree, changes, "")
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if !changed {
		return plumbing.ZeroHash, ErrNoChange
	}
	sig := object.Signature{Name: r.opts.Author.Name, Email: r.opts.Author.Email, When: r.opts.Clock()}
	commit := &object.Commit{
		Author:       sig,
		Committer:    sig,
		Message:      msg.String(),
		TreeHash:     tree,
		ParentHashes: []plumbing.Hash{parent.hash},
	}
	if r.opts.Signer != nil {
		sig, err := signCommit(r.opts.Signer, commit)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		commit.PGPSignature = sig
	}
	return storeObject(obj, commit.Encode)
}

// signCommit signs the commit as Git encodes it without a signature.
func signCommit(s Signer, c *object.Commit) (string, error) {
	unsigned := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(unsigned); err != nil {
		return "", fmt.Errorf("sign commit: %w", err)
	}
	rd, err := unsigned.Reader()
	if err != nil {
		return "", fmt.Errorf("sign commit: %w", err)
	}
	sig, err := s.Sign(rd)
	if err != nil {
		return "", fmt.Errorf("sign commit: %w", err)
	}
	return string(sig), nil
}

// dirNode is the set of changed files below one directory.
type dirNode struct {
	files map[string][]byte
	dirs  map[string]*dirNode
}

func newDirNode() *dirNode {
	return &dirNode{files: map[string][]byte{}, dirs: map[string]*dirNode{}}
}

// newChangeTree checks every path and arranges the files by directory.
func newChangeTree(files map[string][]byte) (*dirNode, error) {
	if len(files) == 0 {
		return nil, ErrNoChange
	}
	root := newDirNode()
	for p, data := range files {
		segs, err := cleanPath(p)
		if err != nil {
			return nil, err
		}
		n := root
		for _, s := range segs[:len(segs)-1] {
			if _, isFile := n.files[s]; isFile {
				return nil, fmt.Errorf("%w: %q is both a file and a directory in the change", ErrInvalidPath, p)
			}
			child, ok := n.dirs[s]
			if !ok {
				child = newDirNode()
				n.dirs[s] = child
			}
			n = child
		}
		last := segs[len(segs)-1]
		if _, isDir := n.dirs[last]; isDir {
			return nil, fmt.Errorf("%w: %q is both a file and a directory in the change", ErrInvalidPath, p)
		}
		n.files[last] = data
	}
	return root, nil
}

// writeTree stores the tree that results from applying n to the tree old
// (zero: a new directory) and reports whether it differs from old. dir is the
// tree's path, for messages. It reads and records trees through obj's tree
// cache, so a chain of commits decodes each tree once; the caller holds
// obj.mu.
func writeTree(obj *objects, old plumbing.Hash, n *dirNode, dir string) (plumbing.Hash, bool, error) {
	base := &cachedTree{}
	if !old.IsZero() {
		t, err := obj.tree(old)
		if err != nil {
			return plumbing.ZeroHash, false, fmt.Errorf("read tree %s of %q: %w", old, dir, err)
		}
		base = t
	}
	var set []object.TreeEntry
	for name, data := range n.files {
		i, exists := base.find(name)
		var e object.TreeEntry
		if exists {
			e = base.entries[i]
		}
		mode, err := fileMode(e, exists, path.Join(dir, name))
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		if exists && e.Hash == plumbing.ComputeHash(plumbing.BlobObject, data) {
			continue
		}
		h, err := storeBlob(obj, data)
		if err != nil {
			return plumbing.ZeroHash, false, fmt.Errorf("write %s: %w", path.Join(dir, name), err)
		}
		set = append(set, object.TreeEntry{Name: name, Mode: mode, Hash: h})
	}
	for name, child := range n.dirs {
		sub := path.Join(dir, name)
		i, exists := base.find(name)
		var e object.TreeEntry
		if exists {
			e = base.entries[i]
		}
		if exists && e.Mode != filemode.Dir {
			return plumbing.ZeroHash, false, fmt.Errorf("%w: %s is a file, not a directory", ErrInvalidPath, sub)
		}
		h, subChanged, err := writeTree(obj, e.Hash, child, sub)
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		if subChanged {
			set = append(set, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
		}
	}
	if len(set) == 0 {
		return old, false, nil
	}
	entries, err := applyEntries(base.entries, base.find, set)
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("write tree %q: %w", dir, err)
	}
	tree := &object.Tree{Entries: entries}
	h, err := storeObject(obj, tree.Encode)
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("write tree %q: %w", dir, err)
	}
	obj.trees.put(h, &cachedTree{entries: entries})
	return h, true, nil
}

// fileMode is the mode to write a file with: new files are regular, existing
// regular or executable files keep their mode, anything else is refused.
func fileMode(e object.TreeEntry, exists bool, p string) (filemode.FileMode, error) {
	if !exists {
		return filemode.Regular, nil
	}
	switch e.Mode {
	case filemode.Regular, filemode.Deprecated:
		return filemode.Regular, nil
	case filemode.Executable:
		return filemode.Executable, nil
	case filemode.Dir:
		return 0, fmt.Errorf("%w: %s is a directory", ErrInvalidPath, p)
	default:
		return 0, fmt.Errorf("%w: %s is not a regular file (mode %s)", ErrInvalidPath, p, e.Mode)
	}
}

func storeBlob(obj *objects, data []byte) (plumbing.Hash, error) {
	if obj.dir != "" {
		return storeLoose(obj, plumbing.BlobObject, data)
	}
	return storeObject(obj, func(o plumbing.EncodedObject) error {
		o.SetType(plumbing.BlobObject)
		o.SetSize(int64(len(data)))
		w, err := o.Writer()
		if err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			_ = w.Close()
			return err
		}
		return w.Close()
	})
}

// storeObject stores the object encode writes: as a loose object of the
// cache (writeLoose) for a store on disk, else through the store.
func storeObject(obj *objects, encode func(plumbing.EncodedObject) error) (plumbing.Hash, error) {
	o := &plumbing.MemoryObject{}
	if err := encode(o); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode object: %w", err)
	}
	if obj.dir != "" {
		rd, err := o.Reader()
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("encode object: %w", err)
		}
		data, err := io.ReadAll(rd)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("encode object: %w", err)
		}
		return storeLoose(obj, o.Type(), data)
	}
	h, err := obj.st.SetEncodedObject(o)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("store object: %w", err)
	}
	return h, nil
}

func storeLoose(obj *objects, typ plumbing.ObjectType, data []byte) (plumbing.Hash, error) {
	h, err := writeLoose(obj.dir, typ, data)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("store object: %w", err)
	}
	if obj.written != nil {
		o := &plumbing.MemoryObject{}
		o.SetType(typ)
		if _, err := o.Write(data); err == nil {
			obj.written.Put(o)
		}
	}
	return h, nil
}
