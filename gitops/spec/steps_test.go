package spec

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// routingChecks knows istio, smi and nginx, and says what a fake of each can
// route: istio anything, smi nothing, nginx one header route and no mirror.
var routingChecks = Checks{
	Provider: func(n string) error {
		if n != "istio" && n != "smi" && n != "nginx" && n != "service" {
			return fmt.Errorf("unknown provider %q", n)
		}
		return nil
	},
	Routing: func(p string, r Routing) error {
		switch {
		case p == "smi" && !r.Empty():
			return errors.New("smi sets traffic weights only")
		case p == "nginx" && r.Mirror != nil:
			return errors.New("nginx cannot mirror")
		case p == "nginx" && len(r.Headers) > 1:
			return fmt.Errorf("nginx holds one header route, not %d", len(r.Headers))
		case p == "service" && !r.Empty():
			return errors.New("service sets traffic weights only")
		}
		return nil
	},
	Weight: func(p string, w int) error {
		if p == "service" && w != 0 && w != 100 {
			return fmt.Errorf("service cannot send %d%% to the canary", w)
		}
		return nil
	},
}

const (
	smiTraffic     = "  traffic: {provider: smi, file: apps/split.yaml, stableService: a, canaryService: b}\n"
	nginxTraffic   = "  traffic: {provider: nginx, file: apps/ingress.yaml, route: aleph-canary}\n"
	serviceTraffic = "  traffic: {provider: service, file: apps/svc.yaml, activeService: web}\n"
)

