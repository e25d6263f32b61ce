package webhook

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// commandPrefix starts a command line in a PR comment.
const commandPrefix = "/birdwatch"

// verbStatus is the read-only command; the others are rollout commands.
const verbStatus = "status"

// commandKinds maps the verbs that steer a rollout to their kinds.
var commandKinds = map[string]rollout.CommandKind{
	"promote": rollout.CmdPromote, "pause": rollout.CmdPause, "resume": rollout.CmdResume,
	"abort": rollout.CmdAbort, "rollback": rollout.CmdRollback, "skip-analysis": rollout.CmdSkipAnalysis,
}

// Usage is the command syntax, as shown to people who get it wrong.
const Usage = "/birdwatch status | promote | pause | resume | abort | rollback | skip-analysis [namespace/name]"

// command is one parsed /birdwatch line.
type command struct {
	verb   string // status or a key of commandKinds
	target string // "ns/name", "name", or "" (infer)
	line   string // the line as written, trimmed
}

// targetRE is a canary reference: an optional namespace and a name, both DNS labels.
var targetRE = regexp.MustCompile(`^(?:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// parseCommand finds the first line of body that starts with /birdwatch
// (leading spaces allowed; quoted lines, which start with ">", are not
// commands) and parses it. found is false when there is no such line; err
// says what is wrong with a line that is there.
func parseCommand(body string) (cmd command, found bool, err error) {
	for line := range strings.Lines(body) {
		line = strings.TrimSpace(line)
		rest, ok := strings.CutPrefix(line, commandPrefix)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		fields := strings.Fields(rest)
		cmd.line = strings.Join(append([]string{commandPrefix}, fields...), " ")
		if len(fields) == 0 {
			return cmd, true, errors.New("no command given")
		}
		cmd.verb = strings.ToLower(fields[0])
		if _, ok := commandKinds[cmd.verb]; !ok && cmd.verb != verbStatus {
			return cmd, true, fmt.Errorf("unknown command %q", fields[0])
		}
		if len(fields) > 2 {
			return cmd, true, fmt.Errorf("too many arguments: %q", strings.Join(fields[2:], " "))
		}
		if len(fields) == 2 {
			cmd.target = fields[1]
			if !targetRE.MatchString(cmd.target) {
				return cmd, true, fmt.Errorf("%q is not a canary name (namespace/name)", cmd.target)
			}
		}
		return cmd, true, nil
	}
	return command{}, false, nil
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
func verbs() []string {
	out := []string{verbStatus}
	for v := range commandKinds {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
