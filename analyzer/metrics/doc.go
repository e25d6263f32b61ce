// Package metrics measures canary and baseline metrics: it renders query
// templates (package templates, or inline PromQL from a spec) with label
// values escaped so a spec value cannot change a query's meaning, runs them
// against a Provider, and returns raw values and counts with typed errors.
// Judging the values is left to analyzer/judge. Event counts from
// Prometheus are computed from raw counter samples (CountWindow), not
// taken from increase(), which extrapolates.
//
// Prometheus is the Provider implementation, built on the official client
// (client_golang api/prometheus/v1) with bearer-token and header
// round-trippers, per-attempt timeouts, and bounded retries with backoff for
// connection errors, timeouts and 5xx answers.
package metrics
