package spec

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Checks are the validations that need knowledge from other packages
// (which providers, judges and templates exist). A nil func accepts anything.
type Checks struct {
	Provider func(name string) error                          // traffic provider kinds
	Judge    func(name string) error                          // judge kinds
	Template func(name string) error                          // embedded metric templates
	Query    func(query string, args map[string]string) error // inline query templates (syntax, variables)
	Path     func(path string) error                          // YAML paths in promote edits
	// MetricProvider says whether a metrics provider type (of a
	// MetricTemplate) exists in this build.
	MetricProvider func(name string) error
	// MetricQuery checks one MetricTemplate query for the provider with the
	// given arguments (an empty value stands for any): it parses, uses only
	// known variables and given arguments, and tells the versions apart.
	MetricQuery func(provider, query string, args map[string]string) error
	// Routing says whether the traffic provider can hold the routes r (header
	// routes, mirror); it is called for every routing state the steps reach.
	Routing func(provider string, r Routing) error
	// Weight says whether the traffic provider can set the canary's
	// weight to w (service switches all at once: 0 and 100 only); it is
	// called for every setWeight the steps reach.
	Weight func(provider string, w int) error
}

var (
	dnsLabelRE   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	labelValueRE = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
)

// Validate checks c (already defaulted) and returns an *Error, or nil.
func Validate(c *Canary, checks Checks) error {
	ps := &problems{file: c.File}
	validate(c, checks, ps)
	return ps.err()
}

func validate(c *Canary, checks Checks, ps *problems) {
	if c.APIVersion != APIVersion {
		ps.add("apiVersion", "want %q, got %q", APIVersion, c.APIVersion)
	}
	if c.Kind != Kind {
		ps.add("kind", "want %q, got %q", Kind, c.Kind)
	}
	checkName(ps, "metadata.name", c.Metadata.Name)
	checkName(ps, "metadata.namespace", c.Metadata.Namespace)
	s := &c.Spec
	checkVersion(ps, "spec.stable", s.Stable)
	checkVersion(ps, "spec.canary", s.Canary)
	providerOK := validateTraffic(&s.Traffic, checks, ps)
	validateStrategy(s, ps)
	validateSteps(s, checks, providerOK, ps)
	validateAnalysis(&s.Analysis, checks, ps)
	for i, e := range s.Promote {
		f := fmt.Sprintf("spec.promote[%d]", i)
		checkRepoPath(ps, f+".file", e.File)
		if e.Path == "" {
			ps.add(f+".path", "required")
		} else if checks.Path != nil {
			if err := checks.Path(e.Path); err != nil {
				ps.add(f+".path", "%v", err)
			}
		}
	}
	oneOf(ps, "spec.onFailure", s.OnFailure, "rollback", "freeze")
	oneOf(ps, "spec.sync.engine", s.Sync.Engine, "none", "flux", "argocd")
	if s.Sync.Engine != "none" && s.Sync.Object == "" {
		ps.add("spec.sync.object", "required when engine is %s", s.Sync.Engine)
	}
	if s.Sync.ApplyDelay < 0 || s.Sync.Timeout <= 0 {
		ps.add("spec.sync", "applyDelay must not be negative and timeout must be positive")
	}
	oneOf(ps, "spec.git.mode", s.Git.Mode, "push", "pullRequest")
	validateNotify(ps, s.Notify)
	checkOperators(s.Access, ps)
}

func validateAnalysis(a *Analysis, checks Checks, ps *problems) {
	if a.Interval <= 0 {
		ps.add("spec.analysis.interval", "must be a positive duration")
	}
	if a.Warmup < 0 {
		ps.add("spec.analysis.warmup", "must not be negative")
	}
	if checks.Judge != nil {
		if err := checks.Judge(a.Judge); err != nil {
			ps.add("spec.analysis.judge", "%v", err)
		}
	}
	if !(a.Alpha > 0 && a.Alpha <= 0.5) { // written so that NaN fails
		ps.add("spec.analysis.alpha", "must be in (0, 0.5], got %g", a.Alpha)
	}
	if a.MirrorAlpha != 0 && !(a.MirrorAlpha > 0 && a.MirrorAlpha < 1) {
		ps.add("spec.analysis.mirrorAlpha", "must be in (0, 1), got %g", a.MirrorAlpha)
	}
	if a.MinRequests < 0 {
		ps.add("spec.analysis.minRequests", "must not be negative")
	}
	if a.FailureLimit != nil && *a.FailureLimit < 0 {
		ps.add("spec.analysis.failureLimit", "must not be negative")
	}
	if a.InconclusiveLimit != nil && *a.InconclusiveLimit < 0 {
		ps.add("spec.analysis.inconclusiveLimit", "must not be negative")
	}
	validateWebhooks(a.Webhooks, ps)
	if len(a.Metrics) == 0 {
		ps.add("spec.analysis.metrics", "at least one metric is required")
	}
	if s := a.Scoring; s.Pass < 0 || s.Pass > 100 || s.Marginal < 0 || s.Marginal > 100 {
		ps.add("spec.analysis.scoring", "pass and marginal are scores from 0 to 100")
	}
	seen := map[string]bool{}
	for i := range a.Metrics {
		validateMetric(&a.Metrics[i], fmt.Sprintf("spec.analysis.metrics[%d]", i), checks, ps, seen)
	}
}

