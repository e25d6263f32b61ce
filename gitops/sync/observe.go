package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Observation is what a gate saw: when the weight was applied, or why it is
// not applied yet.
type Observation struct {
	// AppliedAt is when the current weight was applied; nil when it is not yet.
	AppliedAt *time.Time
	// Waiting says, when AppliedAt is nil, what is missing, e.g.
	// "kustomization flux-system/apps not found". It is meant for the
	// report and for the Frozen message when spec.sync.timeout runs out.
	Waiting string
}

// Observer is a Gate that can also say why a weight is not applied yet.
// The Flux and Argo CD gates implement it; callers use it when a gate does.
type Observer interface {
	Observe(ctx context.Context, c *spec.Canary, st *spec.Status, now time.Time) (Observation, error)
}

// Revisions reads the GitOps repository at a commit; *repo.Repo implements
// it. Fetch returns the branch head, Revision any commit by its full hash.
type Revisions interface {
	Fetch(ctx context.Context) (*repo.Snapshot, error)
	Revision(ctx context.Context, hash string) (*repo.Snapshot, error)
}

// carries reports whether the status file at revision rev records the same
// rollout generation, step and weight as st: then the commit that set st's
// weight, or a later one that keeps it, is what the applier applied. A
// commit cannot name its own hash, so this is how an applied revision is
// matched with the weight commit. An empty string means it does; otherwise
// the string says what the revision holds instead.
func carries(ctx context.Context, revs Revisions, rev string, c *spec.Canary, st *spec.Status) (string, error) {
	snap, err := resolve(ctx, revs, rev)
	if errors.Is(err, repo.ErrRevisionNotFound) || errors.Is(err, repo.ErrInvalidRevision) || errors.Is(err, errUnresolved) {
		return fmt.Sprintf("applied revision %s cannot be read from the repository: %v", rev, err), nil
	}
	if err != nil {
		return "", err
	}
	data, err := snap.ReadFile(c.StatusPath())
	if errors.Is(err, repo.ErrNotFound) {
		return fmt.Sprintf("applied revision %s has no status for %s yet", short(snap.Commit()), c.Key()), nil
	}
	if err != nil {
		return "", fmt.Errorf("read status at %s: %w", snap.Commit(), err)
	}
	at, err := spec.ParseStatus(c.StatusPath(), data)
	if err != nil {
		return fmt.Sprintf("applied revision %s has an unreadable status: %v", short(snap.Commit()), err), nil
	}
	if at.Generation == st.Generation && at.Step == st.Step && at.Weight == st.Weight {
		return "", nil
	}
	return fmt.Sprintf("applied revision %s has %s step %d weight %d, waiting for %s step %d weight %d",
		short(snap.Commit()), at.Generation, at.Step, at.Weight, st.Generation, st.Step, st.Weight), nil
}

var errUnresolved = errors.New("short hash is not the branch head")

// resolve reads rev: a full hash through Revision, a short one (Helm chart
// versions carry 12 digits) only when it is a prefix of the branch head.
func resolve(ctx context.Context, revs Revisions, rev string) (*repo.Snapshot, error) {
	if len(rev) == 40 {
		return revs.Revision(ctx, rev)
	}
	head, err := revs.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	if len(rev) >= 7 && strings.HasPrefix(head.Commit(), strings.ToLower(rev)) {
		return head, nil
	}
	return nil, errUnresolved
}

// gitRevision extracts a commit hash from the revision strings appliers
// report: Flux "main@sha1:<hash>", older Flux "main/<hash>", Argo CD's bare
// hash, a Helm chart version "1.2.3+<short hash>". It returns "" when s
// holds no hash.
func gitRevision(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "sha1:"); i >= 0 {
		s = s[i+len("sha1:"):]
	} else if i := strings.LastIndexAny(s, "/+"); i >= 0 {
		s = s[i+1:]
	}
	if len(s) < 7 || len(s) > 40 {
		return ""
	}
	for _, r := range strings.ToLower(s) {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return ""
		}
	}
	return strings.ToLower(s)
}

// appliedTime is when every source was last seen to become true. Revision
// sources count only with a time after the weight commit (an older
// condition time describes an earlier apply); a source with no usable time
// counts as now. The result never precedes setAt nor follows now.
func appliedTime(setAt *time.Time, now time.Time, revisionTimes []*time.Time, otherTimes []*time.Time) time.Time {
	at := time.Time{}
	if setAt != nil {
		at = *setAt
	}
	later := func(t time.Time) {
		if t.After(at) {
			at = t
		}
	}
	for _, t := range revisionTimes {
		if t == nil || (setAt != nil && !t.After(*setAt)) || t.After(now) {
			later(now)
			continue
		}
		later(*t)
	}
	for _, t := range otherTimes {
		if t == nil || t.After(now) {
			later(now)
			continue
		}
		later(*t)
	}
	if at.IsZero() || at.After(now) {
		return now
	}
	return at.UTC()
}

func short(h string) string { return h[:min(len(h), 12)] }
