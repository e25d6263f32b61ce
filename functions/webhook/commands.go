package webhook

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/functions/command"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// commandPrefix starts a command line in a PR comment.
const commandPrefix = command.Prefix

// verbStatus is the read-only command; the others are rollout commands.
const verbStatus = command.Status

// commandKinds maps the verbs that steer a rollout to their kinds.
var commandKinds = func() map[string]rollout.CommandKind {
	out := map[string]rollout.CommandKind{}
	for _, v := range command.Verbs() {
		if k, ok := (command.Command{Verb: v}).Kind(); ok {
			out[v] = k
		}
	}
	return out
}()

// Usage is the command syntax, as shown to people who get it wrong.
const Usage = command.Usage

// parsedCommand is one parsed /birdwatch line.
type parsedCommand struct {
	verb   string // status or a key of commandKinds
	target string // "ns/name", "name", or "" (infer)
	line   string // the line as written, trimmed
}

// targetRE is a canary reference: an optional namespace and a name, both DNS labels.
var targetRE = regexp.MustCompile(`^(?:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// parseCommand finds the comment's command by its Markdown structure
// (command.FromMarkdown: nothing in code, quotes or HTML comments) and
// parses it. found is false when there is none; err says what is wrong
// with one that is there.
func parseCommand(body string) (cmd parsedCommand, found bool, err error) {
	c, found, err := command.FromMarkdown(body)
	if err != nil {
		err = errors.New(strings.TrimPrefix(err.Error(), command.ErrUsage.Error()+": "))
	}
	return parsedCommand{verb: c.Verb, target: c.Target, line: c.Line}, found, err
}

// commandID is the rollout command ID of a PR comment: redeliveries of the
// same comment carry the same ID, which the status remembers.
func commandID(source string, commentID int64) string {
	return fmt.Sprintf("%s-comment-%d", source, commentID)
}

// quoteLine renders the command as a Markdown quote for the reply; the
// quote mark keeps the reply from being read as a command itself.
func quoteLine(line string) string {
	return "> `" + strings.ReplaceAll(line, "`", "'") + "`"
}

// verbs lists the accepted verbs, sorted, for messages.
func verbs() []string { return command.Verbs() }
