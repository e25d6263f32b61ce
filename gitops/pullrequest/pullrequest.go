// Package pullrequest is birdwatch's pull-request mode (spec.git.mode
// pullRequest): a decision is pushed to a branch
// "birdwatch/<namespace>-<name>/<step>" and proposed in one pull request
// per rollout, which humans (or auto-merge) merge into the protected
// branch. The status on that branch stays the truth: the rollout moves on
// only once the pull request is merged.
//
// The package holds the provider-neutral types (PR, Proposal, Marker) and
// the GitHub implementation on go-github. Each pull request body carries a
// Marker naming the decision it proposes, so a later run can tell "the same
// decision, still waiting" from "a new decision" and "declined" (closed
// without merging) without any state outside Git and the forge.
package pullrequest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// PR is a pull request as birdwatch reads it.
type PR struct {
	Number int
	// URL is the page a human opens (html_url).
	URL string
	// NodeID is the GraphQL id, for auto-merge.
	NodeID string
	// Open is true while the pull request is open.
	Open bool
	// MergedAt is when it was merged; nil when it was not (yet).
	MergedAt *time.Time
	// ClosedAt is when it was closed, merged or not; nil while open.
	ClosedAt *time.Time
	// Branch is the head branch and HeadSHA its commit.
	Branch, HeadSHA string
	// Base is the branch it merges into.
	Base        string
	Title, Body string
	Labels      []string
	// Marker is the decision the body names; zero when it names none.
	Marker Marker
	// AutoMerge says what auto-merge did when this PR was proposed:
	// "" (not asked), "enabled", "merged", or "not merged: <why>".
	AutoMerge string
}

// Merged reports whether the pull request was merged.
func (p *PR) Merged() bool { return p != nil && p.MergedAt != nil }

// Declined reports whether the pull request was closed without merging.
func (p *PR) Declined() bool { return p != nil && !p.Open && p.MergedAt == nil }

// HasLabel reports whether the pull request has the label.
func (p *PR) HasLabel(name string) bool {
	for _, l := range p.Labels {
		if strings.EqualFold(l, name) {
			return true
		}
	}
	return false
}

// Proposal is a pull request to open, or an open one to update.
type Proposal struct {
	// Branch is the head branch, already pushed; Base the branch to merge into.
	Branch, Base string
	Title, Body  string
	// Marker is appended to Body.
	Marker Marker
	// Labels are added when the pull request is opened.
	Labels []string
}

// Marker identifies the decision a pull request proposes.
type Marker struct {
	// Canary is "namespace/name".
	Canary string
	// Parent is the commit of the base branch the decision was made on.
	Parent string
	// Generation, Action, Step and Weight describe the proposed status.
	Generation, Action string
	Step, Weight       int
}

// IsZero reports whether m names no decision.
func (m Marker) IsZero() bool { return m.Canary == "" }

// SameDecision reports whether m and o propose the same change (whatever
// base commit each was made on).
func (m Marker) SameDecision(o Marker) bool {
	return m.Canary == o.Canary && m.Generation == o.Generation && m.Action == o.Action &&
		m.Step == o.Step && m.Weight == o.Weight
}

// String renders m as the HTML comment kept in a pull request body
// (invisible on the page).
func (m Marker) String() string {
	return fmt.Sprintf("<!-- birdwatch:decision canary=%s parent=%s generation=%s action=%s step=%d weight=%d -->",
		m.Canary, m.Parent, m.Generation, m.Action, m.Step, m.Weight)
}

var markerRE = regexp.MustCompile(`<!-- birdwatch:decision ([^>]*?) -->`)

// ParseMarker finds the Marker in a pull request body; ok is false when
// there is none or it is malformed.
func ParseMarker(body string) (m Marker, ok bool) {
	sub := markerRE.FindStringSubmatch(body)
	if sub == nil {
		return Marker{}, false
	}
	fields := map[string]string{}
	for _, kv := range strings.Fields(sub[1]) {
		k, v, found := strings.Cut(kv, "=")
		if !found {
			return Marker{}, false
		}
		fields[k] = v
	}
	step, err1 := strconv.Atoi(fields["step"])
	weight, err2 := strconv.Atoi(fields["weight"])
	if err1 != nil || err2 != nil || fields["canary"] == "" {
		return Marker{}, false
	}
	return Marker{Canary: fields["canary"], Parent: fields["parent"], Generation: fields["generation"],
		Action: fields["action"], Step: step, Weight: weight}, true
}

// BranchPrefix is the prefix of every branch of one canary's pull
// requests: "birdwatch/<namespace>-<name>/".
func BranchPrefix(namespace, name string) string {
	return "birdwatch/" + namespace + "-" + name + "/"
}

// Branch is the head branch of a decision at step: "birdwatch/<namespace>-<name>/<step>".
func Branch(namespace, name string, step int) string {
	return BranchPrefix(namespace, name) + strconv.Itoa(step)
}
