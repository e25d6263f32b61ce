package metrics

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/prometheus/common/model"
)

// countExpr is a count query birdwatch evaluates from raw counter samples
// instead of sending it to Prometheus as written. It is the shape every
// count of the embedded templates has:
//
//	expr    = sum { ("+" | "-") sum } [ "or" "vector" "(" number ")" ]
//	sum     = "sum" "(" "increase" "(" selector "[" duration "]" ")" ")"
//	        | "(" expr ")"
//
// where selector is a metric name, a {...} label matcher list, or both.
// Any other query (sum by (...), rate(), offset, a subquery, arithmetic
// with numbers) is not a countExpr and runs as written.
type countExpr struct {
	terms []countTerm
	// orValue replaces an empty result when orSet ("or vector(0)").
	orValue float64
	orSet   bool
}

// countTerm is one signed sum(increase(selector[window])) or a
// parenthesised countExpr.
type countTerm struct {
	neg      bool
	selector string
	window   time.Duration
	sub      *countExpr
}

// errNotCountExpr means a query is not of the countExpr shape.
var errNotCountExpr = errors.New("not sum(increase(SELECTOR[WINDOW])) terms")

// parseCountExpr reads q as a countExpr.
func parseCountExpr(q string) (*countExpr, error) {
	toks, err := lexCount(q)
	if err != nil {
		return nil, err
	}
	p := &countParser{toks: toks}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("%w: unexpected %q", errNotCountExpr, p.toks[p.i])
	}
	return e, nil
}

type countParser struct {
	toks []string
	i    int
}

func (p *countParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *countParser) want(tok string) error {
	if p.peek() != tok {
		return fmt.Errorf("%w: want %q, got %q", errNotCountExpr, tok, p.peek())
	}
	p.i++
	return nil
}

func (p *countParser) expr() (*countExpr, error) {
	e := &countExpr{}
	neg := false
	for {
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		t.neg = neg
		e.terms = append(e.terms, t)
		switch p.peek() {
		case "+", "-":
			neg = p.peek() == "-"
			p.i++
			continue
		}
		break
	}
	if strings.EqualFold(p.peek(), "or") {
		p.i++
		if err := p.want("vector"); err != nil {
			return nil, err
		}
		if err := p.want("("); err != nil {
			return nil, err
		}
		v, err := strconv.ParseFloat(p.peek(), 64)
		if err != nil {
			return nil, fmt.Errorf("%w: vector(%q)", errNotCountExpr, p.peek())
		}
		p.i++
		if err := p.want(")"); err != nil {
			return nil, err
		}
		e.orValue, e.orSet = v, true
	}
	return e, nil
}

func (p *countParser) term() (countTerm, error) {
	if p.peek() == "(" {
		p.i++
		sub, err := p.expr()
		if err != nil {
			return countTerm{}, err
		}
		return countTerm{sub: sub}, p.want(")")
	}
	for _, tok := range []string{"sum", "(", "increase", "("} {
		if err := p.want(tok); err != nil {
			return countTerm{}, err
		}
	}
	var sel strings.Builder
	if t := p.peek(); t != "" && isIdentStart(rune(t[0])) && !strings.EqualFold(t, "or") {
		sel.WriteString(t)
		p.i++
	}
	if strings.HasPrefix(p.peek(), "{") {
		sel.WriteString(p.peek())
		p.i++
	}
	rng := p.peek()
	if sel.Len() == 0 || !strings.HasPrefix(rng, "[") {
		return countTerm{}, fmt.Errorf("%w: want SELECTOR[WINDOW], got %q", errNotCountExpr, rng)
	}
	p.i++
	d, err := model.ParseDuration(strings.TrimSpace(rng[1 : len(rng)-1]))
	if err != nil || d <= 0 {
		return countTerm{}, fmt.Errorf("%w: range %s is not a window", errNotCountExpr, rng)
	}
	for _, tok := range []string{")", ")"} {
		if err := p.want(tok); err != nil {
			return countTerm{}, err
		}
	}
	return countTerm{selector: sel.String(), window: time.Duration(d)}, nil
}

