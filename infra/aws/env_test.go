package aws

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation/global"
)

// pendingEnv are variables the template sets for features the binary does
// not have yet, with what is missing; the test fails once the binary reads
// one, so that this list shrinks.
var pendingEnv = map[string]string{}

var (
	// envLiteral matches a variable named in Go source.
	envLiteral = regexp.MustCompile(`"(BIRDWATCH_[A-Z0-9_]+)"`)
	// secretName matches the secrets of the settings table (secret: "BIRDWATCH_NAME"
	// in cmd/birdwatch/config.go) and their lookups (cfg.secret(ctx, "BIRDWATCH_NAME")),
	// which read BIRDWATCH_NAME_FILE, BIRDWATCH_NAME_SECRET_ID or BIRDWATCH_NAME.
	secretName = regexp.MustCompile(`secret(?:\(ctx, |: )"BIRDWATCH_([A-Z0-9_]+)"`)
)

// TestTemplateEnvironmentIsRead checks that every BIRDWATCH_* variable the
// template gives a function is one the binary reads (cmd/birdwatch source:
// literal names, and the Secrets Manager forms of the secrets it resolves).
func TestTemplateEnvironmentIsRead(t *testing.T) {
	if _, err := os.Stat(lambdaEntry); err != nil {
		t.Skipf("cmd/birdwatch has no Lambda entry (%s) yet", lambdaEntry)
	}
	known := map[string]bool{}
	files, err := filepath.Glob("../../cmd/birdwatch/*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range envLiteral.FindAllSubmatch(src, -1) {
			known[string(m[1])] = true
		}
		for _, m := range secretName.FindAllSubmatch(src, -1) {
			for _, suffix := range []string{"", "_FILE", "_SECRET_ID"} {
				known["BIRDWATCH_"+string(m[1])+suffix] = true
			}
		}
	}
	st := loadTemplate(t, testParams(true))
	for _, p := range unreadEnv(st, known) {
		t.Error(p)
	}
	// The check can fail: a misspelt variable is caught.
	data, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := parse([]byte(strings.Replace(string(data), "BIRDWATCH_BRANCH:", "BIRDWATCH_BRANCHES:", 1)), testParams(false))
	if err != nil {
		t.Fatal(err)
	}
	if got := unreadEnv(bad, known); len(got) != 4 || !strings.Contains(got[0], "BIRDWATCH_BRANCHES") {
		t.Errorf("a misspelt global variable gave %q, want one problem per function", got)
	}
}

// unreadEnv lists the variables of the template's functions that the binary
// does not read (known), besides pendingEnv.
func unreadEnv(st *stack, known map[string]bool) []string {
	c := &checker{tpl: st.tpl, globals: &global.Function{}}
	if g, err := st.tpl.GetServerlessGlobalFunction(); err == nil {
		c.globals = g
	}
	var problems []string
	fns := st.tpl.GetAllServerlessFunctionResources()
	for _, name := range slices.Sorted(maps.Keys(fns)) {
		for _, k := range slices.Sorted(maps.Keys(c.env(fns[name]))) {
			_, pending := pendingEnv[k]
			switch {
			case pending && known[k]:
				problems = append(problems, name+": "+k+" is read by the binary now: drop it from pendingEnv")
			case !pending && !known[k]:
				problems = append(problems, name+": the template sets "+k+", which the binary does not read")
			}
		}
	}
	return problems
}
