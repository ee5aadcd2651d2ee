# Reference numbers for app/results from R's survey package.
#
#   Rscript tests/reference/results/make_reference.R
#
# Writes reference.json beside this script: the synthetic cohort and respondents (generated
# here from a fixed seed), and for each weighting case the weights, svymean of a numeric,
# a partly missing numeric and a 0/1 outcome with SE and design effect, t intervals and
# svyciprop logit and beta intervals. Level codes in the JSON start at 0. Then a survey's
# answers as conversations store them (a choice with "don't know" as an option, yes/no, a
# 0-10 scale, a number) and every question's shares and means under rake3 and
# poststratify, for app/results/questions.py.
#
# Cases: rake3 (raking on age, sex and deprivation), bounded (calibrate raking with bounds on
# design weights, plus bounds R cannot meet), trimmed (rake3 then trimWeights strict), joint
# (age*sex jointly plus deprivation) and poststratify (postStratify on age*sex). Variances
# come from calibrate() designs, whose residuals are an exact weighted least-squares fit;
# rake() gives the same numbers here, as the script checks.

suppressMessages(library(survey))
suppressMessages(library(jsonlite))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
out_path <- file.path(dirname(normalizePath(script)), "reference.json")

set.seed(20260302)
levels_age <- c("16-24", "25-44", "45-64", "65-74", "75+")
levels_sex <- c("F", "M")
levels_imd <- c("1", "2", "3", "4", "5")
N <- 2400
cohort <- data.frame(
  age = factor(sample(levels_age, N, TRUE, prob = c(0.12, 0.30, 0.30, 0.16, 0.12)), levels_age),
  sex = factor(sample(levels_sex, N, TRUE, prob = c(0.55, 0.45)), levels_sex),
  imd = factor(sample(levels_imd, N, TRUE), levels_imd),
  channel = sample(c("sms", "web"), N, TRUE, prob = c(0.7, 0.3))
)
propensity <- plogis(-2.2 + 0.35 * as.integer(cohort$age) + 0.3 * (cohort$sex == "F") +
                       0.15 * as.integer(cohort$imd))
cohort$responded <- runif(N) < propensity

resp <- cohort[cohort$responded, ]
n <- nrow(resp)
resp$score <- pmin(10, pmax(0, round(4 + 0.6 * as.integer(resp$age) +
                                       0.3 * as.integer(resp$imd) + rnorm(n, sd = 2))))
resp$positive <- as.integer(runif(n) < plogis(-0.8 + 0.4 * as.integer(resp$age) -
                                                0.2 * (resp$sex == "M")))
resp$answered <- ifelse(runif(n) < 0.08, NA, round(rnorm(n, 3 + 0.5 * as.integer(resp$imd)), 1))
design_w <- ifelse(resp$channel == "sms", 0.8, 1.5)
resp$unit_w <- 1
resp$design_w <- design_w * N / sum(design_w)

margin <- function(f) xtabs(f, cohort)
pop_age <- margin(~age)
pop_sex <- margin(~sex)
pop_imd <- margin(~imd)
pop_age_sex <- margin(~age + sex)

unit <- svydesign(ids = ~1, weights = ~unit_w, data = resp)
designed <- svydesign(ids = ~1, weights = ~design_w, data = resp)
three <- list(~age, ~sex, ~imd)
three_pop <- list(pop_age, pop_sex, pop_imd)

raked <- calibrate(unit, three, three_pop, calfun = "raking", epsilon = 1e-13, maxit = 200)
raked_ipf <- rake(unit, three, three_pop, control = list(maxit = 500, epsilon = 1e-13))
stopifnot(max(abs(weights(raked) - weights(raked_ipf))) < 1e-8)
stopifnot(abs(SE(svymean(~score, raked)) - SE(svymean(~score, raked_ipf))) < 1e-10)

bounds <- c(0.55, 2)
bounded <- calibrate(designed, three, three_pop, calfun = "raking", bounds = bounds,
                     epsilon = 1e-13, maxit = 200)
g <- weights(bounded) / weights(designed)
stopifnot(min(g) >= bounds[1] - 1e-12, max(g) <= bounds[2] + 1e-12)
stopifnot(any(abs(g - bounds[1]) < 1e-12), any(abs(g - bounds[2]) < 1e-12))
infeasible <- c(0.65, 1.7)
failed <- tryCatch(
  suppressWarnings(calibrate(designed, three, three_pop, calfun = "raking", bounds = infeasible,
                             epsilon = 1e-13, maxit = 200)),
  error = function(e) NULL
)
stopifnot(is.null(failed))

trim_upper <- unname(round(quantile(weights(raked), 0.9), 2))
trimmed <- trimWeights(raked, upper = trim_upper, strict = TRUE)

joint <- calibrate(unit, list(~age + sex, ~imd), list(pop_age_sex, pop_imd),
                   calfun = "raking", epsilon = 1e-13, maxit = 200)
