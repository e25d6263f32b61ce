package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/auth"
	"github.com/google/go-github/v84/github"
)

// GitHub delivery headers.
const (
	headerGitHubEvent     = "X-GitHub-Event"
	headerGitHubDelivery  = "X-GitHub-Delivery"
	headerGitHubSignature = "X-Hub-Signature-256"
)

// githubEvents is the allowlist; other events are answered 200 and ignored.
var githubEvents = map[string]bool{"push": true, "pull_request": true, "issue_comment": true, "check_run": true, "ping": true}

func (h *Handler) serveGitHub(w http.ResponseWriter, r *http.Request) {
	d := delivery{source: "github", event: r.Header.Get(headerGitHubEvent), id: r.Header.Get(headerGitHubDelivery), start: time.Now()}
	if len(h.cfg.GitHub.Secret) == 0 {
		h.reject(w, d, http.StatusNotFound, errors.New("GitHub deliveries are not configured"))
		return
	}
	sig := r.Header.Get(headerGitHubSignature)
	body, release, ok := h.readVerified(w, r, d, func(b []byte) error { return verifyGitHub(h.cfg.GitHub.Secret, b, sig) })
	if !ok {
		return
	}
	defer release()
	if !githubEvents[d.event] {
		h.finish(w, r, d, plan{kind: planIgnore, reason: fmt.Sprintf("event %q is not handled", d.event)})
		return
	}
	ev, err := parseGitHub(d.event, r.Header.Get("Content-Type"), body)
	if err != nil {
		h.seen.forget(d.id)
		h.reject(w, d, http.StatusBadRequest, err)
		return
	}
	h.finish(w, r, d, h.planGitHub(ev))
}

// verifyGitHub checks the X-Hub-Signature-256 header against the HMAC-SHA256
// of body, in constant time. Hand-written rather than go-github's
// ValidatePayload, which also accepts SHA-1 signatures and skips the check
// when the secret is empty.
func verifyGitHub(secret, body []byte, header string) error {
	const prefix = "sha256="
	if header == "" {
		return fmt.Errorf("%w: no %s header", ErrSignature, headerGitHubSignature)
	}
	got, err := hex.DecodeString(strings.TrimPrefix(header, prefix))
	if !strings.HasPrefix(header, prefix) || err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: malformed %s header", ErrSignature, headerGitHubSignature)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("%w: %s does not match the body", ErrSignature, headerGitHubSignature)
	}
	return nil
}

// SignGitHub returns the X-Hub-Signature-256 value of body, as GitHub
// computes it; for tests and tools that replay deliveries.
func SignGitHub(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// parseGitHub decodes a verified payload into go-github's event type. Form
// deliveries carry the JSON in the "payload" field.
func parseGitHub(event, contentType string, body []byte) (any, error) {
	payload := body
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("%w: form: %w", ErrPayload, err)
		}
		payload = []byte(form.Get("payload"))
	}
	ev, err := github.ParseWebHook(event, payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrPayload, event, err)
	}
	return ev, nil
}

// planGitHub decides what a parsed GitHub event asks for. It does no I/O.
func (h *Handler) planGitHub(ev any) plan {
	switch e := ev.(type) {
	case *github.PingEvent:
		return plan{kind: planIgnore, reason: "ping: " + e.GetZen()}
	case *github.PushEvent:
		if p, ok := h.otherRepo(e.GetRepo().GetFullName()); !ok {
			return p
		}
		return h.planPush(e.GetRef(), e.GetDeleted(), commitMessages(e.Commits))
	case *github.PullRequestEvent:
		if p, ok := h.otherRepo(e.GetRepo().GetFullName()); !ok {
			return p
		}
		return h.planPull(e.GetAction(), e.GetPullRequest())
	case *github.IssueCommentEvent:
		if p, ok := h.otherRepo(e.GetRepo().GetFullName()); !ok {
			return p
		}
		return planComment(e)
	case *github.CheckRunEvent:
		if p, ok := h.otherRepo(e.GetRepo().GetFullName()); !ok {
			return p
		}
		return planCheckRun(e)
	}
	return plan{kind: planIgnore, reason: fmt.Sprintf("payload type %T is not handled", ev)}
}

func (h *Handler) otherRepo(name string) (plan, bool) {
	if strings.EqualFold(name, h.cfg.GitHub.Repository) {
		return plan{}, true
	}
	return plan{kind: planIgnore, reason: fmt.Sprintf("repository %q is not the GitOps repository", name)}, false
}

