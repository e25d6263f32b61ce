package report

import (
	"fmt"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// RoutesText describes the routes birdwatch holds in a traffic manifest, for
// reports: "header developers (cookie user=developer), mirror shadow 20%";
// "" when there are none.
func RoutesText(r spec.Routing) string {
	var parts []string
	for _, h := range r.Headers {
		var conds []string
		for _, m := range h.Match {
			conds = append(conds, matchText(m))
		}
		parts = append(parts, fmt.Sprintf("header %s (%s)", h.Name, strings.Join(conds, " and ")))
	}
	if m := r.Mirror; m != nil {
		parts = append(parts, fmt.Sprintf("mirror %s %g%%", m.Name, m.Percentage))
	}
	return strings.Join(parts, ", ")
}

// matchText renders one condition: "cookie user=developer", "header x-canary~^beta", "query ab^=new".
func matchText(m spec.Match) string {
	kind, name := "header", m.Header
	switch {
	case m.Cookie != "":
		kind, name = "cookie", m.Cookie
	case m.QueryParam != "":
		kind, name = "query", m.QueryParam
	}
	switch {
	case m.Prefix != "":
		return fmt.Sprintf("%s %s^=%s", kind, name, m.Prefix)
	case m.Regex != "":
		return fmt.Sprintf("%s %s~%s", kind, name, m.Regex)
	}
	return fmt.Sprintf("%s %s=%s", kind, name, m.Exact)
}
