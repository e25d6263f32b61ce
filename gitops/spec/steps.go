package spec

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// maxRouteName keeps "birdwatch-<name>" (traffic.RoutePrefix is 10 bytes)
// within the 63 bytes of a DNS label, with room for a provider's suffix.
const maxRouteName = 40

// validateStrategy checks spec.strategy and the blocks that go with it.
func validateStrategy(s *CanarySpec, ps *problems) {
	oneOf(ps, "spec.strategy", s.Strategy, StrategyCanary, StrategyABTesting, StrategyBlueGreen, StrategyMirror)
	for _, b := range []struct {
		strategy string
		set      bool
	}{{StrategyABTesting, s.ABTesting != nil}, {StrategyBlueGreen, s.BlueGreen != nil}, {StrategyMirror, s.Mirror != nil}} {
		if b.set && s.Strategy != b.strategy {
			ps.add("spec."+b.strategy, "set only with strategy %s, but strategy is %s", b.strategy, s.Strategy)
		}
	}
	interval := s.Analysis.Interval
	switch s.Strategy {
	case StrategyABTesting:
		b := s.ABTesting
		if b == nil {
			ps.add("spec.strategy", "abTesting needs spec.abTesting with a match: the requests to send to the canary")
			break
		}
		if len(b.Match) == 0 {
			ps.add("spec.abTesting.match", "required: the requests to send to the canary")
		}
		validateMatches(ps, "spec.abTesting.match", b.Match)
		checkIterations(ps, "spec.abTesting.iterations", b.Iterations, interval)
	case StrategyBlueGreen:
		if b := s.BlueGreen; b != nil {
			validateMatches(ps, "spec.blueGreen.match", b.Match)
			if !(b.MirrorPercentage >= 0 && b.MirrorPercentage <= 100) {
				ps.add("spec.blueGreen.mirrorPercentage", "must be in (0, 100], got %g", b.MirrorPercentage)
			}
			checkIterations(ps, "spec.blueGreen.iterations", b.Iterations, interval)
		}
	case StrategyMirror:
		if b := s.Mirror; b != nil {
			if !(b.Percentage > 0 && b.Percentage <= 100) {
				ps.add("spec.mirror.percentage", "must be in (0, 100], got %g", b.Percentage)
			}
			checkIterations(ps, "spec.mirror.iterations", b.Iterations, interval)
		}
	}
	if generatesAllSteps(s.Strategy) {
		from := "spec." + strategyBlock(s.Strategy)
		if countUserSteps(s.Steps) > 0 {
			ps.add("spec.steps", "generated from %s; remove spec.steps", from)
		}
		if s.StepWeight != 0 {
			ps.add("spec.stepWeight", "steps are generated from %s; remove spec.stepWeight", from)
		}
		if s.MaxWeight != 0 {
			ps.add("spec.maxWeight", "steps are generated from %s; remove spec.maxWeight", from)
		}
	}
}

// checkIterations wants at least one interval, and no more than a duration holds.
func checkIterations(ps *problems, field string, n int, interval Duration) {
	switch {
	case n < 1:
		ps.add(field, "must be at least 1, got %d", n)
	case interval > 0 && times(n, interval) == Duration(math.MaxInt64):
		ps.add(field, "%d intervals of %s are longer than a duration can hold", n, interval)
	}
}

func countUserSteps(steps []Step) int {
	n := 0
	for _, st := range steps {
		if st.origin == "" {
			n++
		}
	}
	return n
}

