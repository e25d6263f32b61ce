// Package notify reports committed decisions where people work, beyond the
// pull request: Slack channels named by spec.notify.slack here, and through
// the subpackages Microsoft Teams, Discord, Google Chat and signed
// CloudEvents (spec.notify.teams, .discord, .googleChat, .webhook). The
// Dispatcher delivers to all of them in the background with bounded
// retries, so no notifier can delay or fail a decision.
package notify

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/slack-go/slack"
)

// SlackPoster is the Slack Web API calls the notifier makes; slack-go's
// *slack.Client implements it. UploadFileContext is slack-go's three-step
// upload (files.getUploadURLExternal, the upload, files.completeUploadExternal;
// UploadFileV2Context in older slack-go releases).
type SlackPoster interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
}

// Slack posts each committed decision of a canary with spec.notify.slack to
// its channel, as Block Kit blocks with promote/abort buttons
// (report.SlackDecisionBlocks) and a plain-text fallback. With Series set it
// then uploads the PNG chart of the decisive metric (report.ChartPNG) as a
// reply in the message's thread. It is safe for concurrent use when Poster
// and Series are.
type Slack struct {
	Poster SlackPoster
	// Series fetches the metrics over the rollout for the chart; nil means
	// no chart is uploaded.
	Series metrics.RangeProvider
	// Chart sizes the uploaded chart; the zero value is report's default.
	Chart report.ChartOptions
	// CommitURL links the decision's commit; nil leaves the hash unlinked.
	CommitURL func(hash string) string
}

// Wants reports whether c's spec.notify.slack takes o's decision.
func (s *Slack) Wants(c *spec.Canary, o core.Outcome) bool {
	return c.Spec.Notify.Slack != nil && Committed(c.Spec.Notify.Slack.On, o)
}

// NewSlack returns a notifier posting with a bot token; apiURL overrides
// Slack's API base (tests, proxies) when not empty. The token is never
// logged. Set Series on the result to upload charts.
func NewSlack(token, apiURL string) *Slack {
	var opts []slack.Option
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	return &Slack{Poster: slack.New(token, opts...)}
}

// Notify posts o to c's Slack channel; a canary without spec.notify.slack,
// or whose `on` levels leave o's decision out, is skipped. A chart that cannot be built or uploaded is returned as an error
// after the message was posted (the engine logs it; the decision stands).
func (s *Slack) Notify(ctx context.Context, c *spec.Canary, o core.Outcome) error {
	if c.Spec.Notify.Slack == nil || !spec.Wants(c.Spec.Notify.Slack.On, string(o.Decision.Action)) {
		return nil
	}
	d := s.composer().Decision(c, o)
	channel := c.Spec.Notify.Slack.Channel
	channelID, ts, err := s.Poster.PostMessageContext(ctx, channel, slack.MsgOptionBlocks(report.SlackDecisionBlocks(d)...),
		slack.MsgOptionText(report.SlackDecisionText(d), false))
	if err != nil {
		return fmt.Errorf("post %s decision to Slack %s: %w", o.Canary, channel, err)
	}
	if s.Series == nil {
		return nil
	}
	if err := s.uploadChart(ctx, c, o, channelID, ts); err != nil {
		// Permanent: another attempt would post the message twice.
		return Permanent(fmt.Errorf("upload %s chart to Slack %s: %w", o.Canary, channel, err))
	}
	return nil
}

func (s *Slack) composer() Composer {
	return Composer{Series: s.Series, Chart: s.Chart, CommitURL: s.CommitURL}
}

// uploadChart builds the report of o the way `birdwatch report` does and
// uploads the decisive metric's chart into the thread ts of channelID (the
// channel ID chat.postMessage answered with: files.completeUploadExternal
// takes IDs, not names). A spec without metrics uploads nothing.
func (s *Slack) uploadChart(ctx context.Context, c *spec.Canary, o core.Outcome, channelID, ts string) error {
	chart, file, ok, err := s.composer().ChartPNG(ctx, c, o)
	if err != nil || !ok {
		return err
	}
	_, err = s.Poster.UploadFileContext(ctx, slack.UploadFileParameters{
		Reader: bytes.NewReader(chart.PNG), FileSize: len(chart.PNG), Filename: file,
		Title: chart.Title, AltTxt: chart.Title, Channel: channelID, ThreadTimestamp: ts,
	})
	return err
}

// DecisiveMetric is the metric whose chart explains r's decision: the
// first failed one (High or Low) in spec order, else the first one; false
// when r has no metric.
func DecisiveMetric(r report.Report) (string, bool) {
	if len(r.Metrics) == 0 {
		return "", false
	}
	for _, m := range r.Metrics {
		if judge.Classification(m.Classification).Failed() {
			return m.Name, true
		}
	}
	return r.Metrics[0].Name, true
}

// chartFileName is NAMESPACE_NAME_METRIC.png with anything but letters,
// digits, dot and dash replaced by "_" (like `birdwatch report --png`).
func chartFileName(canary, metric string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, canary+"_"+metric) + ".png"
}
