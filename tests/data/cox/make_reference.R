# Reference values for reawaken.epi.cox from R's survival::coxph.
#
# Run:  Rscript tests/data/cox/make_reference.R [OUTDIR]   (from any working directory)
# Paths are taken from the script's own location (tests/data/cox), not from a fixed path:
#   data:   tests/data/survival/{jasa1,heart,lung,veteran}.csv, copies of R survival's data
#           sets (see tests/data/survival/README.md); $REAWAKEN_REFERENCE, if set, names another
#           folder holding them
#   output: OUTDIR if given, else this folder: coxph_coef.csv (one row per model and term:
#           coefficients, standard errors, p-values and 95% limits as summary(fit) prints them),
#           coxph_fit.csv (one row per model: log-likelihoods, tests, iterations, rows deleted
#           for missing values) and coxzph.csv (cox.zph: chisq, df and p per term and GLOBAL)
# tests/epi/test_cox_reference.py::test_frozen_fixtures_match_live_r runs it into a temporary
# folder and compares the three files with the frozen ones.
#
# lung has one missing ph.ecog: coxph leaves that row out ("1 observation deleted due to
# missingness", na.omit); the lung and veteran models use Surv(time, status) (right-censored,
# status 2 = dead in lung), which reawaken fits as intervals (0, time] with event = status == max.
#
# This script's own folder: Rscript passes the script as --file=; when the script is source()d
# instead, the folder is taken relative to the working directory (the repository root).
script_dir <- function(from_root) {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  if (length(f) == 1) dirname(normalizePath(f)) else from_root
}
library(survival)
here <- script_dir("tests/data/cox")
ref <- Sys.getenv("REAWAKEN_REFERENCE", file.path(dirname(here), "survival"))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else here
dir.create(out, showWarnings = FALSE, recursive = TRUE)
jasa1 <- read.csv(file.path(ref, "jasa1.csv"))
heart <- read.csv(file.path(ref, "heart.csv"))
lung <- read.csv(file.path(ref, "lung.csv"))
veteran <- read.csv(file.path(ref, "veteran.csv"))
heart$w <- 1 + (heart$id %% 4) / 4          # non-integer case weights (robust variance in R)
heart$wi <- 1 + (heart$id %% 3)             # integer case weights (model variance in R)

models <- list(
  # The six models of Kalbfleisch and Prentice (1980, p. 139), as in survival's tests/jasa.R
  kp1 = list(jasa1, Surv(start, stop, event) ~ (age + surgery) * transplant, "breslow"),
  kp2 = list(jasa1, Surv(start, stop, event) ~ year * transplant, "breslow"),
  kp3 = list(jasa1, Surv(start, stop, event) ~ (age + year) * transplant, "breslow"),
  kp4 = list(jasa1, Surv(start, stop, event) ~ (year + surgery) * transplant, "breslow"),
  kp5 = list(jasa1, Surv(start, stop, event) ~ (age + surgery) * transplant + year, "breslow"),
  kp6 = list(jasa1, Surv(start, stop, event) ~ age * transplant + surgery + year, "breslow"),
  kp1_efron = list(jasa1, Surv(start, stop, event) ~ (age + surgery) * transplant, "efron"),
  heart = list(heart, Surv(start, stop, event) ~ age + year + surgery + transplant, "efron"),
  heart_breslow = list(heart, Surv(start, stop, event) ~ age + year + surgery + transplant,
                       "breslow"),
  heart_cluster = list(heart, Surv(start, stop, event) ~ age + year + surgery + transplant
                       + cluster(id), "efron"),
  heart_cluster_breslow = list(heart, Surv(start, stop, event) ~ age + year + surgery
                               + transplant + cluster(id), "breslow"),
  heart_strata = list(heart, Surv(start, stop, event) ~ age + year + transplant
                      + strata(surgery), "efron"),
  heart_strata_cluster = list(heart, Surv(start, stop, event) ~ age + year + transplant
                              + strata(surgery) + cluster(id), "efron"),
  heart_weights = list(heart, Surv(start, stop, event) ~ age + year + surgery + transplant,
                       "efron", "w"),
  heart_weights_cluster = list(heart, Surv(start, stop, event) ~ age + year + surgery
                               + transplant + cluster(id), "efron", "w"),
  heart_intweights = list(heart, Surv(start, stop, event) ~ age + year + surgery + transplant,
                          "efron", "wi"),
  lung = list(lung, Surv(time, status) ~ age + sex + ph.ecog, "efron"),
  lung_breslow = list(lung, Surv(time, status) ~ age + sex + ph.ecog + ph.karno, "breslow"),
  veteran_strata = list(veteran, Surv(time, status) ~ trt + karno + age + strata(celltype),
                        "efron")
)
# cox.zph (score test, survival >= 3) of these models: transform "km" (the default) for each,
# and the other transforms for two of them
zph_models <- list(
  heart = "km", heart_strata = "km", heart_breslow = "km", heart_intweights = "km",
  kp1 = c("km", "rank", "identity", "log"), lung = c("km", "identity"), lung_breslow = "km",
  veteran_strata = c("km", "rank")
)

g <- function(x) sprintf("%.17g", x)
coef_rows <- list(); fit_rows <- list(); zph_rows <- list()
for (name in names(models)) {
  m <- models[[name]]
  d <- m[[1]]
  if (length(m) >= 4) {
    d$.w <- d[[m[[4]]]]
    fit <- coxph(m[[2]], data = d, ties = m[[3]], weights = .w)
  } else {
    fit <- coxph(m[[2]], data = d, ties = m[[3]])
  }
  robust <- !is.null(fit$naive.var)
  se <- sqrt(diag(if (robust) fit$naive.var else fit$var))
  rse <- if (robust) sqrt(diag(fit$var)) else rep(NA, length(se))
  s <- summary(fit)
  coef_rows[[name]] <- data.frame(model = name, term = names(coef(fit)), coef = g(coef(fit)),
                                  se = g(se), robust_se = g(rse),
                                  p = g(s$coefficients[, ncol(s$coefficients)]),
                                  lower = g(s$conf.int[, "lower .95"]),
                                  upper = g(s$conf.int[, "upper .95"]))
  for (transform in zph_models[[name]]) {
    z <- cox.zph(fit, transform = transform)$table
    zph_rows[[paste(name, transform)]] <- data.frame(
      model = name, transform = transform, term = rownames(z), chisq = g(z[, "chisq"]),
      df = z[, "df"], p = g(z[, "p"]))
  }
  fit_rows[[name]] <- data.frame(
    model = name, ties = m[[3]], weights = if (length(m) >= 4) m[[4]] else "",
    loglik_null = g(fit$loglik[1]), loglik = g(fit$loglik[2]), iter = fit$iter,
    n = fit$n, nevent = fit$nevent, wald = g(fit$wald.test), score = g(fit$score),
    rscore = g(if (is.null(fit$rscore)) NA else fit$rscore),
    lrt = g(2 * (fit$loglik[2] - fit$loglik[1])), robust = robust,
    deleted = length(fit$na.action))
}
write.csv(do.call(rbind, coef_rows), file.path(out, "coxph_coef.csv"), row.names = FALSE,
          quote = FALSE)
write.csv(do.call(rbind, fit_rows), file.path(out, "coxph_fit.csv"), row.names = FALSE,
          quote = FALSE)
write.csv(do.call(rbind, zph_rows), file.path(out, "coxzph.csv"), row.names = FALSE,
          quote = FALSE)
cat("survival", as.character(packageVersion("survival")), "\n")
