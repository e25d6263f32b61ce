#!/usr/bin/env Rscript
# Reference values for analyzer/simulate SequentialOracle (oracle.go),
# computed independently of the Go code:
#   - llr: one interval's log L(d1)/L(d0) with L the binomial likelihood of
#     the canary's eC of eC+eB bad events at share p(d) = d rho / (d rho + 1),
#     from dbinom;
#   - power: a Monte Carlo of the oracle SPRT on errors-x1-5's traffic, one
#     count metric at alpha/2 (the judge's Bonferroni share of alpha 0.01):
#     30 looks of one minute at 10% of 100 requests/s, requests Poisson per
#     version, errors binomial at 1.5% (canary) and 1% (baseline), d0 = 1.25,
#     d1 = 1.5; the test fails at the first look where the cumulative log LR
#     reaches log(2/alpha). Also with the whole alpha (no split) and the
#     fixed-horizon likelihood-ratio test (signed root at the last look,
#     normal critical value), the ceiling.
# Usage (from the repository root):
#   Rscript analyzer/simulate/scripts/oracle_fixtures.R analyzer/simulate/testdata/oracle_fixtures.json
# Base R only; deterministic (set.seed).

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "analyzer/simulate/testdata/oracle_fixtures.json"
jnum <- function(x) sprintf("%.17g", x)

share <- function(d, rho) d * rho / (d * rho + 1)
llr <- function(eC, eB, rho, d0, d1)
  dbinom(eC, eC + eB, share(d1, rho), log = TRUE) - dbinom(eC, eC + eB, share(d0, rho), log = TRUE)

cases <- list(c(9, 54, 1 / 9, 1.25, 1.5), c(0, 3, 0.05 / 0.95, 1.25, 2), c(5, 0, 1, 1.05, 1.26),
              c(120, 480, 1 / 3, 1.25, 1.5), c(1, 1, 0.01 / 0.99, 1.25, 50))
llrs <- sapply(cases, function(c) sprintf("{\"eC\":%s,\"eB\":%s,\"rho\":%s,\"d0\":%s,\"d1\":%s,\"llr\":%s}",
  jnum(c[1]), jnum(c[2]), jnum(c[3]), jnum(c[4]), jnum(c[5]), jnum(llr(c[1], c[2], c[3], c[4], c[5]))))

set.seed(16)
runs <- 20000; looks <- 30; alpha <- 0.01
nC <- matrix(rpois(runs * looks, 0.1 * 100 * 60), runs)
nB <- matrix(rpois(runs * looks, 0.9 * 100 * 60), runs)
eC <- matrix(rbinom(runs * looks, nC, 0.015), runs)
eB <- matrix(rbinom(runs * looks, nB, 0.01), runs)
rho <- nC / nB
step <- llr(eC, eB, rho, 1.25, 1.5)
cum <- t(apply(step, 1, cumsum))
peak <- apply(cum, 1, max)
power_half <- mean(peak >= log(2 / alpha))
power_full <- mean(peak >= log(1 / alpha))
# fixed horizon: signed root of the stratified conditional LR statistic
lrt <- sapply(seq_len(runs), function(i) {
  l <- function(th) sum(dbinom(eC[i, ], eC[i, ] + eB[i, ], share(exp(th), rho[i, ]), log = TRUE))
  th0 <- log(1.25)
  fit <- optimize(l, c(th0, th0 + 5), maximum = TRUE)
  sqrt(max(0, 2 * (fit$objective - l(th0))))
})
ceil_half <- mean(lrt >= qnorm(1 - alpha / 2))
writeLines(c("{", sprintf("\"llr\":[%s],", paste(llrs, collapse = ",")),
  sprintf("\"runs\":%d,\"powerHalfAlpha\":%s,\"powerFullAlpha\":%s,\"ceilingHalfAlpha\":%s", runs,
    jnum(power_half), jnum(power_full), jnum(ceil_half)), "}"), out)
