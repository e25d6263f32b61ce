package notify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// Composer holds what every chat notifier needs to word a decision: the
// commit links and, for services that show images, the chart's series.
type Composer struct {
	// Series fetches the metrics over the rollout for the chart; nil means no chart.
	Series metrics.RangeProvider
	// Chart sizes the chart; the zero value is report's default.
	Chart report.ChartOptions
	// CommitURL links a commit on the Git host's web pages; nil leaves
	// hashes unlinked (see CommitLinker).
	CommitURL func(hash string) string
}

// Decision is o as the report package renders it, with the commit link.
func (m Composer) Decision(c *spec.Canary, o core.Outcome) report.Decision {
	d := report.Decision{Canary: o.Canary, Steps: len(c.Spec.Steps), Decision: o.Decision, Analysis: o.Analysis, Commit: o.Commit}
	if m.CommitURL != nil && o.Commit != "" {
		d.CommitURL = m.CommitURL(o.Commit)
	}
	return d
}

// ChartPNG builds the decisive metric's chart the way `birdwatch report`
// does; ok is false when there is no series provider or no metric.
func (m Composer) ChartPNG(ctx context.Context, c *spec.Canary, o core.Outcome) (chart report.Chart, name string, ok bool, err error) {
	if m.Series == nil {
		return report.Chart{}, "", false, nil
	}
	st := o.Decision.Status
	r := report.Build(ctx, c, &st, m.Series, report.SeriesOptions{})
	at := time.Now()
	if st.LastAnalysis != nil {
		at = st.LastAnalysis.At
	}
	r.SetAnalysis(o.Analysis, at)
	metric, found := DecisiveMetric(r)
	if !found {
		return report.Chart{}, "", false, nil
	}
	chart, err = report.ChartPNG(r, metric, m.Chart)
	if err != nil {
		return report.Chart{}, "", false, fmt.Errorf("chart of %s: %w", metric, err)
	}
	return chart, chartFileName(o.Canary, metric), true, nil
}

// Title is the one-line summary of a decision: "ns/name v04: advance".
func Title(o core.Outcome) string {
	return fmt.Sprintf("%s %s: %s", o.Canary, o.Decision.Status.Generation, o.Decision.Action)
}

// Facts is the decision's weight change, routes, step and phase in one line
// of plain text.
func Facts(d report.Decision) string {
	st := d.Decision.Status
	var facts []string
	if w := d.Decision.SetWeight; w != nil {
		facts = append(facts, fmt.Sprintf("weight %d%% → %d%%", d.Decision.From, *w))
	} else {
		facts = append(facts, fmt.Sprintf("weight %d%%", st.Weight))
	}
	if rt := report.RoutesText(st.Routes); rt != "" {
		facts = append(facts, "routes: "+rt)
	}
	if d.Steps > 0 {
		facts = append(facts, fmt.Sprintf("step %d/%d", min(st.Step, d.Steps), d.Steps))
	}
	if st.Phase != "" {
		facts = append(facts, "phase "+string(st.Phase))
	}
	return strings.Join(facts, " · ")
}

// MetricRow is one line of the analysis table in plain text.
type MetricRow struct {
	Name   string
	Result string // "✅ Pass", "❌ High", ...
	Detail string // "canary 1.2% vs baseline 0.4% (reason)"
}

// Rows is the analysis table, one row per metric, and the verdict line.
func Rows(r *judge.Result) ([]MetricRow, string) {
	if r == nil {
		return nil, ""
	}
	rows := make([]MetricRow, len(r.Metrics))
	for i, m := range r.Metrics {
		detail := fmt.Sprintf("canary %s vs baseline %s", report.FormatValue(m.Canary, m.Unit), report.FormatValue(m.Baseline, m.Unit))
		if m.Reason != "" {
			detail += " (" + m.Reason + ")"
		}
		rows[i] = MetricRow{Name: m.Name, Result: classIcon(m.Classification) + " " + string(m.Classification), Detail: detail}
	}
	return rows, fmt.Sprintf("analysis %s, score %.0f (%s judge)", r.Verdict, r.Score, r.Judge)
}

func classIcon(c judge.Classification) string {
	switch {
	case c == judge.Pass:
		return "✅"
	case c.Failed():
		return "❌"
	}
	return "❔"
}

// Color is a decision's colour as 0xRRGGBB: green for promote, red for
// rollback, amber for freeze and pause, blue otherwise.
func Color(a rollout.Action) int {
	switch a {
	case rollout.ActionPromote:
		return 0x2EB67D
	case rollout.ActionRollback:
		return 0xE01E5A
	case rollout.ActionFreeze, rollout.ActionPause:
		return 0xECB22E
	}
	return 0x36C5F0
}

// Committed reports whether o is a decision notifiers hear of: committed,
// without error, and in the levels on (empty: every decision).
func Committed(on []string, o core.Outcome) bool {
	return o.Commit != "" && o.Err == nil && spec.Wants(on, string(o.Decision.Action))
}

// Secrets resolves the deployment secrets spec.notify names by secretRef.
type Secrets interface {
	Secret(ctx context.Context, name string) (string, error)
}

// SecretFunc adapts a function to Secrets.
type SecretFunc func(ctx context.Context, name string) (string, error)

// Secret calls f.
func (f SecretFunc) Secret(ctx context.Context, name string) (string, error) { return f(ctx, name) }

// SecretDir reads each secret from the file DIR/NAME, trimmed: a mounted
// Kubernetes Secret or Docker secret directory.
type SecretDir string

// Secret reads the secret name. A missing secret is a permanent error that
// names the secret, never a value.
func (d SecretDir) Secret(_ context.Context, name string) (string, error) {
	if d == "" {
		return "", Permanent(fmt.Errorf("secret %q: no secrets directory is configured", name))
	}
	if name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		return "", Permanent(fmt.Errorf("secret %q: not a secret name", name))
	}
	b, err := os.ReadFile(filepath.Join(string(d), name))
	if err != nil {
		return "", Permanent(fmt.Errorf("secret %q: %w", name, err))
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", Permanent(fmt.Errorf("secret %q is empty", name))
	}
	return v, nil
}
