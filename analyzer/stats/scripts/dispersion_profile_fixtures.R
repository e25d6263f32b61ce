#!/usr/bin/env Rscript
# Reference values for analyzer/stats CountTest with Dispersion, Profile and
# TunedPrior (sequential_profile.go), computed independently of the Go code
# from the documented formulas:
#   - numerator: per process, the tuned-prior mixture over the 32 grid
#     alternatives d_k of sum_i log BB(e_c,i; E_i, p_i(d_k), tau2_(i-1)) -
#     log Binom(e_c,i; E_i, p_i(d0)), the beta-binomial from lbeta with
#     alpha = 1/(tau2 (1-p)), beta = 1/(tau2 p) (dbinom when tau2 = 0);
#   - tau2_(i-1): the method-of-moments estimate of the earlier intervals'
#     log-scale residuals (as in dispersion_fixtures.R) minus one standard
#     error sqrt(2 sum (1 + a_j t)^2) / sum a_j, at least 0;
#   - denominator: sup over theta on the null side of log d0 and tau2 >= 0
#     of sum_i log BB(e_c,i; E_i, p_i(e^theta), tau2) - log Binom(..., p_i(d0)),
#     tau2 up to 4 (profileMaxTau2),
#     by optimize() at tau2 = 0 and 4 and optim(L-BFGS-B) over (theta, log tau2)
#     from several starts: a search independent of the Go code's grid and
#     golden sections;
#     the supremum over tau2 at log d0 alone when the numerator over it stays
#     below 1/alpha (the test cannot reject then; Go does the same);
#   - log e = log numerator - denominator; Either averages the two sides.
# Usage (from the repository root):
#   Rscript analyzer/stats/scripts/dispersion_profile_fixtures.R analyzer/stats/testdata/dispersion_profile_fixtures.json
# Base R only; deterministic (set.seed per case).

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "analyzer/stats/testdata/dispersion_profile_fixtures.json"

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

share <- function(d, rho) d * rho / (d * rho + 1)
tmax <- 4  # the largest dispersion the null allows (profileMaxTau2)
# log beta-binomial pmf (with the binomial coefficient), dbinom at tau2 = 0
lbb <- function(x, n, p, tau2) {
  if (tau2 * p * (1 - p) < 1e-9) return(dbinom(x, n, p, log = TRUE))
  if (is.infinite(tau2)) return(if (x == n) log(p) else if (x == 0) log1p(-p) else -Inf)
  a <- 1 / (tau2 * (1 - p)); b <- 1 / (tau2 * p)
  lchoose(n, x) + lbeta(x + a, n - x + b) - lbeta(a, b)
}

denominator <- function(h, th0, sign, num, thr) {
  if (nrow(h) == 0) return(0)
  base <- sum(dbinom(h[, 1], h[, 2], share(exp(th0), h[, 3]), log = TRUE))
  ll <- function(th, t2) sum(mapply(function(x, n, r) lbb(x, n, share(exp(th), r), t2), h[, 1], h[, 2], h[, 3]))
  # the supremum over tau2 at th0 alone; enough when the test cannot reject
  d0 <- max(ll(th0, 0), ll(th0, tmax))
  for (lt in c(-9, -6, -3, -1, 0, 1))
    d0 <- max(d0, suppressWarnings(optim(lt, function(p) -ll(th0, exp(p)), method = "L-BFGS-B",
                                         lower = log(1e-8), upper = log(tmax)))$value * -1)
  if (num - (d0 - base) < thr) return(max(0, d0 - base))
  lo <- if (sign > 0) th0 - 12 else th0; hi <- if (sign > 0) th0 else th0 + 12
  best <- max(ll(th0, 0), ll(th0, tmax))
  for (t2 in c(0, tmax)) best <- max(best, optimize(function(th) ll(th, t2), c(lo, hi), maximum = TRUE, tol = 1e-10)$objective)
  for (lt in c(-9, -6, -3, -1, 0, 1)) for (th in c(th0, th0 - sign * 0.3, th0 - sign * 1)) {
    f <- suppressWarnings(optim(c(th, lt), function(p) -ll(p[1], exp(p[2])), method = "L-BFGS-B",
               lower = c(lo, log(1e-8)), upper = c(hi, log(tmax)), control = list(factr = 1e3)))
    best <- max(best, -f$value)
  }
  max(0, best - base)
}

