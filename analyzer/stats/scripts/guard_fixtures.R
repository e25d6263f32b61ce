#!/usr/bin/env Rscript
# Reference values for analyzer/stats RateGuard (guard.go), computed
# independently of the Go code from the documented formulas:
#   - log e-value: log sum_k w_k (p_k/L)^X ((1-p_k)/(1-L))^(N-X) with
#     logit(p_k) = logit(L) + u_k on the 32-point grid of CountTest, for a max
#     guard; a min guard is the max guard of the good events at limit 1-L;
#   - weights w: the tuned prior of CountTest for an odds ratio of 1.25
#     (3/4 on a normal of mean c = log 1.25 and sd c/2 truncated to u > 0,
#     1/4 on the half-normal of scale 2.5, each moved onto the grid);
#   - bound: the limit where the log e-value crosses log(1/alpha) (uniroot).
# Usage (from the repository root):
#   Rscript analyzer/stats/scripts/guard_fixtures.R analyzer/stats/testdata/guard_fixtures.json
# Base R only; deterministic.

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "analyzer/stats/testdata/guard_fixtures.json"

jnum <- function(x) sprintf("%.17g", x)
jobj <- function(...) {
  kv <- list(...)
  paste0("{", paste(sprintf("\"%s\":%s", names(kv), unlist(kv)), collapse = ","), "}")
}

K <- 32; umin <- 0.01; umax <- 7
u <- umin * (umax / umin)^((0:(K - 1)) / (K - 1))
edges <- c(0, sqrt(u[-K] * u[-1]), Inf)
hn_mass <- function(sigma) 2 * (pnorm(edges[-(K + 1)] / sigma, lower.tail = FALSE) -
                                pnorm(edges[-1] / sigma, lower.tail = FALSE))
norm_mass <- function(m, s) {
  m0 <- pnorm(0, m, s, lower.tail = FALSE)
  (pnorm(edges[-(K + 1)], m, s, lower.tail = FALSE) - pnorm(edges[-1], m, s, lower.tail = FALSE)) / m0
}
tuned_w <- function(d0) { c <- max(abs(log(d0)), 0.1); 0.75 * norm_mass(c, c / 2) + 0.25 * hn_mass(2.5) }
logsumexp <- function(x) { m <- max(x); m + log(sum(exp(x - m))) }
w <- tuned_w(1.25)

log_e <- function(x, n, l) {
  if (x == 0 || l >= 1) return(0)
  p <- plogis(qlogis(l) + u)
  llr <- x * (log(p) - log(l)) + (n - x) * (log1p(-p) - log1p(-l))
  logsumexp(log(w) + llr)
}
guard_log_e <- function(bad, total, limit, above) {
  if (above) log_e(bad, total, limit) else log_e(total - bad, total, 1 - limit)
}
guard_bound <- function(bad, total, alpha, above) {
  f <- function(l) guard_log_e(bad, total, l, above) - log(1 / alpha)
  if (above) {
    if (bad == 0 || f(1e-300) < 0) return(0)
    uniroot(f, c(1e-300, bad / total), tol = 1e-14)$root
  } else {
    if (bad == total || f(1 - 1e-15) < 0) return(1)
    uniroot(f, c(bad / total, 1 - 1e-15), tol = 1e-14)$root
  }
}

cases <- list(
  list("max at the limit", 60, 6000, 0.01, 0.001, TRUE),
  list("max well above", 150, 6000, 0.01, 0.001, TRUE),
  list("max few requests", 3, 6, 0.01, 0.001, TRUE),
  list("max fractional counts", 12.7, 604.3, 0.01, 0.005, TRUE),
  list("max large", 2300, 180000, 0.01, 0.002, TRUE),
  list("min success rate", 9890, 10000, 0.99, 0.001, FALSE),
  list("min below", 9700, 10000, 0.99, 0.001, FALSE)
)
items <- vapply(cases, function(c) {
  le <- guard_log_e(c[[2]], c[[3]], c[[4]], c[[6]])
  b <- guard_bound(c[[2]], c[[3]], c[[5]], c[[6]])
  jobj(name = paste0("\"", c[[1]], "\""), bad = jnum(c[[2]]), total = jnum(c[[3]]), limit = jnum(c[[4]]),
       alpha = jnum(c[[5]]), above = if (c[[6]]) "true" else "false", log_e = jnum(le), bound = jnum(b))
}, "")
writeLines(paste0("[\n", paste(items, collapse = ",\n"), "\n]"), out)
