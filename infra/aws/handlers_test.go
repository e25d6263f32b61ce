package aws

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// lambdaEntry is the file of cmd/birdwatch that serves the Lambda handlers.
const lambdaEntry = "../../cmd/birdwatch/lambda.go"

// unknownHandler matches the binary's answer to an unknown _HANDLER.
var unknownHandler = regexp.MustCompile(`unknown handler "[^"]*": _HANDLER must be one of ([a-z, ]+)`)

// TestHandlersExistInBinary builds the binary and asks it which handlers it
// serves (`birdwatch lambda NAME` with an unknown NAME lists them), then
// checks that the template deploys exactly those, and that each one named
// in the template gets past the "unknown handler" check (it then stops at
// init for want of configuration, which is the point: no network).
func TestHandlersExistInBinary(t *testing.T) {
	if _, err := os.Stat(lambdaEntry); err != nil {
		t.Skipf("cmd/birdwatch has no Lambda entry (%s) yet: cannot ask the binary for its handlers", lambdaEntry)
	}
	bin := filepath.Join(t.TempDir(), "birdwatch")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/birdwatch")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, _ := runLambda(t, bin, "no-such-handler")
	m := unknownHandler.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the binary did not list its handlers for an unknown one: %q", out)
	}
	served := strings.Split(m[1], ", ")
	slices.Sort(served)
	want := slices.Sorted(slices.Values(handlerNames))
	if !slices.Equal(served, want) {
		t.Errorf("the binary serves %v, the template's contract is %v", served, want)
	}
	tpl := loadTemplate(t, testParams(false))
	for name, fn := range tpl.tpl.GetAllServerlessFunctionResources() {
		h := deref(fn.Handler)
		t.Run(h, func(t *testing.T) {
			out, err := runLambda(t, bin, h)
			if err == nil {
				t.Fatalf("%s: init without configuration succeeded: %q", name, out)
			}
			if strings.Contains(out, "unknown handler") || !slices.Contains(served, h) {
				t.Errorf("%s: handler %q is not served by the binary: %q", name, h, out)
			}
		})
	}
}

// runLambda runs `birdwatch lambda handler` with an empty environment (no
// runtime API, no AWS configuration) and returns its output.
func runLambda(t *testing.T, bin, handler string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, "lambda", handler)
	cmd.Env = []string{"HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir()}
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
