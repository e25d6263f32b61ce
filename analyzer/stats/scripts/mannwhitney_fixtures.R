# Reference values for analyzer/stats MannWhitney and HodgesLehmann.
#
# Runs R's wilcox.test(x, y, conf.int = TRUE, conf.level = c, alternative = a,
# correct = TRUE, exact = NULL) on many deterministic data sets and writes the
# data and R's answers to testdata/mannwhitney_fixtures.json, which
# mannwhitney_test.go compares against.
#
# Usage (from the repository root):
#   Rscript analyzer/stats/scripts/mannwhitney_fixtures.R analyzer/stats/testdata/mannwhitney_fixtures.json
#
# Needs only base R (no packages). Every data set has its own set.seed, so the
# output is identical on every run of the same R version.

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[[1]] else "testdata/mannwhitney_fixtures.json"

# ---- JSON writing (base R has no JSON writer) --------------------------------

# Shortest of %.15g / %.17g that reads back as the same double.
num <- function(v) {
  s <- sprintf("%.15g", v)
  bad <- is.finite(v) & suppressWarnings(as.numeric(s)) != v
  s[bad] <- sprintf("%.17g", v[bad])
  s[is.nan(v)] <- "\"NaN\""
  s[is.infinite(v) & v > 0] <- "\"Inf\""
  s[is.infinite(v) & v < 0] <- "\"-Inf\""
  s[is.na(v) & !is.nan(v)] <- "null"
  s
}
arr <- function(v) paste0("[", paste(num(v), collapse = ","), "]")
str <- function(s) paste0("\"", gsub("\"", "\\\\\"", gsub("\\\\", "\\\\\\\\", s)), "\"")
strs <- function(v) paste0("[", paste(vapply(v, str, ""), collapse = ","), "]")

# ---- data sets ----------------------------------------------------------------

datasets <- list()
add <- function(name, x, y, runs = "grid", x_gen = NULL, y_gen = NULL) {
  datasets[[length(datasets) + 1]] <<- list(name = name, x = x, y = y, runs = runs,
                                            x_gen = x_gen, y_gen = y_gen)
}
# The generator of benchSample in mannwhitney_bench_test.go (and of
# bench_wilcox.R): Park-Miller minimal standard LCG and a skewed transform,
# exact in double arithmetic, so large samples need not be stored: the JSON
# holds (seed, n, loc) and the Go test regenerates them.
gen <- function(seed, n, loc) {
  out <- numeric(n)
  s <- seed
  for (i in seq_len(n)) {
    s <- (16807 * s) %% 2147483647
    u <- s / 2147483647
    out[i] <- loc + 50 * u / (1.05 - u)
  }
  out
}
add_gen <- function(name, xg, yg, runs) {
  add(name, do.call(gen, as.list(xg)), do.call(gen, as.list(yg)), runs, x_gen = xg, y_gen = yg)
}
seeded <- function(seed, expr) { set.seed(seed); expr }

# tiny, exact
add("tiny-1-1", 1, 2)
add("tiny-1-2", 1.5, c(0.5, 2.5))
add("tiny-3-1", c(3, 1, 2), 4.5)
add("tiny-2-2", c(1, 2), c(3, 4))
add("tiny-3-3", c(0.1, 0.7, 0.3), c(0.2, 0.9, 0.05))
add("tiny-3-2-separated", c(1, 2, 3), c(4, 5))
# tiny with ties: normal branch, bounds clamped to the range
add("tiny-tied-2-2", c(1, 1), c(1, 2))
add("tiny-tied-3-3", c(1, 2, 3), c(2, 3, 4))
# constant sides
add("constant-x", rep(2, 5), c(1, 2, 3, 4, 5, 6))
add("constant-y", (1:8) + 0.5, rep(3, 4))
add("constant-both-different", rep(5, 3), rep(3, 2), runs = "alts")
add("constant-both-same", rep(5, 3), rep(5, 4), runs = "alts")
add("single-same", 5, 5, runs = "alts")
# rounding: x - (max(x) - min(y)) stays above min(y), so the statistic has one
# sign over the whole range of shifts and uniroot stops
add("rounding-no-sign-change", c(8, 8), c(8, -5 * (2 / 3), -5 * (2 / 3)), runs = "alts")
add("empty-x", numeric(0), c(1, 2), runs = "alts")
add("empty-y", c(1, 2), numeric(0), runs = "alts")
# identical sides: every value tied across samples
v <- seeded(11, round(rnorm(20), 3)); add("identical-20", v, v)
v <- seeded(12, round(rnorm(60, 10, 2), 2)); add("identical-60", v, v)
# skewed / lognormal
seeded(21, add("lognormal-exact-15-20", rlnorm(15, 0, 1), rlnorm(20, 0.3, 1)))
seeded(22, add("lognormal-normal-80-60", 1.3 * rlnorm(80, 0, 0.8), rlnorm(60, 0, 0.8)))
seeded(23, add("latency-skewed-45-40", 200 + rgamma(45, 2, 0.05), 190 + rgamma(40, 2, 0.05)))
# zero-inflated (error counts): Kayenta's known failures
seeded(31, add("zero-inflated-small", c(rep(0, 30), rexp(5)), c(rep(0, 35), rexp(2))))
add("few-huge-errors", c(rep(0, 95), 50, 80, 120, 0, 0), c(rep(0, 99), 1))
seeded(32, add("zero-inflated-2500", ifelse(runif(2500) < 0.9, 0, round(rexp(2500, 0.5), 2)),
               ifelse(runif(2500) < 0.95, 0, round(rexp(2500, 0.5), 2))))
