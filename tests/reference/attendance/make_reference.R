# Reference numbers for app/attendance/stats.py and app/attendance/sequential.py.
#
# Run from the repository root:  Rscript tests/reference/attendance/make_reference.R
# It writes tests/reference/attendance/reference.json next to this script. The tests
# read that file; they never run R.
#
# Needs R >= 4 with jsonlite and mvtnorm. Everything is computed by R's own functions
# (prop.test, fisher.test, glm, confint.default, power.prop.test, qbinom, pbinom,
# pmvnorm) or, where R has no function, by the textbook formula written out below.
#
# fisher.test finds its odds ratio estimate and interval with uniroot's default
# tolerance (about 1e-4 on the search scale), so those numbers are recorded as they
# come and, separately, re-solved here to 1e-13 on the log odds ratio scale from the
# same noncentral hypergeometric definitions ("fisher_precise").

suppressPackageStartupMessages({
  library(jsonlite)
  library(mvtnorm)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
out_dir <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/attendance"

num <- function(x) unname(as.numeric(x))

# Two arms: A is the control, B the new wording. Contrasts are B against A.
comparison_cases <- list(
  list(name = "hallsworth_trial_one", events_a = 280, n_a = 2528, events_b = 213, n_b = 2528),
  list(name = "large_no_difference", events_a = 150, n_a = 1000, events_b = 148, n_b = 1000),
  list(name = "moderate_unequal", events_a = 45, n_a = 300, events_b = 30, n_b = 310),
  list(name = "large_unequal_arms", events_a = 560, n_a = 4500, events_b = 1200, n_b = 9000),
  list(name = "small_expected_below_5", events_a = 2, n_a = 50, events_b = 7, n_b = 50),
  list(name = "small_counts", events_a = 3, n_a = 40, events_b = 9, n_b = 42),
  list(name = "zero_events_in_b", events_a = 6, n_a = 27, events_b = 0, n_b = 25),
  list(name = "zero_events_in_a", events_a = 0, n_a = 30, events_b = 5, n_b = 30),
  list(name = "all_events_in_a", events_a = 12, n_a = 12, events_b = 8, n_b = 14),
  list(name = "hallsworth_alpha_01", events_a = 280, n_a = 2528, events_b = 213, n_b = 2528,
       alpha = 0.01)
)

wilson <- function(x, n, conf.level) {
  num(suppressWarnings(prop.test(x, n, correct = FALSE, conf.level = conf.level))$conf.int)
}

# Newcombe (1998) method 10: hybrid score interval from two Wilson intervals.
newcombe <- function(xa, na, xb, nb, conf.level) {
  pa <- xa / na
  pb <- xb / nb
  wa <- wilson(xa, na, conf.level)
  wb <- wilson(xb, nb, conf.level)
  d <- pb - pa
  c(d - sqrt((pb - wb[1])^2 + (wa[2] - pa)^2), d + sqrt((wb[2] - pb)^2 + (pa - wa[1])^2))
}

# Katz log interval for the relative risk; 0.5 added to every cell when an arm has no
# events.
katz <- function(xa, na, xb, nb, conf.level) {
  if (xa == 0 || xb == 0) {
    xa <- xa + 0.5; xb <- xb + 0.5; na <- na + 1; nb <- nb + 1
  }
  z <- qnorm(1 - (1 - conf.level) / 2)
  log_rr <- log((xb / nb) / (xa / na))
  se <- sqrt(1 / xb - 1 / nb + 1 / xa - 1 / na)
  list(relative_risk = exp(log_rr), conf_int = exp(log_rr + c(-1, 1) * z * se))
}

# The conditional MLE and exact interval of fisher.test, solved to 1e-13 in log(OR).
fisher_precise <- function(tab, conf.level) {
  m <- sum(tab[, 1]); n <- sum(tab[, 2]); k <- sum(tab[1, ]); x <- tab[1, 1]
  lo <- max(0, k - n); hi <- min(k, m); support <- lo:hi
  logdc <- dhyper(support, m, n, k, log = TRUE)
  dn <- function(psi) { d <- logdc + psi * support; d <- exp(d - max(d)); d / sum(d) }
  solve_psi <- function(f, target) {
    uniroot(function(psi) f(psi) - target, c(-30, 30), tol = 1e-13, extendInt = "yes",
            maxiter = 10000)$root
  }
  tail <- (1 - conf.level) / 2
  estimate <- if (x == lo) 0 else if (x == hi) Inf else
    exp(solve_psi(function(psi) sum(support * dn(psi)), x))
  lower <- if (x == lo) 0 else exp(solve_psi(function(psi) sum(dn(psi)[support >= x]), tail))
  upper <- if (x == hi) Inf else exp(solve_psi(function(psi) sum(dn(psi)[support <= x]), tail))
  list(estimate = estimate, conf_int = c(lower, upper))
}

compare <- function(case) {
  alpha <- if (is.null(case$alpha)) 0.05 else case$alpha
  conf.level <- 1 - alpha
  xa <- case$events_a; na <- case$n_a; xb <- case$events_b; nb <- case$n_b
  tab <- matrix(c(xb, nb - xb, xa, na - xa), nrow = 2, byrow = TRUE)
  pt <- suppressWarnings(prop.test(c(xb, xa), c(nb, na), correct = FALSE,
                                   conf.level = conf.level))
  pt_yates <- suppressWarnings(prop.test(c(xb, xa), c(nb, na), conf.level = conf.level))
  ft <- fisher.test(tab, conf.level = conf.level)
  expected <- outer(rowSums(tab), colSums(tab)) / sum(tab)
  glm_result <- NULL
  if (all(tab > 0)) {
    d <- data.frame(arm = factor(c("A", "B")), events = c(xa, xb), n = c(na, nb))
    fit <- glm(cbind(events, n - events) ~ arm, family = binomial, data = d,
               control = glm.control(epsilon = 1e-10, maxit = 100))
    glm_result <- list(
      odds_ratio = num(exp(coef(fit)["armB"])),
      conf_int = num(exp(confint.default(fit, "armB", level = conf.level)))
    )
  }
  c(case[c("name", "events_a", "n_a", "events_b", "n_b")], list(
    alpha = alpha,
    min_expected = min(expected),
    prop_test = list(
      p_value = num(pt$p.value),
      p_value_yates = num(pt_yates$p.value),
      wald_conf_int = num(pt$conf.int)
    ),
    wilson_a = wilson(xa, na, conf.level),
    wilson_b = wilson(xb, nb, conf.level),
    newcombe = newcombe(xa, na, xb, nb, conf.level),
    fisher = list(p_value = num(ft$p.value), estimate = num(ft$estimate),
                  conf_int = num(ft$conf.int)),
    fisher_precise = fisher_precise(tab, conf.level),
    glm = glm_result,
    katz = katz(xa, na, xb, nb, conf.level)
  ))
}

wilson_cases <- list(c(0, 20), c(7, 50), c(50, 50), c(280, 2528), c(1, 1000), c(13, 17))
wilson_ref <- lapply(wilson_cases, function(case) list(
  events = case[1], n = case[2], alpha = 0.05, conf_int = wilson(case[1], case[2], 0.95)
))

power_cases <- list(
  list(baseline = 0.111, difference = -0.027, alpha = 0.05, power = 0.8),
  list(baseline = 0.111, difference = -0.027, alpha = 0.05, power = 0.9),
  list(baseline = 0.2, difference = 0.1, alpha = 0.01, power = 0.8),
  list(baseline = 0.05, difference = -0.02, alpha = 0.05, power = 0.8)
)
power_ref <- lapply(power_cases, function(case) {
  n <- power.prop.test(p1 = case$baseline, p2 = case$baseline + case$difference,
                       sig.level = case$alpha, power = case$power, tol = 1e-12)$n
  c(case, list(ratio = 1, n_control = n, source = "power.prop.test"))
})
# Unequal allocation (n_b = ratio * n_a): solve the normal-approximation power equation
# with uniroot; R has no built-in for it.
unequal_power <- function(case) {
  p1 <- case$baseline; p2 <- p1 + case$difference; k <- case$ratio
  pbar <- (p1 + k * p2) / (1 + k)
  z_a <- qnorm(1 - case$alpha / 2)
  power_at <- function(n) {
    pnorm((abs(p2 - p1) * sqrt(n) - z_a * sqrt(pbar * (1 - pbar) * (1 + 1 / k))) /
            sqrt(p1 * (1 - p1) + p2 * (1 - p2) / k))
  }
  n <- uniroot(function(n) power_at(n) - case$power, c(2, 1e8), tol = 1e-10)$root
  c(case, list(n_control = n, source = "uniroot on the power equation"))
}
power_ref <- c(power_ref, lapply(list(
  list(baseline = 0.111, difference = -0.027, alpha = 0.05, power = 0.8, ratio = 2),
  list(baseline = 0.3, difference = -0.05, alpha = 0.05, power = 0.8, ratio = 0.5)
), unequal_power))

# O'Brien-Fleming-type Lan-DeMets spending, two-sided and symmetric: each side spends
# 2 - 2 Phi(z_{1 - alpha/4} / sqrt(t)). Boundaries from multivariate normal
# probabilities of Z at the looks (corr sqrt(t_i / t_j)), deterministic Miwa algorithm.
obf_spent <- function(t, alpha) 4 * pnorm(qnorm(1 - alpha / 4) / sqrt(t), lower.tail = FALSE)
obf_bounds <- function(looks, alpha) {
  K <- length(looks); b <- numeric(K)
  b[1] <- qnorm(obf_spent(looks[1], alpha) / 2, lower.tail = FALSE)
  sigma <- outer(looks, looks, function(s, t) sqrt(pmin(s, t) / pmax(s, t)))
  alg <- Miwa(steps = 4096, checkCorr = FALSE)
  box <- function(bounds) {
    k <- length(bounds)
    if (k == 1) return(1 - 2 * pnorm(-bounds))
    num(pmvnorm(lower = -bounds, upper = bounds, sigma = sigma[1:k, 1:k], algorithm = alg))
  }
  for (k in seq_len(K)[-1]) {
    increment <- obf_spent(looks[k], alpha) - obf_spent(looks[k - 1], alpha)
    before <- box(b[1:(k - 1)])
    b[k] <- uniroot(function(c) before - box(c(b[1:(k - 1)], c)) - increment,
                    c(0.5, 10), tol = 1e-12)$root
  }
  b
}
obf_cases <- list(
  list(alpha = 0.05, looks = c(1)),
  list(alpha = 0.05, looks = c(0.5)),
  list(alpha = 0.05, looks = c(0.5, 1)),
  list(alpha = 0.05, looks = c(1, 2) / 3),
  list(alpha = 0.05, looks = c(1, 2, 3) / 3),
  list(alpha = 0.05, looks = c(1, 2, 3, 4) / 4),
  list(alpha = 0.05, looks = c(1, 2, 3, 4, 5) / 5),
  list(alpha = 0.05, looks = c(0.3, 0.65, 1)),
  list(alpha = 0.01, looks = c(0.25, 0.5, 0.75, 1))
)
obf_ref <- lapply(obf_cases, function(case) list(
  alpha = case$alpha,
  looks = I(case$looks),
  spent = I(obf_spent(case$looks, case$alpha)),
  boundaries = I(obf_bounds(case$looks, case$alpha))
))

# Funnel limits: Spiegelhalter (2005) interpolated binomial limits, (r - a) / n with
# r = qbinom(p, n, rate) and a = (F(r) - p) / (F(r) - F(r - 1)), clipped to [0, 1].
exact_limit <- function(p, n, rate) {
  r <- qbinom(p, n, rate)
  a <- (pbinom(r, n, rate) - p) / (pbinom(r, n, rate) - pbinom(r - 1, n, rate))
  min(1, max(0, (r - a) / n))
}
funnel_cases <- list(
  list(rate = 0.1, n = c(20, 100, 500, 2000, 10000), z = c(1.96, 3.09)),
  list(rate = 0.03, n = c(10, 57, 333, 4000), z = c(2, 3))
)
funnel_ref <- lapply(funnel_cases, function(case) c(case, list(
  lower = t(sapply(case$z, function(z) sapply(case$n, function(n)
    exact_limit(pnorm(-z), n, case$rate)))),
  upper = t(sapply(case$z, function(z) sapply(case$n, function(n)
    exact_limit(pnorm(z), n, case$rate))))
)))

quantile_probs <- c(1e-12, 1e-6, 0.0125, 0.025, 0.1, 0.3, 0.5, 0.8, 0.975, 1 - 1e-9)
chisq_values <- c(0, 0.01, 1, 3.841458820694124, 10, 40, 120)

reference <- list(
  generated_by = "tests/reference/attendance/make_reference.R",
  r_version = R.version.string,
  mvtnorm_version = as.character(packageVersion("mvtnorm")),
  wilson = wilson_ref,
  comparisons = lapply(comparison_cases, compare),
  sample_size = power_ref,
  obf = obf_ref,
  funnel = funnel_ref,
  normal_quantile = lapply(quantile_probs, function(p) list(p = p, quantile = qnorm(p))),
  chi2_1df = lapply(chisq_values, function(x) list(
    statistic = x, p_value = pchisq(x, 1, lower.tail = FALSE)
  ))
)

writeLines(
  toJSON(reference, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "string",
         null = "null"),
  file.path(out_dir, "reference.json")
)