poststrat <- postStratify(designed, ~age + sex, pop_age_sex)

estimate <- function(des, outcome, binary) {
  f <- as.formula(paste0("~", outcome))
  m <- svymean(f, des, na.rm = TRUE, deff = TRUE)
  df <- degf(subset(des, !is.na(des$variables[[outcome]])))
  t_ci <- confint(m, df = df)
  est <- list(
    mean = unname(coef(m)), se = as.numeric(SE(m)), deff = as.numeric(deff(m)), df = df,
    t_low = t_ci[1], t_high = t_ci[2],
    unweighted = mean(des$variables[[outcome]], na.rm = TRUE)
  )
  if (binary) {
    fp <- as.formula(paste0("~I(", outcome, " == 1)"))
    logit <- attr(svyciprop(fp, des, method = "logit"), "ci")
    beta <- attr(svyciprop(fp, des, method = "beta"), "ci")
    p <- est$mean
    n_eff <- p * (1 - p) / est$se^2
    z <- qt(0.975, df)
    centre <- (p + z^2 / (2 * n_eff)) / (1 + z^2 / n_eff)
    half <- z / (1 + z^2 / n_eff) * sqrt(p * (1 - p) / n_eff + z^2 / (4 * n_eff^2))
    est <- c(est, list(logit_low = logit[[1]], logit_high = logit[[2]],
                       beta_low = beta[[1]], beta_high = beta[[2]],
                       wilson_low = centre - half, wilson_high = centre + half, n_eff = n_eff))
  }
  lapply(est, unname)
}

codes <- function(f) as.integer(f) - 1L
totals <- function(tab) as.vector(unclass(tab))

describe <- function(des, margins, base, extra = list()) {
  w <- weights(des)
  c(list(
    margins = margins, base_weights = base, n = length(w),
    weights = w, weights_sum = sum(w), weights_min = min(w), weights_max = max(w),
    kish_deff = length(w) * sum(w^2) / sum(w)^2,
    estimates = list(
      score = estimate(des, "score", FALSE),
      answered = estimate(des, "answered", FALSE),
      positive = estimate(des, "positive", TRUE)
    )
  ), extra)
}

one <- function(variable, tab) list(variables = list(variable), totals = totals(tab))
margins3 <- list(one("age", pop_age), one("sex", pop_sex), one("imd", pop_imd))
joint_margin <- list(variables = list("age", "sex"), totals = unclass(pop_age_sex))

cases <- list(
  rake3 = describe(raked, margins3, "unit"),
  bounded = describe(bounded, margins3, "design",
                     list(bounds = bounds, infeasible_bounds = infeasible)),
  trimmed = describe(trimmed, margins3, "unit", list(trim_upper = trim_upper)),
  joint = describe(joint, list(joint_margin, one("imd", pop_imd)), "unit"),
  poststratify = describe(poststrat, list(joint_margin), "design")
)

fit <- glm(responded ~ age + sex + imd, family = binomial, data = cohort)
rho <- fitted(fit)
nonresponse <- list(
  propensity_sd = sd(rho), r_indicator = 1 - 2 * sd(rho), mean_propensity = mean(rho),
  propensity_first = unname(rho[1:20])
)

quantiles <- list()
for (df in c(1, 2, 3, 7, 30, 499, 1e5)) {
  for (p in c(0.975, 0.9, 0.995)) {
    quantiles[[length(quantiles) + 1]] <- list(dist = "t", p = p, df = df, value = qt(p, df))
  }
}
for (ab in list(c(0.5, 3), c(12, 40), c(3.7, 1), c(150.2, 320.9), c(4000, 9000))) {
  for (p in c(0.025, 0.5, 0.975)) {
    quantiles[[length(quantiles) + 1]] <- list(
      dist = "beta", p = p, a = ab[1], b = ab[2], value = qbeta(p, ab[1], ab[2])
    )
  }
}
for (p in c(0.5, 0.975, 0.999, 1e-8)) {
  quantiles[[length(quantiles) + 1]] <- list(dist = "normal", p = p, value = qnorm(p))
}

# Every question of a survey, weighted like the FFT (app/results/questions.py). Drawn after
# everything above, so the numbers above do not move. Answers are written as conversations
# store them: a status ("answered", "dont_know", "skipped", "unparsed", or "missing" when
# nothing was stored) and a value. In the estimates a skip, a "don't know" (except where it
# is an option, as in the FFT), an unreadable reply and a missing answer are NA.
age_code <- as.integer(resp$age)
imd_code <- as.integer(resp$imd)
visit_keys <- c("very_good", "good", "neither", "poor", "very_poor", "dont_know")
visit_value <- vapply(age_code, function(a) sample(visit_keys, 1, prob = c(
  0.2 + 0.06 * a, 0.3, 0.15, 0.12 - 0.015 * a, 0.1 - 0.012 * a, 0.05)), "")
