//go:build benchgit

package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/worker/sqstest"
	"github.com/birdwatch-gitops/birdwatch/internal/rietest"
)

// BenchmarkLambdaRIE runs the bootstrap (built for this machine, with the
// package's flags) under aws-lambda-rie, the Lambda runtime interface
// emulator: the schedule function's first (cold) and second (warm)
// invocation, then the worker's on the messages it queued, for the
// 10,000-commit repository over file:// (cold: init, depth-1 clone,
// decision, push; warm: fetch, decision, push). SQS is sqstest's local
// JSON-protocol endpoint. Each iteration starts fresh emulators (and an
// empty /tmp cache), so every "first" is a cold start: the emulator starts
// the bootstrap on the first invocation, so first minus warm is the cost
// of starting the process and initialising the handler. (The emulator's
// own "Init Duration" does not measure that, so it is not reported.)
func BenchmarkLambdaRIE(b *testing.B) {
	if _, err := exec.LookPath("aws-lambda-rie"); err != nil {
		b.Skip("aws-lambda-rie not on PATH (go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest)")
	}
	url := "file://" + scaleRepo(b)
	boot := filepath.Join(b.TempDir(), "bootstrap")
	if err := os.Rename(buildBinary(b), boot); err != nil {
		b.Fatal(err)
	}
	prom := startPrometheus(b)
	q := sqstest.Start(b)
	queue := q.QueueURL("decisions.fifo")
	var sched, work [2]time.Duration
	for i := 0; b.Loop(); i++ {
		env := map[string]string{"BIRDWATCH_REPOS": url, "BIRDWATCH_QUEUE_URL": queue, "AWS_ENDPOINT_URL_SQS": q.URL,
			"BIRDWATCH_PROMETHEUS_URL": prom, "TMPDIR": b.TempDir(), "BIRDWATCH_LOG_FORMAT": "json"}
		s := startEmulator(b, boot, "schedule", env)
		w := startEmulator(b, boot, "worker", env)
		before := len(q.Messages())
		for k := range 2 {
			tick := time.Date(2026, 11, 26, 12, i*2+k, 0, 0, time.UTC)
			sched[k] += s.invoke(b, scheduledEvent(tick))
		}
		msgs := q.Messages()[before:]
		if len(msgs) != 2 {
			b.Fatalf("schedule queued %d messages, want 2", len(msgs))
		}
		for k := range 2 {
			work[k] += w.invoke(b, mustJSON(b, sqstest.Event(msgs[k])))
		}
		s.Stop()
		w.Stop()
	}
	n := time.Duration(b.N) * time.Millisecond
	b.ReportMetric(float64(sched[0]/n), "schedule-first-ms")
	b.ReportMetric(float64(sched[1]/n), "schedule-warm-ms")
	b.ReportMetric(float64(work[0]/n), "worker-first-ms")
	b.ReportMetric(float64(work[1]/n), "worker-warm-ms")
}

// emulator is one aws-lambda-rie process running the bootstrap.
type emulator struct {
	*rietest.Function
}

func startEmulator(b *testing.B, boot, handler string, env map[string]string) *emulator {
	var kv []string
	for k, v := range env {
		kv = append(kv, k+"="+v)
	}
	return &emulator{rietest.Start(b, boot, handler, kv)}
}

// invoke posts one event and returns the round trip time.
func (e *emulator) invoke(b *testing.B, payload []byte) time.Duration {
	start := time.Now()
	resp, err := http.Post(e.URL, "application/json", bytes.NewReader(payload))
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte("errorMessage")) || bytes.Contains(body, []byte(`"itemIdentifier"`)) {
		b.Fatalf("invoke: %d %s\n%s", resp.StatusCode, body, e.Output())
	}
	return d
}

// scheduledEvent is an EventBridge "Scheduled Event" as Lambda receives it.
func scheduledEvent(at time.Time) []byte {
	return fmt.Appendf(nil, `{"version":"0","id":"%d","detail-type":"Scheduled Event","source":"aws.events",`+
		`"account":"123456789012","time":"%s","region":"us-east-1",`+
		`"resources":["arn:aws:events:us-east-1:123456789012:rule/birdwatch-tick"],"detail":{}}`, at.Unix(), at.Format(time.RFC3339))
}

func mustJSON(b *testing.B, v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return out
}
