package metrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
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
//	or     = and { "or" ( and | "vector" "(" number ")" ) }
//	and    = add { ( "and" | "unless" ) "on" "(" ")" switch }
//	add    = sum { ( "+" | "-" ) sum }
//	sum    = "sum" "(" "increase" "(" selector "[" duration "]" ")" ")"
//	       | "(" or ")"
//	switch = "(" lr "and" "on" "(" label ")" lr ")"
//	lr     = "label_replace" "(" "vector" "(" "1" ")" "," "label" ","
//	         string "," "" "," "" ")"
//
// where selector is a metric name, a {...} label matcher list, or both.
// A switch is the version switch of the Envoy and NGINX templates: two
// label_replace(vector(1), ...) that match exactly when their strings
// (.Version and .Canary) are equal, so "x and on() switch" is x for the
// canary and nothing for the stable, and "unless" the reverse. It is
// decided when the query is read (a string with "$", which label_replace
// would expand, is not read). Any other query (sum by (...), rate(),
// offset, a subquery, arithmetic with numbers) is not a countExpr and runs
// as written.
type countExpr struct {
	op       countOp
	selector string        // opSum
	window   time.Duration // opSum
	num      float64       // opNum
	l, r     *countExpr    // opAdd, opSub, opOr
}

// countOp is what a countExpr node does.
type countOp int

const (
	opSum   countOp = iota // sum(increase(selector[window]))
	opNum                  // vector(num)
	opEmpty                // no series (a switch that does not select)
	opAdd
	opSub
	opOr
)

// errNotCountExpr means a query is not of the countExpr shape.
var errNotCountExpr = errors.New("not sum(increase(SELECTOR[WINDOW])) terms")

// parseCountExpr reads q as a countExpr.
func parseCountExpr(q string) (*countExpr, error) {
	toks, err := lexCount(q)
	if err != nil {
		return nil, err
	}
	p := &countParser{toks: toks}
	e, err := p.or()
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

func (p *countParser) want(toks ...string) error {
	for _, tok := range toks {
		if !strings.EqualFold(p.peek(), tok) {
			return fmt.Errorf("%w: want %q, got %q", errNotCountExpr, tok, p.peek())
		}
		p.i++
	}
	return nil
}

func (p *countParser) or() (*countExpr, error) {
	e, err := p.and()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "or") {
		p.i++
		var r *countExpr
		if strings.EqualFold(p.peek(), "vector") {
			p.i++
			if err := p.want("("); err != nil {
				return nil, err
			}
			v, perr := strconv.ParseFloat(p.peek(), 64)
			if perr != nil {
				return nil, fmt.Errorf("%w: vector(%q)", errNotCountExpr, p.peek())
			}
			p.i++
			if err := p.want(")"); err != nil {
				return nil, err
			}
			r = &countExpr{op: opNum, num: v}
		} else if r, err = p.and(); err != nil {
			return nil, err
		}
		e = orOf(e, r)
	}
	return e, nil
}

// orOf is "l or r", simplified when a side is empty.
func orOf(l, r *countExpr) *countExpr {
	switch {
	case l.op == opEmpty:
		return r
	case r.op == opEmpty:
		return l
	}
	return &countExpr{op: opOr, l: l, r: r}
}

func (p *countParser) and() (*countExpr, error) {
	e, err := p.add()
	if err != nil {
		return nil, err
	}
	for {
		op := strings.ToLower(p.peek())
		if op != "and" && op != "unless" {
			return e, nil
		}
		p.i++
		if err := p.want("on", "(", ")"); err != nil {
			return nil, err
		}
		selects, err := p.versionSwitch()
		if err != nil {
			return nil, err
		}
		if selects == (op == "unless") {
			e = &countExpr{op: opEmpty}
		}
	}
}

// versionSwitch reads a switch and reports whether it selects (its two
// label_replace values are equal).
func (p *countParser) versionSwitch() (bool, error) {
	if err := p.want("("); err != nil {
		return false, err
	}
	a, la, err := p.labelReplace()
	if err != nil {
		return false, err
	}
	if err := p.want("and", "on", "("); err != nil {
		return false, err
	}
	on := p.peek()
	p.i++
	if err := p.want(")"); err != nil {
		return false, err
	}
	b, lb, err := p.labelReplace()
	if err != nil {
		return false, err
	}
	if la != lb || on != la {
		return false, fmt.Errorf("%w: switch on %q sets labels %q and %q", errNotCountExpr, on, la, lb)
	}
	return a == b, p.want(")")
}