func commitMessages(cs []*github.HeadCommit) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.GetMessage())
	}
	return out
}

// planPush runs the loop for a push to the branch, unless every pushed
// commit is one of birdwatch's own decisions.
func (h *Handler) planPush(ref string, deleted bool, messages []string) plan {
	switch {
	case ref != "refs/heads/"+h.cfg.Branch:
		return plan{kind: planIgnore, reason: fmt.Sprintf("push to %s, not to branch %s", ref, h.cfg.Branch)}
	case deleted:
		return plan{kind: planIgnore, reason: "the branch was deleted"}
	case len(messages) > 0 && allBirdwatch(messages):
		return plan{kind: planIgnore, reason: "birdwatch's own decision commits"}
	}
	return plan{kind: planRun}
}

// isBirdwatchCommit reports whether a commit message is a birdwatch decision's.
func isBirdwatchCommit(message string) bool {
	return strings.Contains(message, "\nBirdwatch-Decision: ")
}

func allBirdwatch(messages []string) bool {
	for _, m := range messages {
		if !isBirdwatchCommit(m) {
			return false
		}
	}
	return true
}

func (h *Handler) planPull(action string, pr *github.PullRequest) plan {
	base := pr.GetBase().GetRef()
	if base != h.cfg.Branch {
		return plan{kind: planIgnore, reason: fmt.Sprintf("pull request into %s, not %s", base, h.cfg.Branch)}
	}
	p := PullRequest{Number: pr.GetNumber(), HeadSHA: pr.GetHead().GetSHA(), HTMLURL: pr.GetHTMLURL()}
	switch {
	case action == "closed" && pr.GetMerged():
		return plan{kind: planMerged, pr: p}
	case action == "opened" || action == "synchronize" || action == "reopened" || action == "ready_for_review":
		return plan{kind: planValidate, pr: p}
	}
	return plan{kind: planIgnore, reason: fmt.Sprintf("pull_request action %q", action)}
}

// planComment turns a new PR comment holding a /birdwatch line into a command.
func planComment(e *github.IssueCommentEvent) plan {
	switch {
	case e.GetAction() != "created":
		return plan{kind: planIgnore, reason: fmt.Sprintf("issue_comment action %q", e.GetAction())}
	case !e.GetIssue().IsPullRequest():
		return plan{kind: planIgnore, reason: "comment on an issue, not a pull request"}
	case e.GetSender().GetType() == "Bot" || e.GetComment().GetUser().GetType() == "Bot":
		return plan{kind: planIgnore, reason: "comment by a bot"}
	}
	cmd, found, err := parseCommand(e.GetComment().GetBody())
	if !found {
		return plan{kind: planIgnore, reason: "no /birdwatch command in the comment"}
	}
	p := plan{kind: planCommand, source: sourceGitHub, cmd: cmd, commentID: e.GetComment().GetID(), commentAt: e.GetComment().GetCreatedAt().Time,
		actor: auth.Identity{Provider: auth.ProviderGitHub, User: e.GetComment().GetUser().GetLogin()},
		pr:    PullRequest{Number: e.GetIssue().GetNumber(), HTMLURL: e.GetIssue().GetHTMLURL()}}
	if err != nil {
		p.cmdErr = err.Error()
	}
	if p.commentID == 0 || p.actor.User == "" {
		return plan{kind: planIgnore, reason: "comment without id or author"}
	}
	return p
}

// planCheckRun re-runs the loop or the validation when a person re-runs
// one of birdwatch's check runs (told apart by external_id).
func planCheckRun(e *github.CheckRunEvent) plan {
	if e.GetAction() != "rerequested" {
		return plan{kind: planIgnore, reason: fmt.Sprintf("check_run action %q", e.GetAction())}
	}
	id := e.GetCheckRun().GetExternalID()
	switch {
	case strings.HasPrefix(id, checkCanaryPrefix):
		return plan{kind: planRun, canary: strings.TrimPrefix(id, checkCanaryPrefix)}
	case id == checkValidate:
		for _, pr := range e.GetCheckRun().PullRequests {
			return plan{kind: planValidate, pr: PullRequest{Number: pr.GetNumber(), HeadSHA: e.GetCheckRun().GetHeadSHA()}}
		}
		return plan{kind: planIgnore, reason: "validation re-run without a pull request"}
	}
	return plan{kind: planIgnore, reason: "not a birdwatch check run"}
}
