package command

import (
	"fmt"
	"strings"
)

// Case is what became of one command.
type Case int

// The cases an Answer words. Why carries the detail of each.
const (
	// Unparsable: the line is not a command; Why is the parse error.
	Unparsable Case = iota + 1
	// TooOld: the command was written too long ago to act; Why says when.
	TooOld
	// NoCanary: the canary could not be found; Why says what exists.
	NoCanary
	// NoAuthorizer: nobody may command (no authorizer configured).
	NoAuthorizer
	// NotAllowed: the actor may not command this canary; Why is the authorizer's reason.
	NotAllowed
	// Stale: the command is about an older rollout (a Slack button); Why says which.
	Stale
	// Replayed: the command's ID was refused before; Why is that refusal.
	Replayed
	// AlreadyApplied: the command's ID was handled before.
	AlreadyApplied
	// NotApplied: the state machine refused it; Why is its reason.
	NotApplied
	// Failed: the loop failed; Why is the error.
	Failed
	// Done: the command was applied.
	Done
)

// Answer is the answer to one command, worded the same in PR comments
// (functions/webhook) and Slack (functions/chatops).
type Answer struct {
	Case Case
	// Verb is the command's verb ("abort"); "" when it did not parse.
	Verb string
	// Actor is who gave it, as the front end shows people ("@alice", "<@U024BE7LH>").
	Actor string
	// Canary is "namespace/name" once it is known.
	Canary string
	// Why is the detail of the case (see Case).
	Why string
}

// Result is the answer's result: done, refused or failed.
func (a Answer) Result() string {
	switch a.Case {
	case Done, AlreadyApplied:
		return "done"
	case Failed:
		return "failed"
	}
	return "refused"
}

// Text is the answer as one line: an icon and a sentence. esc escapes the
// free text (Why, Canary) for the front end's markup; nil leaves it.
func (a Answer) Text(esc func(string) string) string {
	if esc == nil {
		esc = func(s string) string { return s }
	}
	who := a.Actor
	if a.Verb != "" {
		who = fmt.Sprintf("`%s` by %s", a.Verb, a.Actor)
	}
	on := ""
	if a.Canary != "" {
		on = " on " + esc(a.Canary)
	}
	why := esc(strings.TrimSpace(a.Why))
	switch a.Case {
	case Unparsable:
		return fmt.Sprintf("⛔ %s: %s. Usage: `%s`", a.Actor, why, Usage)
	case TooOld:
		return fmt.Sprintf("⛔ %s%s refused: %s: commands act only when fresh, so a captured one cannot be replayed. Give it again.", who, on, why)
	case NoAuthorizer:
		return fmt.Sprintf("⛔ %s%s refused: no authorizer is configured, so nobody may command it", who, on)
	case NoCanary, NotAllowed, Stale:
		return fmt.Sprintf("⛔ %s%s refused: %s", who, on, why)
	case Replayed:
		return fmt.Sprintf("⛔ %s%s was refused before and is not applied now: %s", who, on, why)
	case AlreadyApplied:
		return fmt.Sprintf("✅ %s%s was already applied.", who, on)
	case NotApplied:
		return fmt.Sprintf("⚠️ %s%s was not applied: %s", who, on, why)
	case Failed:
		return fmt.Sprintf("❌ %s%s failed: %s", who, on, why)
	case Done:
		return fmt.Sprintf("✅ %s%s: done.", who, on)
	}
	return fmt.Sprintf("%s%s: %s", who, on, why)
}
