#!/usr/bin/env Rscript
# Reference values for analyzer/stats CountTest and MeanTest, computed
# independently of the Go code:
#   - CountTest: the e-value is summed over the documented grid straight from
#     binomial likelihoods (dbinom), with prior weights from pnorm.
#   - MeanTest: the one-sided normal-mixture boundary is found with uniroot on
#     the mixture integral computed by integrate(); the closed form is only
#     used as a cross-check here. Means and variances come from mean()/var()
#     of all values so far (Go merges batches instead).
# Usage (from the repository root):
#   Rscript analyzer/stats/scripts/sequential_fixtures.R analyzer/stats/testdata/sequential_fixtures.json
# Base R only; deterministic (set.seed per case).

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "analyzer/stats/testdata/sequential_fixtures.json"

# ---- minimal JSON writer (base R has none) ---------------------------------
jnum <- function(x) {
  if (is.na(x)) return("\"NaN\"")
  if (is.infinite(x)) return(if (x > 0) "\"Inf\"" else "\"-Inf\"")
  sprintf("%.17g", x)
}
jarr <- function(xs) paste0("[", paste(vapply(xs, jnum, ""), collapse = ","), "]")
jstr <- function(s) paste0("\"", s, "\"")
jobj <- function(...) {
  kv <- list(...)
  paste0("{", paste(sprintf("\"%s\":%s", names(kv), unlist(kv)), collapse = ","), "}")
}
jlist <- function(items) paste0("[\n", paste(items, collapse = ",\n"), "\n]")

# ---- CountTest ---------------------------------------------------------------
K <- 32; umin <- 0.01; umax <- 7; sigma <- 2.5
u <- umin * (umax / umin)^((0:(K - 1)) / (K - 1))
edges <- c(0, sqrt(u[-K] * u[-1]), Inf)
# mass of the half-normal(sigma) on each cell; upper tails keep precision
w <- 2 * (pnorm(edges[-(K + 1)] / sigma, lower.tail = FALSE) -
          pnorm(edges[-1] / sigma, lower.tail = FALSE))
stopifnot(abs(sum(w) - 1) < 1e-14)

logsumexp <- function(x) { m <- max(x); m + log(sum(exp(x - m))) }
log_e <- function(llr) logsumexp(log(w) + llr)

# one interval's log-likelihood ratios of process (ref, sign)
interval_llr <- function(ref, sign, ec, eb, rc, rb) {
  p <- function(d) d * rc / (d * rc + rb)
  d <- ref * exp(sign * u)
  dbinom(ec, ec + eb, p(d), log = TRUE) - dbinom(ec, ec + eb, p(ref), log = TRUE)
}

count_case <- function(name, tol, alpha, dir, fut, obs) {
  up <- dir %in% c("increase", "either"); down <- dir %in% c("decrease", "either")
  llr <- list(up = rep(0, K), down = rep(0, K), fup = rep(0, K), fdown = rep(0, K))
  steps <- character(0)
  for (i in seq_len(nrow(obs))) {
    o <- obs[i, ]
    skipped <- any(!is.finite(o)) || any(o < 0) || o[1] > o[2] || o[3] > o[4]
    if (!skipped) {
      ec <- round(o[1]); eb <- round(o[3]); rc <- o[2]; rb <- o[4]
      if (ec + eb > 0 && rc > 0 && rb > 0) {
        llr$up <- llr$up + interval_llr(1 + tol, +1, ec, eb, rc, rb)
        llr$fup <- llr$fup + interval_llr((1 + tol)^2, -1, ec, eb, rc, rb)
        if (tol < 1) {
          llr$down <- llr$down + interval_llr(1 - tol, -1, ec, eb, rc, rb)
          llr$fdown <- llr$fdown + interval_llr((1 - tol)^2, +1, ec, eb, rc, rb)
        }
      }
    }
    lu <- log_e(llr$up); ld <- log_e(llr$down)
    lfu <- log_e(llr$fup); lfd <- log_e(llr$fdown)
    le <- switch(dir, increase = lu, decrease = ld,
                 either = logsumexp(c(lu, ld)) - log(2))
    acc <- fut > 0 && (!up || lfu >= log(1 / fut)) && (!down || lfd >= log(1 / fut))
    decision <- if (le >= log(1 / alpha)) "reject" else if (acc) "accept" else "continue"
    steps <- c(steps, jobj(log_e = jnum(le), log_up = jnum(if (up) lu else 0),
                           log_down = jnum(if (down) ld else 0),
                           log_futility_up = jnum(if (up && fut > 0) lfu else 0),
                           log_futility_down = jnum(if (down && fut > 0) lfd else 0),
                           skipped = tolower(skipped), decision = jstr(decision)))
  }
  jobj(name = jstr(name), tolerance = jnum(tol), alpha = jnum(alpha),
       direction = jstr(dir), futility_alpha = jnum(fut),
       obs = jlist(apply(obs, 1, jarr)), steps = jlist(steps))
}

