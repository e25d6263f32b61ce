package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// Decision is one decision as a Markdown report shows it: the fields of a
// functions/core Outcome plus what the report needs from the spec.
type Decision struct {
	// Canary is "namespace/name".
	Canary string
	// Steps is the number of steps in the spec; 0 when unknown.
	Steps    int
	Decision rollout.Decision
	// Analysis is the judged window; nil when none was measured.
	Analysis *judge.Result
	// Commit is the decision commit's hash; empty when nothing was committed.
	Commit string
	// CommitURL links the commit; empty leaves the short hash unlinked.
	CommitURL string
	// Err is the decision's error; nil when it succeeded.
	Err error
	// History is how many of the status' latest history entries to list; 0 lists none.
	History int
}

// DecisionMarkdown renders a decision and its analysis as GitHub-flavoured
// Markdown: a heading, the weight change, the reason, the analysis table and,
// if asked, the recent history. Text from specs and metrics is escaped.
func DecisionMarkdown(d Decision) string {
	var b strings.Builder
	st := d.Decision.Status
	if d.Err != nil {
		fmt.Fprintf(&b, "#### ⚠️ %s: error\n\n%s\n", mdEsc(d.Canary), mdEsc(d.Err.Error()))
		return b.String()
	}
	fmt.Fprintf(&b, "#### %s %s `%s`: %s\n\n", actionIcon(d.Decision.Action), mdEsc(d.Canary), mdCode(st.Generation), d.Decision.Action)
	var facts []string
	if w := d.Decision.SetWeight; w != nil {
		facts = append(facts, fmt.Sprintf("weight **%d%% → %d%%**", d.Decision.From, *w))
	} else {
		facts = append(facts, fmt.Sprintf("weight **%d%%**", st.Weight))
	}
	if rt := RoutesText(st.Routes); rt != "" {
		facts = append(facts, "routes: "+mdEsc(rt))
	}
	if d.Steps > 0 {
		facts = append(facts, fmt.Sprintf("step %d/%d", min(st.Step, d.Steps), d.Steps))
	}
	if st.Phase != "" {
		facts = append(facts, fmt.Sprintf("phase `%s`", mdCode(string(st.Phase))))
	}
	if d.Commit != "" {
		facts = append(facts, "commit "+mdCommitLink(d.Commit, d.CommitURL))
	}
	b.WriteString(strings.Join(facts, " · ") + "\n")
	if d.Decision.Reason != "" {
		fmt.Fprintf(&b, "\n%s\n", mdEsc(d.Decision.Reason))
	}
	if d.Decision.Refused != "" {
		fmt.Fprintf(&b, "\n> **Refused:** %s\n", mdEsc(d.Decision.Refused))
	}
	if d.Analysis != nil {
		b.WriteString("\n" + AnalysisMarkdown(d.Analysis))
	}
	b.WriteString(skipsMarkdown(st.Evidence))
	if d.History > 0 {
		b.WriteString(historyMarkdown(st.History, d.History))
	}
	return b.String()
}

// AnalysisMarkdown renders a judged analysis as a Markdown table, one row
// per metric, and the score line.
func AnalysisMarkdown(r *judge.Result) string {
	var b strings.Builder
	b.WriteString("| metric | result | canary | baseline | detail |\n| :-- | :-- | --: | --: | :-- |\n")
	for _, m := range r.Metrics {
		detail := m.Reason
		if m.EValue > 0 {
			detail = strings.TrimSpace(fmt.Sprintf("%s (e=%.3g)", detail, m.EValue))
		}
		if len(m.LeftOut) > 0 {
			detail = strings.TrimSpace(detail + "; not evidence: " + strings.Join(m.LeftOut, "; "))
		}
		fmt.Fprintf(&b, "| %s | %s %s | %s | %s | %s |\n", mdEsc(m.Name), classIcon(string(m.Classification)), m.Classification,
			mdEsc(FormatValue(m.Canary, m.Unit)), mdEsc(FormatValue(m.Baseline, m.Unit)), mdEsc(detail))
	}
	fmt.Fprintf(&b, "\nScore **%.0f**, verdict **%s** (%s judge).\n", r.Score, r.Verdict, mdEsc(r.Judge))
	if r.Reason != "" {
		fmt.Fprintf(&b, "%s\n", mdEsc(r.Reason))
	}
	return b.String()
}

