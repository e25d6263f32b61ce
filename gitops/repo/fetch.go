package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
)

// FetchInfo describes the transfer of the last Fetch of a Repo.
type FetchInfo struct {
	// Head is the branch head the fetch returned.
	Head string
	// UpToDate means the cache already held Head: no pack was asked for.
	UpToDate bool
	// Incremental means the cache's head was sent as a "have" and the
	// server answered with what changed since it (a thin pack, stored as
	// loose objects).
	Incremental bool
	// FellBack holds why an incremental fetch failed, when Fetch then made
	// a full depth-1 fetch instead; nil otherwise.
	FellBack error
	// PackBytes is the size of the pack the server sent (0 when UpToDate).
	PackBytes int64
}

// LastFetch describes the transfer of the Repo's last successful Fetch.
func (r *Repo) LastFetch() FetchInfo {
	r.infoMu.Lock()
	defer r.infoMu.Unlock()
	return r.info
}

// fetchLocked fetches with the lock held, into a freshly opened store so the
// pack index includes packs other processes wrote since our last operation.
//
// go-git's own depth-1 fetch brings the whole tree for every new commit: it
// never asks for a thin pack, and without one git's upload-pack cannot leave
// out what the client's shallow head already has (pack-objects marks the
// trees of a have as uninteresting across a shallow boundary only when
// asked for a thin pack). So the request is built here with go-git's
// plumbing: want the branch head at depth 1, have the cached head, name the
// cache's shallow boundary, and accept a thin pack. Its deltas against
// objects the cache holds are resolved from the cache and stored as loose
// objects, as `git fetch` does for small packs (fetch.unpackLimit).
//
// When that exchange fails after the advertisement (a server that refuses
// the have, the shallow line or the thin pack; a cache object a delta needs
// that is missing or corrupt), it is made again as a full depth-1 fetch, the
// cold path, which writes one self-contained pack.
func (r *Repo) fetchLocked(ctx context.Context) (*Snapshot, error) {
	obj := openObjects(r.dir)
	obj.mu.Lock()
	info, err := r.fetchHead(ctx, obj, true)
	var inc *incrementalError
	if errors.As(err, &inc) && ctx.Err() == nil {
		info, err = r.fetchHead(ctx, obj, false)
		info.FellBack = inc.err
	}
	obj.mu.Unlock()
	if err != nil {
		return nil, err
	}
	snap, err := newSnapshot(obj, plumbing.NewHash(info.Head))
	if err != nil {
		return nil, err
	}
	r.infoMu.Lock()
	r.info = info
	r.infoMu.Unlock()
	return snap, nil
}

// incrementalError is a failure of the incremental part of a fetch, after
// which a full fetch is worth trying.
type incrementalError struct{ err error }

func (e *incrementalError) Error() string { return "incremental fetch: " + e.err.Error() }
func (e *incrementalError) Unwrap() error { return e.err }

// fetchHead runs one upload-pack exchange that brings the branch head into
// obj (whose mu the caller holds) and records it as the tracking ref. With
// incremental, the cached head is offered as a have with a thin pack
// accepted; without, the request is a plain depth-1 fetch of the head.
func (r *Repo) fetchHead(ctx context.Context, obj *objects, incremental bool) (FetchInfo, error) {
	var info FetchInfo
	sess, err := r.uploadSession()
	if err != nil {
		return info, err
	}
	defer func() { _ = sess.Close() }()
	caps, want, err := r.advertisedHead(ctx, sess)
	if err != nil {
		return info, err
	}
	info.Head = want.String()
	have := r.trackedHead(obj)
	if have == want {
		info.UpToDate = true
		return info, nil
	}
	req, err := uploadRequest(caps, obj, want, have, incremental)
	if err != nil {
		return info, err
	}
	info.Incremental = len(req.Haves) > 0
	resp, err := sess.UploadPack(ctx, req)
	if err != nil {
		return info, r.exchangeError(err, info.Incremental)
	}
	defer func() { _ = resp.Close() }()
	counted := &countingReader{r: packReader(req.Capabilities, resp)}
	if err := storePack(obj, counted, info.Incremental && len(resp.ACKs) > 0); err != nil {
		return info, r.exchangeError(err, info.Incremental)
	}
	info.PackBytes = counted.n
	if err := updateShallow(obj, want, resp.Shallows, resp.Unshallows); err != nil {
		return info, err
	}
	return info, setRef(obj.dir, r.trackingRef(), want)
}

// exchangeError classifies an error of the pack exchange; one of an
// incremental exchange becomes an incrementalError unless it is about
// credentials.
func (r *Repo) exchangeError(err error, incremental bool) error {
	err = classifyTransport(err)
	if incremental && !errors.Is(err, ErrAuth) {
		return &incrementalError{err: err}
	}
	return err
}