// labelReplace reads label_replace(vector(1), "label", "value", "", "")
// and returns value and label.
func (p *countParser) labelReplace() (value, label string, err error) {
	if err := p.want("label_replace", "(", "vector", "(", "1", ")", ","); err != nil {
		return "", "", err
	}
	var args [4]string
	for i := range args {
		if i > 0 {
			if err := p.want(","); err != nil {
				return "", "", err
			}
		}
		s, uerr := strconv.Unquote(p.peek())
		if uerr != nil || !strings.HasPrefix(p.peek(), `"`) {
			return "", "", fmt.Errorf("%w: label_replace argument %q is not a double-quoted string", errNotCountExpr, p.peek())
		}
		args[i] = s
		p.i++
	}
	if err := p.want(")"); err != nil {
		return "", "", err
	}
	if args[2] != "" || args[3] != "" || strings.Contains(args[1], "$") || args[0] == "" {
		return "", "", fmt.Errorf("%w: label_replace(vector(1), %q, %q, %q, %q) is not a version switch", errNotCountExpr, args[0], args[1], args[2], args[3])
	}
	return args[1], args[0], nil
}

func (p *countParser) add() (*countExpr, error) {
	e, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.peek() == "+" || p.peek() == "-" {
		op := opAdd
		if p.peek() == "-" {
			op = opSub
		}
		p.i++
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		e = &countExpr{op: op, l: e, r: r}
	}
	return e, nil
}

func (p *countParser) term() (*countExpr, error) {
	if p.peek() == "(" {
		p.i++
		sub, err := p.or()
		if err != nil {
			return nil, err
		}
		return sub, p.want(")")
	}
	if err := p.want("sum", "(", "increase", "("); err != nil {
		return nil, err
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
		return nil, fmt.Errorf("%w: want SELECTOR[WINDOW], got %q", errNotCountExpr, rng)
	}
	p.i++
	d, err := model.ParseDuration(strings.TrimSpace(rng[1 : len(rng)-1]))
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("%w: range %s is not a window", errNotCountExpr, rng)
	}
	if err := p.want(")", ")"); err != nil {
		return nil, err
	}
	return &countExpr{op: opSum, selector: sel.String(), window: time.Duration(d)}, nil
}

// sums returns the sum(increase()) nodes of e, left to right.
func (e *countExpr) sums() []*countExpr {
	switch e.op {
	case opSum:
		return []*countExpr{e}
	case opAdd, opSub, opOr:
		return append(e.l.sums(), e.r.sums()...)
	}
	return nil
}

// eval computes e with each sum's value and presence from leaf. As in
// PromQL, an operator with an empty side is empty, and "l or r" is l
// unless l is empty.
func (e *countExpr) eval(leaf func(*countExpr) (float64, bool)) (float64, bool) {
	switch e.op {
	case opSum:
		return leaf(e)
	case opNum:
		return e.num, true
	case opAdd, opSub:
		l, lok := e.l.eval(leaf)
		r, rok := e.r.eval(leaf)
		if e.op == opSub {
			r = -r
		}
		if !lok || !rok {
			return 0, false
		}
		return l + r, true
	case opOr:
		if l, ok := e.l.eval(leaf); ok {
			return l, true
		}
		return e.r.eval(leaf)
	}
	return 0, false
}

// lexCount splits a rendered PromQL query into the tokens countExpr needs:
// identifiers and numbers, single punctuation, double-quoted strings, and
// whole {...} and [...] groups (strings inside them kept intact). Comments and space are dropped.
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
		case c == '"':
			end, err := stringEnd(q, i)
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

