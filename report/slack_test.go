package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
	"github.com/slack-go/slack"
)

var updateSlack = flag.Bool("update-slack", false, "rewrite the golden files under testdata/slack")

// slackGolden compares got (as indented JSON) with testdata/slack/name.json.
func slackGolden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", "slack", name+".json")
	if *updateSlack {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -run Slack -update-slack to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", path, b)
	}
}

func slackFailedAnalysis() *judge.Result {
	return &judge.Result{Judge: "sequential", Score: 0, Verdict: judge.VerdictFail, Critical: true,
		Reason: "error-rate High (e=312 >= 100)",
		Metrics: []judge.MetricResult{
			{Name: "error-rate", Unit: "percent", Classification: judge.High, Critical: true, Canary: 50, Baseline: 0.1,
				Reason: "e=312 >= 100"},
			{Name: "latency-p99", Unit: "ms", Classification: judge.Pass, Canary: 97.78, Baseline: 98.53,
				Reason: "within limits"},
			{Name: "saturation", Classification: judge.NoData, Canary: math.NaN(), Baseline: math.NaN(),
				Reason: "12 canary requests, needs 100"},
		}}
}

func TestSlackDecisionBlocksGolden(t *testing.T) {
	tests := []struct {
		name string
		in   Decision
		// buttons are the action IDs the message must offer.
		buttons []string
	}{
		{name: "rollback", in: Decision{Canary: "games/aleph", Steps: 6,
			Decision: rollout.Decision{Action: rollout.ActionRollback, Commit: true, From: 10, SetWeight: slackPtr(0),
				Reason: "critical metric failed: error-rate High",
				Status: spec.Status{Generation: "v04", Stable: "v03", Phase: spec.PhaseRolledBack, Step: 1}},
			Analysis: slackFailedAnalysis(), Commit: "b8dbaec0123456789abcdef0123456789abcdef0"}},
		{name: "paused-by-command", buttons: []string{SlackActionPromote, SlackActionAbort}, in: Decision{
			Canary: "games/aleph", Steps: 7, CommitURL: "https://github.com/acme/fleet/commit/5236276aa",
			Decision: rollout.Decision{Action: rollout.ActionPause, Commit: true, From: 50, Reason: "pause by slack:U024BE7LH",
				Status: spec.Status{Generation: "v05", Stable: "v03", Phase: spec.PhasePaused, Step: 4, Weight: 50}},
			Commit: "5236276aa"}},
		{name: "progressing-abort-only", buttons: []string{SlackActionAbort}, in: Decision{Canary: "games/aleph",
			Decision: rollout.Decision{Action: rollout.ActionWait, Reason: "waiting for the applier to apply weight 10",
				Status: spec.Status{Generation: "v05", Stable: "v03", Phase: spec.PhaseWaitingForSync, Step: 1, Weight: 10}}}},
		{name: "refused-escaped", in: Decision{Canary: "games/aleph",
			Decision: rollout.Decision{Action: rollout.ActionNone, Reason: "rollout of v04 is Succeeded <&> weight 10 -> 0",
				Refused: "promote refused: the rollout of v04 is already Succeeded",
				Status:  spec.Status{Generation: "v04", Phase: spec.PhaseSucceeded, Step: 6}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blocks := SlackDecisionBlocks(tt.in)
			slackCheckLimits(t, blocks)
			slackGolden(t, "decision-"+tt.name, slack.Blocks{BlockSet: blocks})
			var got []string
			for _, b := range blocks {
				if a, ok := b.(*slack.ActionBlock); ok {
					for _, e := range a.Elements.ElementSet {
						btn := e.(*slack.ButtonBlockElement)
						got = append(got, btn.ActionID)
						c, g, err := ParseSlackButtonValue(btn.Value)
						if err != nil || c != tt.in.Canary || g != tt.in.Decision.Status.Generation {
							t.Errorf("button value %q parses to %q %q %v", btn.Value, c, g, err)
						}
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.buttons, ",") {
				t.Errorf("buttons %v, want %v", got, tt.buttons)
			}
		})
	}
}

func TestSlackFleetBlocksGolden(t *testing.T) {
	at := time.Date(2026, 11, 20, 11, 30, 0, 0, time.UTC)
	canary := func(ns, name, stable, can string) *spec.Canary {
		c := &spec.Canary{Metadata: spec.Metadata{Name: name, Namespace: ns}}
		c.Spec.Stable, c.Spec.Canary = stable, can
		c.Spec.Steps = make([]spec.Step, 6)
		return c
	}
	fleet := []FleetEntry{
		{Canary: canary("games", "aleph", "v03", "v04"), Status: &spec.Status{Generation: "v04", Stable: "v03",
			Phase: spec.PhaseProgressing, Step: 2, Weight: 10, Message: "a <b> & c",
			LastAnalysis: &spec.AnalysisRecord{At: at, Judge: "sequential", Verdict: "Pass", Score: 100}}},
		{Canary: canary("games", "beth", "v1", "v2")},
	}
	blocks := SlackFleetBlocks(fleet)
	slackCheckLimits(t, blocks)
	slackGolden(t, "fleet", slack.Blocks{BlockSet: blocks})
}

func TestSlackBlocksStayWithinLimits(t *testing.T) {
	long := strings.Repeat("very-long-metric-name-", 20)
	var metrics []judge.MetricResult
	for i := range 60 {
		metrics = append(metrics, judge.MetricResult{Name: fmt.Sprintf("%s%d", long, i), Classification: judge.Pass})
	}
	var fleet []FleetEntry
	for i := range 80 {
		c := &spec.Canary{Metadata: spec.Metadata{Name: fmt.Sprintf("c%d", i), Namespace: "ns"}}
		fleet = append(fleet, FleetEntry{Canary: c, Status: &spec.Status{Message: strings.Repeat("ü", 4000)}})
	}
	tests := []struct {
		name   string
		blocks []slack.Block
		check  func(t *testing.T, blocks []slack.Block)
	}{
		{name: "error", blocks: SlackDecisionBlocks(Decision{Canary: "games/aleph", Err: errors.New("fetch: <boom>")}),
			check: func(t *testing.T, blocks []slack.Block) {
				if len(blocks) != 2 || blocks[1].(*slack.SectionBlock).Text.Text != ":warning: fetch: &lt;boom&gt;" {
					t.Errorf("error message blocks: %+v", blocks)
				}
			}},
		{name: "huge analysis", blocks: SlackDecisionBlocks(Decision{Canary: strings.Repeat("n", 63) + "/" + strings.Repeat("m", 63),
			Decision: rollout.Decision{Status: spec.Status{Generation: strings.Repeat("v", 63), Phase: spec.PhasePaused}},
			Analysis: &judge.Result{Judge: "threshold", Metrics: metrics}}),
			check: func(t *testing.T, blocks []slack.Block) {
				text := blocks[2].(*slack.SectionBlock).Text.Text
				if !strings.HasSuffix(text, "…```") {
					t.Errorf("a cut analysis must end with an ellipsis inside the code block: %q", text[len(text)-10:])
				}
			}},
		{name: "large fleet", blocks: SlackFleetBlocks(fleet), check: func(t *testing.T, blocks []slack.Block) {
			last := blocks[len(blocks)-1].(*slack.ContextBlock)
			if txt := last.ContextElements.Elements[0].(*slack.TextBlockObject).Text; txt != "and 35 more" {
				t.Errorf("last block %q, want the count of canaries left out", txt)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slackCheckLimits(t, tt.blocks)
			tt.check(t, tt.blocks)
		})
	}
}

// slackCheckLimits fails on blocks that Slack would reject for their size.
func slackCheckLimits(t *testing.T, blocks []slack.Block) {
	t.Helper()
	if len(blocks) > slackMaxBlocks {
		t.Errorf("%d blocks, Slack takes %d", len(blocks), slackMaxBlocks)
	}
	for i, b := range blocks {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			if n := utf8.RuneCountInString(b.Text.Text); n > slackHeaderMax {
				t.Errorf("block %d: header of %d characters", i, n)
			}
		case *slack.SectionBlock:
			if n := utf8.RuneCountInString(b.Text.Text); n > slackSectionMax {
				t.Errorf("block %d: section of %d characters", i, n)
			}
		case *slack.ActionBlock:
			for _, e := range b.Elements.ElementSet {
				if v := e.(*slack.ButtonBlockElement).Value; len(v) > 2000 {
					t.Errorf("block %d: button value of %d bytes", i, len(v))
				}
			}
		}
	}
}

func TestParseSlackButtonValue(t *testing.T) {
	tests := []struct {
		name, value, canary, generation string
		wantErr                         bool
	}{
		{name: "valid", value: "games/aleph@v04", canary: "games/aleph", generation: "v04"},
		{name: "dotted version", value: "default/web@1.2.3-rc_1", canary: "default/web", generation: "1.2.3-rc_1"},
		{name: "no generation", value: "games/aleph@", wantErr: true},
		{name: "no namespace", value: "aleph@v04", wantErr: true},
		{name: "two ats", value: "games/aleph@v04@v05", wantErr: true},
		{name: "upper-case name", value: "Games/aleph@v04", wantErr: true},
		{name: "injection", value: "games/aleph@v04\n<!channel>", wantErr: true},
		{name: "empty", value: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, g, err := ParseSlackButtonValue(tt.value)
			if (err != nil) != tt.wantErr || c != tt.canary || g != tt.generation {
				t.Errorf("got %q %q %v", c, g, err)
			}
		})
	}
}

func FuzzParseSlackButtonValue(f *testing.F) {
	for _, s := range []string{"games/aleph@v04", "a/b@c", "@", "a/b@", "/@x", "games/aleph@v04@v05"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, g, err := ParseSlackButtonValue(v)
		if err != nil {
			return
		}
		if SlackButtonValue(c, g) != v || strings.ContainsAny(c+g, "@<>&\n ") {
			t.Errorf("%q parsed to %q %q", v, c, g)
		}
	})
}

func slackPtr[T any](v T) *T { return &v }