# shifts, exact and normal
seeded(41, add("shift-exact-30-25", rnorm(30, 1), rnorm(25)))
seeded(42, add("shift-normal-120-100", rnorm(120, 0.4), rnorm(100)))
seeded(43, add("no-shift-normal-200-200", rnorm(200), rnorm(200)))
# branch boundaries
seeded(51, add("boundary-49-49-exact", rnorm(49, 0.3), rnorm(49)))
seeded(52, add("boundary-50-10-normal", rnorm(50, 0.3), rnorm(10)))
seeded(53, add("boundary-10-50-normal", rnorm(10, 0.3), rnorm(50)))
seeded(54, add("boundary-49-50-normal", rnorm(49, 0.3), rnorm(50)))
# scale: small ratios (tolerance matters) and large magnitudes
seeded(61, add("small-scale-ratios", runif(100, 0, 0.002), runif(120, 0, 0.0015), runs = "tol"))
seeded(62, add("large-magnitude-exact", rnorm(40, -1e6, 1e4), rnorm(45, -1e6 + 5e3, 1e4)))
seeded(63, add("large-magnitude-normal", rnorm(70, 1e6, 100), rnorm(80, 1e6 + 30, 100)))
# heavy ties
seeded(71, add("poisson-200-200", rpois(200, 3), rpois(200, 3.5)))
seeded(72, add("integers-3000-3000", sample(1:10, 3000, TRUE), sample(2:11, 3000, TRUE)))
# large samples (2000+ a side)
seeded(81, add("large-normal-2000-2500", round(rnorm(2000, 100.5, 10), 3), round(rnorm(2500, 100, 10), 3)))
seeded(82, add("large-lognormal-3000-3000", signif(rlnorm(3000, 5, 0.5), 12), signif(1.02 * rlnorm(3000, 5, 0.5), 12)))
seeded(83, add("large-far-apart-2000-2000", round(rnorm(2000, 100), 4), round(rnorm(2000, 0), 4)))
# the benchmark data, 10000 a side
add_gen("bench-10000-10000", c(1, 10000, 101), c(2, 10000, 100), runs = "alts")
# confidence levels far from the usual
seeded(91, add("conf-levels-exact-8-9", rnorm(8), rnorm(9, 0.5), runs = "levels"))
seeded(92, add("conf-levels-normal-60-70", rnorm(60), rnorm(70, 0.5), runs = "levels"))

# ---- runs ---------------------------------------------------------------------

alts <- c("two.sided", "less", "greater")
runs_for <- function(kind) {
  g <- function(a, cl, tol = 1e-4) list(alternative = a, conf.level = cl, tol.root = tol)
  switch(kind,
    alts = lapply(alts, g, cl = 0.95),
    grid = c(lapply(alts, g, cl = 0.95), lapply(alts, g, cl = 0.98),
             list(g("two.sided", 0.8), g("two.sided", 0.9), g("two.sided", 0.99))),
    tol = c(lapply(alts, g, cl = 0.95), lapply(alts, g, cl = 0.95, tol = 1e-8),
            list(g("two.sided", 0.98, 1e-7))),
    levels = unlist(lapply(c(0.3, 0.5, 0.6, 0.9, 0.999), function(cl) lapply(alts, g, cl = cl)),
                    recursive = FALSE))
}

# Count uniroot calls inside wilcox.test: each bound that is not clamped to
# the range of differences costs one, the estimate one more.
uniroot_calls <- 0L
invisible(suppressMessages(trace("uniroot", tracer = quote(uniroot_calls <<- uniroot_calls + 1L),
                       where = asNamespace("stats"), print = FALSE)))

