package ui

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkFleetPage renders the fleet page of n canaries from the cache
// (no metrics backend): what each open page costs per refresh.
func BenchmarkFleetPage(b *testing.B) {
	c := exampleCanary(b)
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("canaries=%d", n), func(b *testing.B) {
			entries := make([]Entry, n)
			for i := range entries {
				cc := *c
				cc.Metadata.Name = fmt.Sprintf("svc-%04d", i)
				entries[i] = Entry{Key: cc.Key(), Canary: &cc, Status: progressing(time.Date(2026, 12, 7, 11, 50, 0, 0, time.UTC), 20)}
			}
			h, err := New(Config{Fleet: &fakeFleet{entries: entries}, CacheTTL: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
				if rec.Code != 200 {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}
