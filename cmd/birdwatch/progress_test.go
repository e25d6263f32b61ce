package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	tests := []struct {
		name        string
		done, total int
		elapsed     time.Duration
		want        string
	}{
		{"nothing done yet", 0, 10000, 0, "simulated 0/10,000 rollouts (0%) in 0s"},
		{"part way, elapsed to a tenth", 1234, 10000, 3249 * time.Millisecond, "simulated 1,234/10,000 rollouts (12%) in 3.2s"},
		{"all done, minutes", 52000, 52000, 95*time.Second + 40*time.Millisecond, "simulated 52,000/52,000 rollouts (100%) in 1m35s"},
		{"millions", 999, 1000000, time.Second, "simulated 999/1,000,000 rollouts (0%) in 1s"},
		{"no total", 0, 0, 0, "simulated 0/0 rollouts (0%) in 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := progressLine(tt.done, tt.total, tt.elapsed); got != tt.want {
				t.Errorf("progressLine = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestProgressNotTerminal: nothing is drawn or counted when stderr is not a
// terminal (a buffer, a regular file), and the nil progress is usable.
func TestProgressNotTerminal(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	tests := []struct {
		name string
		w    interface{ Write([]byte) (int, error) }
	}{
		{"a buffer", &lockedBuffer{}},
		{"a regular file", file},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProgress(tt.w, 10, time.Now())
			if p != nil || p.callback() != nil {
				t.Fatalf("progress %v for a non-terminal", p)
			}
			p.stop()
		})
	}
	st, err := file.Stat()
	if err != nil || st.Size() != 0 {
		t.Errorf("the file got %d bytes (err %v)", st.Size(), err)
	}
}

// TestSimulateSilentWithoutTerminal: birdwatch simulate writes no progress
// line to a stderr that is not a terminal, only its summary line.
func TestSimulateSilentWithoutTerminal(t *testing.T) {
	_, stderr, err := simulateCLI(t, "--scenario", "errors-50pct", "--runs", "50", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(stderr, "\r\x1b") || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "simulated 50 rollouts in ") {
		t.Errorf("stderr %q", stderr)
	}
}

// TestProgressDraws (lockedBuffer is serve_test.go's): the line is drawn at once, counts the callbacks and
// is erased by stop.
func TestProgressDraws(t *testing.T) {
	var buf lockedBuffer
	p := runProgress(&buf, 4, time.Now())
	cb := p.callback()
	for range 3 {
		cb()
	}
	p.stop()
	out := buf.String()
	if !strings.HasPrefix(out, "\rsimulated ") || !strings.Contains(out, "/4 rollouts (") || !strings.HasSuffix(out, "\r\x1b[K") {
		t.Errorf("output %q", out)
	}
	if got := p.done.Load(); got != 3 {
		t.Errorf("counted %d, want 3", got)
	}
}
