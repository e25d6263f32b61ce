package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// TestREADMESettingsTable keeps the README's table equal to settingsTable.
func TestREADMESettingsTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok1 := strings.Cut(string(readme), "<!-- settings:begin -->\n")
	inREADME, _, ok2 := strings.Cut(rest, "<!-- settings:end -->")
	if !ok1 || !ok2 {
		t.Fatal("README.md has no <!-- settings:begin --> ... <!-- settings:end --> section")
	}
	var want bytes.Buffer
	if err := writeSettingsTable(&want); err != nil {
		t.Fatal(err)
	}
	if inREADME != want.String() {
		t.Errorf("README.md's settings table is stale: replace it with the output of `birdwatch settings`:\n%s", want.String())
	}
}

// TestEveryVariableGoesThroughTheTable: no file of the command reads a
// BIRDWATCH_* variable by itself, so every one reaches every mode that
// lists it, and the README names it.
func TestEveryVariableGoesThroughTheTable(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	read := regexp.MustCompile(`(Getenv|LookupEnv)\("BIRDWATCH_`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "config.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if loc := read.FindIndex(b); loc != nil {
			line := bytes.Count(b[:loc[0]], []byte("\n")) + 1
			t.Errorf("%s:%d reads a BIRDWATCH_ variable: add a row to settingsTable instead", f, line)
		}
	}
}

// sampleValue is a value of the field's type and what it parses to.
func sampleValue(p any) (raw string, want any) {
	switch p.(type) {
	case *string:
		return "sample-value", "sample-value"
	case *[]string:
		return "a, b", []string{"a", "b"}
	case *bool:
		return "true", true
	case *int:
		return "7", 7
	case *time.Duration:
		return "90s", 90 * time.Second
	}
	return "", nil
}

// TestEverySettingReachesEveryMode sets each variable and reads it back
// in each mode its row names: the Lambda's config, serve's flags and a CLI
// command's config. The Lambda once dropped Prometheus basic auth and TLS.
func TestEverySettingReachesEveryMode(t *testing.T) {
	for _, s := range settingsTable {
		t.Run(s.env, func(t *testing.T) {
			raw, want := sampleValue(s.field(&Config{}))
			if want == nil {
				t.Fatalf("no sample for %T", s.field(&Config{}))
			}
			t.Setenv(s.env, raw)
			if s.modes&modeLambda != 0 {
				lc, err := lambdaConfigFromEnv()
				if err != nil {
					t.Fatal(err)
				}
				if got := reflect.ValueOf(s.field(lc)).Elem().Interface(); !reflect.DeepEqual(got, want) {
					t.Errorf("lambda: %v, want %v", got, want)
				}
			}
			if s.modes&modeServe != 0 {
				cmd := newServeCommand()
				if s.flag != "" && cmd.Flags().Lookup(s.flag) == nil {
					t.Errorf("serve has no --%s", s.flag)
				} else if s.flag != "" && cmd.Flags().Lookup(s.flag).DefValue == "" {
					t.Errorf("serve --%s does not default to %s", s.flag, s.env)
				}
			}
			if s.modes&modeCLI != 0 {
				if got := reflect.ValueOf(s.field(newConfig(modeCLI))).Elem().Interface(); !reflect.DeepEqual(got, want) {
					t.Errorf("cli: %v, want %v", got, want)
				}
			}
		})
	}
}

// TestBadVariableStopsTheCommand: a variable that does not parse is an
// error naming it, before anything runs, in every mode.
func TestBadVariableStopsTheCommand(t *testing.T) {
	t.Setenv("BIRDWATCH_PROMETHEUS_TIMEOUT", "ten seconds")
	if _, err := lambdaConfigFromEnv(); err == nil || !strings.Contains(err.Error(), `BIRDWATCH_PROMETHEUS_TIMEOUT="ten seconds": want a duration`) {
		t.Errorf("lambda: %v", err)
	}
	for _, tt := range []struct {
		cmd  *cobra.Command
		args []string
	}{{newServeCommand(), nil}, {newRunCommand(), []string{"--once"}}, {newStatusCommand(), nil}} {
		cmd := tt.cmd
		cmd.SetArgs(tt.args)
		cmd.SetOut(new(bytes.Buffer))
		cmd.SetErr(new(bytes.Buffer))
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), "BIRDWATCH_PROMETHEUS_TIMEOUT") {
			t.Errorf("%s: %v", cmd.Name(), err)
		}
	}
}
