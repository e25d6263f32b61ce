package webhook

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/command"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// replyMarker identifies birdwatch's answer to one comment, so a
// redelivered command is answered once.
func replyMarker(commentID int64) string {
	return fmt.Sprintf("<!-- birdwatch:reply:%d -->", commentID)
}

// answer is the reply to one command.
type answer struct {
	result   string // done, refused, failed
	text     string // Markdown
	outcomes []core.Outcome
}

// command answers a /birdwatch comment: it checks the command was not
// already answered, resolves the canary, authorizes, runs it and replies.
func (h *Handler) command(ctx context.Context, p plan) (Response, error) {
	f := h.forge(p.source)
	repo := f.Repository
	marker := replyMarker(p.commentID)
	if f.Comments != nil {
		login, err := f.login(ctx)
		if err != nil {
			return Response{}, err
		}
		cs, err := f.Comments.ListComments(ctx, repo, p.pr.Number)
		if err != nil {
			return Response{}, err
		}
		if slices.ContainsFunc(cs, func(c Comment) bool { return ours(c, login, marker) }) {
			return ignored("comment %d was already answered", p.commentID), nil
		}
	}
	a, err := h.decideCommand(ctx, p)
	if err != nil {
		return Response{}, err
	}
	resp := Response{Result: a.result, Detail: firstLine(a.text), Outcomes: summarize(a.outcomes)}
	if f.Comments != nil {
		body := marker + "\n" + quoteLine(p.cmd.line) + "\n\n" + a.text
		if _, err := f.Comments.CreateComment(ctx, repo, p.pr.Number, body); err != nil {
			resp.Warnings = append(resp.Warnings, err.Error())
		}
	}
	if err := h.Report(ctx, a.outcomes); err != nil {
		resp.Warnings = append(resp.Warnings, err.Error())
	}
	return resp, nil
}

// decideCommand does the command and answers it in command.Answer's
// words, the same as Slack's. Errors returned are transient (the delivery
// should be retried); refusals are answers.
func (h *Handler) decideCommand(ctx context.Context, p plan) (answer, error) {
	a := command.Answer{Verb: p.cmd.verb, Actor: "@" + p.actor.User}
	say := func(c command.Case, why string, more string, outcomes []core.Outcome) answer {
		a.Case, a.Why = c, why
		text := a.Text(mdText)
		if more != "" {
			text += "\n\n" + more
		}
		return answer{result: a.Result(), text: text, outcomes: outcomes}
	}
	if p.cmdErr != "" {
		a.Verb = ""
		return say(command.Unparsable, p.cmdErr, "", nil), nil
	}
	if age := h.cfg.Now().Sub(p.commentAt); p.commentAt.IsZero() || age > h.cfg.MaxCommandAge {
		return say(command.TooOld, fmt.Sprintf("this comment was written %s, more than %s ago",
			p.commentAt.UTC().Format(time.RFC3339), h.cfg.MaxCommandAge), "", nil), nil
	}
	entries, err := h.cfg.Engine.Fleet(ctx)
	if errors.Is(err, spec.ErrInvalid) {
		return say(command.Failed, "the canary specs on "+h.cfg.Branch+" are invalid", "```\n"+err.Error()+"\n```", nil), nil
	}
	if err != nil {
		return answer{}, fmt.Errorf("read canaries: %w", err)
	}
	entry, why, err := h.resolveCanary(ctx, entries, p)
	if err != nil {
		return answer{}, err
	}
	if entry == nil {
		return say(command.NoCanary, why, "", nil), nil
	}
	key := entry.Canary.Key()
	if p.cmd.verb == verbStatus {
		return answer{result: "done", text: report.StatusMarkdown(*entry, 10)}, nil
	}
	a.Canary = key
	if h.cfg.Authorizer == nil {
		return say(command.NoAuthorizer, "", "", nil), nil
	}
	dec := h.cfg.Authorizer.Authorize(ctx, key, entry.Canary.Spec.Access, p.actor)
	if !dec.Allowed {
		h.log.Warn("command refused", "canary", key, "command", p.cmd.verb, "actor", p.actor.String(), "reason", dec.Reason)
		return say(command.NotAllowed, dec.Reason, "", nil), nil
	}
	id := commandID(cmp.Or(p.source, sourceGitHub), p.commentID)
	if st := entry.Status; st != nil && slices.Contains(st.HandledCommands, id) {
		return say(command.AlreadyApplied, "", "", nil), nil
	}
	cmd := &rollout.Command{Kind: commandKinds[p.cmd.verb], Actor: p.actor.String(), ID: id}
	outcomes, err := h.cfg.Engine.Run(ctx, core.Request{Canary: key, Command: cmd, Trigger: Trigger})
	if err != nil {
		return answer{}, fmt.Errorf("run %s for %s: %w", p.cmd.verb, key, err)
	}
	if len(outcomes) != 1 {
		return answer{}, fmt.Errorf("run %s for %s: %d outcomes", p.cmd.verb, key, len(outcomes))
	}
	o := outcomes[0]
	md := report.DecisionMarkdown(report.Decision{Canary: key, Steps: len(entry.Canary.Spec.Steps), Decision: o.Decision,
		Analysis: o.Analysis, Commit: o.Commit, CommitURL: h.forge(p.source).commitURL(o.Commit), Err: o.Err})
	switch {
	case o.Err != nil:
		return say(command.Failed, o.Err.Error(), md, outcomes), nil
	case o.Decision.Refused != "":
		return say(command.NotApplied, o.Decision.Refused, md, outcomes), nil
	}
	return say(command.Done, "", md, outcomes), nil
}

// resolveCanary finds the canary a command is for: the one named, else the
// only canary of the repository, else the only one whose spec the pull
// request changes. A nil entry comes with the reason.
func (h *Handler) resolveCanary(ctx context.Context, entries []core.Entry, p plan) (*core.Entry, string, error) {
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = e.Canary.Key()
	}
	list := "`" + strings.Join(keys, "`, `") + "`"
	if t := p.cmd.target; t != "" {
		var found []*core.Entry
		for i, e := range entries {
			if e.Canary.Key() == t || (!strings.Contains(t, "/") && e.Canary.Metadata.Name == t) {
				found = append(found, &entries[i])
			}
		}
		switch len(found) {
		case 1:
			return found[0], "", nil
		case 0:
			return nil, fmt.Sprintf("no canary %q (have %s)", t, list), nil
		}
		return nil, fmt.Sprintf("%q names several canaries: give namespace/name (have %s)", t, list), nil
	}
	switch {
	case len(entries) == 1:
		return &entries[0], "", nil
	case len(entries) == 0:
		return nil, "the repository has no canary", nil
	case h.forge(p.source).Pulls == nil:
		return nil, nameIt(p.cmd.verb, list), nil
	}
	f := h.forge(p.source)
	files, err := f.Pulls.ChangedFiles(ctx, f.Repository, p.pr.Number)
	if err != nil {
		return nil, "", err
	}
	var found []*core.Entry
	for i, e := range entries {
		if slices.ContainsFunc(files, func(f ChangedFile) bool { return f.Path == e.Canary.File }) {
			found = append(found, &entries[i])
		}
	}
	if len(found) == 1 {
		return found[0], "", nil
	}
	return nil, nameIt(p.cmd.verb, list), nil
}

func nameIt(verb, list string) string {
	return fmt.Sprintf("name the canary: `%s %s namespace/name` (have %s)", commandPrefix, verb, list)
}

// mdText keeps reasons from breaking the reply's Markdown.
func mdText(s string) string {
	return strings.NewReplacer("<", "&lt;", "\n", " ", "`", "'").Replace(s)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
