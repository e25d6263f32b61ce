// Package promtest runs a real Prometheus server for tests and demos.
//
// StartProcess launches /usr/bin/prometheus (or the one in PATH) on a free
// loopback port with its own TSDB directory. Data can be backfilled from
// OpenMetrics text through `promtool tsdb create-blocks-from openmetrics`
// before the server starts, and the server can scrape live targets. Start
// wraps StartProcess for tests: it skips the test when the binaries are
// missing and stops the server in t.Cleanup.
//
// Istio generates realistic Istio standard metrics (request counters per
// response code and latency histograms per version, with counter resets and
// scrape gaps) and WriteOpenMetrics writes them in the backfill format; the
// generated samples are returned too, so a test can compute the expected
// query results on its own.
package promtest
