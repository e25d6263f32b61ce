package spec

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Settings a spec may write but that mean nothing are refused here, so a
// typo never turns into a default the author did not ask for or a guard that
// never fires.

// explicitZeros are fields whose zero value SetDefaults replaces: written
// out as 0 they would silently become the default, so they are refused.
var explicitZeros = []struct{ path, want string }{
	{"spec.analysis.interval", "must be a positive duration (leave it out for the default " + DefaultInterval.String() + ")"},
	{"spec.analysis.alpha", "must be in (0, 0.5] (leave it out for the default " + strconv.FormatFloat(DefaultAlpha, 'g', -1, 64) + ")"},
	{"spec.sync.timeout", "must be a positive duration (leave it out for the default " + DefaultSyncTimeout.String() + ")"},
}

// checkExplicitZeros reports the fields of explicitZeros that c (decoded,
// not yet defaulted) sets to zero in the document indexed by ix.
func checkExplicitZeros(c *Canary, ix *lineIndex, ps *problems) {
	zero := map[string]bool{
		"spec.analysis.interval": c.Spec.Analysis.Interval == 0,
		"spec.analysis.alpha":    c.Spec.Analysis.Alpha == 0,
		"spec.sync.timeout":      c.Spec.Sync.Timeout == 0,
	}
	for _, f := range explicitZeros {
		if _, written := ix.byPath[f.path]; written && zero[f.path] {
			ps.add(f.path, "%s, got 0", f.want)
		}
	}
}

// checkFinite reports every float scalar of the document that is NaN or
// infinite (.nan, .inf, -.inf) and not already reported by validate: no
// setting of a canary means either, and a NaN guard never fires (every
// comparison with NaN is false).
func checkFinite(doc *yaml.Node, ps *problems) {
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				if n.Content[i].Value == "args" {
					continue // template variables are strings
				}
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.ScalarNode:
			var f float64
			if n.ShortTag() == "!!float" && n.Decode(&f) == nil && (math.IsNaN(f) || math.IsInf(f, 0)) && !ps.has(path) {
				ps.add(path, "must be a finite number, got %s", n.Value)
			}
		}
	}
	walk(doc, "")
}

// OperatorKinds maps each identity kind of spec.access.operators ("github",
// "slack") to the check of an entry's subject (what follows "kind:"). A
// subject that fails its check names nobody: such an entry would silently
// never match, so it is refused. Other kinds of identity register here.
var OperatorKinds = map[string]func(subject string) error{
	"github": checkGitHubOperator,
	"slack":  checkSlackOperator,
	"gitlab": checkGitLabOperator,
}

var (
	// githubLoginRE is a GitHub user or organization login.
	githubLoginRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,37}[A-Za-z0-9])?$`)
	// githubTeamRE is a team slug (lowercased name, '-' for spaces).
	githubTeamRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)
	// slackIDRE is a Slack user (U, W) or user group (S) ID.
	slackIDRE = regexp.MustCompile(`^[UWS][A-Z0-9]{2,20}$`)
)

func checkGitHubOperator(subject string) error {
	org, team, isTeam := strings.Cut(subject, "/")
	switch {
	case !githubLoginRE.MatchString(org):
		return fmt.Errorf("%q is not a GitHub login or organization (letters, digits, '-'; no '@')", org)
	case isTeam && !githubTeamRE.MatchString(team):
		return fmt.Errorf("%q is not a GitHub team slug (github:ORG/TEAM)", team)
	}
	return nil
}

// gitlabPathRE is a GitLab username or group path, subgroups included
// (group/subgroup): letters, digits, '_', '.', '-', not starting with '-'
// or '.'.
var gitlabPathRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}(/[A-Za-z0-9_][A-Za-z0-9_.-]{0,254})*$`)

// checkGitLabOperator accepts gitlab:USER and gitlab:GROUP[/SUBGROUP]:
// users and groups share GitLab's namespace, so one path names one of them.
func checkGitLabOperator(subject string) error {
	if !gitlabPathRE.MatchString(subject) || strings.HasSuffix(subject, ".git") || strings.HasSuffix(subject, ".atom") {
		return fmt.Errorf("%q is not a GitLab username or group path (gitlab:USER, gitlab:GROUP/SUBGROUP)", subject)
	}
	return nil
}

func checkSlackOperator(subject string) error {
	if !slackIDRE.MatchString(subject) {
		return fmt.Errorf("%q is not a Slack user ID (U..., W...) or user group ID (S...); names and @handles match nobody", subject)
	}
	return nil
}

// checkOperators refuses access entries that name nobody.
func checkOperators(a AccessSpec, ps *problems) {
	for i, op := range a.Operators {
		f := fmt.Sprintf("spec.access.operators[%d]", i)
		kind, subject, _ := strings.Cut(op, ":")
		check, ok := OperatorKinds[kind]
		if !ok {
			ps.add(f, "want github:ORG/TEAM, github:USER, gitlab:GROUP, gitlab:USER or slack:ID, got %q", op)
			continue
		}
		if err := check(subject); err != nil {
			ps.add(f, "%v", err)
		}
	}
}

// has reports whether a problem was recorded at field.
func (ps *problems) has(field string) bool {
	for _, p := range ps.list {
		if p.Field == field {
			return true
		}
	}
	return false
}
