package report

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/slack-go/slack"
)

// Action IDs of the buttons on a Slack decision message. functions/chatops
// receives them back in block_actions payloads.
const (
	SlackActionPromote = "birdwatch_promote"
	SlackActionAbort   = "birdwatch_abort"
)

// Block Kit limits (https://api.slack.com/reference/block-kit/blocks).
const (
	slackHeaderMax   = 150  // header text, characters
	slackSectionMax  = 3000 // section text, characters
	slackMaxBlocks   = 50   // blocks per message
	slackFleetBlocks = 45   // canary sections in a fleet message, leaving room for the rest
)

// SlackDecisionBlocks renders d as Block Kit blocks: a header, the weight
// change and reason, the analysis table, the commit, and promote/abort
// buttons while the rollout can still be steered. Buttons carry
// SlackButtonValue(canary, generation), so a click on an old report cannot
// act on a newer rollout. Actors written "slack:ID" become mentions.
func SlackDecisionBlocks(d Decision) []slack.Block {
	st := d.Decision.Status
	if d.Err != nil {
		return []slack.Block{slack.NewHeaderBlock(slackPlain(d.Canary+": error", slackHeaderMax)),
			slackSection(":warning: " + slackEscape(d.Err.Error()))}
	}
	head := fmt.Sprintf("%s %s: %s", d.Canary, st.Generation, d.Decision.Action)
	blocks := []slack.Block{slack.NewHeaderBlock(slackPlain(head, slackHeaderMax))}

	var facts []string
	if w := d.Decision.SetWeight; w != nil {
		facts = append(facts, fmt.Sprintf("canary weight *%d%% → %d%%*", d.Decision.From, *w))
	} else {
		facts = append(facts, fmt.Sprintf("canary weight *%d%%*", st.Weight))
	}
	if rt := RoutesText(st.Routes); rt != "" {
		facts = append(facts, "routes: "+slackEscape(rt))
	}
	if d.Steps > 0 {
		facts = append(facts, fmt.Sprintf("step %d/%d", min(st.Step, d.Steps), d.Steps))
	}
	facts = append(facts, "phase *"+slackOrDash(string(st.Phase))+"*")
	text := strings.Join(facts, " · ")
	if d.Decision.Reason != "" {
		text += "\n" + slackMentions(slackEscape(d.Decision.Reason))
	}
	if d.Decision.Refused != "" {
		text += "\n:no_entry: " + slackMentions(slackEscape(d.Decision.Refused))
	}
	blocks = append(blocks, slackSection(text))
	if d.Analysis != nil {
		blocks = append(blocks, slackSection(slackAnalysisText(d.Analysis)))
	}
	ctx := "no commit"
	if d.Commit != "" {
		short := slackEscape(d.Commit[:min(len(d.Commit), 8)])
		ctx = "commit `" + short + "`"
		if d.CommitURL != "" {
			ctx = "commit <" + slackEscape(d.CommitURL) + "|" + short + ">"
		}
	}
	blocks = append(blocks, slack.NewContextBlock("", slackMarkdown(ctx+" · birdwatch")))
	if btns := slackButtons(d.Canary, st); len(btns) > 0 {
		blocks = append(blocks, slack.NewActionBlock("birdwatch_actions", btns...))
	}
	return blocks
}

// SlackDecisionText is the notification fallback of SlackDecisionBlocks.
func SlackDecisionText(d Decision) string {
	if d.Err != nil {
		return d.Canary + ": error"
	}
	return fmt.Sprintf("%s %s: %s", d.Canary, d.Decision.Status.Generation, d.Decision.Action)
}

// slackActor matches actors recorded as "slack:USERID" (already escaped text).
var slackActor = regexp.MustCompile(`\bslack:([UW][A-Z0-9]{2,20})\b`)

// slackMentions turns "slack:U024BE7LH" into a mention of that user.
func slackMentions(s string) string { return slackActor.ReplaceAllString(s, "<@$1>") }

// slackAnalysisText is the analysis table as a code block, with a verdict line.
func slackAnalysisText(r *judge.Result) string {
	icon := map[judge.Verdict]string{judge.VerdictPass: ":white_check_mark:", judge.VerdictFail: ":x:"}[r.Verdict]
	if icon == "" {
		icon = ":grey_question:"
	}
	head := fmt.Sprintf("%s analysis *%s*, score %.0f (%s judge)\n", icon, r.Verdict, r.Score, r.Judge)
	table := AnalysisTable(r)
	// The code block keeps columns aligned; what does not fit is cut.
	room := slackSectionMax - utf8.RuneCountInString(head) - len("``````…")
	return head + "```" + slackTruncate(slackEscape(table), room) + "```"
}

