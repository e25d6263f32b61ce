package traffic

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// The RequestMirror filter birdwatch puts on the managed rule of an
// HTTPRoute or GRPCRoute (Gateway API v1.2+, GEP-3171: percent, or a
// fraction for shares that are not whole percentages).

// maxFractionDecimals bounds the decimals of a mirror percentage written
// as a fraction, so that the denominator (100 * 10^d) fits Gateway API's
// int32.
const maxFractionDecimals = 7

// mirrorPercent reads an HTTPRequestMirrorFilter's share: percent, or
// fraction (denominator 100 by default), or 100 without either.
func mirrorPercent(rm *yaml.Node) (float64, error) {
	if v := mapGet(rm, "percent"); v != nil {
		n, err := strconv.Atoi(scalarOf(v))
		if err != nil || n <= 0 || n > 100 {
			return 0, fmt.Errorf("percent %q: want an integer in 1..100", scalarOf(v))
		}
		return float64(n), nil
	}
	fr := mapGet(rm, "fraction")
	if fr == nil {
		return 100, nil
	}
	num, err1 := strconv.ParseInt(scalarOf(mapGet(fr, "numerator")), 10, 32)
	den, err2 := int64(100), error(nil)
	if d := mapGet(fr, "denominator"); d != nil {
		den, err2 = strconv.ParseInt(scalarOf(d), 10, 32)
	}
	if err1 != nil || err2 != nil || num <= 0 || den <= 0 || num > den {
		return 0, fmt.Errorf("fraction: want 0 < numerator <= denominator, both int32")
	}
	return float64(num) * 100 / float64(den), nil
}

// mirrorShare writes percentage pct as the filter's percent when whole,
// else as the smallest fraction equal to it.
func mirrorShare(pct float64) (string, *yaml.Node, error) {
	if pct == float64(int64(pct)) {
		return "percent", intNode(int64(pct)), nil
	}
	digits := formatPercent(pct)
	_, frac, _ := strings.Cut(digits, ".")
	if len(frac) > maxFractionDecimals {
		return "", nil, fmt.Errorf("mirror percentage %s has more than %d decimals: the RequestMirror fraction holds int32s: %w",
			digits, maxFractionDecimals, ErrUnsupported)
	}
	r, ok := new(big.Rat).SetString(digits)
	if !ok {
		return "", nil, fmt.Errorf("mirror percentage %s: %w", digits, ErrInvalidRoutes)
	}
	r.Quo(r, big.NewRat(100, 1))
	return "fraction", mapNode("numerator", intNode(r.Num().Int64()), "denominator", intNode(r.Denom().Int64())), nil
}

// mirrorFilter is the RequestMirror filter for m, to the canary's backend
// and port (the stable's when the canary backendRef names none).
func (p *GatewayAPI) mirrorFilter(s *split, m *Mirror) (*yaml.Node, error) {
	canary, err := s.canaryItem()
	if err != nil {
		return nil, err
	}
	ref := mapNode()
	for _, k := range []string{"group", "kind", "name", "namespace", "port"} {
		if v := mapGet(canary, k); v != nil {
			mapSet(ref, k, v)
		}
	}
	if mapGet(ref, "port") == nil {
		if stable, err := s.doc.Lookup(fmt.Sprintf("%s[%d].port", s.list, s.stable)); err == nil {
			mapSet(ref, "port", copyNode(stable))
		}
	}
	key, share, err := mirrorShare(m.Percent)
	if err != nil {
		return nil, err
	}
	return mapNode("type", strNode("RequestMirror"), "requestMirror", mapNode("backendRef", ref, key, share)), nil
}

// setMirror makes the managed rule mirror m to the canary, or stop
// mirroring to it when m is nil. Other filters are left as they are.
func (p *GatewayAPI) setMirror(doc []byte, s *split, managed *yaml.Node, m *Mirror) ([]byte, error) {
	var want *yaml.Node
	if m != nil {
		var err error
		if want, err = p.mirrorFilter(s, m); err != nil {
			return nil, fmt.Errorf("gatewayapi: %s: %w", s.object, err)
		}
	}
	out, err := p.mirrorEdits(doc, fmt.Sprintf("{%d}spec.rules[%d].filters", s.doc.Index, s.at), mapGet(managed, "filters"), want)
	if err != nil {
		return nil, fmt.Errorf("gatewayapi: %s: spec.rules[%d].filters: %w", s.object, s.at, err)
	}
	return out, nil
}

// mirrorEdits turns the filters list at path (list: its node, nil when
// absent) into one holding want (nil: none) as birdwatch's only mirror.
func (p *GatewayAPI) mirrorEdits(doc []byte, path string, list, want *yaml.Node) ([]byte, error) {
	return reconcileMirror(doc, path, list, want, p.ourMirror)
}

// reconcileMirror turns the list at path (list: its node, nil when
// absent) into one holding want (nil: none) as its only item for which
// ours is true, after the others: the filters of a Gateway API rule, the
// services of a Contour route, the mirrors of a Traefik mirroring
// service. A list birdwatch added is removed whole, so adding and removing
// a mirror gives the file back byte for byte.
func reconcileMirror(doc []byte, path string, list, want *yaml.Node, ours func(*yaml.Node) bool) ([]byte, error) {
	var items, others []*yaml.Node
	if list != nil && list.Kind == yaml.SequenceNode {
		items = list.Content
	}
	var mine []int
	for j, f := range items {
		if ours(f) {
			mine = append(mine, j)
		} else {
			others = append(others, f)
		}
	}
	switch {
	case want == nil && len(mine) == 0:
		return doc, nil
	case want == nil && len(others) == 0:
		return yamledit.Delete(doc, path) // birdwatch added the list: remove it whole
	case want != nil && len(mine) == 1 && sameValue(items[mine[0]], want):
		return doc, nil
	case want != nil && (len(others) == 0 || list.Style&yaml.FlowStyle != 0):
		out := make([]*yaml.Node, 0, len(others)+1)
		for _, f := range others {
			out = append(out, copyNode(f))
		}
		return yamledit.SetValue(doc, path, seqNode(append(out, want)...))
	}
	out := doc
	for i := len(mine) - 1; i >= 0; i-- {
		var err error
		if out, err = yamledit.Delete(out, fmt.Sprintf("%s[%d]", path, mine[i])); err != nil {
			return nil, err
		}
	}
	if want == nil {
		return out, nil
	}
	return yamledit.InsertItem(out, path, len(others), want)
}
