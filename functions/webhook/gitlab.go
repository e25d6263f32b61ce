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

// The GitLab payloads, with only the fields birdwatch reads (names as in
// GitLab's "Webhook events" documentation). Hand-written rather than taken
// from GitLab's Go client: three small structs do not justify its
// dependency tree, and GitLab is only a trigger here (no API calls).
type (
	gitlabProject struct {
		PathWithNamespace string `json:"path_with_namespace"`
	}
	gitlabUser struct {
		Username string `json:"username"`
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
			IID          int    `json:"iid"`
			TargetBranch string `json:"target_branch"`
			State        string `json:"state"`
			Action       string `json:"action"`
		} `json:"object_attributes"`
	}
	gitlabNoteEvent struct {
		ObjectKind       string        `json:"object_kind"`
		User             gitlabUser    `json:"user"`
		Project          gitlabProject `json:"project"`
		ObjectAttributes struct {
			ID           int64  `json:"id"`
			Note         string `json:"note"`
			NoteableType string `json:"noteable_type"`
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
		return plan{kind: planRun}, nil
	case gitlabNote:
		var e gitlabNoteEvent
		if err := decodeGitLab(event, body, &e); err != nil {
			return plan{}, err
		}
		if p, ok := h.otherProject(e.Project.PathWithNamespace); !ok {
			return p, nil
		}
		return planGitLabNote(&e), nil
	}
	return plan{kind: planIgnore, reason: fmt.Sprintf("event %q is not handled", event)}, nil
}

// planGitLabNote refuses commands from GitLab merge request notes:
// spec.access can only name GitHub and Slack identities.
func planGitLabNote(e *gitlabNoteEvent) plan {
	if e.ObjectAttributes.NoteableType != "MergeRequest" {
		return plan{kind: planIgnore, reason: "note on a " + e.ObjectAttributes.NoteableType + ", not a merge request"}
	}
	cmd, found, err := parseCommand(e.ObjectAttributes.Note)
	switch {
	case !found:
		return plan{kind: planIgnore, reason: "no /birdwatch command in the note"}
	case err != nil:
		return plan{kind: planRefuse, reason: err.Error()}
	}
	return plan{kind: planRefuse, reason: fmt.Sprintf("%s by gitlab:%s refused: spec.access.operators can name only github: and slack: identities",
		cmd.verb, e.User.Username)}
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