run_case <- function(d, r) {
  warns <- character(0)
  uniroot_calls <<- 0L
  res <- tryCatch(withCallingHandlers(
    wilcox.test(d$x, d$y, alternative = r$alternative, conf.int = TRUE,
                conf.level = r$conf.level, tol.root = r$tol.root),
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") }),
    error = function(e) e)
  head <- sprintf("{\"dataset\":%s,\"alternative\":%s,\"conf_level\":%s,\"tol_root\":%s",
                  str(d$name), str(r$alternative), num(r$conf.level), num(r$tol.root))
  if (inherits(res, "error")) {
    return(paste0(head, ",\"error\":", str(conditionMessage(res)), "}"))
  }
  exact <- grepl("exact", res$method)
  ci <- as.numeric(res$conf.int)
  achieved <- if (exact) {
    !any(grepl("conf.level not achievable", warns))
  } else {
    uniroot_calls - 1L == sum(is.finite(ci))
  }
  paste0(head,
         ",\"statistic\":", num(unname(res$statistic)),
         ",\"p_value\":", num(res$p.value),
         ",\"estimate\":", num(unname(res$estimate)),
         ",\"conf_int\":", arr(ci),
         ",\"conf_level_reported\":", num(attr(res$conf.int, "conf.level")),
         ",\"conf_level_achieved\":", tolower(achieved),
         ",\"exact\":", tolower(exact),
         ",\"method\":", str(res$method),
         ",\"warnings\":", strs(unique(warns)), "}")
}

ds_json <- vapply(datasets, function(d) {
  if (!is.null(d$x_gen)) { # too large for outer(); HodgesLehmann is checked on the others
    return(sprintf("{\"name\":%s,\"x_gen\":%s,\"y_gen\":%s,\"hodges_lehmann\":null}",
                   str(d$name), arr(d$x_gen), arr(d$y_gen)))
  }
  hl <- if (length(d$x) && length(d$y)) median(outer(d$x, d$y, "-")) else NA
  sprintf("{\"name\":%s,\"x\":%s,\"y\":%s,\"hodges_lehmann\":%s}",
          str(d$name), arr(d$x), arr(d$y), num(hl))
}, "")
case_json <- unlist(lapply(datasets, function(d) vapply(runs_for(d$runs), function(r) run_case(d, r), "")))

# ---- building blocks: pwilcox / qwilcox and uniroot ------------------------------

sizes <- list(c(1, 1), c(2, 3), c(5, 5), c(10, 7), c(20, 30), c(30, 45), c(49, 49))
pw_json <- unlist(lapply(sizes, function(s) {
  mn <- s[1] * s[2]
  qs <- unique(c(-1, 0, 1, floor(mn / 4), floor(mn / 2) - 1, floor(mn / 2), ceiling(mn / 2), mn - 1, mn))
  vapply(qs, function(q) sprintf("{\"m\":%d,\"n\":%d,\"q\":%s,\"lower\":%s,\"upper\":%s}",
                                 s[1], s[2], num(q), num(pwilcox(q, s[1], s[2])),
                                 num(pwilcox(q, s[1], s[2], lower.tail = FALSE))), "")
}))
qw_json <- unlist(lapply(sizes, function(s) {
  ps <- c(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.6, 0.9, 0.975, 0.995)
  vapply(ps, function(p) sprintf("{\"m\":%d,\"n\":%d,\"p\":%s,\"q\":%s}",
                                 s[1], s[2], num(p), num(qwilcox(p, s[1], s[2]))), "")
}))
# choose(m + n, n) for every pair of sizes of the exact branch (m, n < 50).
ch_json <- vapply(2:98, function(N) {
  k0 <- max(1, N - 49); k1 <- min(49, N - 1)
  sprintf("{\"n\":%d,\"k0\":%d,\"values\":%s}", N, k0, arr(choose(N, k0:k1)))
}, "")
# Functions written with plain arithmetic so that Go evaluates them bit for bit.
roots <- list(
  list(name = "cubic", f = function(x) x * x * x - 2 * x - 5, lower = 2, upper = 3, tol = 1e-4),
  list(name = "cubic", f = function(x) x * x * x - 2 * x - 5, lower = 2, upper = 3, tol = 1e-12),
  list(name = "square", f = function(x) x * x - 2, lower = 0, upper = 2, tol = 1e-4),
  list(name = "step", f = function(x) if (x < 0.3) 1 else -1, lower = 0, upper = 1, tol = 1e-4),
  list(name = "step", f = function(x) if (x < 0.3) 1 else -1, lower = 0, upper = 1, tol = 1e-9),
  list(name = "inf-left", f = function(x) if (x < 0.5) Inf else -1, lower = 0, upper = 1, tol = 1e-4),
  list(name = "root-at-lower", f = function(x) -x, lower = 0, upper = 1, tol = 1e-4))
ur_json <- vapply(roots, function(r) {
  root <- suppressWarnings(uniroot(r$f, lower = r$lower, upper = r$upper, tol = r$tol)$root)
  sprintf("{\"name\":%s,\"lower\":%s,\"upper\":%s,\"tol\":%s,\"root\":%s}",
          str(r$name), num(r$lower), num(r$upper), num(r$tol), num(root))
}, "")

con <- file(out, "w")
writeLines(c("{",
             sprintf("\"r_version\":%s,", str(R.version.string)),
             "\"datasets\":[", paste(ds_json, collapse = ",\n"), "],",
             "\"cases\":[", paste(case_json, collapse = ",\n"), "],",
             "\"pwilcox\":[", paste(pw_json, collapse = ",\n"), "],",
             "\"qwilcox\":[", paste(qw_json, collapse = ",\n"), "],",
             "\"uniroot\":[", paste(ur_json, collapse = ",\n"), "],",
             "\"choose\":[", paste(ch_json, collapse = ",\n"), "]",
             "}"), con)
close(con)
cat(sprintf("wrote %s: %d data sets, %d cases\n", out, length(datasets), length(case_json)))