// uploadSession opens an upload-pack session with the Repo's credentials.
func (r *Repo) uploadSession() (transport.UploadPackSession, error) {
	ep, err := transport.NewEndpoint(r.url)
	if err != nil {
		return nil, fmt.Errorf("parse URL: %w", err)
	}
	ep.CaBundle = r.opts.CABundle
	c, err := client.NewClient(ep)
	if err != nil {
		return nil, err
	}
	sess, err := c.NewUploadPackSession(ep, r.auth)
	if err != nil {
		return nil, classifyTransport(err)
	}
	return sess, nil
}

// advertisedHead reads the remote's refs and returns its capabilities and
// the branch head.
func (r *Repo) advertisedHead(ctx context.Context, sess transport.UploadPackSession) (*capability.List, plumbing.Hash, error) {
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return nil, plumbing.ZeroHash, fmt.Errorf("%w: %w", ErrBranchNotFound, err)
	}
	if err != nil {
		return nil, plumbing.ZeroHash, classifyTransport(err)
	}
	refs, err := ar.AllReferences()
	if err != nil {
		return nil, plumbing.ZeroHash, fmt.Errorf("read advertised refs: %w", err)
	}
	ref, err := refs.Reference(r.branchRef())
	if err != nil {
		return nil, plumbing.ZeroHash, fmt.Errorf("%w: the remote has no %s", ErrBranchNotFound, r.branchRef())
	}
	return ar.Capabilities, ref.Hash(), nil
}

// trackedHead is the commit of the tracking ref, or zero when there is none
// or its commit is not in obj. The tracking ref only ever names a commit
// whose whole tree is in the cache: it is written last, after the objects.
func (r *Repo) trackedHead(obj *objects) plumbing.Hash {
	ref, err := obj.st.Reference(r.trackingRef())
	if err != nil || ref.Type() != plumbing.HashReference {
		return plumbing.ZeroHash
	}
	if obj.st.HasEncodedObject(ref.Hash()) != nil {
		return plumbing.ZeroHash
	}
	return ref.Hash()
}

// uploadRequest asks for want at depth 1. With incremental and a cached head
// it also sends that head as a have, the cache's shallow boundary, and asks
// for a thin pack. go-git drops thin-pack from every advertisement because
// its own fetch cannot store thin packs (storePack can), so it is asked for
// without looking: servers ignore capabilities they do not know, and a full
// pack is stored just as well.
func uploadRequest(caps *capability.List, obj *objects, want, have plumbing.Hash, incremental bool) (*packp.UploadPackRequest, error) {
	req := packp.NewUploadPackRequestFromCapabilities(caps)
	req.Wants = []plumbing.Hash{want}
	req.Depth = packp.DepthCommits(1)
	if err := req.Capabilities.Set(capability.Shallow); err != nil {
		return nil, err
	}
	if caps.Supports(capability.NoProgress) {
		if err := req.Capabilities.Set(capability.NoProgress); err != nil {
			return nil, err
		}
	}
	if !incremental || have.IsZero() {
		return req, nil
	}
	shallows, err := obj.st.Shallow()
	if err != nil {
		return nil, fmt.Errorf("read shallow boundary: %w", err)
	}
	req.Shallows = shallows
	req.Haves = []plumbing.Hash{have}
	if err := req.Capabilities.Set(capability.ThinPack); err != nil {
		return nil, err
	}
	return req, nil
}

// packReader strips the side band from the response when one was asked for.
func packReader(caps *capability.List, resp io.Reader) io.Reader {
	switch {
	case caps.Supports(capability.Sideband64k):
		return sideband.NewDemuxer(sideband.Sideband64k, resp)
	case caps.Supports(capability.Sideband):
		return sideband.NewDemuxer(sideband.Sideband, resp)
	}
	return resp
}

// storePack stores the pack read from rd in obj. A possibly thin pack (the
// server acknowledged a have) is spooled to a file in the cache and its
// objects stored loose, deltas resolved against the cache; any other pack is
// streamed into a pack file and indexed by writePack.
func storePack(obj *objects, rd io.Reader, thin bool) error {
	if !thin {
		if _, err := writePack(obj.dir, rd); err != nil {
			return err
		}
		re, ok := obj.st.(interface{ Reindex() })
		if !ok {
			return errNoReindex
		}
		re.Reindex() // the store lists its packs once; it has a new one
		return nil
	}
	f, err := os.CreateTemp(obj.dir, "incoming-*.pack")
	if err != nil {
		return fmt.Errorf("spool pack: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()); _ = f.Close() }()
	if _, err := io.Copy(f, rd); err != nil {
		return fmt.Errorf("spool pack: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spool pack: %w", err)
	}
	// looseStorer hides the store's LazyWriter: go-git's parser keeps every
	// lazily written object's file open until the whole pack is parsed.
	p, err := packfile.NewParserWithStorage(packfile.NewScanner(f), looseStorer{obj.st})
	if err != nil {
		return fmt.Errorf("read pack: %w", err)
	}
	if _, err := p.Parse(); err != nil {
		return fmt.Errorf("store pack objects: %w", err)
	}
	return nil
}

// looseStorer is an object store seen only through EncodedObjectStorer.
type looseStorer struct{ storer.EncodedObjectStorer }

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