// validateSteps checks the expanded steps. A step the human wrote is
// located as spec.steps[j] (j counts written steps only); a generated one
// at its origin, whose content validateStrategy already checked.
func validateSteps(s *CanarySpec, checks Checks, providerOK bool, ps *problems) {
	refuseUser := generatesAllSteps(s.Strategy)
	if !refuseUser {
		validateStepWeight(s, ps)
	}
	if s.Strategy == StrategyCanary && len(s.Steps) == 0 {
		ps.add("spec.steps", "required (or stepWeight and maxWeight)")
	}
	last, j := -1, 0
	seen := map[string]bool{}
	for i, st := range s.Steps {
		f := st.origin
		if f == "" {
			f = fmt.Sprintf("spec.steps[%d]", j)
			j++
			if refuseUser {
				continue
			}
			validateStep(ps, f, st, RoutingAt(s.Steps, i))
		}
		if st.SetWeight != nil {
			if w := *st.SetWeight; w >= 0 && w <= 100 && w <= last {
				ps.add(f+".setWeight", "weights must increase: %d follows %d", w, last)
			}
			last = *st.SetWeight
			checkWeight(s, checks, providerOK, st, f, seen, ps)
		}
		if checks.Routing == nil || !providerOK || (st.SetHeaderRoute == nil && st.SetMirrorRoute == nil) {
			continue
		}
		if err := checks.Routing(s.Traffic.Provider, RoutingAt(s.Steps, i+1)); err != nil {
			rf := f
			if st.origin == "" && st.SetHeaderRoute != nil {
				rf += ".setHeaderRoute"
			} else if st.origin == "" {
				rf += ".setMirrorRoute"
			}
			msg := fmt.Sprintf("provider %s cannot express strategy %s: %v", s.Traffic.Provider, s.Strategy, err)
			if !seen[rf+"\x00"+msg] {
				seen[rf+"\x00"+msg] = true
				ps.add(rf, "%s", msg)
			}
		}
	}
}

// checkWeight asks checks.Weight whether the provider can set st's
// weight, naming the provider and the strategy when it cannot; one
// problem per field and message.
func checkWeight(s *CanarySpec, checks Checks, providerOK bool, st Step, f string, seen map[string]bool, ps *problems) {
	if checks.Weight == nil || !providerOK {
		return
	}
	err := checks.Weight(s.Traffic.Provider, *st.SetWeight)
	if err == nil {
		return
	}
	if st.origin == "" {
		f += ".setWeight"
	}
	if !seen[f+"\x00weight"] {
		seen[f+"\x00weight"] = true
		ps.add(f, "provider %s cannot express strategy %s: %v", s.Traffic.Provider, s.Strategy, err)
	}
}

// validateStepWeight checks Flagger-style stepWeight/maxWeight.
func validateStepWeight(s *CanarySpec, ps *problems) {
	if s.StepWeight == 0 && s.MaxWeight == 0 {
		return
	}
	if s.StepWeight < 1 || s.StepWeight > 100 {
		ps.add("spec.stepWeight", "must be between 1 and 100, got %d", s.StepWeight)
	}
	if s.MaxWeight < s.StepWeight || s.MaxWeight > 100 {
		ps.add("spec.maxWeight", "must be between stepWeight and 100, got %d", s.MaxWeight)
	}
	if s.StepWeight > 0 && countUserSteps(s.Steps) > 0 {
		ps.add("spec.steps", "set either steps or stepWeight/maxWeight, not both")
	}
}

// validateStep checks one written step at field f; before is the routing
// in place when it runs.
func validateStep(ps *problems, f string, st Step, before Routing) {
	n := 0
	if st.SetWeight != nil {
		n++
		if w := *st.SetWeight; w < 0 || w > 100 {
			ps.add(f+".setWeight", "must be between 0 and 100, got %d", w)
		}
	}
	if st.Analyze != nil {
		n++
		if *st.Analyze <= 0 {
			ps.add(f+".analyze", "must be a positive duration")
		}
	}
	if st.Pause != nil {
		n++
		if st.Pause.Duration != nil && *st.Pause.Duration <= 0 {
			ps.add(f+".pause.duration", "must be a positive duration")
		}
	}
	if h := st.SetHeaderRoute; h != nil {
		n++
		validateHeaderRoute(ps, f+".setHeaderRoute", h, before)
	}
	if m := st.SetMirrorRoute; m != nil {
		n++
		validateMirrorRoute(ps, f+".setMirrorRoute", m, before)
	}
	if n != 1 {
		ps.add(f, "a step is exactly one of setWeight, setHeaderRoute, setMirrorRoute, analyze or pause")
	}
}

