# Reference estimates for reawaken.epi.sccs, from R's survival/stats only (the SCCS package is
# not used). Each model is fitted as a Poisson GLM with one fixed effect per case and offset
# log(days), which gives the same estimates and standard errors for the exposure, age and season
# terms as the conditional (multinomial) SCCS likelihood (Farrington, Whitaker & Ghebremichael,
# "Self-Controlled Case Series Studies", 2018, ch. 4). midat models are also cross-checked with
# survival::clogit (one event per case) and the difference printed.
#
# The data are expanded to one row per case-day, independently of the interval splitting in
# Python. Conventions (as R's SCCS package): ages in whole days; observation sta..end inclusive;
# a window a-b covers days exposure+a .. exposure+b inclusive; an age group starts on the day
# given; a season starts on the calendar day given (MM-DD), and age day d is calendar date
# dob + d days. Overlapping risk windows of several exposures of one case: post-exposure windows
# take precedence over pre-exposure windows; among post-exposure windows the most recent exposure
# decides; among pre-exposure windows the nearest coming exposure decides.
#
# Run:  Rscript tests/data/sccs/make_sccs_reference.R [OUTDIR]   (from any working directory)
# Paths are taken from the script's own location (tests/data/sccs), not from a fixed path:
#   data:   {itpdat,midat,intdat}.txt.gz in this folder, copies of the R package SCCS 1.7 data
#           sets (see README.md here)
#   output: OUTDIR if given, else this folder: sccs_reference.csv
#
# This script's own folder: Rscript passes the script as --file=; when the script is source()d
# instead, the folder is taken relative to the working directory (the repository root).
script_dir <- function(from_root) {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  if (length(f) == 1) dirname(normalizePath(f)) else from_root
}
suppressMessages(library(survival))
ref <- script_dir("tests/data/sccs")
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else ref
dir.create(out, showWarnings = FALSE, recursive = TRUE)

read_sccs <- function(name) {
  read.delim(gzfile(file.path(ref, paste0(name, ".txt.gz"))), colClasses = c(dob = "character"))
}

# windows: list of c(a, b); pre: list of c(a, b) with b < 0
expand_days <- function(d, event, exposures, windows, pre, agegrp, seasons = NULL) {
  rows <- list()
  for (cs in unique(d$case)) {
    di <- d[d$case == cs, ]
    days <- seq(di$sta[1], di$end[1])
    xs <- sort(unique(na.omit(unlist(di[, exposures]))))
    post <- integer(length(days))
    for (x in xs) for (j in seq_along(windows)) {
      w <- windows[[j]]
      post[days - x >= w[1] & days - x <= w[2]] <- j
    }
    prec <- integer(length(days))
    for (x in rev(xs)) for (j in seq_along(pre)) {
      w <- pre[[j]]
      prec[days - x >= w[1] & days - x <= w[2]] <- length(windows) + j
    }
    cls <- ifelse(post > 0, post, prec)
    # one row per event and exposure (stacked layout): an event day counts as many times as it
    # appears with any one exposure key
    key <- do.call(paste, c(lapply(exposures, function(e) di[[e]]), sep = "/"))
    mult <- tapply(rep(1, nrow(di)), list(di[[event]], key), sum)
    mult[is.na(mult)] <- 0
    mult <- apply(mult, 1, max)
    y <- integer(length(days))
    evd <- as.integer(names(mult))
    y[match(evd, days)] <- mult
    age <- findInterval(days, agegrp)
    if (!is.null(seasons)) {
      dob <- as.Date(di$dob[1], format = "%d%m%Y")
      md <- format(dob + days, "%m-%d")
      key <- as.integer(format(as.Date(paste0("2000-", md)), "%j"))
      starts <- as.integer(format(as.Date(paste0("2000-", seasons)), "%j"))
      ord <- order(starts)
      k <- findInterval(key, starts[ord])
      k[k == 0] <- length(starts)
      season <- ord[k]
    } else {
      season <- rep(1L, length(days))
    }
    rows[[length(rows) + 1]] <- data.frame(case = cs, cls = cls, age = age, season = season, y = y)
  }
  day <- do.call(rbind, rows)
  agg <- aggregate(cbind(y, len = 1) ~ case + cls + age + season, data = day, FUN = sum)
  agg
}

