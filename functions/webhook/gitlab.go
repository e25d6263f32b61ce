package webhook

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/auth"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// GitLab delivery headers and the events handled.
const (
	headerGitLabToken = "X-Gitlab-Token"
	headerGitLabEvent = "X-Gitlab-Event"
	// headerGitLabUUID identifies one event; GitLab repeats it on retries.
	headerGitLabUUID = "X-Gitlab-Event-UUID"

	gitlabPush  = "Push Hook"
	gitlabMerge = "Merge Request Hook"
	gitlabNote  = "Note Hook"
)

// The push and merge request payloads, with only the fields birdwatch reads
// (names as in GitLab's "Webhook events" documentation). Note events are
// decoded into the official client's MergeCommentEvent; these two stay
// hand-written because the client decodes their timestamps as time.Time,
// which refuses the "2026-11-20 11:00:00 UTC" form older GitLab releases
// still send, and birdwatch reads no timestamp from them.
type (
	gitlabProject struct {
		PathWithNamespace string `json:"path_with_namespace"`
	}
	gitlabPushEvent struct {
		ObjectKind string        `json:"object_kind"`
		Ref        string        `json:"ref"`
		After      string        `json:"after"`
		Project    gitlabProject `json:"project"`
		Commits    []struct {
			Message string `json:"message"`
		} `json:"commits"`
	}
	gitlabMergeEvent struct {
		ObjectKind       string        `json:"object_kind"`
		Project          gitlabProject `json:"project"`
		ObjectAttributes struct {
			IID        int    `json:"iid"`
			URL        string `json:"url"`
			LastCommit struct {
				ID string `json:"id"`
			} `json:"last_commit"`
			TargetBranch string `json:"target_branch"`
			State        string `json:"state"`
			Action       string `json:"action"`
		} `json:"object_attributes"`
	}
)

func (h *Handler) serveGitLab(w http.ResponseWriter, r *http.Request) {
	d := delivery{source: "gitlab", event: r.Header.Get(headerGitLabEvent), id: r.Header.Get(headerGitLabUUID), start: time.Now()}
	if len(h.cfg.GitLab.Token) == 0 {
		h.reject(w, d, http.StatusNotFound, errors.New("GitLab deliveries are not configured"))
		return
	}
	token := r.Header.Get(headerGitLabToken)
	if err := verifyGitLab(h.cfg.GitLab.Token, token); err != nil {
		h.reject(w, d, http.StatusUnauthorized, err) // the token is a header: no body is read without it
		return
	}
	body, release, ok := h.readVerified(w, r, d, func([]byte) error { return verifyGitLab(h.cfg.GitLab.Token, token) })
	if !ok {
		return
	}
	defer release()
	p, err := h.planGitLab(d.event, body)
	if err != nil {
		h.seen.forget(d.id)
		h.reject(w, d, http.StatusBadRequest, err)
		return
	}
	h.finish(w, r, d, p)
}

// verifyGitLab compares the token in constant time; hashing first makes the
// time independent of the lengths too.
func verifyGitLab(want []byte, got string) error {
	if got == "" {
		return fmt.Errorf("%w: no %s header", ErrSignature, headerGitLabToken)
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256(want)
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return fmt.Errorf("%w: wrong %s", ErrSignature, headerGitLabToken)
	}
	return nil
}