# simulated intervals: total requests ~ Poisson(rate), split by canary weight
sim_counts <- function(weights, rate, pb, d) {
  t(sapply(weights, function(wt) {
    n <- rpois(1, rate); rc <- rbinom(1, n, wt); rb <- n - rc
    c(rbinom(1, rc, min(1, pb * d)), rc, rbinom(1, rb, pb), rb)
  }))
}
shift <- rep(c(0.01, 0.1, 0.5), each = 4)

count_cases <- list()
set.seed(1); count_cases[[1]] <- count_case("aleph-buggy", 0.25, 0.01, "increase", 0,
  sim_counts(rep(0.01, 3), 600, 0.001, 500))
set.seed(2); count_cases[[2]] <- count_case("healthy-shift", 0.25, 0.05, "increase", 0,
  sim_counts(shift, 600, 0.01, 1))
set.seed(3); count_cases[[3]] <- count_case("worst-null-either", 0.1, 0.05, "either", 0,
  sim_counts(shift, 2000, 0.02, 1.1))
set.seed(4); count_cases[[4]] <- count_case("decrease-detected", 0.2, 0.01, "decrease", 0,
  sim_counts(rep(0.5, 6), 3000, 0.05, 0.3))
set.seed(5); count_cases[[5]] <- count_case("futility-healthy", 0.25, 0.01, "increase", 0.05,
  sim_counts(rep(0.5, 10), 5000, 0.02, 1))
set.seed(6); count_cases[[6]] <- count_case("futility-either", 0.3, 0.05, "either", 0.1,
  sim_counts(rep(0.5, 8), 5000, 0.02, 1))
count_cases[[7]] <- count_case("zero-baseline-errors", 0, 0.01, "increase", 0,
  rbind(c(1, 10, 0, 990), c(2, 12, 0, 1100), c(0, 9, 0, 1000), c(1, 60, 0, 540)))
count_cases[[8]] <- count_case("no-evidence-and-skips", 0.25, 0.05, "either", 0.05,
  rbind(c(0, 10, 0, 990),      # no bad events
        c(0, 0, 3, 1000),      # canary without requests
        c(2, 100, 0, 0),       # baseline without requests
        c(-5, 10, 1, 990),     # counter reset: skipped
        c(3, 2, 1, 990),       # more errors than requests: skipped
        c(4, 100, 5, 900),
        c(9, 100, 2, 900)))
count_cases[[9]] <- count_case("fractional-counts", 0.25, 0.05, "increase", 0,
  rbind(c(2.2, 60.4, 3.1, 540.9), c(7.8, 61.2, 2.9, 538.1), c(0.4, 59.7, 0.3, 539.6)))
set.seed(10); count_cases[[10]] <- count_case("large-evidence", 0.25, 0.01, "increase", 0,
  sim_counts(rep(0.5, 3), 20000, 0.01, 3))
set.seed(16); count_cases[[11]] <- count_case("canary-majority", 0.25, 0.05, "either", 0.05,
  sim_counts(c(0.8, 0.9, 0.95, 0.99, 0.999), 1000, 0.02, 1.3))

# ---- MeanTest ----------------------------------------------------------------
# one-sided normal-mixture margin, in standard errors, by integration:
# m(z) = integral_0^Inf exp(z*mu - mu^2/2) * 2*dnorm(mu/(rho*sqrt(V)))/(rho*sqrt(V)) dmu
# solves m(z) = 1/a for z (mu = lambda*sqrt(V), lambda ~ half-normal(rho)).
margin_integrate <- function(a, rho2, V) {
  s <- sqrt(rho2 * V)
  b <- 1 + 1 / s^2  # the log-integrand is -b*(mu - z/b)^2/2 + z^2/(2b) + const
  logm <- function(z) {
    peak <- z / b; sd <- 1 / sqrt(b)
    f <- function(mu) 2 / s * exp(z * mu - mu^2 / 2 - z^2 / (2 * b) + dnorm(mu / s, log = TRUE))
    # integrate around the bump; mass beyond 40 sd is below exp(-800)
    piece <- function(lo, hi) integrate(f, lo, hi, rel.tol = 1e-13, abs.tol = 0,
                                        subdivisions = 2000L)$value
    log(piece(max(0, peak - 40 * sd), peak) + piece(peak, peak + 40 * sd)) + z^2 / (2 * b)
  }
  uniroot(function(z) logm(z) - log(1 / a), c(1e-3, 60), tol = 1e-15)$root
}
margin_closed <- function(a, rho2, V) {
  v <- rho2 * V
  x <- uniroot(function(x) log(2) - 0.5 * log1p(v) + x^2 / 2 + pnorm(x, log.p = TRUE) - log(1 / a),
               c(-5, 60), tol = 1e-15)$root
  sqrt(1 + 1 / v) * x
}

