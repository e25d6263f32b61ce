package ui

import (
	"context"
	"fmt"
	"sort"
	gosync "sync"
	"time"

	"github.com/birdwatch-gitops/birdwatch/report"
)

// seriesPoints is how many points a series has: the charts' resolution.
const seriesPoints = 90

// buildConcurrency bounds the range queries made at once for one refresh.
const buildConcurrency = 4

// cache keeps the last read of the fleet and the reports built from it
// for CacheTTL, so that every open page shares one read of the repository
// and one set of range queries per TTL. A failed read keeps the last good
// data, shown with the failure.
type cache struct {
	cfg Config

	mu        gosync.Mutex
	checkedAt time.Time // last read attempt
	readAt    time.Time // last successful read
	readErr   error     // the last attempt's error; nil when it succeeded
	entries   []Entry
	reports   map[string]report.Report
	charts    map[string][]report.Chart // drawn on demand, per read
}

func newCache(cfg Config) *cache { return &cache{cfg: cfg} }

// refresh reads the fleet and builds the reports when the data is older
// than the TTL. Callers hold c.mu.
func (c *cache) refresh(ctx context.Context) {
	now := c.cfg.Now()
	if !c.checkedAt.IsZero() && now.Sub(c.checkedAt) < c.cfg.CacheTTL {
		return
	}
	c.checkedAt = now
	entries, err := c.cfg.Fleet.Entries(ctx)
	if err != nil {
		c.readErr = err
		c.cfg.Log.Warn("ui: cannot read the fleet", "error", err.Error())
		return
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Key < entries[j].Key })
	c.readErr, c.readAt, c.entries = nil, now, entries
	c.reports, c.charts = c.build(ctx, entries, now), map[string][]report.Chart{}
}

// build makes each readable canary's report with its series, a few at a time.
func (c *cache) build(ctx context.Context, entries []Entry, now time.Time) map[string]report.Report {
	out := make(map[string]report.Report, len(entries))
	var mu gosync.Mutex
	sem := make(chan struct{}, buildConcurrency)
	var wg gosync.WaitGroup
	for _, e := range entries {
		if e.Err != nil || e.Canary == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r := report.Build(ctx, e.Canary, e.Status, c.cfg.Metrics, report.SeriesOptions{Points: seriesPoints, Now: now})
			mu.Lock()
			out[e.Key] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// fleet is the fleet page's view.
func (c *cache) fleet(ctx context.Context) fleetView {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh(ctx)
	v := fleetView{Problem: c.problem(), NoMetrics: c.cfg.Metrics == nil}
	if !c.readAt.IsZero() {
		v.ReadAt = c.readAt.UTC().Format("15:04:05 UTC")
	}
	for _, e := range c.entries {
		v.Rows = append(v.Rows, newFleetRow(e, c.reports[e.Key]))
	}
	v.Summary = summary(v.Rows)
	return v
}

// rollout is one canary's page view; false when the fleet has no such canary.
func (c *cache) rollout(ctx context.Context, key string) (rolloutView, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh(ctx)
	v := rolloutView{Key: key, Problem: c.problem(), NoMetrics: c.cfg.Metrics == nil}
	if !c.readAt.IsZero() {
		v.ReadAt = c.readAt.UTC().Format("15:04:05 UTC")
	}
	for _, e := range c.entries {
		if e.Key != key {
			continue
		}
		if e.Err != nil {
			v.CanaryErr = e.Err.Error()
			return v, true
		}
		r := c.reports[key]
		charts, ok := c.charts[key]
		if !ok {
			var err error
			if charts, err = report.ChartsPNG(r, report.ChartOptions{Width: 2 * report.DefaultChartWidth, Height: 2 * report.DefaultChartHeight}); err != nil {
				c.cfg.Log.Warn("ui: draw charts", "canary", key, "error", err.Error())
				v.ChartErr = "the charts could not be drawn"
			}
			c.charts[key] = charts
		}
		v.Report, v.Charts = &r, charts
		return v, true
	}
	return v, c.problem() != "" && len(c.entries) == 0
}

// problem says, in a sentence and without the error chain, why the data
// is missing or stale; "" when the last read succeeded.
func (c *cache) problem() string {
	if c.readErr == nil {
		return ""
	}
	if c.readAt.IsZero() {
		return "birdwatch cannot read the repository right now, and has nothing read earlier to show; the server log says why."
	}
	return fmt.Sprintf("birdwatch cannot read the repository right now: this is what it read at %s; the server log says why.",
		c.readAt.UTC().Format("15:04:05 UTC"))
}
