package spec

import (
	"reflect"
	"slices"
	"testing"
)

// strategyHead is a Canary up to its analysis block: lines 1-13. A case's
// analysis lines follow it, then its body (spec fields, two-space
// indent), then its traffic section.
const strategyHead = `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata:
  name: aleph
  namespace: games
spec:
  stable: v03
  canary: v04
  analysis:
    interval: 2m
    metrics:
      - name: error-rate
        template: istio-error-rate
`

const istioTraffic = "  traffic: {provider: istio, file: apps/vs.yaml, stableSubset: production, canarySubset: canary}\n"

// strategyDoc assembles a Canary; with no analysis lines, body line k is
// line 13+k of the document.
func strategyDoc(analysis, body, traffic string) string {
	if traffic == "" {
		traffic = istioTraffic
	}
	return strategyHead + analysis + body + traffic
}

// describe renders a step in one line, with its origin after "@".
func describe(s Step) string {
	if s.Origin() != "" {
		return s.String() + " @" + s.Origin()
	}
	return s.String()
}

func describeSteps(steps []Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = describe(s)
	}
	return out
}

func TestExpandStrategies(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{
			name: "canary steps as written",
			body: "  steps: [{setWeight: 10}, {analyze: 5m}, {pause: {}}, {setWeight: 100}]\n",
			want: []string{"setWeight 10", "analyze 5m0s", "pause", "setWeight 100"},
		},
		{
			name: "canary stepWeight",
			body: "  stepWeight: 20\n  maxWeight: 40\n",
			want: []string{"setWeight 20 @spec.stepWeight", "analyze 2m0s @spec.stepWeight",
				"setWeight 40 @spec.stepWeight", "analyze 2m0s @spec.stepWeight"},
		},
		{
			name: "canary with Argo-style header route, then weights",
			body: `  strategy: canary
  steps:
    - setHeaderRoute: {name: dev, match: [{cookie: user, exact: developer}]}
    - analyze: 10m
    - setHeaderRoute: {name: dev}
    - setWeight: 10
`,
			want: []string{"setHeaderRoute dev: cookie user=developer", "analyze 10m0s", "setHeaderRoute dev (remove)", "setWeight 10"},
		},
		{
			name: "abTesting with default iterations",
			body: "  strategy: abTesting\n  abTesting:\n    match: [{cookie: user, exact: developer}]\n",
			want: []string{"setHeaderRoute ab: cookie user=developer @spec.abTesting.match", "analyze 20m0s @spec.abTesting.iterations"},
		},
		{
			name: "abTesting with two conditions and three iterations",
			body: `  strategy: abTesting
  abTesting:
    iterations: 3
    match:
      - header: x-canary
        prefix: ins
      - queryParam: beta
        regex: "^(1|true)$"
`,
			want: []string{"setHeaderRoute ab: header x-canary^=ins, queryParam beta~=^(1|true)$ @spec.abTesting.match",
				"analyze 6m0s @spec.abTesting.iterations"},
		},
		{
			name: "blueGreen without a block",
			body: "  strategy: blueGreen\n",
			want: []string{"analyze 20m0s @spec.strategy", "setWeight 100 @spec.strategy"},
		},
		{
			name: "blueGreen with match, mirror and a manual switch",
			body: `  strategy: blueGreen
  blueGreen:
    match: [{header: x-preview, exact: "1"}]
    mirrorPercentage: 50
    iterations: 5
    autoPromote: false
`,
			want: []string{"setHeaderRoute preview: header x-preview=1 @spec.blueGreen.match",
				"setMirrorRoute preview 50% @spec.blueGreen.mirrorPercentage", "analyze 10m0s @spec.blueGreen.iterations",
				"pause @spec.blueGreen.autoPromote", "setMirrorRoute preview (stop) @spec.blueGreen.mirrorPercentage",
				"setWeight 100 @spec.blueGreen"},
		},
		{
			name: "blueGreen mirroring only, switching by itself",
			body: "  strategy: blueGreen\n  blueGreen: {mirrorPercentage: 100, autoPromote: true}\n",
			want: []string{"setMirrorRoute preview 100% @spec.blueGreen.mirrorPercentage", "analyze 20m0s @spec.blueGreen.iterations",
				"setMirrorRoute preview (stop) @spec.blueGreen.mirrorPercentage", "setWeight 100 @spec.blueGreen"},
		},
		{
			name: "mirror without a block",
			body: "  strategy: mirror\n",
			want: []string{"setMirrorRoute mirror 100% @spec.strategy", "analyze 20m0s @spec.strategy",
				"setMirrorRoute mirror (stop) @spec.strategy", "setWeight 100 @spec.strategy"},
		},
		{
			name: "mirror then stepWeight",
			body: "  strategy: mirror\n  mirror: {percentage: 50, iterations: 2}\n  stepWeight: 25\n  maxWeight: 50\n",
			want: []string{"setMirrorRoute mirror 50% @spec.mirror.percentage", "analyze 4m0s @spec.mirror.iterations",
				"setMirrorRoute mirror (stop) @spec.mirror.percentage", "setWeight 25 @spec.stepWeight", "analyze 2m0s @spec.stepWeight",
				"setWeight 50 @spec.stepWeight", "analyze 2m0s @spec.stepWeight"},
		},
		{
			name: "mirror then steps, no percentage",
			body: "  strategy: mirror\n  mirror: {iterations: 1}\n  steps: [{setWeight: 50}, {pause: {duration: 1h}}]\n",
			want: []string{"setMirrorRoute mirror 100% @spec.mirror.percentage", "analyze 2m0s @spec.mirror.iterations",
				"setMirrorRoute mirror (stop) @spec.mirror.percentage", "setWeight 50", "pause 1h0m0s"},
		},
		{
			name: "mirror with no block and an empty mirror block give the same steps, pointing at what was written",
			body: "  strategy: mirror\n  mirror: {}\n",
			want: []string{"setMirrorRoute mirror 100% @spec.mirror.percentage", "analyze 20m0s @spec.mirror.iterations",
				"setMirrorRoute mirror (stop) @spec.mirror.percentage", "setWeight 100 @spec.mirror"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := ParseCanaries("c.yaml", []byte(strategyDoc("", tt.body, "")), testChecks)
			if err != nil {
				t.Fatalf("ParseCanaries: %v", err)
			}
			c := cs[0]
			if got := describeSteps(c.Spec.Steps); !slices.Equal(got, tt.want) {
				t.Errorf("steps\n got %q\nwant %q", got, tt.want)
			}
			before := c.Spec.Steps
			SetDefaults(c)
			if !reflect.DeepEqual(before, c.Spec.Steps) {
				t.Errorf("SetDefaults is not idempotent:\n first %q\nsecond %q", describeSteps(before), describeSteps(c.Spec.Steps))
			}
			if err := Validate(c, testChecks); err != nil {
				t.Errorf("defaulted twice, it fails validation: %v", err)
			}
		})
	}
}

