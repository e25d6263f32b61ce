// Package statusseal tells a status file birdwatch wrote from one somebody
// else wrote. birdwatch's commit that changes a canary's status carries a
// trailer
//
//	Birdwatch-Status-Seal: <namespace/name> <hex HMAC-SHA256>
//
// keyed by a birdwatch secret, over the canary, the status path, the
// status blob's hash and the commit's parent. Verify finds the last commit
// on the first-parent line that changed the status and checks its seal: a
// hand-written status, a status reverted to an older one (its blob is old
// but its parent is new) and a seal copied from another commit all fail,
// and the *Tampered error names the commit. The loop then freezes the
// canary (weights held) until an operator resumes it with the documented
// command, whose commit birdwatch seals again.
//
// The seal is a commit trailer rather than a status field so that the
// status schema stays as it is and a reverted file cannot carry its seal
// back with it.
package statusseal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Trailer is the commit trailer that carries a seal.
const Trailer = "Birdwatch-Status-Seal"

// Seal returns the trailer value for a commit with parent parent that
// writes canary's status at path as the blob blob.
func Seal(secret []byte, canary, path string, blob, parent plumbing.Hash) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "birdwatch-status-seal-v1\n%s\n%s\n%s\n%s\n", canary, path, blob, parent)
	return canary + " " + hex.EncodeToString(mac.Sum(nil))
}

// Tampered is the error of a status changed by a commit birdwatch did not seal.
type Tampered struct {
	Canary string
	// Commit is the full hash of the commit that changed the status.
	Commit string
	// Why says what is wrong with that commit's seal.
	Why string
}

func (t *Tampered) Error() string {
	return fmt.Sprintf("the status of %s was changed by commit %.12s, which birdwatch did not make (%s): frozen until an operator resumes it",
		t.Canary, t.Commit, t.Why)
}

// ErrTampered is wrapped by *Tampered, for errors.Is.
var ErrTampered = errors.New("status changed outside birdwatch")

// Unwrap lets errors.Is(err, ErrTampered) hold.
func (t *Tampered) Unwrap() error { return ErrTampered }

// Verify checks the last change of the status at path on the first-parent
// line from head. It returns nil when that change is sealed for canary, or
// when no commit ever wrote the file; a *Tampered otherwise.
func Verify(objects storer.EncodedObjectStorer, head plumbing.Hash, secret []byte, canary, path string) error {
	c, err := object.GetCommit(objects, head)
	if err != nil {
		return fmt.Errorf("read commit %s: %w", head, err)
	}
	for {
		blob, err := blobAt(c, path)
		if err != nil {
			return err
		}
		var parent *object.Commit
		parentBlob := plumbing.ZeroHash
		if c.NumParents() > 0 {
			if parent, err = c.Parent(0); err != nil {
				return fmt.Errorf("read parent of %s: %w", c.Hash, err)
			}
			if parentBlob, err = blobAt(parent, path); err != nil {
				return err
			}
		}
		if blob != parentBlob {
			if blob == plumbing.ZeroHash {
				return nil // the status was deleted: a new rollout starts from nothing
			}
			return check(c, secret, canary, path, blob)
		}
		if parent == nil {
			return nil
		}
		c = parent
	}
}

// check verifies c's seal over blob.
func check(c *object.Commit, secret []byte, canary, path string, blob plumbing.Hash) error {
	parent := plumbing.ZeroHash
	if c.NumParents() > 0 {
		parent = c.ParentHashes[0]
	}
	want := Seal(secret, canary, path, blob, parent)
	var seen bool
	for _, line := range strings.Split(c.Message, "\n") {
		v, ok := strings.CutPrefix(line, Trailer+": ")
		if !ok || !strings.HasPrefix(v, canary+" ") {
			continue
		}
		seen = true
		if hmac.Equal([]byte(strings.TrimSpace(v)), []byte(want)) {
			return nil
		}
	}
	why := "no " + Trailer + " trailer"
	if seen {
		why = "its seal does not match the status it wrote"
	}
	return &Tampered{Canary: canary, Commit: c.Hash.String(), Why: why}
}

// blobAt is the hash of the file at path in c, or ZeroHash when absent.
func blobAt(c *object.Commit, path string) (plumbing.Hash, error) {
	tree, err := c.Tree()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read tree of %s: %w", c.Hash, err)
	}
	e, err := tree.FindEntry(path)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("find %s in %s: %w", path, c.Hash, err)
	}
	return e.Hash, nil
}
