# Reference fits of the SCCS with event-dependent observation periods, from R's SCCS package
# (version 1.7, function eventdepenobs; Farrington, Anaya-Izquierdo, Whitaker, Hocine & Douglas,
# JASA 106:417-426, 2011), on two data sets of the package, with the calls of its help page:
#
#   nrt: eventdepenobs(event ~ nrt, indiv = case, astart = nrt, aend = act, aevent = mi,
#                      adrug = nrt, aedrug = nrt + 28, censor = cen, expogrp = c(0, 8, 15, 22),
#                      agegrp = NULL, data = nrtdat)
#   mi:  eventdepenobs(event ~ rti + age, indiv = case, astart = sta, aend = end, aevent = mi,
#                      adrug = rti, aedrug = rti + 14, expogrp = c(0, 8), agegrp = ageq,
#                      censor = cen, data = midat, initval = rep(1.1, 4))
#
# Written: censoring_models.csv (each censoring model's log-likelihood and AIC, R's modelfit)
# and estimates.csv (the chosen model's weighted fit: coef and se of each term).
#
# Run:  Rscript tests/data/sccs_eventdep/make_eventdep_reference.R [OUTDIR]
# with the SCCS package installed (library(SCCS)), or with SCCS_R_SOURCES naming the R/ folder
# of the package's sources (e.g. a checkout of github.com/cran/SCCS at version 1.7): then only
# the files eventdepenobs needs are sourced (eventdepenobs.R, formatdata.R, adrug_matrix.R,
# max_expo.R, Yproduct.R, dummyvar.R), with R's survival package for clogit.
# Data: nrtdat.txt.gz in this folder, midat.txt.gz in ../sccs (copies of the package's data).
script_dir <- function(from_root) {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  if (length(f) == 1) dirname(normalizePath(f)) else from_root
}
suppressMessages(library(survival))
sources <- Sys.getenv("SCCS_R_SOURCES")
if (nzchar(sources)) {
  for (f in c("eventdepenobs", "formatdata", "adrug_matrix", "max_expo", "Yproduct", "dummyvar"))
    source(file.path(sources, paste0(f, ".R")))
} else {
  suppressMessages(library(SCCS))
}
here <- script_dir("tests/data/sccs_eventdep")
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else here
dir.create(out, showWarnings = FALSE, recursive = TRUE)

nrtdat <- read.delim(gzfile(file.path(here, "nrtdat.txt.gz")))
midat <- read.delim(gzfile(file.path(here, "..", "sccs", "midat.txt.gz")))

nrt.mod <- eventdepenobs(event ~ nrt, indiv = case, astart = nrt, aend = act, aevent = mi,
                         adrug = nrt, aedrug = nrt + 28, censor = cen, expogrp = c(0, 8, 15, 22),
                         agegrp = NULL, data = nrtdat)

uni <- (1 - duplicated(midat$case))
ageq <- floor(quantile(midat$mi[uni == 1], seq(0.1, 0.9, 0.1), names = FALSE))
cat("midat age groups:", ageq, "\n")
mi.mod <- eventdepenobs(event ~ rti + age, indiv = case, astart = sta, aend = end, aevent = mi,
                        adrug = rti, aedrug = rti + 14, expogrp = c(0, 8), agegrp = ageq,
                        censor = cen, data = midat, initval = rep(1.1, 4))

models <- function(name, fit) {
  m <- fit$modelfit
  data.frame(data = name, model = colnames(m), loglik = m["Loglik", ], aic = m["AIC", ])
}
terms <- function(name, fit) {
  cf <- fit$summary$coefficients
  data.frame(data = name, term = rownames(cf), coef = cf[, "coef"], se = cf[, "se(coef)"])
}
cens <- rbind(models("nrtdat", nrt.mod), models("midat", mi.mod))
est <- rbind(terms("nrtdat", nrt.mod), terms("midat", mi.mod))
write.csv(cens, file.path(out, "censoring_models.csv"), row.names = FALSE)
write.csv(est, file.path(out, "estimates.csv"), row.names = FALSE)
print(cens, digits = 12)
print(est, digits = 12)

# R's nlm itself (base R), which fits the censoring models: where it stops and after how many
# iterations, from R's default settings, on two test functions.
rosenbrock <- function(x) 100 * (x[2] - x[1]^2)^2 + (1 - x[1])^2
wood <- function(x) {
  100 * (x[2] - x[1]^2)^2 + (1 - x[1])^2 + 90 * (x[4] - x[3]^2)^2 + (1 - x[3])^2 +
    10.1 * ((x[2] - 1)^2 + (x[4] - 1)^2) + 19.8 * (x[2] - 1) * (x[4] - 1)
}
runs <- list(rosenbrock = nlm(rosenbrock, c(-1.2, 1)),
             wood = nlm(wood, c(-3, -1, -3, -1)))
nlm_ref <- do.call(rbind, lapply(names(runs), function(name) {
  r <- runs[[name]]
  data.frame(name = name, code = r$code, iterations = r$iterations, minimum = r$minimum,
             estimate = paste(format(r$estimate, digits = 17), collapse = ";"))
}))
write.csv(nlm_ref, file.path(out, "nlm_reference.csv"), row.names = FALSE)
print(nlm_ref, digits = 12)