// StatusMarkdown renders one canary's status as read from Git: phase, step,
// weight, the last analysis and the recent history (at most history entries).
func StatusMarkdown(e FleetEntry, history int) string {
	c, st := e.Canary, e.Status
	var b strings.Builder
	if st == nil {
		fmt.Fprintf(&b, "#### %s: not started\n\ncanary `%s`, stable `%s`; the next run starts the rollout.\n",
			mdEsc(c.Key()), mdCode(c.Spec.Canary), mdCode(c.Spec.Stable))
		return b.String()
	}
	fmt.Fprintf(&b, "#### %s `%s` (stable `%s`)\n\n", mdEsc(c.Key()), mdCode(st.Generation), mdCode(st.Stable))
	fmt.Fprintf(&b, "phase `%s` · step %d/%d · weight **%d%%**", mdCode(string(st.Phase)), StepNumber(st.Step, len(c.Spec.Steps), st.Phase), len(c.Spec.Steps), st.Weight)
	if st.WeightSetAt != nil {
		fmt.Fprintf(&b, " since %s", mdTime(*st.WeightSetAt))
	}
	if rt := RoutesText(st.Routes); rt != "" {
		fmt.Fprintf(&b, " · routes: %s", mdEsc(rt))
	}
	b.WriteString("\n")
	if st.Message != "" {
		fmt.Fprintf(&b, "\n%s\n", mdEsc(st.Message))
	}
	if a := st.LastAnalysis; a != nil {
		fmt.Fprintf(&b, "\nLast analysis at %s:\n\n", mdTime(a.At))
		b.WriteString("| metric | result | canary | baseline | detail |\n| :-- | :-- | --: | --: | :-- |\n")
		for _, m := range a.Metrics {
			detail := m.Reason
			if len(m.LeftOut) > 0 {
				detail = strings.TrimSpace(detail + "; not evidence: " + strings.Join(m.LeftOut, "; "))
			}
			fmt.Fprintf(&b, "| %s | %s %s | %s | %s | %s |\n", mdEsc(m.Name), classIcon(m.Classification), mdEsc(m.Classification),
				mdEsc(formatPtr(m.Canary, m.Unit)), mdEsc(formatPtr(m.Baseline, m.Unit)), mdEsc(detail))
		}
		fmt.Fprintf(&b, "\nScore **%.0f**, verdict **%s** (%s judge).\n", a.Score, mdEsc(a.Verdict), mdEsc(a.Judge))
	}
	b.WriteString(skipsMarkdown(st.Evidence))
	if history > 0 {
		b.WriteString(historyMarkdown(st.History, history))
	}
	return b.String()
}