fit_model <- function(name, d, event, exposures, windows, pre, agegrp, seasons = NULL,
                      clogit_check = FALSE) {
  agg <- expand_days(d, event, exposures, windows, pre, agegrp, seasons)
  agg$cls <- factor(agg$cls)
  agg$age <- factor(agg$age)
  agg$season <- factor(agg$season, levels = seq_along(if (is.null(seasons)) 1 else seasons))
  agg$case <- factor(agg$case)
  cat(name, ": ", sum(agg$y), " events in ", nlevels(agg$case), " cases\n", sep = "")
  f <- y ~ cls + age + case + offset(log(len))
  if (!is.null(seasons)) f <- y ~ cls + age + season + case + offset(log(len))
  m <- glm(f, family = poisson, data = agg, control = glm.control(epsilon = 1e-14, maxit = 100))
  cf <- summary(m)$coefficients
  keep <- grepl("^(cls|age|season)", rownames(cf))
  res <- data.frame(model = name, term = rownames(cf)[keep], coef = cf[keep, 1],
                    se = cf[keep, 2])
  if (clogit_check) {
    cf2 <- coef(summary(clogit(y ~ cls + age + strata(case) + offset(log(len)), data = agg,
                               control = coxph.control(eps = 1e-12, iter.max = 100))))
    cat(name, "max |glm - clogit| coef:", max(abs(cf2[, 1] - res$coef)),
        " se:", max(abs(cf2[, 3] - res$se)), "\n")
  }
  cat(name, ": ", nrow(agg), " intervals, loglik ", format(logLik(m), digits = 12), "\n", sep = "")
  res
}

itp <- read_sccs("itpdat")
mi <- read_sccs("midat")
int <- read_sccs("intdat")
itp_age <- c(427, 488, 549, 610, 671)
mi_age <- c(24472, 25568, 26664, 27759)
int_age <- c(61, 91, 121, 151, 181, 211, 241, 271, 301, 331)

# febdat (one row per convulsion, the case's MMR age repeated on each row, but differing
# between the rows of 65 cases): each case's first-row MMR age on all its rows, as one exposure
# per case; case 484, whose only convulsion (day 655) falls after its observation ends (day
# 649), is left out.
feb <- read_sccs("febdat")
feb <- feb[feb$case != 484, ]
feb$mmr <- ave(feb$mmr, feb$case, FUN = function(v) v[1])
# itpdat with a window without events (1-3 days): glm's coefficient for it runs off towards
# -Inf (its time then carries no weight); reawaken reports it NA and fits the rest without that
# time, so only the other terms are compared.
no_events <- function(res, term) {
  res[res$term == term, c("coef", "se")] <- NA
  res
}

res <- rbind(
  fit_model("itp_mmr_15_35", itp, "itp", "mmr", list(c(15, 35)), list(), itp_age),
  fit_model("itp_mmr_3win", itp, "itp", "mmr", list(c(0, 14), c(15, 28), c(29, 42)), list(),
            itp_age),
  fit_model("mi_rti_4win", mi, "mi", "rti", list(c(1, 7), c(8, 14), c(15, 28), c(29, 91)),
            list(), mi_age, clogit_check = TRUE),
  fit_model("mi_rti_pre", mi, "mi", "rti", list(c(1, 7), c(8, 28)), list(c(-7, -1)), mi_age,
            clogit_check = TRUE),
  fit_model("int_opv_season", int, "intus", c("opv", "opvd2"), list(c(1, 14), c(15, 28)), list(),
            int_age, seasons = c("01-01", "04-01", "07-01", "10-01")),
  fit_model("feb_mmr_first", feb, "conv", "mmr", list(c(0, 5), c(6, 11), c(12, 15)), list(),
            c(457, 548, 639)),
  # every observation starts on day 366 or later: the first age group (before 366) is empty,
  # so R's first level present (366-548) is the reference and age2 is 549 onwards
  fit_model("feb_mmr_empty_age", feb, "conv", "mmr", list(c(0, 5), c(6, 11), c(12, 15)),
            list(), c(366, 549)),
  no_events(fit_model("itp_mmr_no_events", itp, "itp", "mmr", list(c(1, 3), c(15, 35)), list(),
                      itp_age), "cls1")
)
write.csv(res, file.path(out, "sccs_reference.csv"), row.names = FALSE)
print(res, digits = 10)
