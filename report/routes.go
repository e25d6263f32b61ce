package report

import (
	"fmt"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// RoutesText describes the routes birdwatch holds in a traffic manifest,
// with their conditions (spec.Match.String), for reports:
// "header developers (cookie user=developer), mirror shadow 20%"; "" when
// there are none.
func RoutesText(r spec.Routing) string {
	var parts []string
	for _, h := range r.Headers {
		var conds []string
		for _, m := range h.Match {
			conds = append(conds, m.String())
		}
		parts = append(parts, fmt.Sprintf("header %s (%s)", h.Name, strings.Join(conds, " and ")))
	}
	if m := r.Mirror; m != nil {
		parts = append(parts, fmt.Sprintf("mirror %s %g%%", m.Name, m.Percentage))
	}
	return strings.Join(parts, ", ")
}
