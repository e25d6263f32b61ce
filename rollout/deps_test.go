package rollout

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLeafDependencies keeps the state machine and the spec light: rollout
// reads verdicts from the leaf package verdict (not the judges and gonum),
// and spec checks cookie names without net/http.
func TestLeafDependencies(t *testing.T) {
	const module = "github.com/birdwatch-gitops/birdwatch"
	tests := []struct {
		pkg       string
		forbidden []string
	}{
		{module + "/rollout", []string{"gonum.org", module + "/analyzer/judge", module + "/analyzer/stats", "net/http"}},
		{module + "/gitops/spec", []string{"gonum.org", "net/http"}},
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("needs the go command: ", err)
	}
	for _, tt := range tests {
		out, err := exec.Command(goBin, "list", "-deps", tt.pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", tt.pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range tt.forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s", tt.pkg, dep)
				}
			}
		}
	}
}
