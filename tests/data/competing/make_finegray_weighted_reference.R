# Reference values for reawaken.epi.finegray_weighted from R's survival: finegray() rows and a
# weighted Cox model with cluster() (Breslow ties), the recipe of the survival package's
# "compete" vignette. Matched-trial-like data with a fixed seed: persons in several rows
# (clusters), case weights 1 or 1/k, the censoring distribution per arm, times on a grid so that
# failures, competing failures and censorings tie.
#
# Run:  Rscript tests/data/competing/make_finegray_weighted_reference.R [OUTDIR]
# Writes fgw_data.csv and fgw_reference.csv (one row per fit and term: coef, robust se, and the
# number of finegray rows; NA for the hand-built fit) into OUTDIR if given, else into this script's folder.
script_dir <- function(from_root) {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  if (length(f) == 1) dirname(normalizePath(f)) else from_root
}
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else script_dir("tests/data/competing")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
set.seed(20261130)

n <- 900
id <- sample(1:400, n, replace = TRUE)
arm <- rbinom(n, 1, 0.3)
age <- round(rnorm(n), 2)
w <- ifelse(arm == 1, 1, 1 / sample(1:5, n, replace = TRUE))
t1 <- rexp(n, 0.05 * exp(0.6 * arm + 0.3 * age))
t2 <- rexp(n, 0.04 * exp(0.2 * age))
cens <- ifelse(arm == 1, runif(n, 0, 40), runif(n, 0, 25))
t <- pmin(t1, t2, cens)
event <- ifelse(t == t1, 1L, ifelse(t == t2, 2L, 0L))
time <- ceiling(t)
data <- data.frame(id = id, arm = arm, age = age, w = w, time = time, event = event)
write.csv(data, file.path(out, "fgw_data.csv"), row.names = FALSE)

fit_one <- function(name, fg_formula, weights) {
  d <- data
  d$status <- factor(d$event, 0:2, c("censor", "cause", "competing"))
  fg <- if (weights) finegray(fg_formula, data = d, etype = "cause", weights = w)
        else finegray(fg_formula, data = d, etype = "cause")
  fit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ arm + age + cluster(id), weights = fgwt,
               data = fg, ties = "breslow")
  data.frame(fit = name, term = names(coef(fit)), coef = unname(coef(fit)),
             se = unname(sqrt(diag(fit$var))), rows = nrow(fg))
}
ref <- rbind(
  fit_one("plain", Surv(time, status) ~ arm + age + id, FALSE),
  fit_one("weighted", Surv(time, status) ~ arm + age + id + w, TRUE)
)

# Censoring distribution per arm in an unstratified model, built by hand without finegray's
# compression (finegray's strata() keeps a competing failure at risk only at its own stratum's
# failure times, which suits a stratified model): every competing failure stays at risk at every
# later failure time u of either arm, in a row (previous failure time, u] weighted
# G_arm(u-) / G_arm(T-), G_arm the Kaplan-Meier of censoring in its arm, failures tied with a
# censoring counted first.
censor_km <- function(d) {
  ct <- sort(unique(d$time[d$event == 0]))
  risk <- sapply(ct, function(c) sum(d$time > c) + sum(d$time == c & d$event == 0))
  cnt <- sapply(ct, function(c) sum(d$time == c & d$event == 0))
  list(time = ct, surv = cumprod(1 - cnt / risk))
}
g_before <- function(km, u) {  # G(u-)
  k <- findInterval(u, km$time, left.open = TRUE)
  ifelse(k == 0, 1, km$surv[pmax(k, 1)])
}
kms <- lapply(split(data, data$arm), censor_km)
fail_times <- sort(unique(data$time[data$event == 1]))
rows <- list()
for (i in seq_len(n)) {
  rows[[length(rows) + 1]] <- data.frame(i = i, start = 0, stop = data$time[i],
                                         status = as.integer(data$event[i] == 1), wt = 1)
  if (data$event[i] == 2) {
    later <- fail_times[fail_times > data$time[i]]
    if (length(later)) {
      km <- kms[[as.character(data$arm[i])]]
      starts <- c(data$time[i], head(later, -1))
      rows[[length(rows) + 1]] <- data.frame(
        i = i, start = starts, stop = later, status = 0L,
        wt = g_before(km, later) / g_before(km, data$time[i]))
    }
  }
}
long <- do.call(rbind, rows)
long <- cbind(long, data[long$i, c("id", "arm", "age", "w")])
fit <- coxph(Surv(start, stop, status) ~ arm + age + cluster(id), weights = wt * w, data = long,
             ties = "breslow")
ref <- rbind(ref, data.frame(fit = "weighted_censoring_by_arm", term = names(coef(fit)),
                             coef = unname(coef(fit)), se = unname(sqrt(diag(fit$var))),
                             rows = NA))
write.csv(ref, file.path(out, "fgw_reference.csv"), row.names = FALSE)
