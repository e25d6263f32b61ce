package traffic

import (
	"bytes"
	"testing"
)

// services builds the active (and, with preview != "", preview) Service.
func services(active, preview string) string {
	s := "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web, version: " + active + "}\n"
	if preview != "" {
		s += "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web-preview\nspec:\n  selector: {app: web, version: " + preview + "}\n"
	}
	return s
}

var serviceWeb = Config{ActiveService: "web", PreviewService: "web-preview", StableVersion: "v1", CanaryVersion: "v2"}

func TestServiceErrors(t *testing.T) {
	checkErrors(t, "service", serviceWeb, []errorCase{
		{name: "weight between", doc: services("v1", "v2"), set: &Weights{90, 10}, err: ErrUnsupported,
			msg: "service switches all traffic at once between the two versions: it cannot send 10% to the canary (weights 0 and 100 only)"},
		{name: "a third version", doc: services("v0", "v2"), err: ErrInvalidWeights, msg: `Service web (document 0): spec.selector.version: selects version=v0, neither the stable version "v1" nor the canary version "v2"`},
		{name: "no version label", doc: "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n", err: ErrMissingWeight,
			msg: "no version label in the selector (add version: v1, and the label to both versions' pods)"},
		{name: "preview missing", doc: services("v1", ""), set: &Weights{0, 100}, err: ErrRouteNotFound, msg: `no Service named "web-preview" in 1 Service(s)`},
		{name: "no Service", doc: deployments("1", "1"), err: ErrObjectNotFound, msg: "no Service (apiVersion v1)"},
	})
}

// TestServiceSwitchAndPromote walks a blue-green rollout: the preview
// Service selects the canary on the first write, the switch moves the
// active one, promotion keeps both on the new version, and a rollback
// moves the active one back.
func TestServiceSwitchAndPromote(t *testing.T) {
	p, err := NewService(serviceWeb)
	if err != nil {
		t.Fatal(err)
	}
	start := []byte(services("v1", "v1"))
	steps := []struct {
		name string
		do   func([]byte) ([]byte, error)
		want string
	}{
		{"preview first", p.Preview, services("v1", "v2")},
		{"preview again changes nothing", p.Preview, services("v1", "v2")},
		{"weight 0 keeps the preview", func(d []byte) ([]byte, error) { return p.SetWeights(d, Weights{100, 0}) }, services("v1", "v2")},
		{"switch", func(d []byte) ([]byte, error) { return p.SetWeights(d, Weights{0, 100}) }, services("v2", "v2")},
		{"promote", p.Promote, services("v2", "v2")},
		{"rollback", func(d []byte) ([]byte, error) { return p.SetWeights(d, Weights{100, 0}) }, services("v1", "v2")},
	}
	cur := start
	for _, st := range steps {
		out, err := st.do(cur)
		if err != nil || !bytes.Equal(out, []byte(st.want)) {
			t.Fatalf("%s: %v\n%s\nwant\n%s", st.name, err, out, st.want)
		}
		cur = out
	}
}

// FuzzServiceSetWeights: SetWeights fails with no output, or writes a file
// where Weights reads what was set.
func FuzzServiceSetWeights(f *testing.F) {
	f.Add([]byte(services("v1", "v2")), 100, uint8(0))
	fuzzSetWeights(f, "service")
}