case <- function(name, tol, alpha, dir, obs) {
  up <- dir %in% c("increase", "either"); down <- dir %in% c("decrease", "either")
  lup <- rep(0, K); ldown <- rep(0, K)
  mhn <- 0; mhd <- 0; inf <- 0; re <- 0; infos <- numeric(0)
  hist <- matrix(numeric(0), ncol = 3)
  steps <- character(0)
  num <- function(ref, sign, ec, n, rho, t2) {
    d <- ref * exp(sign * u)
    sapply(d, function(dk) lbb(ec, n, share(dk, rho), t2)) - dbinom(ec, n, share(ref, rho), log = TRUE)
  }
  for (i in seq_len(nrow(obs))) {
    o <- obs[i, ]
    ec <- round(o[1]); eb <- round(o[3]); rc <- o[2]; rb <- o[4]
    if (ec + eb > 0 && rc > 0 && rb > 0) {
      t2 <- 0
      if (length(infos) > 0) {
        est <- max(0, sum(re) / sum(infos))
        t2 <- max(0, est - sqrt(2 * sum((1 + infos * est)^2)) / sum(infos))
      }
      rho <- rc / rb
      if (up) lup <- lup + num(1 + tol, +1, ec, ec + eb, rho, t2)
      if (down) ldown <- ldown + num(1 - tol, -1, ec, ec + eb, rho, t2)
      hist <- rbind(hist, c(ec, ec + eb, rho))
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
    nu <- logsumexp(log(tuned_w(1 + tol)) + lup); nd <- logsumexp(log(tuned_w(1 - tol)) + ldown)
    du <- if (up) denominator(hist, log(1 + tol), +1, nu, log(1 / alpha)) else 0
    dd <- if (down) denominator(hist, log(1 - tol), -1, nd, log(1 / alpha)) else 0
    lu <- if (up) nu - du else 0
    ld <- if (down) nd - dd else 0
    le <- switch(dir, increase = lu, decrease = ld, either = logsumexp(c(lu, ld)) - log(2))
    steps <- c(steps, jobj(log_e = jnum(le), up_den = jnum(du), down_den = jnum(dd),
                           decision = jstr(if (le >= log(1 / alpha)) "reject" else "continue")))
  }
  jobj(name = jstr(name), tolerance = jnum(tol), alpha = jnum(alpha), direction = jstr(dir),
       obs = jlist(apply(obs, 1, jarr)), steps = jlist(steps))
}

sim_disp <- function(weights, rate, pb, d, s, shared = FALSE) {
  t(sapply(weights, function(wt) {
    n <- rpois(1, rate); rc <- rbinom(1, n, wt); rb <- n - rc
    mc <- exp(s * rnorm(1) - s^2 / 2); mb <- if (shared) mc else exp(s * rnorm(1) - s^2 / 2)
    c(rbinom(1, rc, min(1, pb * d * mc)), rc, rbinom(1, rb, min(1, pb * mb)), rb)
  }))
}
shift <- rep(c(0.01, 0.1, 0.5), each = 4)
cases <- list()
set.seed(31); cases[[1]] <- case("overdispersed-at-tolerance", 0.25, 0.005, "increase", sim_disp(shift, 60000, 0.01, 1.25, 0.5))
set.seed(32); cases[[2]] <- case("aleph-buggy", 0.25, 0.005, "increase", sim_disp(rep(0.01, 3), 600, 0.001, 500, 0))
set.seed(33); cases[[3]] <- case("either-shared", 0.1, 0.05, "either", sim_disp(shift, 6000, 0.02, 1.3, 0.4, TRUE))
set.seed(34); cases[[4]] <- case("independent-regression", 0.25, 0.01, "increase", sim_disp(rep(0.1, 15), 6000, 0.01, 1.5, 0))
set.seed(35); cases[[5]] <- case("overdispersed-regression", 0.25, 0.01, "increase", sim_disp(rep(0.1, 12), 60000, 0.01, 3, 0.5))
set.seed(36); cases[[7]] <- case("strong-regression", 0.25, 0.01, "either", sim_disp(rep(0.1, 8), 6000, 0.01, 3, 0.2))
cases[[6]] <- case("zero-tolerance-sparse", 0, 0.01, "decrease",
  rbind(c(0, 10, 0, 990), c(0, 12, 3, 1100), c(1, 9, 0, 1000), c(0, 60, 4, 540), c(2, 300, 9, 300)))

writeLines(paste0("{\"cases\":", jlist(unlist(cases)), "}"), out)
