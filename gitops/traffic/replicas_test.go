package traffic

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// deployments builds a file with the stable and canary Deployments of web.
func deployments(stable, canary string) string {
	d := func(name, replicas string) string {
		return fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\nspec:\n  replicas: %s\n  template: {}\n", name, replicas)
	}
	return d("web-stable", stable) + "---\n" + d("web-canary", canary)
}

var replicasWeb = Config{StableDeployment: "web-stable", CanaryDeployment: "web-canary"}

// TestReplicasRounding checks the documented rounding: nearest pod, halves
// up, at least one pod each below weight 100, and what the status says.
func TestReplicasRounding(t *testing.T) {
	tests := []struct {
		stable, canary string // replicas in the file
		total          int    // Config.TotalReplicas
		weight         int
		wantStable     int
		wantCanary     int
		note           string // "" when exact
	}{
		{stable: "10", canary: "0", weight: 10, wantStable: 9, wantCanary: 1},
		{stable: "9", canary: "1", weight: 50, wantStable: 5, wantCanary: 5},
		{stable: "3", canary: "0", weight: 10, wantStable: 2, wantCanary: 1, note: "weight 10 is 1 of 3 pods (33%)"},
		{stable: "3", canary: "0", weight: 50, wantStable: 1, wantCanary: 2, note: "weight 50 is 2 of 3 pods (67%)"},
		{stable: "3", canary: "0", weight: 95, wantStable: 1, wantCanary: 2, note: "weight 95 is 2 of 3 pods (67%)"},
		{stable: "4", canary: "0", weight: 1, wantStable: 3, wantCanary: 1, note: "weight 1 is 1 of 4 pods (25%)"},
		{stable: "2", canary: "1", weight: 100, wantStable: 0, wantCanary: 3},
		{stable: "0", canary: "3", weight: 0, wantStable: 3, wantCanary: 0},
		{stable: "1", canary: "0", total: 20, weight: 5, wantStable: 19, wantCanary: 1},
		{stable: "7", canary: "0", weight: 25, wantStable: 5, wantCanary: 2, note: "weight 25 is 2 of 7 pods (29%)"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s+%s/total %d/weight %d", tt.stable, tt.canary, tt.total, tt.weight), func(t *testing.T) {
			cfg := replicasWeb
			cfg.TotalReplicas = tt.total
			p, err := NewReplicas(cfg)
			if err != nil {
				t.Fatal(err)
			}
			doc := []byte(deployments(tt.stable, tt.canary))
			w := Weights{Stable: 100 - tt.weight, Canary: tt.weight}
			out, err := p.SetWeights(doc, w)
			if err != nil {
				t.Fatalf("SetWeights: %v", err)
			}
			if want := deployments(fmt.Sprint(tt.wantStable), fmt.Sprint(tt.wantCanary)); string(out) != want {
				t.Fatalf("SetWeights(%v) =\n%s\nwant\n%s", w, out, want)
			}
			got, note, err := p.Approximate(doc, w)
			if err != nil {
				t.Fatal(err)
			}
			if read, err := p.Weights(out); err != nil || read != got {
				t.Errorf("Weights(out) = %v, %v; Approximate said %v", read, err, got)
			}
			if tt.note == "" && note != "" || !strings.HasPrefix(note, tt.note) {
				t.Errorf("note %q, want prefix %q", note, tt.note)
			}
		})
	}
}

func TestReplicasErrors(t *testing.T) {
	checkErrors(t, "replicas", replicasWeb, []errorCase{
		{name: "no Deployment", doc: "apiVersion: v1\nkind: Service\n", err: ErrObjectNotFound, msg: "no Deployment (apiVersion apps/*) in the file"},
		{name: "canary Deployment missing", doc: deployments("3", "0"), cfg: Config{CanaryDeployment: "web-next"}, err: ErrDestinationNotFound,
			msg: `no Deployment named "web-next" in 2 Deployment(s)`},
		{name: "replicas not written", doc: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web-stable}\nspec: {}\n---\n" + strings.SplitN(deployments("1", "0"), "---\n", 2)[1],
			err: ErrMissingWeight, msg: `Deployment web-stable (document 0): spec.replicas: no replicas (add "replicas: 0"`},
		{name: "replicas not an integer", doc: deployments("three", "0"), err: ErrShape, msg: `replicas "three" is not a non-negative integer`},
		{name: "no pods at all", doc: deployments("0", "0"), err: ErrInvalidWeights, msg: "stable and canary both have 0 replicas"},
		{name: "no pods to split", doc: deployments("0", "0"), set: &Weights{90, 10}, err: ErrInvalidWeights, msg: "totalReplicas is not set: no pods to split"},
		{name: "one pod cannot be split", doc: deployments("1", "0"), set: &Weights{90, 10}, err: ErrUnsupported,
			msg: "replicas: 1 pod cannot be split at weight 10 (both versions need one); set totalReplicas to 2 or more"},
	})
}

func TestReplicasConfig(t *testing.T) {
	for _, tt := range []struct {
		cfg Config
		msg string
	}{
		{Config{}, "stableDeployment and canaryDeployment (or stableReplicasPath and canaryReplicasPath) are required"},
		{Config{StableDeployment: "a"}, "stableDeployment and canaryDeployment are both required"},
		{Config{StableDeployment: "a", CanaryDeployment: "a"}, `both "a"`},
		{Config{StableDeployment: "a", CanaryDeployment: "b", StableReplicasPath: "x"}, "not both"},
		{Config{StableReplicasPath: "x", CanaryReplicasPath: "y[", TotalReplicas: 1}, "parse path"},
		{Config{StableDeployment: "a", CanaryDeployment: "b", TotalReplicas: -1}, "totalReplicas -1 is negative"},
	} {
		if _, err := NewReplicas(tt.cfg); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("NewReplicas(%+v) = %v; want ErrInvalidConfig with %q", tt.cfg, err, tt.msg)
		}
	}
}

// FuzzReplicasSetWeights: SetWeights fails with no output, or writes the
// split Approximate announced.
func FuzzReplicasSetWeights(f *testing.F) {
	f.Add([]byte(deployments("3", "0")), 10, uint8(0))
	var providers []*Replicas
	for _, c := range goldenCases() {
		if c.kind == "replicas" {
			providers = append(providers, c.provider(f).(*Replicas))
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte, canary int, which uint8) {
		p := providers[int(which)%len(providers)]
		w := Weights{Stable: 100 - canary, Canary: canary}
		out, err := p.SetWeights(doc, w)
		if err != nil {
			if out != nil {
				t.Fatalf("output returned with error %v", err)
			}
			return
		}
		want, _, err := p.Approximate(doc, w)
		if err != nil {
			t.Fatalf("SetWeights ok, Approximate fails: %v", err)
		}
		if got, err := p.Weights(out); err != nil || got != want {
			t.Fatalf("SetWeights(%v) ok, Weights reads %v, %v; Approximate said %v\ninput:\n%q\noutput:\n%q", w, got, err, want, doc, out)
		}
	})
}