visit_draw <- runif(n)
visit_status <- ifelse(visit_draw < 0.05, "skipped", ifelse(visit_draw < 0.07, "unparsed",
                       ifelse(visit_value == "dont_know", "dont_know", "answered")))
visit_value[visit_status == "skipped"] <- NA
visit_value[visit_status == "unparsed"] <- "maybe"
recommend_value <- ifelse(runif(n) < plogis(0.2 + 0.25 * imd_code), "yes", "no")
recommend_draw <- runif(n)
recommend_status <- ifelse(recommend_draw < 0.06, "dont_know",
                           ifelse(recommend_draw < 0.10, "skipped", "answered"))
recommend_value[recommend_status != "answered"] <- NA
pain_value <- as.character(pmin(10, pmax(0, round(rnorm(n, 2.5 + 0.5 * age_code, 2)))))
pain_draw <- runif(n)
pain_status <- ifelse(pain_draw < 0.10, "missing", ifelse(pain_draw < 0.17, "skipped", "answered"))
pain_value[pain_status != "answered"] <- NA
waited_value <- as.character(rpois(n, 5 + 2 * (resp$sex == "M")))
waited_status <- ifelse(runif(n) < 0.05, "dont_know", "answered")
waited_value[waited_status != "answered"] <- NA

resp$visit <- factor(ifelse(visit_status %in% c("answered", "dont_know"), visit_value, NA),
                     visit_keys)
resp$recommend <- factor(ifelse(recommend_status == "answered", recommend_value, NA),
                         c("yes", "no"))
resp$pain <- ifelse(pain_status == "answered", as.numeric(pain_value), NA)
resp$waited <- ifelse(waited_status == "answered", as.numeric(waited_value), NA)

question_case <- function(des) {
  shares <- function(var, keys) {
    lapply(setNames(keys, keys), function(key) {
      values <- des$variables[[var]]
      d <- update(des, flag = ifelse(is.na(values), NA, as.numeric(values == key)))
      sub <- subset(d, !is.na(flag))
      m <- svymean(~flag, sub, na.rm = TRUE)
      p <- unname(coef(m))
      ci <- if (p > 0 && p < 1) {
        attr(svyciprop(~I(flag == 1), sub, method = "logit", na.rm = TRUE), "ci")
      } else {
        attr(svyciprop(~I(flag == 1), sub, method = "beta", na.rm = TRUE), "ci")
      }
      list(estimate = p, se = as.numeric(SE(m)), lower = unname(ci[[1]]),
           upper = unname(ci[[2]]), respondents = sum(!is.na(values)),
           count = sum(values == key, na.rm = TRUE))
    })
  }
  mean_of <- function(var) {
    f <- as.formula(paste0("~", var))
    m <- svymean(f, des, na.rm = TRUE)
    df <- degf(subset(des, !is.na(des$variables[[var]])))
    ci <- confint(m, df = df)
    list(estimate = unname(coef(m)), se = as.numeric(SE(m)), lower = ci[1], upper = ci[2],
         df = df, respondents = sum(!is.na(des$variables[[var]])))
  }
  list(
    visit = shares("visit", visit_keys),
    recommend = shares("recommend", c("yes", "no")),
    pain = shares("pain", as.character(0:10)),
    pain_mean = mean_of("pain"),
    waited_mean = mean_of("waited")
  )
}
q_raked <- calibrate(svydesign(ids = ~1, weights = ~unit_w, data = resp), three, three_pop,
                     calfun = "raking", epsilon = 1e-13, maxit = 200)
stopifnot(max(abs(weights(q_raked) - weights(raked))) < 1e-12)
questions <- list(
  answers = list(
    visit = list(status = visit_status, value = visit_value),
    recommend = list(status = recommend_status, value = recommend_value),
    pain = list(status = pain_status, value = pain_value),
    waited = list(status = waited_status, value = waited_value)
  ),
  cases = list(
    rake3 = question_case(q_raked),
    poststratify = question_case(postStratify(
      svydesign(ids = ~1, weights = ~design_w, data = resp), ~age + sex, pop_age_sex))
  )
)

reference <- list(
  r_version = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  seed = 20260302,
  levels = list(age = levels_age, sex = levels_sex, imd = levels_imd),
  cohort = list(age = codes(cohort$age), sex = codes(cohort$sex), imd = codes(cohort$imd),
                responded = as.integer(cohort$responded)),
  respondents = list(age = codes(resp$age), sex = codes(resp$sex), imd = codes(resp$imd),
                     score = resp$score, answered = resp$answered, positive = resp$positive,
                     unit = resp$unit_w, design = resp$design_w),
  cases = cases,
  nonresponse = nonresponse,
  questions = questions,
  quantiles = quantiles
)
writeLines(toJSON(reference, auto_unbox = TRUE, digits = NA, na = "null", pretty = FALSE),
           out_path)
cat("wrote", out_path, "\n")