// TestStrategyProblems parses whole documents and wants exactly the listed
// problems, each with the line of the field the human wrote. Body line k is
// line 13+k (14+k with one analysis line).
func TestStrategyProblems(t *testing.T) {
	tests := []struct {
		name     string
		analysis string // lines added to spec.analysis
		body     string
		traffic  string // default istio
		want     []string
	}{
		{name: "unknown strategy", body: "  strategy: rolling\n  steps: [{setWeight: 10}]\n",
			want: []string{`c.yaml:14: spec.strategy: want one of canary, abTesting, blueGreen, mirror, got "rolling"`}},
		{name: "a block without its strategy", body: "  steps: [{setWeight: 10}]\n  blueGreen: {iterations: 2}\n",
			want: []string{"c.yaml:15: spec.blueGreen: set only with strategy blueGreen, but strategy is canary"}},
		{name: "abTesting block with strategy mirror", body: "  strategy: mirror\n  abTesting:\n    match: [{header: x, exact: y}]\n",
			want: []string{"c.yaml:15: spec.abTesting: set only with strategy abTesting, but strategy is mirror"}},
		{name: "abTesting without its block", body: "  strategy: abTesting\n",
			want: []string{"c.yaml:14: spec.strategy: abTesting needs spec.abTesting with a match: the requests to send to the canary"}},
		{name: "abTesting without a match", body: "  strategy: abTesting\n  abTesting:\n    iterations: 2\n",
			want: []string{"c.yaml:15: spec.abTesting.match: required: the requests to send to the canary"}},
		{name: "abTesting with steps", body: "  strategy: abTesting\n  abTesting: {match: [{cookie: user, exact: developer}]}\n  steps:\n    - setWeight: 10\n    - setWeight: 5\n",
			want: []string{"c.yaml:16: spec.steps: generated from spec.abTesting; remove spec.steps"}},
		{name: "blueGreen with stepWeight", body: "  strategy: blueGreen\n  stepWeight: 10\n  maxWeight: 50\n",
			want: []string{"c.yaml:15: spec.stepWeight: steps are generated from spec.blueGreen; remove spec.stepWeight",
				"c.yaml:16: spec.maxWeight: steps are generated from spec.blueGreen; remove spec.maxWeight"}},
		{name: "blueGreen with steps", body: "  strategy: blueGreen\n  steps: [{setWeight: 50}]\n",
			want: []string{"c.yaml:15: spec.steps: generated from spec.blueGreen; remove spec.steps"}},
		{name: "two kinds in one step", body: "  steps:\n    - setWeight: 10\n    - setHeaderRoute: {name: a, match: [{header: x, exact: y}]}\n      analyze: 5m\n",
			want: []string{"c.yaml:16: spec.steps[1]: a step is exactly one of setWeight, setHeaderRoute, setMirrorRoute, analyze or pause"}},
		{name: "route name not a DNS label", body: "  steps:\n    - setHeaderRoute:\n        name: Dev_Team\n        match: [{header: x, exact: y}]\n",
			want: []string{`c.yaml:16: spec.steps[0].setHeaderRoute.name: must be a DNS label (lowercase letters, digits, '-') of at most 40 characters, got "Dev_Team"`}},
		{name: "route name too long", body: "  steps:\n    - setMirrorRoute: {name: " + strings.Repeat("a", 41) + ", percentage: 5}\n",
			want: []string{`c.yaml:15: spec.steps[0].setMirrorRoute.name: must be a DNS label (lowercase letters, digits, '-') of at most 40 characters, got "` + strings.Repeat("a", 41) + `"`}},
		{name: "route without a name", body: "  steps:\n    - setHeaderRoute: {match: [{header: x, exact: y}]}\n",
			want: []string{"c.yaml:15: spec.steps[0].setHeaderRoute.name: required"}},
		{name: "match on a header and a cookie", body: "  strategy: abTesting\n  abTesting:\n    match:\n      - header: x-canary\n        cookie: user\n        exact: a\n",
			want: []string{"c.yaml:17: spec.abTesting.match[0]: set exactly one of header, cookie or queryParam"}},
		{name: "match without a way to compare", body: "  strategy: abTesting\n  abTesting:\n    match:\n      - {header: x-a, exact: a}\n      - {queryParam: beta}\n",
			want: []string{"c.yaml:18: spec.abTesting.match[1]: set exactly one of exact, prefix or regex"}},
		{name: "match with two ways", body: "  steps:\n    - setHeaderRoute:\n        name: a\n        match: [{header: x, exact: a, regex: b}]\n",
			want: []string{"c.yaml:17: spec.steps[0].setHeaderRoute.match[0]: set exactly one of exact, prefix or regex"}},
		{name: "regex that RE2 refuses", body: "  strategy: blueGreen\n  blueGreen:\n    match:\n      - header: x-a\n        regex: \"(?=dev)\"\n",
			want: []string{"c.yaml:18: spec.blueGreen.match[0].regex: not an RE2 regular expression: error parsing regexp: invalid or unsupported Perl syntax: `(?=`"}},
		{name: "header name with a space", body: "  strategy: abTesting\n  abTesting:\n    match:\n      - header: x canary\n        exact: a\n",
			want: []string{`c.yaml:17: spec.abTesting.match[0].header: must be an HTTP header name (letters, digits and !#$%&'*+-.^_` + "`|~), got \"x canary\""}},
		{name: "header value with a newline", body: "  strategy: abTesting\n  abTesting:\n    match:\n      - header: x-canary\n        exact: \"a\\nb\"\n",
			want: []string{`c.yaml:18: spec.abTesting.match[0].exact: cannot occur in a header value, got "a\nb"`}},
		{name: "cookie name with '='", body: "  strategy: abTesting\n  abTesting:\n    match:\n      - cookie: user=developer\n        exact: a\n",
			want: []string{"c.yaml:17: spec.abTesting.match[0].cookie: must be a cookie name (letters, digits and !#$%&'*+-.^_`|~), got \"user=developer\""}},
		{name: "cookie value with ';'", body: "  strategy: abTesting\n  abTesting:\n    match:\n      - cookie: user\n        exact: dev;admin\n",
			want: []string{`c.yaml:18: spec.abTesting.match[0].exact: cannot be a cookie value (invalid byte ';'), got "dev;admin"`}},
		{name: "removing a route never set", body: "  steps:\n    - setHeaderRoute: {name: a, match: [{header: x, exact: y}]}\n    - setHeaderRoute: {name: b}\n",
			want: []string{"c.yaml:16: spec.steps[1].setHeaderRoute: removes route b, which no earlier step sets (a route without match is removed)"}},
		{name: "removing a route twice", body: "  steps:\n    - setHeaderRoute: {name: a, match: [{header: x, exact: y}]}\n    - setHeaderRoute: {name: a}\n    - setHeaderRoute: {name: a}\n",
			want: []string{"c.yaml:17: spec.steps[2].setHeaderRoute: removes route a, which no earlier step sets (a route without match is removed)"}},
		{name: "stopping a mirror never started", body: "  steps:\n    - setMirrorRoute: {name: a, percentage: 10}\n    - setMirrorRoute: {name: b}\n",
			want: []string{"c.yaml:16: spec.steps[1].setMirrorRoute: stops mirror b, which no earlier step starts (percentage 0 stops a mirror)"}},
		{name: "mirror step over 100 percent", body: "  steps:\n    - setMirrorRoute:\n        name: m\n        percentage: 150\n",
			want: []string{"c.yaml:17: spec.steps[0].setMirrorRoute.percentage: must be between 0 and 100, got 150"}},
		{name: "negative mirror block percentage", body: "  strategy: mirror\n  mirror:\n    percentage: -5\n",
			want: []string{"c.yaml:16: spec.mirror.percentage: must be in (0, 100], got -5"}},
		{name: "NaN mirror block percentage", body: "  strategy: mirror\n  mirror:\n    percentage: .nan\n",
			want: []string{"c.yaml:16: spec.mirror.percentage: must be in (0, 100], got NaN"}},
		{name: "blueGreen mirror over 100", body: "  strategy: blueGreen\n  blueGreen:\n    mirrorPercentage: 101\n",
			want: []string{"c.yaml:16: spec.blueGreen.mirrorPercentage: must be in (0, 100], got 101"}},
		{name: "negative iterations", body: "  strategy: blueGreen\n  blueGreen:\n    iterations: -1\n",
			want: []string{"c.yaml:16: spec.blueGreen.iterations: must be at least 1, got -1"}},
		{name: "iterations beyond a duration", body: "  strategy: abTesting\n  abTesting:\n    match: [{header: x, exact: y}]\n    iterations: 9223372036854775807\n",
			want: []string{"c.yaml:17: spec.abTesting.iterations: 9223372036854775807 intervals of 2m0s are longer than a duration can hold"}},
		{name: "mirrorAlpha of 1", analysis: "    mirrorAlpha: 1\n", body: "  strategy: mirror\n",
			want: []string{"c.yaml:14: spec.analysis.mirrorAlpha: must be in (0, 1), got 1"}},
		{name: "NaN alpha", analysis: "    alpha: .nan\n", body: "  steps: [{setWeight: 10}]\n",
			want: []string{"c.yaml:14: spec.analysis.alpha: must be in (0, 0.5], got NaN"}},
		{name: "weights after a mirror are counted as written", body: "  strategy: mirror\n  steps:\n    - setWeight: 50\n    - setWeight: 20\n",
			want: []string{"c.yaml:17: spec.steps[1].setWeight: weights must increase: 20 follows 50"}},
		{name: "steps and stepWeight after a mirror", body: "  strategy: mirror\n  stepWeight: 10\n  maxWeight: 20\n  steps: [{setWeight: 5}]\n",
			want: []string{"c.yaml:17: spec.steps: set either steps or stepWeight/maxWeight, not both"}},
		{name: "smi cannot A/B test", body: "  strategy: abTesting\n  abTesting:\n    match: [{cookie: user, exact: developer}]\n", traffic: smiTraffic,
			want: []string{"c.yaml:16: spec.abTesting.match: provider smi cannot express strategy abTesting: smi sets traffic weights only"}},
		{name: "smi cannot take a header route step", body: "  steps:\n    - setWeight: 10\n    - setHeaderRoute: {name: a, match: [{header: x, exact: y}]}\n", traffic: smiTraffic,
			want: []string{"c.yaml:16: spec.steps[1].setHeaderRoute: provider smi cannot express strategy canary: smi sets traffic weights only"}},
		{name: "nginx cannot mirror the preview, once", body: "  strategy: blueGreen\n  blueGreen:\n    match: [{header: x-preview, exact: \"1\"}]\n    mirrorPercentage: 10\n", traffic: nginxTraffic,
			want: []string{"c.yaml:17: spec.blueGreen.mirrorPercentage: provider nginx cannot express strategy blueGreen: nginx cannot mirror"}},
		{name: "nginx cannot mirror, told at spec.strategy", body: "  strategy: mirror\n", traffic: nginxTraffic,
			want: []string{"c.yaml:14: spec.strategy: provider nginx cannot express strategy mirror: nginx cannot mirror"}},
		{name: "nginx holds one header route", traffic: nginxTraffic, body: `  steps:
    - setHeaderRoute: {name: a, match: [{header: x, exact: y}]}
    - setHeaderRoute: {name: b, match: [{cookie: c, exact: y}]}
    - setHeaderRoute: {name: a}
    - setHeaderRoute: {name: b}
    - setHeaderRoute: {name: a, match: [{header: x, exact: y}]}
`, want: []string{"c.yaml:16: spec.steps[1].setHeaderRoute: provider nginx cannot express strategy canary: nginx holds one header route, not 2"}},
		{name: "service cannot take canary steps", traffic: serviceTraffic, body: "  steps:\n    - setWeight: 10\n    - setWeight: 100\n",
			want: []string{"c.yaml:15: spec.steps[0].setWeight: provider service cannot express strategy canary: service cannot send 10% to the canary"}},
		{name: "service cannot take stepWeight, told once", traffic: serviceTraffic, body: "  stepWeight: 20\n  maxWeight: 60\n",
			want: []string{"c.yaml:14: spec.stepWeight: provider service cannot express strategy canary: service cannot send 20% to the canary"}},
		{name: "an unknown provider is told once, not per route",
			traffic: "  traffic: {provider: linkerd, file: apps/t.yaml}\n", body: "  strategy: mirror\n",
			want: []string{`c.yaml:15: spec.traffic.provider: unknown provider "linkerd"`}},
		{name: "unknown field in a match", body: "  strategy: abTesting\n  abTesting:\n    match:\n      - header: x\n        equals: y\n",
			want: []string{"c.yaml:18: spec.abTesting.match[0].equals: unknown field",
				"c.yaml:17: spec.abTesting.match[0]: set exactly one of exact, prefix or regex"}}, // one pass: both at once
		{name: "wrong type of percentage", body: "  strategy: mirror\n  mirror: {percentage: lots}\n",
			want: []string{`c.yaml:15: spec.mirror.percentage: want a number, got str "lots"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCanaries("c.yaml", []byte(strategyDoc(tt.analysis, tt.body, tt.traffic)), routingChecks)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			got := make([]string, len(e.Problems))
			for i, p := range e.Problems {
				got[i] = p.String()
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestStrategyValid parses specs that must pass, with the routing checks.
func TestStrategyValid(t *testing.T) {
	tests := []struct {
		name, analysis, body, traffic string
	}{
		{name: "nginx A/B by header", body: "  strategy: abTesting\n  abTesting: {match: [{header: x-canary, exact: insider}]}\n", traffic: nginxTraffic},
		{name: "smi canary by weights", body: "  stepWeight: 10\n  maxWeight: 50\n", traffic: smiTraffic},
		{name: "smi blueGreen without routes", body: "  strategy: blueGreen\n  blueGreen: {iterations: 3, autoPromote: false}\n", traffic: smiTraffic},
		{name: "istio mirror with a stricter mirrorAlpha", analysis: "    mirrorAlpha: 0.001\n", body: "  strategy: mirror\n  mirror: {percentage: 0.5}\n"},
		{name: "a route replaced in place, then removed", body: `  steps:
    - setHeaderRoute: {name: a, match: [{header: x, exact: y}]}
    - setHeaderRoute: {name: a, match: [{header: x, prefix: z}]}
    - setMirrorRoute: {name: m, percentage: 100}
    - setMirrorRoute: {name: m, percentage: 0}
    - setHeaderRoute: {name: a}
    - setWeight: 100
`},
		{name: "cookie values with spaces, as Go's net/http allows", body: "  strategy: abTesting\n  abTesting: {match: [{cookie: user, exact: \"dev eloper\"}]}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseCanaries("c.yaml", []byte(strategyDoc(tt.analysis, tt.body, tt.traffic)), routingChecks); err != nil {
				t.Errorf("ParseCanaries: %v", err)
			}
		})
	}
}

// TestRoutingStates records what Checks.Routing is asked: every state
// reached after a route step, in order.
func TestRoutingStates(t *testing.T) {
	body := `  strategy: blueGreen
  blueGreen:
    match: [{cookie: user, exact: developer}]
    mirrorPercentage: 20
`
	var seen []string
	checks := Checks{Routing: func(p string, r Routing) error {
		var hs []string
		for _, h := range r.Headers {
			hs = append(hs, h.Name)
		}
		m := "-"
		if r.Mirror != nil {
			m = fmt.Sprintf("%s:%g", r.Mirror.Name, r.Mirror.Percentage)
		}
		seen = append(seen, fmt.Sprintf("%s headers=%v mirror=%s", p, hs, m))
		return nil
	}}
	if _, err := ParseCanaries("c.yaml", []byte(strategyDoc("", body, "")), checks); err != nil {
		t.Fatal(err)
	}
	want := []string{"istio headers=[preview] mirror=-", "istio headers=[preview] mirror=preview:20", "istio headers=[preview] mirror=-"}
	if !slices.Equal(seen, want) {
		t.Errorf("Routing was asked\n %q\nwant %q", seen, want)
	}
}

// strategyChecks combine testChecks' templates with routingChecks' providers and routes.
func strategyChecks() Checks {
	c := testChecks
	c.Provider, c.Routing = routingChecks.Provider, routingChecks.Routing
	return c
}

func TestStrategyFiles(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		assertions func(t *testing.T, got []*Canary, err error)
	}{
		{
			name: "valid strategies side by side",
			file: "testdata/valid-strategies.yaml",
			assertions: func(t *testing.T, got []*Canary, err error) {
				if err != nil {
					t.Fatal(err)
				}
				var steps [][]string
				for _, c := range got {
					steps = append(steps, describeSteps(c.Spec.Steps))
				}
				want := [][]string{
					{"setHeaderRoute ab: cookie user=developer, queryParam preview~=^(1|true)$ @spec.abTesting.match", "analyze 10m0s @spec.abTesting.iterations"},
					{"setMirrorRoute preview 25% @spec.blueGreen.mirrorPercentage", "analyze 2m0s @spec.blueGreen.iterations", "pause @spec.blueGreen.autoPromote",
						"setMirrorRoute preview (stop) @spec.blueGreen.mirrorPercentage", "setWeight 100 @spec.blueGreen"},
					{"setMirrorRoute mirror 100% @spec.strategy", "analyze 10m0s @spec.strategy", "setMirrorRoute mirror (stop) @spec.strategy",
						"setHeaderRoute qa: header x-qa=yes", "setWeight 10", "analyze 5m0s", "setHeaderRoute qa (remove)", "setWeight 100"},
				}
				if !reflect.DeepEqual(steps, want) {
					t.Errorf("steps\n got %q\nwant %q", steps, want)
				}
			},
		},
		{
			name: "invalid strategies, each problem at the line written",
			file: "testdata/invalid-strategies.yaml",
			assertions: func(t *testing.T, got []*Canary, err error) {
				want, rerr := os.ReadFile("testdata/invalid-strategies.txt")
				if rerr != nil {
					t.Fatal(rerr)
				}
				if err == nil || err.Error()+"\n" != string(want) {
					t.Errorf("problems\n%v\nwant\n%s", err, want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseCanaries(tt.file, data, strategyChecks())
			tt.assertions(t, got, err)
		})
	}
}
