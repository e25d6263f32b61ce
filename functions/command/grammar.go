// Package command is birdwatch's one command language, shared by PR
// comments (functions/webhook) and Slack (functions/chatops): one grammar
// ("/birdwatch VERB [namespace/name]", Parse), one way to find a command in
// a comment's Markdown (FromMarkdown), one meaning of a canary reference
// (Match: a bare name is the canary of that name in any namespace, and must
// be unique), and one answer format (Answer).
package command

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// Prefix starts a command: the Slack slash command and a comment's line.
const Prefix = "/birdwatch"

// Status is the read-only verb; every other verb steers a rollout.
const Status = "status"

// kinds maps the verbs that steer a rollout to their rollout command kinds.
var kinds = map[string]rollout.CommandKind{
	"promote": rollout.CmdPromote, "pause": rollout.CmdPause, "resume": rollout.CmdResume,
	"abort": rollout.CmdAbort, "rollback": rollout.CmdRollback, "skip-analysis": rollout.CmdSkipAnalysis,
	"retry": rollout.CmdRetry,
}

// Usage is the syntax, as shown to people who get it wrong.
const Usage = Prefix + " status | promote | pause | resume | abort | rollback | skip-analysis | retry [namespace/name]"

// ErrUsage is wrapped by every error Parse returns.
var ErrUsage = errors.New("not a birdwatch command")

// Command is one parsed command.
type Command struct {
	// Verb is Status or a verb of Kind.
	Verb string
	// Target is "namespace/name", a bare "name", or "" (status of all, or
	// inferred from the pull request).
	Target string
	// Line is the command as written, whitespace normalized, with Prefix.
	Line string
}

// Kind returns the rollout command kind of a steering verb; ok is false for status.
func (c Command) Kind() (kind rollout.CommandKind, ok bool) {
	kind, ok = kinds[c.Verb]
	return kind, ok
}

// Known reports whether verb is a verb of the language.
func Known(verb string) bool {
	_, ok := kinds[verb]
	return ok || verb == Status
}

// Verbs lists the verbs, sorted.
func Verbs() []string {
	out := []string{Status}
	for v := range kinds {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// targetRE is a canary reference: an optional namespace and a name, both DNS labels.
var targetRE = regexp.MustCompile(`^(?:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// Parse parses the words after Prefix: a verb, case-insensitive, and at most
// one canary reference. Errors wrap ErrUsage; the returned Command keeps
// what was understood (Verb, Line) for the answer.
func Parse(text string) (Command, error) {
	fields := strings.Fields(text)
	cmd := Command{Line: strings.Join(append([]string{Prefix}, fields...), " ")}
	if len(fields) == 0 {
		return cmd, fmt.Errorf("%w: no command given", ErrUsage)
	}
	cmd.Verb = strings.ToLower(fields[0])
	if !Known(cmd.Verb) {
		return cmd, fmt.Errorf("%w: unknown command %.30q", ErrUsage, fields[0])
	}
	if len(fields) > 2 {
		return cmd, fmt.Errorf("%w: too many arguments: %.60q", ErrUsage, strings.Join(fields[2:], " "))
	}
	if len(fields) == 2 {
		if !targetRE.MatchString(fields[1]) {
			return cmd, fmt.Errorf("%w: %.80q is not a canary name (namespace/name or name)", ErrUsage, fields[1])
		}
		cmd.Target = fields[1]
	}
	return cmd, nil
}

// Match returns the keys ("namespace/name") that target names: the key
// itself, or, for a bare name, every key with that name in any namespace.
// One match is the canary; none or several is the caller's refusal.
func Match(keys []string, target string) []string {
	var out []string
	for _, k := range keys {
		_, name, _ := strings.Cut(k, "/")
		if k == target || (!strings.Contains(target, "/") && name == target) {
			out = append(out, k)
		}
	}
	return out
}
