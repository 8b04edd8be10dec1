# Reference values for reawaken.epi.competing (cumulative incidence) and reawaken.epi.finegray
# from R's cmprsk (cuminc, timepoints, crr). Synthetic data with a fixed seed; times rounded up to
# a grid so that tied times (within and across causes, and with censoring) are common.
#
# Run:  Rscript tests/data/competing/make_competing_reference.R [OUTDIR]   (from any directory)
# Writes the data sets (cr_ties.csv, cr_fine.csv) and the reference values (cuminc_timepoints.csv,
# cuminc_curve.csv, crr_reference.csv with summary(crr)'s p-values and 95% limits,
# cause_specific_cox.csv) into OUTDIR if given, else into the script's own folder
# (tests/data/competing), found from its location, not a fixed path.
# tests/epi/test_competing.py::test_frozen_fixtures_match_live_r runs it into a temporary folder
# and compares every file with the frozen one.
#
# This script's own folder: Rscript passes the script as --file=; when the script is source()d
# instead, the folder is taken relative to the working directory (the repository root).
script_dir <- function(from_root) {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  if (length(f) == 1) dirname(normalizePath(f)) else from_root
}
suppressMessages(library(cmprsk))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else script_dir("tests/data/competing")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
set.seed(20250917)

make <- function(n, grid) {
  x1 <- round(rnorm(n), 3)
  x2 <- rbinom(n, 1, 0.4)
  x3 <- round(runif(n), 3)
  t1 <- rexp(n, 0.10 * exp(0.5 * x1 - 0.7 * x2))
  t2 <- rexp(n, 0.08 * exp(-0.3 * x1 + 0.4 * x3))
  cens <- runif(n, 0, 20)
  t <- pmin(t1, t2, cens)
  ev <- ifelse(t == t1, 1L, ifelse(t == t2, 2L, 0L))
  data.frame(id = seq_len(n), time = ceiling(t / grid) * grid, event = ev, x1 = x1, x2 = x2,
             x3 = x3)
}

sets <- list(ties = make(400, 0.5), fine = make(1500, 0.001))
at <- c(0, 0.5, 1, 2.5, 5, 7.25, 10, 15, 19.5, 25)
cif <- list()
curve <- list()
crrs <- list()
for (nm in names(sets)) {
  d <- sets[[nm]]
  write.csv(d, file.path(out, paste0("cr_", nm, ".csv")), row.names = FALSE)
  ci <- cuminc(d$time, d$event, cencode = 0)
  tp <- timepoints(ci, at)
  for (cause in 1:2) {
    lab <- paste("1", cause)
    est <- tp$est[lab, ]
    se <- sqrt(tp$var[lab, ])
    # log(-log) interval (Pintilie 2006), the point itself where est is 0 or 1
    k <- exp(qnorm(0.975) * se / (est * log(est)))
    inside <- !is.na(est) & est > 0 & est < 1
    lower <- ifelse(inside, est^(1 / k), est)
    upper <- ifelse(inside, est^k, est)
    cif[[length(cif) + 1]] <- data.frame(data = nm, cause = cause, time = at, est = est,
                                         var = tp$var[lab, ], lower = lower, upper = upper)
    curve[[length(curve) + 1]] <- data.frame(data = nm, cause = cause, time = ci[[lab]]$time,
                                             est = ci[[lab]]$est, var = ci[[lab]]$var)
  }
  X <- as.matrix(d[, c("x1", "x2", "x3")])
  for (fc in 1:2) {
    # tight tolerance: the reference is the maximiser itself, not crr's default stopping point
    f <- crr(d$time, d$event, X, failcode = fc, cencode = 0, gtol = 1e-9, maxiter = 100)
    f0 <- crr(d$time, d$event, X, failcode = fc, cencode = 0)
    stopifnot(f$converged)
    s <- summary(f, digits = 15)  # p-values (unrounded) and 95% limits of the ratio
    crrs[[length(crrs) + 1]] <- data.frame(data = nm, failcode = fc, term = names(f$coef),
                                           coef = unname(f$coef), se = sqrt(diag(f$var)),
                                           coef_default = unname(f0$coef),
                                           loglik = f$loglik, loglik_null = f$loglik.null,
                                           p = unname(s$coef[, "p-value"]),
                                           lower = unname(s$conf.int[, "2.5%"]),
                                           upper = unname(s$conf.int[, "97.5%"]))
  }
}
write.csv(do.call(rbind, cif), file.path(out, "cuminc_timepoints.csv"), row.names = FALSE)
write.csv(do.call(rbind, curve), file.path(out, "cuminc_curve.csv"), row.names = FALSE)
write.csv(do.call(rbind, crrs), file.path(out, "crr_reference.csv"), row.names = FALSE)
print(do.call(rbind, crrs), digits = 10)

# cause-specific Cox models: failures from the other cause censored (survival::coxph, Efron ties)
csc <- list()
for (nm in names(sets)) {
  d <- sets[[nm]]
  for (fc in 1:2) {
    for (ties in c("efron", "breslow")) {
      f <- coxph(Surv(time, event == fc) ~ x1 + x2 + x3, data = d, ties = ties,
                 control = coxph.control(eps = 1e-10, iter.max = 50))
      csc[[length(csc) + 1]] <- data.frame(data = nm, cause = fc, ties = ties,
                                           term = names(coef(f)), coef = unname(coef(f)),
                                           se = sqrt(diag(vcov(f))), loglik = f$loglik[2])
    }
  }
}
write.csv(do.call(rbind, csc), file.path(out, "cause_specific_cox.csv"), row.names = FALSE)