// slackButtons returns the steering buttons that apply in st's phase: promote
// only while paused (it is what ends a pause), abort while the rollout is live.
func slackButtons(canary string, st spec.Status) []slack.BlockElement {
	value := SlackButtonValue(canary, st.Generation)
	var out []slack.BlockElement
	if st.Phase == spec.PhasePaused {
		out = append(out, slack.NewButtonBlockElement(SlackActionPromote, value, slackPlain("Promote", 75)).
			WithStyle(slack.StylePrimary))
	}
	if st.Generation != "" && !st.Phase.Terminal() {
		confirm := slack.NewConfirmationBlockObject(slackPlain("Abort the rollout?", 100),
			slackMarkdown(fmt.Sprintf("Roll %s %s back to weight 0?", slackEscape(canary), slackEscape(st.Generation))),
			slackPlain("Abort", 30), slackPlain("Cancel", 30)).WithStyle(slack.StyleDanger)
		out = append(out, slack.NewButtonBlockElement(SlackActionAbort, value, slackPlain("Abort", 75)).
			WithStyle(slack.StyleDanger).WithConfirm(confirm))
	}
	return out
}

// SlackFleetBlocks renders every canary's status, one section each; past
// what fits in one message, a context line counts the rest.
func SlackFleetBlocks(fleet []FleetEntry) []slack.Block {
	blocks := []slack.Block{slack.NewHeaderBlock(slackPlain(fmt.Sprintf("birdwatch: %d canaries", len(fleet)), slackHeaderMax))}
	if len(fleet) == 0 {
		return append(blocks, slackSection("No canary matches."))
	}
	for i, en := range fleet {
		if i == slackFleetBlocks {
			blocks = append(blocks, slack.NewContextBlock("", slackMarkdown(fmt.Sprintf("and %d more", len(fleet)-i))))
			break
		}
		blocks = append(blocks, slackSection(slackFleetText(en)))
	}
	return blocks[:min(len(blocks), slackMaxBlocks)]
}

// slackFleetText is one canary's status line and its last analysis.
func slackFleetText(en FleetEntry) string {
	c, st := en.Canary, en.Status
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*  %s → %s\n", slackEscape(c.Key()), slackEscape(c.Spec.Stable), slackEscape(c.Spec.Canary))
	if st == nil {
		b.WriteString("not started")
		return b.String()
	}
	fmt.Fprintf(&b, "%s · step %d/%d · canary weight %d%%", st.Phase, StepNumber(st.Step, len(c.Spec.Steps), st.Phase), len(c.Spec.Steps), st.Weight)
	if rt := RoutesText(st.Routes); rt != "" {
		fmt.Fprintf(&b, " · routes: %s", slackEscape(rt))
	}
	if st.Message != "" {
		fmt.Fprintf(&b, " · %s", slackEscape(st.Message))
	}
	if a := st.LastAnalysis; a != nil {
		fmt.Fprintf(&b, "\nlast analysis %s: %s, score %.0f (%s judge)", a.At.UTC().Format("2006-01-02 15:04Z"),
			slackEscape(a.Verdict), a.Score, slackEscape(a.Judge))
	}
	return slackTruncate(b.String(), slackSectionMax)
}

// slackButtonValueRE is "namespace/name@generation"; names are DNS labels and
// versions label values, so neither contains '@'.
var slackButtonValueRE = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?)/([a-z0-9]([-a-z0-9]*[a-z0-9])?)@([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$`)

// ErrSlackButtonValue is returned by ParseSlackButtonValue for a value this package did not make.
var ErrSlackButtonValue = errors.New("not a birdwatch button value")

// SlackButtonValue is the value of a decision message's buttons: the canary
// and the generation (canary version) the message is about.
func SlackButtonValue(canary, generation string) string { return canary + "@" + generation }

// ParseSlackButtonValue splits a button value made by SlackButtonValue.
func ParseSlackButtonValue(v string) (canary, generation string, err error) {
	if len(v) > 200 || !slackButtonValueRE.MatchString(v) {
		return "", "", fmt.Errorf("%w: %.40q", ErrSlackButtonValue, v)
	}
	canary, generation, _ = strings.Cut(v, "@")
	return canary, generation, nil
}

// slackEscape escapes the three characters Slack's mrkdwn reserves
// (https://api.slack.com/reference/surfaces/formatting#escaping).
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func slackPlain(s string, limit int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, slackTruncate(s, limit), false, false)
}

func slackMarkdown(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func slackSection(s string) *slack.SectionBlock {
	return slack.NewSectionBlock(slackMarkdown(slackTruncate(s, slackSectionMax)), nil, nil)
}

// slackTruncate cuts s to at most limit runes, marking the cut with "…".
func slackTruncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)
	return string(r[:max(limit-1, 0)]) + "…"
}

func slackOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
