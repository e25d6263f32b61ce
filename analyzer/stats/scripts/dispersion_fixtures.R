#!/usr/bin/env Rscript
# Reference values for analyzer/stats CountTest with Dispersion and
# TunedPrior (sequential_dispersion.go, sequential_grid.go), computed
# independently of the Go code from the documented formulas:
#   - log-likelihood ratios from dbinom, discounted per interval by
#     1/phi = 1/(1 + a*tau2), a = E p(1-p) at the Mantel-Haenszel estimate;
#   - tau2 = t + z*sqrt(2*sum((1 + a_j t)^2))/sum(a_j), z = 1, t = max(0, sum(r^2-1)/sum(a_j)),
#     a_j = 1/v_j, from log-scale residuals of the earlier intervals (Haldane's
#     half counts); 0.5 before the first residual;
#   - prior weights: 3/4 on a normal of mean c = max(|log d0|, 0.1) and sd c/2
#     truncated to u > 0, 1/4 on the half-normal of scale 2.5, each moved onto
#     the 32-point grid.
# Usage (from the repository root):
#   Rscript analyzer/stats/scripts/dispersion_fixtures.R analyzer/stats/testdata/dispersion_fixtures.json
# Base R only; deterministic (set.seed per case).

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "analyzer/stats/testdata/dispersion_fixtures.json"

jnum <- function(x) sprintf("%.17g", x)
jarr <- function(xs) paste0("[", paste(vapply(xs, jnum, ""), collapse = ","), "]")
jstr <- function(s) paste0("\"", s, "\"")
jobj <- function(...) {
  kv <- list(...)
  paste0("{", paste(sprintf("\"%s\":%s", names(kv), unlist(kv)), collapse = ","), "}")
}
jlist <- function(items) paste0("[\n", paste(items, collapse = ",\n"), "\n]")

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

interval_llr <- function(ref, sign, ec, eb, rc, rb) {
  p <- function(d) d * rc / (d * rc + rb)
  d <- ref * exp(sign * u)
  dbinom(ec, ec + eb, p(d), log = TRUE) - dbinom(ec, ec + eb, p(ref), log = TRUE)
}

case <- function(name, tol, alpha, dir, obs) {
  up <- dir %in% c("increase", "either"); down <- dir %in% c("decrease", "either")
  lup <- rep(0, K); ldown <- rep(0, K)
  mhn <- 0; mhd <- 0; inf <- 0; re <- 0; ri <- 0; infos <- numeric(0)
  steps <- character(0)
  for (i in seq_len(nrow(obs))) {
    o <- obs[i, ]
    ec <- round(o[1]); eb <- round(o[3]); rc <- o[2]; rb <- o[4]
    if (ec + eb > 0 && rc > 0 && rb > 0) {
      dhat <- if (mhn > 0 && mhd > 0) mhn / mhd else 1
      p <- dhat * rc / (dhat * rc + rb)
      a <- (ec + eb) * p * (1 - p)
      tau2 <- 0.5
      if (length(infos) > 0) {
        est <- max(0, sum(re) / sum(infos))
        tau2 <- est + 1 * sqrt(2 * sum((1 + infos * est)^2)) / sum(infos)
      }
      scale <- 1 / (1 + a * tau2)
      if (up) lup <- lup + scale * interval_llr(1 + tol, +1, ec, eb, rc, rb)
      if (down) ldown <- ldown + scale * interval_llr(1 - tol, -1, ec, eb, rc, rb)
      mhn <- mhn + ec * rb / (rc + rb); mhd <- mhd + eb * rc / (rc + rb)
      inf <- inf + 1
      if (inf > 1) {
        dhat <- if (mhn > 0 && mhd > 0) mhn / mhd else 1
        y <- log((ec + 0.5) / (eb + 0.5)) - log(rc / rb)
        v <- 1 / (ec + 0.5) + 1 / (eb + 0.5)
        re <- re + (y - log(dhat))^2 / v - 1
        ri <- ri + 1 / v
        infos <- c(infos, 1 / v)
      }
    }
    lu <- if (up) logsumexp(log(tuned_w(1 + tol)) + lup) else 0
    ld <- if (down) logsumexp(log(tuned_w(1 - tol)) + ldown) else 0
    le <- switch(dir, increase = lu, decrease = ld, either = logsumexp(c(lu, ld)) - log(2))
    steps <- c(steps, jobj(log_e = jnum(le), residual_excess = jnum(re), residual_info = jnum(ri),
                           mh_num = jnum(mhn), mh_den = jnum(mhd),
                           decision = jstr(if (le >= log(1 / alpha)) "reject" else "continue")))
  }
  jobj(name = jstr(name), tolerance = jnum(tol), alpha = jnum(alpha), direction = jstr(dir),
       obs = jlist(apply(obs, 1, jarr)), steps = jlist(steps))
}

# intervals with each version's error rate multiplied by a log-normal
# factor (mean 1, sdlog s), independently per version unless shared
sim_disp <- function(weights, rate, pb, d, s, shared = FALSE) {
  t(sapply(weights, function(wt) {
    n <- rpois(1, rate); rc <- rbinom(1, n, wt); rb <- n - rc
    mc <- exp(s * rnorm(1) - s^2 / 2); mb <- if (shared) mc else exp(s * rnorm(1) - s^2 / 2)
    c(rbinom(1, rc, min(1, pb * d * mc)), rc, rbinom(1, rb, min(1, pb * mb)), rb)
  }))
}
shift <- rep(c(0.01, 0.1, 0.5), each = 5)
cases <- list()
set.seed(21); cases[[1]] <- case("overdispersed-healthy", 0.25, 0.005, "increase", sim_disp(shift, 60000, 0.001, 1, 0.5))
set.seed(22); cases[[2]] <- case("aleph-buggy", 0.25, 0.005, "increase", sim_disp(rep(0.01, 3), 600, 0.001, 500, 0))
set.seed(23); cases[[3]] <- case("either-shared", 0.1, 0.05, "either", sim_disp(shift, 6000, 0.02, 1.3, 0.4, TRUE))
set.seed(24); cases[[4]] <- case("independent-regression", 0.25, 0.01, "increase", sim_disp(rep(0.1, 20), 6000, 0.01, 1.5, 0))
cases[[5]] <- case("zero-tolerance-sparse", 0, 0.01, "decrease",
  rbind(c(0, 10, 0, 990), c(0, 12, 3, 1100), c(1, 9, 0, 1000), c(0, 60, 4, 540), c(2, 300, 9, 300)))

writeLines(paste0("{\"cases\":", jlist(unlist(cases)), "}"), out)
