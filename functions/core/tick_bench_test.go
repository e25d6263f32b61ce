package core

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

// BenchmarkTick is one `run --once` of a repository holding n copies of the
// aleph example, as a platform team would grow one, with Prometheus down:
// every canary makes its start decision (weight 10), one fetch, one parse,
// one chained push. It reports canaries decided per second; each round
// runs on a fresh repository and cache (made outside the timer). It also
// reports the CPU seconds the tick used (user and system, this process and
// the git processes it waited for): on a shared machine that, not the wall
// time, says what the tick costs on idle cores.
func BenchmarkTick(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("canaries=%d", n), func(b *testing.B) {
			files, err := fleet.ManyFiles(testSpec, n)
			if err != nil {
				b.Fatal(err)
			}
			var decided int
			var elapsed, cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				f, err := fleet.CreateFiles(b.Context(), b.TempDir(), files, "fleet: initial")
				if err != nil {
					b.Fatal(err)
				}
				r, err := repo.Open(b.Context(), repo.Options{URL: f.URL(), Branch: "main", CacheDir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				e := newEngine(b, r, "http://127.0.0.1:1", newClock(dataEnd))
				b.StartTimer()
				start, cpu0 := time.Now(), cpuTime(b)
				out, err := e.Run(b.Context(), Request{Trigger: "bench"})
				elapsed += time.Since(start)
				cpu += cpuTime(b) - cpu0
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				for _, o := range out {
					if o.Err != nil || o.Commit == "" {
						b.Fatalf("%s: commit %q err %v", o.Canary, o.Commit, o.Err)
					}
					decided++
				}
				r.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(decided)/elapsed.Seconds(), "canaries/s")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// cpuTime is the user and system CPU time of this process and of its
// children that have been waited for.
func cpuTime(b *testing.B) time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err != nil {
			b.Fatal(err)
		}
		total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return total
}