// lexCount splits a rendered PromQL query into the tokens countExpr needs:
// identifiers and numbers, single punctuation, and whole {...} and [...]
// groups (strings inside them kept intact). Comments and space are dropped.
func lexCount(q string) ([]string, error) {
	var toks []string
	for i := 0; i < len(q); {
		c := rune(q[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '{' || c == '[':
			end, err := groupEnd(q, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, q[i:end])
			i = end
		case strings.ContainsRune("()+-,", c):
			toks = append(toks, string(c))
			i++
		case isIdentStart(c) || unicode.IsDigit(c) || c == '.':
			j := i + 1
			for j < len(q) && (isIdentStart(rune(q[j])) || unicode.IsDigit(rune(q[j])) || q[j] == '.') {
				j++
			}
			toks = append(toks, q[i:j])
			i = j
		default:
			return nil, fmt.Errorf("%w: %q", errNotCountExpr, c)
		}
	}
	return toks, nil
}

// groupEnd returns the index after the bracket closing the group that
// opens at q[i], skipping quoted strings.
func groupEnd(q string, i int) (int, error) {
	closer := map[byte]byte{'{': '}', '[': ']'}[q[i]]
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case closer:
			return j + 1, nil
		case '"', '\'', '`':
			quote := q[j]
			for j++; j < len(q) && q[j] != quote; j++ {
				if q[j] == '\\' && quote != '`' {
					j++
				}
			}
		}
	}
	return 0, fmt.Errorf("%w: unclosed %c", errNotCountExpr, q[i])
}

func isIdentStart(c rune) bool {
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// CounterProvider fetches raw counter samples, so that counts can be
// computed as what happened (CountWindow) instead of increase()'s
// extrapolation. *Prometheus implements it.
type CounterProvider interface {
	// CounterSamples returns the raw samples in (start, end] of every
	// series selector matches (a metric name and/or label matchers, no
	// range), oldest first, with the warnings of the backend. No series is
	// an empty result, not an error.
	CounterSamples(ctx context.Context, selector string, start, end time.Time) ([]CounterSeries, []string, error)
}

// countResult is a countExpr evaluated over one window.
type countResult struct {
	value   float64
	present bool // false: the query would have returned no series
	counts  []CounterCount
}

// evalAt counts e over the window of each term ending at each of ends
// (oldest first), fetching each selector's raw samples once for all of
// them; it also returns the backend's warnings.
func (e *countExpr) evalAt(ctx context.Context, p CounterProvider, ends []time.Time) ([]countResult, []string, error) {
	rs := make([]countResult, len(ends))
	for i := range rs {
		rs[i].present = true
	}
	var warnings []string
	for _, t := range e.terms {
		var vals []countResult
		if t.sub != nil {
			sub, w, err := t.sub.evalAt(ctx, p, ends)
			warnings = append(warnings, w...)
			if err != nil {
				return rs, warnings, err
			}
			vals = sub
		} else {
			series, w, err := p.CounterSamples(ctx, t.selector, ends[0].Add(-t.window-CounterLookback), ends[len(ends)-1])
			warnings = append(warnings, w...)
			if err != nil {
				return rs, warnings, err
			}
			vals = make([]countResult, len(ends))
			for i, end := range ends {
				c := CountWindow(clip(series, end.Add(-t.window-CounterLookback), end), end.Add(-t.window), end)
				// No series with a sample in the window: nothing was observed
				// there (a scrape gap), which is no data, not zero events.
				vals[i] = countResult{value: c.Value, present: c.Series > c.Silent, counts: []CounterCount{c}}
			}
		}
		for i := range rs {
			v := vals[i].value
			if t.neg {
				v = -v
			}
			rs[i].value += v
			rs[i].present = rs[i].present && vals[i].present // a binary operator on an empty side is empty
			rs[i].counts = append(rs[i].counts, vals[i].counts...)
		}
	}
	for i := range rs {
		if !rs[i].present {
			rs[i].value = 0
			if e.orSet {
				rs[i].value, rs[i].present = e.orValue, true
			}
		}
	}
	return rs, warnings, nil
}

// clip returns the series with their points in (from, to], leaving out
// series without any: what a fetch of that range alone would return.
func clip(series []CounterSeries, from, to time.Time) []CounterSeries {
	out := make([]CounterSeries, 0, len(series))
	for _, s := range series {
		lo := sort.Search(len(s.Points), func(i int) bool { return s.Points[i].T.After(from) })
		hi := sort.Search(len(s.Points), func(i int) bool { return s.Points[i].T.After(to) })
		if lo < hi {
			out = append(out, CounterSeries{Labels: s.Labels, Points: s.Points[lo:hi]})
		}
	}
	return out
}
