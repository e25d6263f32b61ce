// Package statusseal tells a status file birdwatch wrote from one somebody
// else wrote. birdwatch's commit that changes a canary's status carries a
// trailer
//
//	Birdwatch-Status-Seal: <namespace/name> <hex HMAC-SHA256>
//
// keyed by a birdwatch secret, over the canary, the status path, the
// status blob's hash and the commit's parent. Check finds the last commit
// on the first-parent line that changed the status and checks its seal: a
// hand-written status, a status reverted to an older one (its blob is old
// but its parent is new) and a seal copied from another commit all fail,
// and the *Tampered error names the commit and carries the last status
// birdwatch did seal. The loop then freezes the canary from that status
// (weights held) until an operator resumes it with the documented command,
// whose commit birdwatch seals again.
//
// A merge commit that takes the status from a merged branch (pull-request
// mode: birdwatch's sealed commit on its branch, merged by a human) is
// judged by that branch's commit. A squash or rebase merge of a pull
// request whose single commit sits on the current base keeps the message
// and the parent, so its seal holds too.
//
// The seal is a commit trailer rather than a status field so that the
// status schema stays as it is and a reverted file cannot carry its seal
// back with it.
package statusseal

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Trailer is the commit trailer that carries a seal.
const Trailer = "Birdwatch-Status-Seal"

// MaxWalk bounds the commits Check reads back from the head looking for
// the last change of a status.
const MaxWalk = 5000

// Seal returns the trailer value for a commit with parent parent that
// writes canary's status at path as the blob blob.
func Seal(secret []byte, canary, path string, blob, parent plumbing.Hash) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "birdwatch-status-seal-v1\n%s\n%s\n%s\n%s\n", canary, path, blob, parent)
	return canary + " " + hex.EncodeToString(mac.Sum(nil))
}

// SealContent is Seal for a status given by its content.
func SealContent(secret []byte, canary, path string, content []byte, parent plumbing.Hash) string {
	return Seal(secret, canary, path, plumbing.ComputeHash(plumbing.BlobObject, content), parent)
}

// Tampered is the error of a status changed by a commit birdwatch did not seal.
type Tampered struct {
	Canary string
	// Commit is the full hash of the commit that changed the status; ""
	// when that commit was not found within MaxWalk commits.
	Commit string
	// Why says what is wrong with that commit's seal.
	Why string
	// Sealed is the content of the last status birdwatch sealed before
	// Commit, nil when there is none (no earlier status, or none sealed
	// within MaxWalk commits); SealedCommit is the commit that wrote it.
	Sealed       []byte
	SealedCommit string
}

func (t *Tampered) Error() string {
	if t.Commit == "" {
		return fmt.Sprintf("the status of %s cannot be verified (%s): frozen until an operator resumes it", t.Canary, t.Why)
	}
	return fmt.Sprintf("the status of %s was changed by commit %.12s, which birdwatch did not make (%s): frozen until an operator resumes it",
		t.Canary, t.Commit, t.Why)
}

// ErrTampered is wrapped by *Tampered, for errors.Is.
var ErrTampered = errors.New("status changed outside birdwatch")

// Unwrap lets errors.Is(err, ErrTampered) hold.
func (t *Tampered) Unwrap() error { return ErrTampered }

// Commit is one commit as Check reads it.
type Commit struct {
	Hash, Tree plumbing.Hash
	// Parents in order; the first is the first parent. Empty for a root.
	Parents []plumbing.Hash
	Message string
}

// History reads commits. The loop's repository is a depth-1 cache: its
// History fetches deeper when a commit is missing (gitops/repo), and the
// GitHub API mode reads commits through the API.
type History interface {
	// Commit returns the commit h.
	Commit(ctx context.Context, h plumbing.Hash) (Commit, error)
	// File returns the hash of the file at path in tree, ZeroHash when
	// there is none.
	File(ctx context.Context, tree plumbing.Hash, path string) (plumbing.Hash, error)
	// Blob returns the content of blob h.
	Blob(ctx context.Context, h plumbing.Hash) ([]byte, error)
}

// Check checks the last change of the status at path on the first-parent
// line from head. It returns nil when that change is sealed for canary, or
// when no commit ever wrote the file, or the last change deleted it (a new
// rollout starts from nothing); a *Tampered otherwise, also when the last
// change is more than MaxWalk commits back (it fails closed: an operator's
// resume seals the status again).
func Check(ctx context.Context, h History, head plumbing.Hash, secret []byte, canary, path string) error {
	w := walker{h: h, secret: secret, canary: canary, path: path}
	c, blob, err := w.lastChange(ctx, head)
	if errors.Is(err, errTooDeep) {
		return &Tampered{Canary: canary, Why: fmt.Sprintf("its last change is more than %d commits back", MaxWalk)}
	}
	if err != nil || c == nil || blob.IsZero() {
		return err
	}
	why, err := w.unsealed(ctx, *c, blob)
	if err != nil || why == "" {
		return err
	}
	t := &Tampered{Canary: canary, Commit: c.Hash.String(), Why: why}
	if err := w.lastSealed(ctx, *c, t); err != nil {
		return err
	}
	return t
}

type walker struct {
	h            History
	secret       []byte
	canary, path string
	steps        int
}

