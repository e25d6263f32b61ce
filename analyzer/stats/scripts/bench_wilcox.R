# Times R's wilcox.test(x, y, conf.int = TRUE) on the data that
# BenchmarkMannWhitney/n=10000 uses, for the Go/R speed ratio.
#
# Usage (from the repository root):
#   Rscript analyzer/stats/scripts/bench_wilcox.R [n] [reps]
# n defaults to 10000 a side, reps to 5; prints the median elapsed time and
# R's answers, which MannWhitney reproduces.

args <- commandArgs(trailingOnly = TRUE)
n <- if (length(args) >= 1) as.integer(args[[1]]) else 10000L
reps <- if (length(args) >= 2) as.integer(args[[2]]) else 5L

# The generator of benchSample in mannwhitney_bench_test.go: Park-Miller
# minimal standard LCG, then a skewed latency-like transform. Only exact
# double operations, so Go and R get identical data.
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
x <- gen(1, n, 101)
y <- gen(2, n, 100)

times <- numeric(reps)
cpu <- numeric(reps)
for (i in seq_len(reps)) {
  st <- system.time(r <- wilcox.test(x, y, conf.int = TRUE))
  times[i] <- st[["elapsed"]]
  cpu[i] <- st[["user.self"]] + st[["sys.self"]]
}
cat(sprintf("%s, n = m = %d, %d runs\n", R.version.string, n, reps))
cat(sprintf("wilcox.test(conf.int = TRUE): elapsed median %.4f s (min %.4f s), CPU median %.4f s\n",
            median(times), min(times), median(cpu)))
cat(sprintf("W = %.17g\np = %.17g\nestimate = %.17g\nconf.int = [%.17g, %.17g]\n",
            r$statistic, r$p.value, r$estimate, r$conf.int[1], r$conf.int[2]))