// planGitLab decodes an allowlisted GitLab event and decides what it asks
// for. It does no I/O.
func (h *Handler) planGitLab(event string, body []byte) (plan, error) {
	switch event {
	case gitlabPush:
		var e gitlabPushEvent
		if err := decodeGitLab(event, body, &e); err != nil {
			return plan{}, err
		}
		if p, ok := h.otherProject(e.Project.PathWithNamespace); !ok {
			return p, nil
		}
		msgs := make([]string, len(e.Commits))
		for i, c := range e.Commits {
			msgs[i] = c.Message
		}
		return h.planPush(e.Ref, strings.Trim(e.After, "0") == "", msgs), nil
	case gitlabMerge:
		var e gitlabMergeEvent
		if err := decodeGitLab(event, body, &e); err != nil {
			return plan{}, err
		}
		if p, ok := h.otherProject(e.Project.PathWithNamespace); !ok {
			return p, nil
		}
		a := e.ObjectAttributes
		if a.TargetBranch != h.cfg.Branch || a.Action != "merge" {
			return plan{kind: planIgnore, reason: fmt.Sprintf("merge request action %q into %s", a.Action, a.TargetBranch)}, nil
		}
		if h.gitlab == nil || a.IID == 0 {
			return plan{kind: planRun}, nil
		}
		return plan{kind: planMerged, source: sourceGitLab, pr: PullRequest{Number: a.IID, HeadSHA: a.LastCommit.ID, HTMLURL: a.URL}}, nil
	case gitlabNote:
		var e gitlab.MergeCommentEvent
		if err := decodeGitLab(event, body, &e); err != nil {
			return plan{}, err
		}
		if p, ok := h.otherProject(e.Project.PathWithNamespace); !ok {
			return p, nil
		}
		return h.planGitLabNote(&e), nil
	}
	return plan{kind: planIgnore, reason: fmt.Sprintf("event %q is not handled", event)}, nil
}

// gitlabTimeLayouts are the forms of created_at in GitLab payloads: note
// events write "2026-11-20 11:00:00 UTC", newer ones RFC 3339.
var gitlabTimeLayouts = []string{"2006-01-02 15:04:05 MST", time.RFC3339, "2006-01-02 15:04:05 -0700"}

func parseGitLabTime(s string) time.Time {
	for _, l := range gitlabTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// planGitLabNote turns a new merge request note holding a /birdwatch line
// into a command, answered on the merge request. Without GitLab's API
// (GitLabConfig.API) commands are refused: they could not be answered.
func (h *Handler) planGitLabNote(e *gitlab.MergeCommentEvent) plan {
	a := e.ObjectAttributes
	switch {
	case a.NoteableType != "MergeRequest":
		return plan{kind: planIgnore, reason: "note on a " + a.NoteableType + ", not a merge request"}
	case a.System:
		return plan{kind: planIgnore, reason: "system note"}
	case a.Action != "" && a.Action != "create":
		return plan{kind: planIgnore, reason: fmt.Sprintf("note action %q", a.Action)}
	}
	cmd, found, err := parseCommand(a.Note)
	if !found {
		return plan{kind: planIgnore, reason: "no /birdwatch command in the note"}
	}
	if e.User == nil || e.User.Username == "" || a.ID == 0 || e.MergeRequest.IID == 0 {
		return plan{kind: planIgnore, reason: "note without id, author or merge request"}
	}
	if h.gitlab == nil {
		if err != nil {
			return plan{kind: planRefuse, reason: err.Error()}
		}
		return plan{kind: planRefuse, reason: fmt.Sprintf("%s by gitlab:%s refused: GitLab commands need the GitLab API (BIRDWATCH_GITLAB_API_TOKEN)", cmd.verb, e.User.Username)}
	}
	p := plan{kind: planCommand, source: sourceGitLab, cmd: cmd, commentID: a.ID, commentAt: parseGitLabTime(a.CreatedAt),
		actor: auth.Identity{Provider: auth.ProviderGitLab, User: e.User.Username, ID: e.User.ID},
		pr:    PullRequest{Number: int(e.MergeRequest.IID), HeadSHA: e.MergeRequest.LastCommit.ID, HTMLURL: e.MergeRequest.URL}}
	if err != nil {
		p.cmdErr = err.Error()
	}
	return p
}

func decodeGitLab(event string, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrPayload, event, err)
	}
	return nil
}

func (h *Handler) otherProject(path string) (plan, bool) {
	if strings.EqualFold(path, h.cfg.GitLab.Project) {
		return plan{}, true
	}
	return plan{kind: planIgnore, reason: fmt.Sprintf("project %q is not the GitOps project", path)}, false
}
