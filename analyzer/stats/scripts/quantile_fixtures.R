#!/usr/bin/env Rscript
# Reference values for analyzer/stats QuantileTest (quantile.go), computed
# independently of the Go code from the documented rule:
#   - latencies drawn with rlnorm (a tail share 10x slower in some cases),
#     binned into Istio's bucket bounds as cumulative counts (sum(x <= le));
#   - the threshold of look i is chosen from the baseline's histogram summed
#     over looks 1..i-1 ONLY: the finite bound whose share of those requests
#     above it is nearest to 1-q on the log scale (which.min: the lower bound
#     on a tie; the lowest bound when no request is above any); the first
#     look only builds the reference;
#   - the requests above it feed the CountTest e-process with Dispersion
#     and TunedPrior, whose formulas are restated here from
#     dispersion_fixtures.R (dbinom likelihoods, the discount 1/(1 + a tau2),
#     the tuned prior on the 32-point grid). Each step also records the
#     counts above the threshold (canary above, canary total, baseline
#     above, baseline total), which the Go test feeds to the profile
#     e-value (CountTest Profile, checked against R by
#     dispersion_profile_fixtures.R) to check the composition.
# Usage (from the repository root):
#   Rscript analyzer/stats/scripts/quantile_fixtures.R analyzer/stats/testdata/quantile_fixtures.json
# Base R only; deterministic (set.seed per case).

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "analyzer/stats/testdata/quantile_fixtures.json"

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

bounds <- c(0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
            300000, 600000, 1800000, 3600000)
cumhist <- function(x) c(vapply(bounds, function(b) sum(x <= b), 0), length(x))

threshold <- function(ref, q) {
  total <- ref[length(ref)]
  if (!(total > 0)) return(NA)
  share <- (total - ref[seq_along(bounds)]) / total
  d <- ifelse(share > 0, abs(log(share / (1 - q))), Inf)
  if (all(is.infinite(d))) bounds[1] else bounds[which.min(d)]
}

draw <- function(n, median, sdlog, tail = 0) {
  x <- rlnorm(n, log(median), sdlog)
  slow <- runif(n) < tail
  x[slow] <- x[slow] * 10
  x
}

case <- function(name, q, tol, alpha, dir, looks) {
  up <- dir %in% c("increase", "either"); down <- dir %in% c("decrease", "either")
  lup <- rep(0, K); ldown <- rep(0, K)
  mhn <- 0; mhd <- 0; inf <- 0; re <- 0; infos <- numeric(0)
  ref <- rep(0, length(bounds) + 1)
  steps <- character(0); hists <- character(0)
  for (look in looks) {
    hc <- cumhist(look$canary); hb <- cumhist(look$baseline)
    hists <- c(hists, jobj(canary = jarr(hc), baseline = jarr(hb)))
    x <- threshold(ref, q)
    ref <- ref + hb
    counts <- c(0, 0, 0, 0)
    if (!is.na(x)) {
      i <- which(bounds == x)
      ec <- hc[length(hc)] - hc[i]; eb <- hb[length(hb)] - hb[i]
      rc <- hc[length(hc)]; rb <- hb[length(hb)]
      counts <- c(ec, rc, eb, rb)
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
          infos <- c(infos, 1 / v)
        }
      }
    }
    lu <- if (up) logsumexp(log(tuned_w(1 + tol)) + lup) else 0
    ld <- if (down) logsumexp(log(tuned_w(1 - tol)) + ldown) else 0
    le <- switch(dir, increase = lu, decrease = ld, either = logsumexp(c(lu, ld)) - log(2))
    steps <- c(steps, jobj(threshold = jnum(if (is.na(x)) 0 else x), counts = jarr(counts), log_e = jnum(le),
                           decision = jstr(if (le >= log(1 / alpha)) "reject" else "continue")))
  }
  jobj(name = jstr(name), quantile = jnum(q), tolerance = jnum(tol), alpha = jnum(alpha),
       direction = jstr(dir), bounds = jarr(bounds), looks = jlist(hists), steps = jlist(steps))
}

# looks of n requests/interval split by weight; canary (median, sdlog, tail)
looks_of <- function(weights, n, cm, cs, ctail = 0, bm = 100, bs = 0.5) {
  lapply(weights, function(w) {
    k <- rpois(1, n); kc <- rbinom(1, k, w)
    list(canary = draw(kc, cm, cs, ctail), baseline = draw(k - kc, bm, bs))
  })
}
shift <- rep(c(0.01, 0.1, 0.5), c(3, 5, 5))
cases <- list()
set.seed(31); cases[[1]] <- case("healthy-p99", 0.99, 0.05, 0.005, "increase", looks_of(shift, 6000, 100, 0.5))
set.seed(32); cases[[2]] <- case("shift-10pct-p99", 0.99, 0.05, 0.005, "increase", looks_of(shift, 6000, 110, 0.5))
set.seed(33); cases[[3]] <- case("tail-p95", 0.95, 0.25, 0.01, "increase", looks_of(shift, 3000, 100, 0.5, 0.02))
set.seed(34); cases[[4]] <- case("faster-either-p50", 0.5, 0.1, 0.01, "either", looks_of(rep(0.2, 8), 2000, 80, 0.5))
set.seed(35); cases[[5]] <- case("sparse-p999", 0.999, 0, 0.01, "increase", looks_of(rep(0.05, 6), 300, 100, 0.7))

writeLines(paste0("{\"cases\":", jlist(unlist(cases)), "}"), out)
