// Package stats holds pure numerics for canary analysis: the two-sample
// Mann-Whitney U (Wilcoxon rank-sum) test with the Hodges-Lehmann shift
// estimate and its confidence interval, matching R's
// wilcox.test(x, y, conf.int = TRUE), and the sequential, anytime-valid tests
// that the judge runs at every analysis interval.
//
// The package does no I/O and keeps no package-level state; its functions
// depend only on their arguments and are safe for concurrent use. Bad input
// (empty samples, NaN or ±Inf, an out-of-range confidence level) is reported
// as an error, never as a panic; callers branch on the sentinel errors with
// errors.Is.
//
// Numerical conventions follow gonum's stat package: each function documents
// its formula in an indented block, its special cases, and the source of its
// algorithm.
package stats