mean_side <- function(xc, xb, kappa, a, horizon, minn) {
  if (length(xc) < minn || length(xb) < minn) return(NA)
  vb <- kappa^2 * var(xb); vc <- max(var(xc), vb)  # the documented variance floor
  se2 <- vc / length(xc) + vb / length(xb)
  if (!(se2 > 0)) return(NA)
  neff <- (vc + vb) / se2
  l <- -2 * log(a)
  rho2 <- (l + log1p(l)) / horizon
  z <- margin_integrate(a, rho2, neff)
  zc <- margin_closed(a, rho2, neff)
  if (abs(z - zc) > 1e-9 * zc) stop(sprintf("integral %.17g vs closed form %.17g", z, zc))
  c(est = mean(xc) - kappa * mean(xb), margin = sqrt(se2) * z)
}

mean_case <- function(name, tol, alpha, dir, minn, horizon, intervals) {
  a <- if (dir == "either") alpha / 2 else alpha
  xc <- numeric(0); xb <- numeric(0); steps <- character(0)
  for (iv in intervals) {
    xc <- c(xc, iv$canary); xb <- c(xb, iv$baseline)
    lower <- -Inf; upper <- Inf
    if (dir %in% c("increase", "either")) {
      r <- mean_side(xc, xb, 1 + tol, a, horizon, minn)
      if (!anyNA(r)) lower <- r[["est"]] - r[["margin"]]
    }
    if (dir %in% c("decrease", "either")) {
      r <- mean_side(xc, xb, 1 - tol, a, horizon, minn)
      if (!anyNA(r)) upper <- r[["est"]] + r[["margin"]]
    }
    decision <- if (lower > 0 || upper < 0) "reject" else "continue"
    steps <- c(steps, jobj(lower = jnum(lower), upper = jnum(upper), decision = jstr(decision)))
  }
  ivs <- vapply(intervals, function(iv) jobj(canary = jarr(iv$canary), baseline = jarr(iv$baseline)), "")
  jobj(name = jstr(name), tolerance = jnum(tol), alpha = jnum(alpha), direction = jstr(dir),
       min_samples = jnum(minn), horizon = jnum(horizon),
       intervals = jlist(ivs), steps = jlist(steps))
}

sim_latency <- function(nc, nb, scale, sdlog = 0.5) {
  lapply(seq_along(nc), function(i) list(
    canary = scale * rlnorm(nc[i], log(100), sdlog), baseline = rlnorm(nb[i], log(100), sdlog)))
}
mean_cases <- list()
set.seed(11); mean_cases[[1]] <- mean_case("normal-equal", 0.1, 0.05, "increase", 30, 1000,
  lapply(1:5, function(i) list(canary = rnorm(50, 200, 20), baseline = rnorm(50, 200, 20))))
set.seed(12); mean_cases[[2]] <- mean_case("lognormal-shift-increase", 0.1, 0.01, "increase", 30, 1000,
  sim_latency(c(6, 6, 60, 60, 300, 300), c(594, 594, 540, 540, 300, 300), 1.3))
set.seed(13); mean_cases[[3]] <- mean_case("lognormal-decrease", 0.1, 0.05, "decrease", 30, 1000,
  sim_latency(c(100, 100, 100, 100), c(100, 100, 100, 100), 0.7))
set.seed(14); mean_cases[[4]] <- mean_case("either-small-horizon", 0.05, 0.05, "either", 10, 50,
  sim_latency(c(0, 8, 8, 40, 40), c(20, 20, 20, 40, 40), 1.2, sdlog = 1))
set.seed(15); mean_cases[[5]] <- mean_case("seconds-scale-large", 0, 0.01, "either", 2, 5000,
  lapply(1:4, function(i) list(canary = rnorm(150, 2e6, 1e5), baseline = rnorm(600, 2e6 + 1e4, 1e5))))

writeLines(c("{",
  sprintf("\"generator\":%s,", jstr("analyzer/stats/scripts/sequential_fixtures.R")),
  sprintf("\"r_version\":%s,", jstr(R.version.string)),
  sprintf("\"grid\":%s,", jobj(size = jnum(K), min_u = jnum(umin), max_u = jnum(umax),
                                prior_scale = jnum(sigma), u = jarr(u), w = jarr(w))),
  sprintf("\"count_cases\":%s,", jlist(unlist(count_cases))),
  sprintf("\"mean_cases\":%s", jlist(unlist(mean_cases))),
  "}"), out)
cat("wrote", out, "\n")