// skipsMarkdown says, per metric, what the rollout's looks left out of
// the evidence and the last reasons; "" when nothing was.
func skipsMarkdown(ev map[string]spec.Evidence) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(ev)) {
		s := ev[name].Skips
		if s == nil {
			continue
		}
		fmt.Fprintf(&b, "\n**%s: bad input, not evidence:** %s skipped, %s left out", mdEsc(name),
			mdCount(s.Windows, "look"), mdCount(s.Pods, "pod"))
		if len(s.Last) > 0 {
			b.WriteString("; last:")
			for _, why := range s.Last {
				fmt.Fprintf(&b, "\n- %s", mdEsc(why))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// mdCount is "1 look", "3 looks".
func mdCount(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// historyMarkdown renders the last n history entries, newest first, folded.
func historyMarkdown(h []spec.HistoryEntry, n int) string {
	if len(h) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n<details><summary>History (%d of %d)</summary>\n\n", min(n, len(h)), len(h))
	b.WriteString("| time | decision | step | weight | trigger | reason |\n| :-- | :-- | --: | --: | :-- | :-- |\n")
	for i := len(h) - 1; i >= 0 && i >= len(h)-n; i-- {
		e := h[i]
		fmt.Fprintf(&b, "| %s | %s | %d | %d%% | %s | %s |\n", mdTime(e.At), mdEsc(e.Decision), e.Step, e.Weight, mdEsc(e.Trigger), mdEsc(e.Reason))
	}
	b.WriteString("\n</details>\n")
	return b.String()
}

// ValidatedFile is the outcome of validating one spec file of a pull request.
type ValidatedFile struct {
	// Path is the repository path of the file.
	Path string
	// Canaries are the valid canaries read from the file.
	Canaries []*spec.Canary
	// Problems are what is wrong with it; empty when valid.
	Problems []spec.Problem
	// Err is a failure to read the file (not a problem in it); "" when read.
	Err string
}

// ValidationMarkdown renders the validation of a pull request's spec files:
// a verdict, one row per canary found, and every problem with file:line.
func ValidationMarkdown(files []ValidatedFile) string {
	problems := 0
	for _, f := range files {
		problems += len(f.Problems)
		if f.Err != "" {
			problems++
		}
	}
	var b strings.Builder
	if problems == 0 {
		fmt.Fprintf(&b, "#### ✅ Canary specs valid (%d file%s)\n\n", len(files), mdPlural(len(files)))
	} else {
		fmt.Fprintf(&b, "#### ❌ Canary specs: %d problem%s\n\n", problems, mdPlural(problems))
	}
	b.WriteString("| file | canary | stable → canary | result |\n| :-- | :-- | :-- | :-- |\n")
	for _, f := range files {
		switch {
		case f.Err != "":
			fmt.Fprintf(&b, "| `%s` | | | ⚠️ not read |\n", mdCode(f.Path))
		case len(f.Problems) > 0:
			fmt.Fprintf(&b, "| `%s` | | | ❌ %d problem%s |\n", mdCode(f.Path), len(f.Problems), mdPlural(len(f.Problems)))
		case len(f.Canaries) == 0:
			fmt.Fprintf(&b, "| `%s` | | | ✅ no canary |\n", mdCode(f.Path))
		}
		for _, c := range f.Canaries {
			fmt.Fprintf(&b, "| `%s` | %s | `%s` → `%s` | ✅ valid |\n", mdCode(f.Path), mdEsc(c.Key()), mdCode(c.Spec.Stable), mdCode(c.Spec.Canary))
		}
	}
	if problems > 0 {
		b.WriteString("\n")
		for _, f := range files {
			if f.Err != "" {
				fmt.Fprintf(&b, "- `%s`: %s\n", mdCode(f.Path), mdEsc(f.Err))
			}
			for _, p := range f.Problems {
				fmt.Fprintf(&b, "- %s\n", problemMarkdown(p))
			}
		}
	}
	return b.String()
}

// problemMarkdown renders "`file:line` `field`: message".
func problemMarkdown(p spec.Problem) string {
	var where string
	switch {
	case p.File != "" && p.Line > 0:
		where = fmt.Sprintf("`%s:%d` ", mdCode(p.File), p.Line)
	case p.File != "":
		where = fmt.Sprintf("`%s` ", mdCode(p.File))
	}
	if p.Field != "" {
		where += fmt.Sprintf("`%s` ", mdCode(p.Field))
	}
	return strings.TrimSpace(where) + ": " + mdEsc(p.Message)
}

func mdCommitLink(hash, url string) string {
	short := hash[:min(len(hash), 7)]
	if url == "" {
		return "`" + mdCode(short) + "`"
	}
	return fmt.Sprintf("[`%s`](%s)", mdCode(short), url)
}

func mdTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

func mdPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func actionIcon(a rollout.Action) string {
	switch a {
	case rollout.ActionPromote:
		return "🎉"
	case rollout.ActionRollback:
		return "⏪"
	case rollout.ActionFreeze:
		return "🧊"
	case rollout.ActionPause:
		return "⏸️"
	case rollout.ActionAdvance, rollout.ActionResume, rollout.ActionStart:
		return "⏩"
	}
	return "⏳"
}

func classIcon(c string) string {
	switch judge.Classification(c) {
	case judge.Pass:
		return "✅"
	case judge.High, judge.Low:
		return "❌"
	case judge.Error:
		return "⚠️"
	}
	return "⚪"
}

// mdEscaper backslash-escapes what Markdown or HTML would interpret, so a
// metric name, reason or error cannot break a table or inject markup ("<"
// becomes an entity, so no tag or <!-- comment --> can start).
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;",
	"|", `\|`, "#", `\#`, "~", `\~`, "\r\n", " ", "\n", " ", "\r", " ")

func mdEsc(s string) string { return mdEscaper.Replace(s) }

// code makes s safe inside a `code span`: backticks and newlines cannot
// end it, and a pipe cannot end a table cell (GFM reads \| there as |).
func mdCode(s string) string { return mdCodeEscaper.Replace(s) }

var mdCodeEscaper = strings.NewReplacer("`", "'", "\n", " ", "\r", " ", "|", `\|`)