func validateHeaderRoute(ps *problems, f string, h *HeaderRoute, before Routing) {
	if !checkRouteName(ps, f+".name", h.Name) {
		return
	}
	validateMatches(ps, f+".match", h.Match)
	if len(h.Match) > 0 {
		return
	}
	for _, r := range before.Headers {
		if r.Name == h.Name {
			return
		}
	}
	ps.add(f, "removes route %s, which no earlier step sets (a route without match is removed)", h.Name)
}

func validateMirrorRoute(ps *problems, f string, m *MirrorRoute, before Routing) {
	if !checkRouteName(ps, f+".name", m.Name) {
		return
	}
	switch {
	case !(m.Percentage >= 0 && m.Percentage <= 100):
		ps.add(f+".percentage", "must be between 0 and 100, got %g", m.Percentage)
	case m.Percentage == 0 && (before.Mirror == nil || before.Mirror.Name != m.Name):
		ps.add(f, "stops mirror %s, which no earlier step starts (percentage 0 stops a mirror)", m.Name)
	}
}

// checkRouteName wants a DNS label short enough for "birdwatch-<name>".
func checkRouteName(ps *problems, field, name string) bool {
	switch {
	case name == "":
		ps.add(field, "required")
	case len(name) > maxRouteName || !dnsLabelRE.MatchString(name):
		ps.add(field, "must be a DNS label (lowercase letters, digits, '-') of at most %d characters, got %q", maxRouteName, name)
	default:
		return true
	}
	return false
}

// validateMatches checks request conditions: exactly one thing compared,
// exactly one way, and values that can occur in a request.
func validateMatches(ps *problems, field string, ms []Match) {
	for k, m := range ms {
		f := fmt.Sprintf("%s[%d]", field, k)
		if count(m.Header, m.Cookie, m.QueryParam) != 1 {
			ps.add(f, "set exactly one of header, cookie or queryParam")
		}
		if count(m.Exact, m.Prefix, m.Regex) != 1 {
			ps.add(f, "set exactly one of exact, prefix or regex")
		}
		switch {
		case m.Header != "" && !httpguts.ValidHeaderFieldName(m.Header):
			ps.add(f+".header", "must be an HTTP header name (letters, digits and !#$%%&'*+-.^_`|~), got %q", m.Header)
		case m.Header != "" && m.Exact != "" && !httpguts.ValidHeaderFieldValue(m.Exact):
			ps.add(f+".exact", "cannot occur in a header value, got %q", m.Exact)
		case m.Cookie != "" && !httpguts.ValidHeaderFieldName(m.Cookie):
			ps.add(f+".cookie", "must be a cookie name (letters, digits and !#$%%&'*+-.^_`|~), got %q", m.Cookie)
		case m.Cookie != "" && m.Exact != "":
			if i := strings.IndexFunc(m.Exact, notCookieValueRune); i >= 0 {
				ps.add(f+".exact", "cannot be a cookie value (invalid byte %q), got %q", m.Exact[i], m.Exact)
			}
		}
		if m.Regex != "" {
			if _, err := regexp.Compile(m.Regex); err != nil {
				ps.add(f+".regex", "not an RE2 regular expression: %v", err)
			}
		}
	}
}

// notCookieValueRune reports whether r cannot occur in a cookie value.
// It is net/http's validCookieValueByte (what http.Cookie.Valid checks,
// RFC 6265's cookie-octet plus space and comma, as browsers send), written
// out here so that spec, read by every package that parses a Canary, does
// not pull in net/http for two lines.
func notCookieValueRune(r rune) bool {
	return r < 0x20 || r >= 0x7f || r == '"' || r == ';' || r == '\\'
}

// count returns how many of vs are not empty.
func count(vs ...string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}
