package importer

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// swap is one way a foreign query names the canary: canary is the template
// text of a label value that selects the canary's pods (after translation
// to birdwatch's variables, e.g. {{ .Args.target }}), stable the text that
// selects the stable version's (e.g. {{ .Args.primary }}).
type swap struct{ canary, stable string }

// rewrite says how one label matcher was changed, for the report.
type rewrite struct{ from, canary, stable string }

// errNoNameSelector is the reason a query cannot be split by version: no
// label matcher names the canary.
var errNoNameSelector = errors.New("no label matcher of the query names the canary's workload or Service, so birdwatch cannot point it at the stable version")

// isCanaryPromQL is non-empty exactly when the query is rendered for the
// canary (.Version equals .Canary): a template cannot branch on values
// (analyzer/metrics renders placeholders), so PromQL compares them, the way
// templates/metrics/nginx-error-rate.yaml does.
const isCanaryPromQL = `label_replace(vector(1), "v", "{{ .Version }}", "", "") and on(v) label_replace(vector(1), "v", "{{ .Canary }}", "", "")`

// Sentinel durations stand for the duration variables while the query is
// parsed (a range must be a duration to parse); their printed forms are put
// back as the variables afterwards.
var durationVars = []struct {
	text     string
	sentinel time.Duration
}{{"{{ .Window }}", 7919 * time.Second}, {"{{ .Interval }}", 7927 * time.Second}}

// splitByVersion rewrites a PromQL template query that selects the canary
// by name so that it selects the version it is rendered for: the query
// itself where .Version is the canary, a copy whose matchers name the
// stable version (each swap's stable text) otherwise. It parses the query
// with the Prometheus parser and edits label matchers only; the result is
// pretty-printed PromQL with birdwatch's variables. The error says why the
// query cannot be split (it does not parse, names no canary, or is not an
// instant vector).
func splitByVersion(q string, swaps []swap) (string, []rewrite, error) {
	src := q
	for _, d := range durationVars {
		printed := model.Duration(d.sentinel).String()
		if strings.Contains(q, printed) {
			return "", nil, fmt.Errorf("the query holds %s, which the import uses as a placeholder", printed)
		}
		src = strings.ReplaceAll(src, d.text, printed)
	}
	p := parser.NewParser(parser.Options{})
	canary, err := p.ParseExpr(src)
	if err != nil {
		return "", nil, fmt.Errorf("not PromQL the Prometheus parser reads: %w", err)
	}
	if t := canary.Type(); t != parser.ValueTypeVector {
		return "", nil, fmt.Errorf("the query is a %s, and picking a version in PromQL needs an instant vector", t)
	}
	stable, err := p.ParseExpr(src)
	if err != nil {
		return "", nil, err
	}
	var changes []rewrite
	var walkErr error
	parser.Inspect(stable, func(n parser.Node, _ []parser.Node) error {
		if sl, ok := n.(*parser.StringLiteral); ok {
			// A name in a function's string argument (label_replace's
			// replacement, say) follows the matchers, but selects nothing.
			sl.Val = replacer(swaps).Replace(sl.Val)
			return nil
		}
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		for i, m := range vs.LabelMatchers {
			nm, ch, err := swapMatcher(vs, m, swaps)
			if err != nil {
				walkErr = err
				return err
			}
			if nm != nil {
				vs.LabelMatchers[i] = nm
				changes = append(changes, ch)
			}
		}
		return nil
	})
	if walkErr != nil {
		return "", nil, walkErr
	}
	if len(changes) == 0 {
		return "", nil, errNoNameSelector
	}
	// The canary side of an nginx canary-label matcher is written as the
	// stable side's complement, so both see the controller's "-" alike.
	parser.Inspect(canary, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			for i, m := range vs.LabelMatchers {
				if isNginxCanaryLabel(vs, m) {
					vs.LabelMatchers[i] = labels.MustNewMatcher(labels.MatchNotRegexp, "canary", "-?")
				}
			}
		}
		return nil
	})
	// Laid out by hand around the pretty-printed sides, then parsed again
	// to check the whole.
	out := fmt.Sprintf("(\n%s\n)\nand on() (%s)\nor\n(\n%s\n)\nunless on() (%s)",
		indent(parser.Prettify(canary)), isCanaryPromQL, indent(parser.Prettify(stable)), isCanaryPromQL)
	if _, err := p.ParseExpr(out); err != nil {
		return "", nil, fmt.Errorf("the version split does not parse: %w", err)
	}
	for _, d := range durationVars {
		out = strings.ReplaceAll(out, model.Duration(d.sentinel).String(), d.text)
	}
	return out, changes, nil
}

// swapMatcher returns the stable side of matcher m, or nil when m does not
// name the canary.
func swapMatcher(vs *parser.VectorSelector, m *labels.Matcher, swaps []swap) (*labels.Matcher, rewrite, error) {
	if isNginxCanaryLabel(vs, m) {
		nm := labels.MustNewMatcher(labels.MatchRegexp, "canary", "-?")
		return nm, rewrite{from: m.String(), canary: `canary!~"-?"`, stable: nm.String()}, nil
	}
	v := replacer(swaps).Replace(m.Value)
	if v == m.Value {
		return nil, rewrite{}, nil
	}
	nm, err := labels.NewMatcher(m.Type, m.Name, v)
	if err != nil {
		return nil, rewrite{}, fmt.Errorf("matcher %s: %w", m, err)
	}
	return nm, rewrite{from: m.String(), canary: m.String(), stable: nm.String()}, nil
}

// replacer applies swaps in one pass, the first listed winning where two
// start at the same place ({{ target }}-canary before {{ target }}).
func replacer(swaps []swap) *strings.Replacer {
	pairs := make([]string, 0, 2*len(swaps))
	for _, s := range swaps {
		pairs = append(pairs, s.canary, s.stable)
	}
	return strings.NewReplacer(pairs...)
}

// isNginxCanaryLabel reports whether m is ingress-nginx's canary selection
// (canary!="" on an nginx_ingress_controller_* series): the label names the
// canary backend when the canary Ingress served the request.
func isNginxCanaryLabel(vs *parser.VectorSelector, m *labels.Matcher) bool {
	return strings.HasPrefix(vs.Name, "nginx_ingress_controller_") && m.Name == "canary" &&
		(m.Type == labels.MatchNotEqual && m.Value == "" || m.Type == labels.MatchNotRegexp && (m.Value == "-?" || m.Value == ""))
}

// indent indents the lines of s by two spaces, after removing the
// indentation they share.
func indent(s string) string {
	lines := strings.Split(s, "\n")
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if n := len(l) - len(strings.TrimLeft(l, " ")); common < 0 || n < common {
			common = n
		}
	}
	for i, l := range lines {
		if len(l) >= common && common > 0 {
			l = l[common:]
		}
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n")
}