// stringEnd returns the index after the double-quoted string that opens
// at q[i].
func stringEnd(q string, i int) (int, error) {
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("%w: unclosed string", errNotCountExpr)
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

// lookCount is the count queries of one measurement evaluated over one
// window, the pods whose window is partial left out of all of them.
type lookCount struct {
	value   map[string]float64
	present map[string]bool // false: the query would have returned no series
	// observed is true when some series had a sample in the window before
	// pods were left out: a query not present only because every pod was
	// left out is a skipped window, not a scrape gap.
	observed bool
	notes    []string // per field, how the series were read
	dropped  []string // "pod: why", sorted
	skipped  []string // why the window is not evidence
}

// countLooks evaluates the count queries exprs (by field: "requests",
// "errors") over the window of each sum ending at each of ends (oldest
// first), fetching each selector's raw samples once for all of them; it
// also returns the backend's warnings.
//
// A pod is left out of every query of a look, so that errors and requests
// stay counts of the same events, when its window is partial in any sum
// (see CountWindow) or when it has more errors than requests.
func countLooks(ctx context.Context, p CounterProvider, exprs map[string]*countExpr, ends []time.Time) ([]lookCount, []string, error) {
	fields := slices.Sorted(maps.Keys(exprs))
	type fetchKey struct {
		selector string
		window   time.Duration
	}
	fetched := map[fetchKey][]CounterSeries{}
	var warnings []string
	for _, f := range fields {
		for _, s := range exprs[f].sums() {
			k := fetchKey{s.selector, s.window}
			if _, ok := fetched[k]; ok {
				continue
			}
			series, w, err := p.CounterSamples(ctx, s.selector, ends[0].Add(-s.window-CounterLookback), ends[len(ends)-1])
			warnings = append(warnings, w...)
			if err != nil {
				return nil, warnings, err
			}
			fetched[k] = series
		}
	}
	looks := make([]lookCount, len(ends))
	var all []CounterSeries
	for _, k := range slices.SortedFunc(maps.Keys(fetched), func(a, b fetchKey) int {
		return strings.Compare(a.selector+a.window.String(), b.selector+b.window.String())
	}) {
		all = append(all, fetched[k]...)
	}
	for i, end := range ends {
		reads := map[*countExpr]windowRead{}
		drop := map[string]string{}
		for _, f := range fields {
			for _, s := range exprs[f].sums() {
				since := end.Add(-s.window)
				pods := podSpans(clip(all, since.Add(-CounterLookback), end), since, end)
				r := readWindowPods(clip(fetched[fetchKey{s.selector, s.window}], since.Add(-CounterLookback), end), since, end, pods)
				reads[s] = r
				for _, pod := range slices.Sorted(maps.Keys(r.dropped)) {
					if _, ok := drop[pod]; !ok {
						drop[pod] = r.dropped[pod]
					}
				}
			}
		}
		if errs, reqs := exprs["errors"], exprs["requests"]; errs != nil && reqs != nil {
			moreErrorsThanRequests(errs, reqs, reads, drop)
		}
		looks[i] = evalLook(fields, exprs, reads, drop)
	}
	return looks, warnings, nil
}

// moreErrorsThanRequests leaves out of drop's complement every pod that
// counted more errors than requests: its two queries cannot both be right.
func moreErrorsThanRequests(errs, reqs *countExpr, reads map[*countExpr]windowRead, drop map[string]string) {
	pods := map[string]bool{}
	for _, r := range reads {
		for _, s := range r.series {
			if s.pod != "" {
				pods[s.pod] = true
			}
		}
	}
	for _, pod := range slices.Sorted(maps.Keys(pods)) {
		if _, ok := drop[pod]; ok {
			continue
		}
		leaf := func(s *countExpr) (float64, bool) { return reads[s].podValue(pod) }
		e, eok := errs.eval(leaf)
		r, _ := reqs.eval(leaf)
		if eok && e > r {
			drop[pod] = fmt.Sprintf("more errors (%.6g) than requests (%.6g) in the window", e, r)
		}
	}
}

// evalLook sums the series of reads but the pods in drop, per field.
func evalLook(fields []string, exprs map[string]*countExpr, reads map[*countExpr]windowRead, drop map[string]string) lookCount {
	l := lookCount{value: map[string]float64{}, present: map[string]bool{}}
	for _, f := range fields {
		var counts []CounterCount
		leaf := func(s *countExpr) (float64, bool) {
			r := reads[s]
			c := r.count(drop)
			counts = append(counts, c)
			l.observed = l.observed || slices.ContainsFunc(r.series, func(s seriesRead) bool { return s.inWindow })
			kept := slices.ContainsFunc(r.series, func(s seriesRead) bool {
				_, dropped := drop[s.pod]
				return s.inWindow && (s.pod == "" || !dropped)
			})
			return c.Value, kept
		}
		l.value[f], l.present[f] = exprs[f].eval(leaf)
		for _, c := range counts {
			if n := c.notes(f); n != "" {
				l.notes = append(l.notes, n)
			}
			for _, why := range c.Skipped {
				l.skipped = append(l.skipped, f+": "+why)
			}
		}
	}
	for pod, why := range drop {
		l.dropped = append(l.dropped, pod+": "+why)
	}
	slices.Sort(l.dropped)
	return l
}

// clip returns the series with their points in (from, to], leaving out
// series without any: what a fetch of that range alone would return.
func clip(series []CounterSeries, from, to time.Time) []CounterSeries {
	out := make([]CounterSeries, 0, len(series))
	for _, s := range series {
		lo := sort.Search(len(s.Points), func(i int) bool { return s.Points[i].T.After(from) })
		hi := sort.Search(len(s.Points), func(i int) bool { return s.Points[i].T.After(to) })
		if lo < hi {
			out = append(out, CounterSeries{Labels: s.Labels, Pod: s.Pod, Metric: s.Metric, Points: s.Points[lo:hi]})
		}
	}
	return out
}
