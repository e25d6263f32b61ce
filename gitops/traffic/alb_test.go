package traffic

import (
	"strings"
	"testing"
)

// albIngress builds an Ingress whose split action annotation is written as
// value (YAML source, quoted or block).
func albIngress(value string) string {
	return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    alb.ingress.kubernetes.io/actions.split: " + value + "\nspec: {}\n"
}

// albGroups is a single-quoted action with the given target groups JSON.
func albGroups(groups string) string {
	return `'{"type":"forward","forwardConfig":{"targetGroups":[` + groups + `]}}'`
}

var albWeb = Config{Route: "split", StableService: "web-stable", CanaryService: "web-canary"}

func TestALBErrors(t *testing.T) {
	pair := `{"serviceName":"web-stable","weight":90},{"serviceName":"web-canary","weight":10}`
	checkErrors(t, "alb", albWeb, []errorCase{
		{name: "no Ingress", doc: "apiVersion: v1\nkind: Service\n", err: ErrObjectNotFound, msg: "no Ingress"},
		{name: "no such action", doc: albIngress(albGroups(pair)), cfg: Config{Route: "other"}, err: ErrRouteNotFound,
			msg: "no annotation alb.ingress.kubernetes.io/actions.other in 1 Ingress(es)"},
		{name: "annotation not JSON", doc: albIngress(`'{"type":"forward", forwardConfig: {}}'`), err: ErrShape,
			msg: `Ingress shop/web (document 0): metadata.annotations.alb\.ingress\.kubernetes\.io/actions\.split: not valid JSON: invalid character 'f'`},
		{name: "annotation not JSON, on set", doc: albIngress(`'{"type":"forward"'`), set: &Weights{50, 50}, err: ErrShape, msg: "not valid JSON: unexpected end of JSON input"},
		{name: "a redirect action", doc: albIngress(`'{"type":"redirect","redirectConfig":{"protocol":"HTTPS","port":"443","statusCode":"HTTP_301"}}'`),
			err: ErrShape, msg: "want a forward action with weighted target groups"},
		{name: "annotation not a string", doc: albIngress("{type: forward}"), err: ErrShape, msg: "want a string holding the action's JSON"},
		{name: "canary target group missing", doc: albIngress(albGroups(`{"serviceName":"web-stable","weight":100}`)), err: ErrDestinationNotFound,
			msg: `no target group with serviceName "web-canary"`},
		{name: "weight missing", doc: albIngress(albGroups(`{"serviceName":"web-stable","weight":100},{"serviceName":"web-canary"}`)), set: &Weights{50, 50},
			err: ErrMissingWeight, msg: `target group 1 (serviceName web-canary) has no weight (add "weight": 0)`},
		{name: "weights do not sum to 100", doc: albIngress(albGroups(`{"serviceName":"web-stable","weight":1},{"serviceName":"web-canary","weight":1}`)),
			err: ErrInvalidWeights, msg: "target group weights 1 (web-stable) + 1 (web-canary) do not sum to 100"},
		{name: "a third group carries traffic", doc: albIngress(albGroups(pair + `,{"targetGroupARN":"arn:aws:elasticloadbalancing:x","weight":5}`)),
			err: ErrInvalidWeights, msg: "target group 2 (targetGroupARN arn:aws:elasticloadbalancing:x) is neither stable nor canary but has weight 5"},
		{name: "weight not an integer", doc: albIngress(albGroups(`{"serviceName":"web-stable","weight":90.5},{"serviceName":"web-canary","weight":9.5}`)),
			err: ErrShape, msg: "weight 90.5 is not an integer"},
		{name: "a weight key elsewhere in the action", doc: albIngress(`'{"type":"forward","forwardConfig":{"targetGroups":[` + pair + `],"weight":3}}'`),
			set: &Weights{50, 50}, err: ErrShape, msg: `the action has 1 "weight" keys outside its target groups`},
		{name: "two Ingresses with the action", doc: albIngress(albGroups(pair)) + "---\n" + albIngress(albGroups(pair)), err: ErrAmbiguous, msg: "both have annotation"},
		{name: "service twice", doc: albIngress(albGroups(pair + `,{"serviceName":"web-canary","weight":0}`)), err: ErrAmbiguous, msg: `target groups 1 and 2 both have serviceName "web-canary"`},
	})
}

// TestALBCommentWithWeightKey checks that a comment that looks like a
// weight is never edited: after the block scalar it is outside the
// annotation's span and kept; where it could be taken for part of the span
// the edit is refused.
func TestALBCommentWithWeightKey(t *testing.T) {
	const head = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  annotations:\n    alb.ingress.kubernetes.io/actions.split: >\n      {\"type\":\"forward\",\"forwardConfig\":{\"targetGroups\":[{\"serviceName\":\"web-stable\",\"weight\":100},{\"serviceName\":\"web-canary\",\"weight\":0}]}}\n"
	p, err := NewALB(albWeb)
	if err != nil {
		t.Fatal(err)
	}
	outside := head + "# was {\"weight\": 50} last week\n  labels: {app: web}\n"
	out, err := p.SetWeights([]byte(outside), Weights{90, 10})
	if err != nil || !strings.Contains(string(out), "# was {\"weight\": 50} last week\n") || !strings.Contains(string(out), `"weight":10}]`) {
		t.Fatalf("SetWeights = %q, %v; want the weights set and the comment kept", out, err)
	}
	inside := head + "     # was {\"weight\": 50} last week\n  labels: {app: web}\n"
	out, err = p.SetWeights([]byte(inside), Weights{90, 10})
	if err == nil || out != nil || !strings.Contains(err.Error(), `found 3 "weight" keys in the annotation's text for 2 weighted target groups`) {
		t.Fatalf("SetWeights = %q, %v; want a refusal naming the extra key", out, err)
	}
}

func FuzzALBSetWeights(f *testing.F) {
	f.Add([]byte(albIngress(albGroups(`{"serviceName":"web-stable","weight":90},{"serviceName":"web-canary","weight":10}`))), 20, uint8(0))
	fuzzSetWeights(f, "alb")
}
