package chatops

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"

	"github.com/birdwatch-gitops/birdwatch/functions/command"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/birdwatch-gitops/birdwatch/rollout"
	"github.com/slack-go/slack"
)

// Usage is the help text answered to "/birdwatch help" and to anything it does not understand.
const Usage = "Usage: `/birdwatch status [namespace/name]` or " +
	"`/birdwatch promote|pause|resume|abort|rollback|skip-analysis namespace/name` " +
	"(a bare name means the canary of that name in any namespace, as in pull request comments)."

func knownKind(k string) bool { return command.Known(k) }

// canaryRef is "namespace/name" or a bare "name", DNS labels (spec validation's rule).
var canaryRef = regexp.MustCompile(`^(?:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// ParseCommandText parses the text after "/birdwatch" with the grammar PR
// comments use (command.Parse): a verb and, for everything but status, a
// canary ("namespace/name", or a name unique across namespaces). "help",
// an empty text and anything else it does not understand wrap ErrUsage.
func ParseCommandText(text string) (kind, canary string, err error) {
	cmd, err := command.Parse(text)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if cmd.Verb != KindStatus && cmd.Target == "" {
		return "", "", fmt.Errorf("%w: %s needs namespace/name", ErrUsage, cmd.Verb)
	}
	return cmd.Verb, cmd.Target, nil
}

// request is a parsed, signed Slack request.
type request struct {
	// job is the work to do; nil when there is none (help, ssl_check, an
	// interaction that is not ours).
	job *Job
	// usage is set when the slash command was not understood.
	usage error
}

// parseRequest parses a verified form-encoded body: a slash command, an
// interaction payload (payload=<json>), or Slack's ssl_check.
func parseRequest(body []byte) (request, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return request{}, fmt.Errorf("%w: form: %w", ErrBadRequest, err)
	}
	switch {
	case form.Get("ssl_check") == "1":
		return request{}, nil
	case form.Has("payload"):
		return parseInteraction(form.Get("payload"))
	case form.Has("command"):
		return parseSlashCommand(form)
	}
	return request{}, fmt.Errorf("%w: neither a command nor an interaction", ErrBadRequest)
}

// parseSlashCommand turns a slash command's fields (slack.SlashCommand's
// names) into a job.
func parseSlashCommand(form url.Values) (request, error) {
	s := slack.SlashCommand{TeamID: form.Get("team_id"), ChannelID: form.Get("channel_id"), UserID: form.Get("user_id"),
		Command: form.Get("command"), Text: form.Get("text"), ResponseURL: form.Get("response_url"), TriggerID: form.Get("trigger_id")}
	kind, canary, err := ParseCommandText(s.Text)
	if err != nil {
		return request{usage: err}, nil
	}
	j := &Job{Envelope: jobEnvelope, Kind: kind, Canary: canary, UserID: s.UserID, TeamID: s.TeamID,
		ChannelID: s.ChannelID, TriggerID: s.TriggerID, ResponseURL: s.ResponseURL}
	if err := j.validate(); err != nil {
		return request{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return request{job: j}, nil
}

// buttonKinds maps report's button action IDs to commands.
var buttonKinds = map[string]string{report.SlackActionPromote: string(rollout.CmdPromote), report.SlackActionAbort: string(rollout.CmdAbort)}

// parseInteraction turns a block_actions payload for one of report's
// buttons into a job; other interactions are ignored.
func parseInteraction(payload string) (request, error) {
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(payload), &cb); err != nil {
		return request{}, fmt.Errorf("%w: payload: %w", ErrBadRequest, err)
	}
	if cb.Type != slack.InteractionTypeBlockActions {
		return request{}, nil
	}
	for _, a := range cb.ActionCallback.BlockActions {
		kind, ok := buttonKinds[a.ActionID]
		if !ok {
			continue
		}
		canary, generation, err := report.ParseSlackButtonValue(a.Value)
		if err != nil {
			return request{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		j := &Job{Envelope: jobEnvelope, Kind: kind, Canary: canary, Generation: generation, UserID: cb.User.ID,
			TeamID: cb.Team.ID, ChannelID: cb.Channel.ID, TriggerID: cb.TriggerID, ResponseURL: cb.ResponseURL, FromButton: true}
		if err := j.validate(); err != nil {
			return request{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		return request{job: j}, nil
	}
	return request{}, nil
}
