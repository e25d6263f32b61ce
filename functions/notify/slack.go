// Package notify reports committed decisions where people work, beyond the
// pull request: Slack channels named by spec.notify.
package notify

import (
	"context"
	"fmt"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/slack-go/slack"
)

// SlackPoster is the one Slack Web API call the notifier makes; slack-go's
// *slack.Client implements it.
type SlackPoster interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
}

// Slack posts each committed decision of a canary with spec.notify.slack to
// its channel, as Block Kit blocks with promote/abort buttons
// (report.SlackDecisionBlocks) and a plain-text fallback. It is safe for
// concurrent use when Poster is.
type Slack struct {
	Poster SlackPoster
}

// NewSlack returns a notifier posting with a bot token; apiURL overrides
// Slack's API base (tests, proxies) when not empty. The token is never logged.
func NewSlack(token, apiURL string) *Slack {
	var opts []slack.Option
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	return &Slack{Poster: slack.New(token, opts...)}
}

// Notify posts o to c's Slack channel; a canary without spec.notify.slack is skipped.
func (s *Slack) Notify(ctx context.Context, c *spec.Canary, o core.Outcome) error {
	if c.Spec.Notify.Slack == nil {
		return nil
	}
	d := report.Decision{Canary: o.Canary, Steps: len(c.Spec.Steps), Decision: o.Decision, Analysis: o.Analysis, Commit: o.Commit}
	channel := c.Spec.Notify.Slack.Channel
	if _, _, err := s.Poster.PostMessageContext(ctx, channel, slack.MsgOptionBlocks(report.SlackDecisionBlocks(d)...),
		slack.MsgOptionText(report.SlackDecisionText(d), false)); err != nil {
		return fmt.Errorf("post %s decision to Slack %s: %w", o.Canary, channel, err)
	}
	return nil
}