// commit reads h, counting against MaxWalk.
func (w *walker) commit(ctx context.Context, h plumbing.Hash) (Commit, error) {
	w.steps++
	if w.steps > MaxWalk {
		return Commit{}, errTooDeep
	}
	if err := ctx.Err(); err != nil {
		return Commit{}, err
	}
	c, err := w.h.Commit(ctx, h)
	if err != nil {
		return Commit{}, fmt.Errorf("status seal of %s: read commit %s: %w", w.canary, h, err)
	}
	return c, nil
}

var errTooDeep = errors.New("walked too far")

func (w *walker) blobAt(ctx context.Context, c Commit) (plumbing.Hash, error) {
	b, err := w.h.File(ctx, c.Tree, w.path)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("status seal of %s: read %s at %s: %w", w.canary, w.path, c.Hash, err)
	}
	return b, nil
}

// lastChange walks the first-parent line from head to the commit that
// last changed the status; nil when none within MaxWalk did.
func (w *walker) lastChange(ctx context.Context, head plumbing.Hash) (*Commit, plumbing.Hash, error) {
	c, err := w.commit(ctx, head)
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	blob, err := w.blobAt(ctx, c)
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	for {
		if len(c.Parents) == 0 {
			return &c, blob, nil
		}
		parent, err := w.commit(ctx, c.Parents[0])
		if err != nil {
			return nil, plumbing.ZeroHash, err
		}
		pblob, err := w.blobAt(ctx, parent)
		if err != nil {
			return nil, plumbing.ZeroHash, err
		}
		if pblob != blob {
			return &c, blob, nil
		}
		c = parent
	}
}

// unsealed says why c, which changed the status to blob, is not sealed
// for it; "" when it is. A merge commit that took blob from a merged
// branch is judged by the commit of that branch that last changed it.
func (w *walker) unsealed(ctx context.Context, c Commit, blob plumbing.Hash) (string, error) {
	why := w.seal(c, blob)
	if why == "" || len(c.Parents) < 2 {
		return why, nil
	}
	for _, p := range c.Parents[1:] {
		pc, err := w.commit(ctx, p)
		if errors.Is(err, errTooDeep) {
			return why, nil
		}
		if err != nil {
			return "", err
		}
		pb, err := w.blobAt(ctx, pc)
		if err != nil || pb != blob {
			if err != nil {
				return "", err
			}
			continue
		}
		last, lb, err := w.lastChange(ctx, p)
		if errors.Is(err, errTooDeep) {
			return why, nil
		}
		if err != nil || last == nil {
			return "", err
		}
		inner, err := w.unsealed(ctx, *last, lb)
		if err != nil || inner == "" {
			return "", err
		}
		return fmt.Sprintf("merged from commit %.12s: %s", last.Hash, inner), nil
	}
	return why, nil
}

// seal checks c's trailer over blob: "" when it holds, else why not.
func (w *walker) seal(c Commit, blob plumbing.Hash) string {
	parent := plumbing.ZeroHash
	if len(c.Parents) > 0 {
		parent = c.Parents[0]
	}
	want := Seal(w.secret, w.canary, w.path, blob, parent)
	var seen bool
	for _, line := range strings.Split(c.Message, "\n") {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), Trailer+": ")
		if !ok || !strings.HasPrefix(v, w.canary+" ") {
			continue
		}
		seen = true
		if hmac.Equal([]byte(strings.TrimSpace(v)), []byte(want)) {
			return ""
		}
	}
	if seen {
		return "its seal does not match the status it wrote"
	}
	return "no " + Trailer + " trailer"
}

// lastSealed fills t.Sealed with the status before the tampering commit
// from, walking back past every change that is not sealed.
func (w *walker) lastSealed(ctx context.Context, from Commit, t *Tampered) error {
	for {
		if len(from.Parents) == 0 {
			return nil
		}
		c, blob, err := w.lastChange(ctx, from.Parents[0])
		if errors.Is(err, errTooDeep) {
			return nil
		}
		if err != nil || c == nil || blob.IsZero() {
			return err
		}
		why, err := w.unsealed(ctx, *c, blob)
		if errors.Is(err, errTooDeep) {
			return nil
		}
		if err != nil {
			return err
		}
		if why == "" {
			data, err := w.h.Blob(ctx, blob)
			if err != nil {
				return fmt.Errorf("status seal of %s: read sealed status %s: %w", w.canary, blob, err)
			}
			t.Sealed, t.SealedCommit = data, c.Hash.String()
			return nil
		}
		from = *c
	}
}

// Objects is a History on a Git object store that holds every commit
// walked (a full clone, or a test's repository).
type Objects struct{ Storer storer.EncodedObjectStorer }

// Commit reads h from the store.
func (o Objects) Commit(_ context.Context, h plumbing.Hash) (Commit, error) {
	c, err := object.GetCommit(o.Storer, h)
	if err != nil {
		return Commit{}, err
	}
	return Commit{Hash: c.Hash, Tree: c.TreeHash, Parents: c.ParentHashes, Message: c.Message}, nil
}

// File finds path in tree.
func (o Objects) File(_ context.Context, tree plumbing.Hash, path string) (plumbing.Hash, error) {
	t, err := object.GetTree(o.Storer, tree)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	e, err := t.FindEntry(path)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return e.Hash, nil
}

// Blob reads blob h.
func (o Objects) Blob(_ context.Context, h plumbing.Hash) ([]byte, error) {
	b, err := object.GetBlob(o.Storer, h)
	if err != nil {
		return nil, err
	}
	rd, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer func() { _ = rd.Close() }()
	return io.ReadAll(rd)
}