func validateMetric(m *Metric, f string, checks Checks, ps *problems, seen map[string]bool) {
	switch {
	case m.Name == "":
		ps.add(f+".name", "required")
	case seen[m.Name]:
		ps.add(f+".name", "duplicate metric name %q", m.Name)
	}
	seen[m.Name] = true
	switch {
	case countSet(m.Template != "", m.TemplateRef != nil, m.Query != "") != 1:
		ps.add(f, "set exactly one of template, templateRef or query")
	case m.TemplateRef != nil:
		if m.TemplateRef.Name == "" {
			ps.add(f+".templateRef.name", "required")
		}
	case m.Template != "" && checks.Template != nil:
		if err := checks.Template(m.Template); err != nil {
			ps.add(f+".template", "%v", err)
		}
	case m.Query != "" && checks.Query != nil:
		if err := checks.Query(m.Query, m.Args); err != nil {
			ps.add(f+".query", "%v", err)
		}
	}
	oneOf(ps, f+".direction", m.Direction, "increase", "decrease", "either")
	if m.Tolerance != nil && !(*m.Tolerance >= 0) {
		ps.add(f+".tolerance", "must not be negative")
	}
	if m.Max != nil && m.Min != nil && *m.Min > *m.Max {
		ps.add(f+".min", "must not exceed max")
	}
	if m.Quantile != 0 && !(m.Quantile > 0 && m.Quantile < 1) {
		ps.add(f+".quantile", "must be in (0, 1), got %g", m.Quantile)
	}
	if m.Confidence != 0 && !(m.Confidence > 0 && m.Confidence < 1) {
		ps.add(f+".confidence", "must be in (0, 1), got %g", m.Confidence)
	}
	if m.NaNStrategy != "" {
		oneOf(ps, f+".nanStrategy", m.NaNStrategy, "remove", "replace")
	}
	if m.Outliers != "" {
		oneOf(ps, f+".outliers", m.Outliers, "keep", "remove")
	}
	e := m.EffectSize
	if m.OutlierFactor < 0 || m.MinSamples < 0 || e.AllowedIncrease < 0 || e.AllowedDecrease < 0 ||
		e.CriticalIncrease < 0 || e.CriticalDecrease < 0 {
		ps.add(f, "outlierFactor, minSamples and effectSize ratios must not be negative")
	}
}

func checkName(ps *problems, field, v string) {
	if v == "" {
		ps.add(field, "required")
	} else if len(v) > 63 || !dnsLabelRE.MatchString(v) {
		ps.add(field, "must be a DNS label (lowercase letters, digits, '-'), got %q", v)
	}
}

func checkVersion(ps *problems, field, v string) {
	if v == "" {
		ps.add(field, "required")
	} else if len(v) > 63 || !labelValueRE.MatchString(v) {
		ps.add(field, "must be a Kubernetes label value (letters, digits, '-', '_', '.'), got %q", v)
	}
}

// checkRepoPath rejects paths that would leave the repository or touch .git.
func checkRepoPath(ps *problems, field, p string) {
	if err := CheckRepoPath(p); err != nil {
		ps.add(field, "%v", err)
	}
}

// CheckRepoPath returns an error unless p is a clean, relative,
// slash-separated path inside the repository and outside .git/.
func CheckRepoPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("required")
	case strings.HasPrefix(p, "/") || strings.Contains(p, "\\"):
		return fmt.Errorf("must be a relative path with forward slashes, got %q", p)
	case path.Clean(p) != p || p == "." || strings.HasPrefix(p, "../") || p == "..":
		return fmt.Errorf("must be a clean path inside the repository, got %q", p)
	}
	for _, part := range strings.Split(p, "/") {
		if strings.EqualFold(part, ".git") { // in any case: .GIT is .git on case-insensitive filesystems
			return fmt.Errorf("must not point into .git, got %q", p)
		}
	}
	return nil
}

func oneOf(ps *problems, field, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	ps.add(field, "want one of %s, got %q", strings.Join(allowed, ", "), v)
}

// secretNameRE is a deployment secret's name: a file name under the secrets
// directory, a Kubernetes Secret key, or a Secrets Manager name suffix.
var secretNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// validateNotify checks spec.notify: a Slack channel, secret names and levels.
func validateNotify(ps *problems, n NotifySpec) {
	if n.Slack != nil {
		if n.Slack.Channel == "" {
			ps.add("spec.notify.slack.channel", "required")
		}
		checkLevels(ps, "spec.notify.slack.on", n.Slack.On)
	}
	for _, h := range []struct {
		field string
		hook  *HookNotify
	}{{"teams", n.Teams}, {"discord", n.Discord}, {"googleChat", n.GoogleChat}} {
		if h.hook != nil {
			checkSecretRef(ps, "spec.notify."+h.field+".secretRef", h.hook.SecretRef)
			checkLevels(ps, "spec.notify."+h.field+".on", h.hook.On)
		}
	}
	if w := n.Webhook; w != nil {
		checkSecretRef(ps, "spec.notify.webhook.secretRef", w.SecretRef)
		checkSecretRef(ps, "spec.notify.webhook.signingSecretRef", w.SigningSecretRef)
		checkLevels(ps, "spec.notify.webhook.on", w.On)
	}
}

func checkSecretRef(ps *problems, field, name string) {
	switch {
	case name == "":
		ps.add(field, "required: the name of the deployment secret holding the value (never the value itself)")
	case strings.Contains(name, "://"):
		ps.add(field, "names a deployment secret; the URL itself is a credential and must not be in Git")
	case !secretNameRE.MatchString(name):
		ps.add(field, "%q is not a secret name (letters, digits, '.', '_', '-')", name)
	}
}

func checkLevels(ps *problems, field string, on []string) {
	for i, l := range on {
		if !slices.Contains(NotifyLevels, l) {
			ps.add(fmt.Sprintf("%s[%d]", field, i), "want one of %s, got %q", strings.Join(NotifyLevels, ", "), l)
		}
	}
}

// countSet counts the true values.
func countSet(set ...bool) int {
	n := 0
	for _, b := range set {
		if b {
			n++
		}
	}
	return n
}
