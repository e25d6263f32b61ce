package chatops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/command"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/functions/worker"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/slack-go/slack"
)

// DefaultResponseURLPrefixes are where Slack's response URLs point (Slack
// and GovSlack); Runner posts nowhere else.
var DefaultResponseURLPrefixes = []string{"https://hooks.slack.com/", "https://hooks.slack-gov.com/"}

// Loop is one repository's loop; *core.Engine implements it.
type Loop interface {
	Fleet(ctx context.Context) ([]core.Entry, error)
	Run(ctx context.Context, req core.Request) ([]core.Outcome, error)
}

// Runner runs jobs and posts each result to the job's response URL. Its
// fields are set once; it is then safe for concurrent use.
type Runner struct {
	// Loops are the configured repositories' loops; a canary is looked up in all.
	Loops []Loop
	// Authorizer checks commands; nil means Access{} (functions/auth on
	// spec.access, user entries only, deny by default).
	Authorizer Authorizer
	// HTTPClient posts results; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// ResponseURLPrefixes are the allowed response URL prefixes; nil means DefaultResponseURLPrefixes.
	ResponseURLPrefixes []string
	// Log receives one line per job; nil discards.
	Log *slog.Logger
}

// Process runs a job sent by SQSDispatcher: it is the worker.Processor for
// MessageType. A job that cannot be answered is dropped (worker.Permanent);
// a result that could not be posted is returned for a retry, which the
// command ID makes safe.
func (r *Runner) Process(ctx context.Context, body []byte) error {
	j, err := DecodeJob(body)
	if err != nil {
		return worker.Permanent(err)
	}
	return r.Run(ctx, j)
}

// Run does j and posts the answer: the status blocks, the decision blocks
// (in the channel; replacing the clicked message when a button changed
// something), or, only to the user, a refusal or an error.
func (r *Runner) Run(ctx context.Context, j Job) error {
	start := time.Now()
	if err := j.validate(); err != nil {
		r.log(slog.LevelError, j, start, "job dropped", "error", err)
		return worker.Permanent(err)
	}
	if !r.allowedURL(j.ResponseURL) {
		err := fmt.Errorf("%w: response URL outside %v", ErrBadJob, r.prefixes())
		r.log(slog.LevelError, j, start, "job dropped", "error", err)
		return worker.Permanent(err)
	}
	msg, outcome, err := r.answer(ctx, j)
	if err != nil {
		outcome = "error: " + err.Error()
		msg = &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral,
			Text: fmt.Sprintf("birdwatch could not %s: %s", j.Kind, escape(err.Error()))}
	}
	if err := slack.PostWebhookCustomHTTPContext(ctx, j.ResponseURL, r.client(), msg); err != nil {
		err = fmt.Errorf("post the result to Slack: %w", redactURL(err, j.ResponseURL))
		r.log(slog.LevelWarn, j, start, "job answer failed", "outcome", outcome, "error", err)
		return err
	}
	r.log(slog.LevelInfo, j, start, "job done", "outcome", outcome)
	return nil
}

// found is a canary found in one of the loops.
type found struct {
	loop  Loop
	entry core.Entry
}