// TestSetDefaultsRegenerates changes a strategy after SetDefaults: a second
// SetDefaults drops the generated steps and generates them again.
func TestSetDefaultsRegenerates(t *testing.T) {
	c := &Canary{Spec: CanarySpec{Strategy: StrategyMirror, Mirror: &Mirroring{Percentage: 20},
		Steps: []Step{{SetWeight: ptr(50)}}}}
	SetDefaults(c)
	want := []string{"setMirrorRoute mirror 20% @spec.mirror.percentage", "analyze 10m0s @spec.mirror.iterations",
		"setMirrorRoute mirror (stop) @spec.mirror.percentage", "setWeight 50"}
	if got := describeSteps(c.Spec.Steps); !slices.Equal(got, want) {
		t.Fatalf("first SetDefaults\n got %q\nwant %q", got, want)
	}
	c.Spec.Mirror.Iterations = 3
	c.Spec.Analysis.Interval = Duration(30e9)
	SetDefaults(c)
	want[1] = "analyze 1m30s @spec.mirror.iterations"
	if got := describeSteps(c.Spec.Steps); !slices.Equal(got, want) {
		t.Errorf("after changing iterations\n got %q\nwant %q", got, want)
	}
	c.Spec.Strategy, c.Spec.Mirror = StrategyCanary, nil
	SetDefaults(c)
	if got := describeSteps(c.Spec.Steps); !slices.Equal(got, []string{"setWeight 50"}) {
		t.Errorf("back to canary: %q", got)
	}
	if c.Spec.BlueGreen != nil || c.Spec.ABTesting != nil {
		t.Errorf("SetDefaults made blocks up: %+v %+v", c.Spec.BlueGreen, c.Spec.ABTesting)
	}
}

func TestStrategyBlockDefaults(t *testing.T) {
	body := "  strategy: blueGreen\n  blueGreen: {mirrorPercentage: 30}\n"
	cs, err := ParseCanaries("c.yaml", []byte(strategyDoc("", body, "")), testChecks)
	if err != nil {
		t.Fatal(err)
	}
	bg := cs[0].Spec.BlueGreen
	if bg.Iterations != DefaultIterations || bg.AutoPromote == nil || !*bg.AutoPromote || bg.MirrorPercentage != 30 {
		t.Errorf("blueGreen defaults: %+v", bg)
	}
	cs, err = ParseCanaries("c.yaml", []byte(strategyDoc("", "  strategy: mirror\n  mirror: {iterations: 4}\n", "")), testChecks)
	if err != nil {
		t.Fatal(err)
	}
	if m := cs[0].Spec.Mirror; m.Percentage != DefaultMirrorPercentage || m.Iterations != 4 {
		t.Errorf("mirror defaults: %+v", m)
	}
	cs, err = ParseCanaries("c.yaml", []byte(strategyDoc("", "  steps: [{setWeight: 5}]\n", "")), testChecks)
	if err != nil {
		t.Fatal(err)
	}
	if cs[0].Spec.Strategy != StrategyCanary {
		t.Errorf("default strategy %q", cs[0].Spec.Strategy)
	}
}

func TestStepString(t *testing.T) {
	d := Duration(90e9)
	tests := []struct {
		name string
		step Step
		want string
	}{
		{name: "weight", step: Step{SetWeight: ptr(10)}, want: "setWeight 10"},
		{name: "timed pause", step: Step{Pause: &Pause{Duration: &d}}, want: "pause 1m30s"},
		{name: "route with three conditions", step: Step{SetHeaderRoute: &HeaderRoute{Name: "r", Match: []Match{
			{Header: "x-a", Exact: "1"}, {Cookie: "user", Prefix: "dev"}, {QueryParam: "beta", Regex: "^1$"}}}},
			want: "setHeaderRoute r: header x-a=1, cookie user^=dev, queryParam beta~=^1$"},
		{name: "route removal", step: Step{SetHeaderRoute: &HeaderRoute{Name: "r"}}, want: "setHeaderRoute r (remove)"},
		{name: "fractional mirror", step: Step{SetMirrorRoute: &MirrorRoute{Name: "m", Percentage: 0.5}}, want: "setMirrorRoute m 0.5%"},
		{name: "mirror stop", step: Step{SetMirrorRoute: &MirrorRoute{Name: "m"}}, want: "setMirrorRoute m (stop)"},
		{name: "two actions", step: Step{SetWeight: ptr(5), Analyze: &d}, want: "setWeight 5 + analyze 1m30s"},
		{name: "no action", step: Step{}, want: "{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.step.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
