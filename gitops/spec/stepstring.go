package spec

import (
	"fmt"
	"strings"
)

// String describes s in one line, as reports and tests show steps:
// "setWeight 10", "analyze 5m0s", "pause", "pause 1h0m0s",
// "setHeaderRoute ab: cookie user=developer, header x-canary^=ins",
// "setHeaderRoute ab (remove)", "setMirrorRoute preview 50%",
// "setMirrorRoute preview (stop)". Exact is "=", prefix "^=", regex "~=".
// An invalid step with several actions joins them with " + "; one with none
// is "{}".
func (s Step) String() string {
	var parts []string
	if s.SetWeight != nil {
		parts = append(parts, fmt.Sprintf("setWeight %d", *s.SetWeight))
	}
	if s.SetHeaderRoute != nil {
		parts = append(parts, s.SetHeaderRoute.String())
	}
	if s.SetMirrorRoute != nil {
		parts = append(parts, s.SetMirrorRoute.String())
	}
	if s.Analyze != nil {
		parts = append(parts, "analyze "+s.Analyze.String())
	}
	if s.Pause != nil {
		p := "pause"
		if s.Pause.Duration != nil {
			p += " " + s.Pause.Duration.String()
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "{}"
	}
	return strings.Join(parts, " + ")
}

// String describes the step that sets h: "setHeaderRoute NAME: CONDITIONS",
// or "setHeaderRoute NAME (remove)" without conditions.
func (h HeaderRoute) String() string {
	if len(h.Match) == 0 {
		return "setHeaderRoute " + h.Name + " (remove)"
	}
	ms := make([]string, len(h.Match))
	for i, m := range h.Match {
		ms[i] = m.String()
	}
	return "setHeaderRoute " + h.Name + ": " + strings.Join(ms, ", ")
}

// String describes the step that sets m: "setMirrorRoute NAME P%", or
// "setMirrorRoute NAME (stop)" for percentage 0.
func (m MirrorRoute) String() string {
	if m.Percentage == 0 {
		return "setMirrorRoute " + m.Name + " (stop)"
	}
	return fmt.Sprintf("setMirrorRoute %s %g%%", m.Name, m.Percentage)
}

// String describes m as "header x-canary=insider", "cookie user^=dev" or
// "queryParam beta~=^1$" (exact "=", prefix "^=", regex "~=").
func (m Match) String() string {
	on := "header " + m.Header
	switch {
	case m.Cookie != "":
		on = "cookie " + m.Cookie
	case m.QueryParam != "":
		on = "queryParam " + m.QueryParam
	}
	switch {
	case m.Prefix != "":
		return on + "^=" + m.Prefix
	case m.Regex != "":
		return on + "~=" + m.Regex
	}
	return on + "=" + m.Exact
}

// Summary names the routes in r for commit subjects and status messages:
// "header developers, mirror shadow 20%"; "none" when r is empty.
func (r Routing) Summary() string {
	if r.Empty() {
		return "none"
	}
	var parts []string
	for _, h := range r.Headers {
		parts = append(parts, "header "+h.Name)
	}
	if m := r.Mirror; m != nil {
		parts = append(parts, fmt.Sprintf("mirror %s %g%%", m.Name, m.Percentage))
	}
	return strings.Join(parts, ", ")
}
