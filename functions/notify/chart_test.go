package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/functions/notify/notifytest"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// rolledBack is notifytest's aleph rollout, notifying #deploys.
func rolledBack(t *testing.T) (*spec.Canary, *spec.Status) {
	c, st := notifytest.RolledBack(t)
	c.Spec.Notify.Slack = &spec.SlackNotify{Channel: "#deploys"}
	return c, st
}

// TestSlackChartUpload posts a rollback and checks the decisive metric's
// chart goes through Slack's three upload steps into the message's thread.
func TestSlackChartUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Prometheus")
	}
	prom := notifytest.IstioPrometheus(t)
	c, st := rolledBack(t)
	latencyFailed := &judge.Result{Judge: "sequential", Verdict: judge.VerdictFail, Metrics: []judge.MetricResult{
		{Name: "error-rate", Classification: judge.Pass, Canary: 0.2, Baseline: 0.1, Unit: "percent"},
		{Name: "latency-p99", Classification: judge.High, Canary: 612, Baseline: 204, Unit: "ms", Reason: "above max 500"},
	}}
	tests := []struct {
		name        string
		analysis    *judge.Result
		chart       report.ChartOptions
		fail        string
		wantMetric  string
		wantW       int
		wantH       int
		wantErrPart string
	}{
		{name: "the failed metric of the status, default size", wantMetric: "error-rate", wantW: report.DefaultChartWidth, wantH: report.DefaultChartHeight},
		{name: "the failed metric of the just-judged analysis, larger", analysis: latencyFailed, chart: report.ChartOptions{Width: 960, Height: 600},
			wantMetric: "latency-p99", wantW: 960, wantH: 600},
		{name: "a failed upload is returned after the message was posted", fail: "files.completeUploadExternal",
			wantMetric: "error-rate", wantW: report.DefaultChartWidth, wantH: report.DefaultChartHeight, wantErrPart: "not_in_channel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &slackAPI{t: t, fail: tt.fail, failReason: "not_in_channel"}
			srv := newServer(t, api)
			n := NewSlack(testToken, srv+"/")
			n.Series, n.Chart = prom, tt.chart
			o := core.Outcome{Canary: c.Key(), Commit: "8a77a13f00d1c0ffee00000000000000000000aa", Analysis: tt.analysis,
				Decision: rollout.Decision{Action: rollout.ActionRollback, From: 10, Reason: st.Message, Status: *st}}
			err := n.Notify(context.Background(), c, o)
			if tt.wantErrPart == "" && err != nil || tt.wantErrPart != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErrPart) || !strings.Contains(err.Error(), "chart")) {
				t.Fatalf("err %v, want one containing %q", err, tt.wantErrPart)
			}
			if len(api.forms) != 1 || api.upload == nil || !api.upload.uploadedToURL {
				t.Fatalf("%d posts, upload %+v", len(api.forms), api.upload)
			}
			u := api.upload
			wantName := "games_aleph_" + tt.wantMetric + ".png"
			if u.filename != wantName || u.partName != wantName || u.length != strconv.Itoa(len(u.data)) || !strings.Contains(u.altTxt, tt.wantMetric) {
				t.Errorf("filename %q part %q length %s of %d bytes, alt %q; want %s", u.filename, u.partName, u.length, len(u.data), u.altTxt, wantName)
			}
			if u.channel != testChannelID || u.threadTS != testTS {
				t.Errorf("shared to channel %q thread %q, want the posted message's %s %s", u.channel, u.threadTS, testChannelID, testTS)
			}
			var files []struct{ ID, Title string }
			if err := json.Unmarshal([]byte(u.files), &files); err != nil || len(files) != 1 || !strings.HasPrefix(files[0].Title, tt.wantMetric+":") {
				t.Errorf("files %s", u.files)
			}
			assertChart(t, u.data, tt.wantW, tt.wantH)
			// The chart shows the series from Prometheus, not the "no data" chart of the status alone.
			bare, err := report.ChartPNG(report.FromStatus(c, st, time.Now()), tt.wantMetric, tt.chart)
			if err != nil || bytes.Equal(bare.PNG, u.data) {
				t.Errorf("the uploaded chart has no series (err %v)", err)
			}
		})
	}
}

// newServer serves api for the test and returns its URL.
func newServer(t *testing.T, api *slackAPI) string {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv.URL
}

// assertChart decodes data as a w x h PNG that is not blank.
func assertChart(t *testing.T, data []byte, w, h int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the upload is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("chart is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
	if colours(img) < 8 {
		t.Error("the chart is blank")
	}
}

// colours counts the distinct colours of img, up to 64.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(seen) < 64; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}

func TestDecisiveMetric(t *testing.T) {
	metricsOf := func(classes ...string) report.Report {
		var r report.Report
		for i, c := range classes {
			r.Metrics = append(r.Metrics, report.MetricReport{Name: string(rune('a' + i)), Classification: c, Canary: math.NaN()})
		}
		return r
	}
	tests := []struct {
		name   string
		report report.Report
		want   string
		wantOK bool
	}{
		{"no metric", metricsOf(), "", false},
		{"all pass: the first", metricsOf("Pass", "Pass"), "a", true},
		{"not analysed yet: the first", metricsOf("", ""), "a", true},
		{"the first failed, High", metricsOf("Pass", "NoData", "High", "Low"), "c", true},
		{"Low counts as failed", metricsOf("Pass", "Low"), "b", true},
		{"NoData and Error are not failures", metricsOf("NoData", "Error"), "a", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := DecisiveMetric(tt.report)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("DecisiveMetric = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestChartFileName(t *testing.T) {
	tests := []struct{ name, canary, metric, want string }{
		{"plain", "games/aleph", "error-rate", "games_aleph_error-rate.png"},
		{"path and spaces are replaced", "games/aleph", "../p 99", "games_aleph_.._p_99.png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chartFileName(tt.canary, tt.metric); got != tt.want {
				t.Errorf("chartFileName = %q, want %q", got, tt.want)
			}
		})
	}
}
