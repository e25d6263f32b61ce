package rollout

import (
	"fmt"
	"slices"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// isTrafficStep reports whether s changes what reaches the canary: a
// setWeight, setHeaderRoute or setMirrorRoute step.
func isTrafficStep(s spec.Step) bool {
	return s.SetWeight != nil || s.SetHeaderRoute != nil || s.SetMirrorRoute != nil
}

// applyTraffic executes the run of consecutive traffic steps that starts at
// the current step as one change: one commit and one wait for sync, so
// blue-green's "stop mirroring, switch 0 -> 100" is a single commit. A run
// holds at most one setWeight: two weights in a row stay two stages, each
// applied before the next (as in Argo Rollouts). The routes wanted are
// spec.RoutingAt the end of the run, whatever the status held, so a run
// also reconciles routes a status did not list. It returns true when
// nothing changed and the machine goes on with the next step.
func (m *machine) applyTraffic() bool {
	end, w, weighed := m.st.Step, m.st.Weight, false
	for ; end < len(m.steps) && isTrafficStep(m.steps[end]); end++ {
		if s := m.steps[end].SetWeight; s != nil {
			if weighed {
				break
			}
			w, weighed = *s, true
		}
	}
	before, want := m.st.Weight, spec.RoutingAt(m.steps, end)
	m.st.Step = end
	m.st.StepStartedAt = m.now()
	var changes []string
	if w != before {
		m.setCanaryWeight(w)
		changes = append(changes, fmt.Sprintf("weight %d -> %d", before, w))
	}
	if !routingEqual(m.st.Routes, want) {
		changes = append(changes, routeChanges(m.st.Routes, want)...)
		m.setRoutes(want)
	}
	if len(changes) == 0 {
		if len(m.actions) == 0 {
			// Nothing else is committed by this call: commit the move past
			// these steps, or every call would run them again and restart
			// the analysis that follows them.
			m.take(ActionAdvance, fmt.Sprintf("%s already in place", m.committed()))
		}
		return true
	}
	m.st.WeightSetAt, m.st.AppliedAt = m.now(), nil
	m.st.Phase = spec.PhaseWaitingForSync
	m.take(ActionAdvance, strings.Join(changes, ", "))
	return false
}

// setRoutes records r as the routes in the status and in the decision.
func (m *machine) setRoutes(r spec.Routing) {
	m.st.Routes = cloneRouting(r)
	d := cloneRouting(r)
	m.routes = &d
}

// clearRoutes removes every birdwatch route, in the status and in the
// decision. The decision asks the manifest to drop them whenever this
// rollout may have put some there (the status lists routes or the steps set
// any) or the manifest holds leftovers, even when the status lists none, so
// the manifest is reconciled; a rollout that never routes leaves the
// manifest's routes alone.
func (m *machine) clearRoutes() {
	if !m.st.Routes.Empty() || m.in.ManifestHasRoutes || slices.ContainsFunc(m.steps, func(s spec.Step) bool {
		return s.SetHeaderRoute != nil || s.SetMirrorRoute != nil
	}) {
		m.routes = &spec.Routing{}
	}
	m.st.Routes = spec.Routing{}
}

// trafficOf says what reaches the canary at a weight with routes r: live
// when the weight is above 0, else matched when header routes exist, else
// mirrored when a mirror exists, else none.
func trafficOf(weight int, r spec.Routing) Traffic {
	switch {
	case weight > 0:
		return TrafficLive
	case len(r.Headers) > 0:
		return TrafficMatched
	case r.Mirror != nil:
		return TrafficMirrored
	}
	return TrafficNone
}

// committed describes the committed traffic for sync messages: "weight 10",
// or "weight 0 with header preview, mirror preview 20%".
func (m *machine) committed() string {
	s := fmt.Sprintf("weight %d", m.st.Weight)
	if m.st.Routes.Empty() {
		return s
	}
	return s + " with " + m.st.Routes.Summary()
}

// routeChanges names what turns routes a into routes b, for reasons:
// "header route developers -> canary", "header route preview removed",
// "mirror 20% -> canary", "mirror stopped".
func routeChanges(a, b spec.Routing) []string {
	var out []string
	for _, h := range b.Headers {
		i := slices.IndexFunc(a.Headers, func(x spec.HeaderRoute) bool { return x.Name == h.Name })
		switch {
		case i < 0:
			out = append(out, fmt.Sprintf("header route %s -> canary", h.Name))
		case !slices.Equal(a.Headers[i].Match, h.Match):
			out = append(out, fmt.Sprintf("header route %s changed", h.Name))
		}
	}
	for _, h := range a.Headers {
		if !slices.ContainsFunc(b.Headers, func(x spec.HeaderRoute) bool { return x.Name == h.Name }) {
			out = append(out, fmt.Sprintf("header route %s removed", h.Name))
		}
	}
	switch {
	case a.Mirror == nil && b.Mirror != nil:
		out = append(out, fmt.Sprintf("mirror %g%% -> canary", b.Mirror.Percentage))
	case a.Mirror != nil && b.Mirror == nil:
		out = append(out, "mirror stopped")
	case a.Mirror != nil && *a.Mirror != *b.Mirror:
		out = append(out, fmt.Sprintf("mirror %g%% -> %g%%", a.Mirror.Percentage, b.Mirror.Percentage))
	}
	if len(out) == 0 {
		out = append(out, "header routes reordered")
	}
	return out
}

// routingEqual reports whether a and b hold the same routes in the same
// order; nil and empty lists are equal.
func routingEqual(a, b spec.Routing) bool {
	same := slices.EqualFunc(a.Headers, b.Headers, func(x, y spec.HeaderRoute) bool {
		return x.Name == y.Name && slices.Equal(x.Match, y.Match)
	})
	if (a.Mirror == nil) != (b.Mirror == nil) {
		return false
	}
	return same && (a.Mirror == nil || *a.Mirror == *b.Mirror)
}

// cloneRouting deep-copies r, so statuses and decisions share no slices.
func cloneRouting(r spec.Routing) spec.Routing {
	out := spec.Routing{}
	if r.Headers != nil {
		out.Headers = make([]spec.HeaderRoute, len(r.Headers))
		for i, h := range r.Headers {
			out.Headers[i] = spec.HeaderRoute{Name: h.Name, Match: slices.Clone(h.Match)}
		}
	}
	if r.Mirror != nil {
		mr := *r.Mirror
		out.Mirror = &mr
	}
	return out
}