// answer builds the reply to j, in command.Answer's words (the same as
// PR comments'), and a short outcome for the log.
func (r *Runner) answer(ctx context.Context, j Job) (*slack.WebhookMessage, string, error) {
	hits, fleet, readErr := r.find(ctx, j.Canary)
	if readErr != nil && len(hits) == 0 {
		return nil, "", readErr
	}
	if j.Kind == KindStatus {
		blocks := report.SlackFleetBlocks(fleet)
		if readErr != nil {
			blocks = append(blocks, contextBlock(":warning: "+escape(readErr.Error())))
		}
		return &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: "birdwatch status",
			Blocks: &slack.Blocks{BlockSet: blocks}}, "status", nil
	}
	a := command.Answer{Verb: string(j.Kind), Actor: "<@" + j.UserID + ">"}
	refuse := func(c command.Case, why string) (*slack.WebhookMessage, string, error) {
		a.Case, a.Why = c, why
		return refusal(a.Text(escape)), a.Result() + ": " + why, nil
	}
	switch len(hits) {
	case 0:
		return refuse(command.NoCanary, fmt.Sprintf("%s: %v", j.Canary, core.ErrUnknownCanary))
	case 1:
	default:
		return refuse(command.NoCanary, fmt.Sprintf("%s: %v", j.Canary, ErrAmbiguousCanary))
	}
	c := hits[0].entry.Canary
	a.Canary = c.Key()
	if err := r.authorizer().Allowed(ctx, c, j.Actor()); err != nil {
		return refuse(command.NotAllowed, err.Error())
	}
	if current := currentGeneration(hits[0].entry); j.Generation != "" && j.Generation != current {
		return refuse(command.Stale, fmt.Sprintf("that message is about %s %s, and the rollout is now at %s", j.Canary, j.Generation, current))
	}
	if st := hits[0].entry.Status; st != nil {
		if slices.Contains(st.HandledCommands, j.CommandID()) {
			a.Case = command.AlreadyApplied
			return refusal(a.Text(escape)), "done: already applied", nil
		}
		// Slack's timestamps are whole seconds: a change in the command's
		// own second does not count (a click right after a report).
		if n := len(st.History); n > 0 && !j.IssuedAt.IsZero() && st.History[n-1].At.Truncate(time.Second).After(j.IssuedAt) {
			last := st.History[n-1]
			return refuse(command.Stale, fmt.Sprintf("the rollout changed after it was given (%s at %s; the command is from %s): give it again if it still applies",
				last.Decision, last.At.UTC().Format(time.RFC3339), j.IssuedAt.UTC().Format(time.RFC3339)))
		}
	}
	out, err := hits[0].loop.Run(ctx, j.Request(c.Key()))
	if err == nil && len(out) != 1 {
		err = fmt.Errorf("%s: the loop decided for %d canaries, want 1", j.Canary, len(out))
	}
	if err != nil {
		return nil, "", err
	}
	o := out[0]
	d := report.Decision{Canary: o.Canary, Steps: len(c.Spec.Steps), Decision: o.Decision, Analysis: o.Analysis,
		Commit: o.Commit, Err: o.Err}
	if o.Err == nil && o.Decision.Refused != "" && o.Commit == "" {
		return refuse(command.NotApplied, o.Decision.Refused)
	}
	a.Case = command.Done
	if o.Err != nil {
		a.Case, a.Why = command.Failed, o.Err.Error()
	}
	blocks := append(report.SlackDecisionBlocks(d), contextBlock(a.Text(escape)))
	msg := &slack.WebhookMessage{ResponseType: slack.ResponseTypeInChannel, Text: report.SlackDecisionText(d),
		Blocks: &slack.Blocks{BlockSet: blocks}, ReplaceOriginal: j.FromButton && o.Commit != ""}
	if o.Err != nil {
		return msg, "error: " + o.Err.Error(), nil
	}
	return msg, fmt.Sprintf("%s [%s]", o.Decision.Action, o.Commit), nil
}

// find reads every loop's fleet and returns the entries named canary
// (all of them for ""), the fleet the status answer shows, and the joined
// errors of the repositories that could not be read: one unreachable
// repository does not stop commands to canaries of the others.
func (r *Runner) find(ctx context.Context, canary string) ([]found, []report.FleetEntry, error) {
	var hits []found
	var fleet []report.FleetEntry
	var errs []error
	for _, l := range r.Loops {
		entries, err := l.Fleet(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("read canaries: %w", err))
			continue
		}
		for _, e := range entries {
			if canary == "" || len(command.Match([]string{e.Canary.Key()}, canary)) == 1 {
				hits = append(hits, found{loop: l, entry: e})
				fleet = append(fleet, e)
			}
		}
	}
	return hits, fleet, errors.Join(errs...)
}

// currentGeneration is the canary version being rolled out: the spec's
// canary (a new one starts a new rollout at the next run).
func currentGeneration(e core.Entry) string { return e.Canary.Spec.Canary }

// contextBlock is a context block of mrkdwn text; text is not escaped.
func contextBlock(text string) *slack.ContextBlock {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, text, false, false))
}

// escape escapes Slack mrkdwn's reserved characters.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// refusal is an answer only the user sees.
func refusal(text string) *slack.WebhookMessage {
	return &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: text}
}

func (r *Runner) allowedURL(u string) bool {
	for _, p := range r.prefixes() {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

func (r *Runner) prefixes() []string {
	if r.ResponseURLPrefixes != nil {
		return r.ResponseURLPrefixes
	}
	return DefaultResponseURLPrefixes
}

func (r *Runner) authorizer() Authorizer {
	if r.Authorizer != nil {
		return r.Authorizer
	}
	return Access{}
}

func (r *Runner) client() *http.Client {
	if r.HTTPClient != nil {
		return r.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// redactURL keeps a response URL, a bearer capability, out of an error's text.
func redactURL(err error, u string) error {
	if u == "" || !strings.Contains(err.Error(), u) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), u, "<response_url>"))
}

func (r *Runner) log(level slog.Level, j Job, start time.Time, msg string, attrs ...any) {
	if r.Log == nil {
		return
	}
	attrs = append([]any{"kind", j.Kind, "canary", j.Canary, "actor", j.Actor(), "command", j.CommandID(),
		"button", j.FromButton, "took", time.Since(start).Round(time.Millisecond)}, attrs...)
	r.Log.Log(context.Background(), level, msg, attrs...)
}
