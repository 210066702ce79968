# .polybridge_glm (Sources/PolybridgeModels/Scripts/glm.R): the R side of a chunked glm, with
# R's own glm and glm.fit as the oracles.
G <- glm_helpers

# glm.fit's working weights and response at the linear predictor `eta`, and the chunk factor
# of sqrt(W) [X | z] as R's own QR gives it.
working_factor <- function(x, y, weights, offset, fam, eta) {
  mu <- fam$linkinv(eta)
  d <- fam$mu.eta(eta)
  good <- weights > 0 & d != 0
  z <- (eta - offset)[good] + (y - mu)[good] / d[good]
  w <- sqrt((weights[good] * d[good]^2) / fam$variance(mu)[good])
  r <- qr.R(qr(cbind(x[good, , drop = FALSE] * w, z * w)))
  list(r = c(r), rows = nrow(r))
}

test_that("chunk_prepare sets a chunk up as glm.fit sets the whole data up", {
  d <- esoph
  out <- G$chunk_prepare(d, "cbind(ncases, ncontrols) ~ agegp + alcgp", "binomial", NULL, NULL, NULL, list())
  st <- out[[1]]
  e <- new.env()
  e$y <- cbind(d$ncases, d$ncontrols); e$weights <- rep(1, nrow(d)); e$nobs <- nrow(d); e$etastart <- NULL; e$mustart <- NULL
  eval(binomial()$initialize, e)
  expect_equal(unname(st$y), unname(e$y))
  expect_equal(unname(st$weights), e$weights)
  expect_equal(unname(st$mustart), unname(e$mustart))
  expect_identical(colnames(st$x), colnames(model.matrix(~ agegp + alcgp, d)))
  expect_equal(unname(G$start_eta(st, NULL)), unname(binomial()$linkfun(e$mustart)))
  expect_identical(out[[2]]$family, c("binomial", "logit"))
  expect_true(out[[2]]$any_n)
})

test_that("native_prepare with the model matrix Swift builds gives chunk_prepare's state", {
  set.seed(2)
  d <- data.frame(x = rnorm(30), g = factor(sample(c("a", "b"), 30, TRUE)), y = rpois(30, 2), o = runif(30))
  r <- G$chunk_prepare(d, "y ~ x + g", "poisson", NULL, NULL, "o", list(g = c("a", "b")))[[1]]
  x <- model.matrix(~ x + g, d)
  m <- unname(x)
  dimnames(m) <- list(NULL, colnames(x))
  n <- G$native_prepare(m, colnames(x), as.double(d$y), NULL, d$o, TRUE, 0L, "y ~ x + g", "poisson", NULL)[[1]]
  for (v in c("y", "weights", "offset", "mustart")) expect_equal(unname(n[[v]]), unname(r[[v]]), info = v)
  expect_equal(unname(n$x), unname(r$x))
  expect_error(G$native_prepare(m, colnames(x), as.double(d$y), -d$o, NULL, TRUE, 0L, "y ~ x + g", "poisson", NULL),
               "negative weights not allowed")
})

test_that("solve_stacked on chunk factors gives glm.fit's first step", {
  fam <- binomial()
  x <- model.matrix(~ spontaneous + induced + age, infert)
  y <- infert$case
  eta <- fam$linkfun((y + 0.5) / 2)
  chunks <- split(seq_len(nrow(x)), rep(1:3, length.out = nrow(x)))
  parts <- lapply(chunks, function(i) working_factor(x[i, ], y[i], rep(1, length(i)), rep(0, length(i)), fam, eta[i]))
  solved <- G$solve_stacked(parts, ncol(x), min(1e-7, 1e-8 / 1000))
  one <- suppressWarnings(glm.fit(x, y, family = fam, control = glm.control(maxit = 1)))
  expect_equal(solved$beta, unname(one$coefficients), tolerance = 1e-10)
  expect_identical(solved$rank, ncol(x))
})

test_that("the AIC's chunk parts add up to glm's AIC for every family that has one", {
  cases <- list(
    list(formula = cbind(ncases, ncontrols) ~ agegp, data = esoph, family = binomial()),
    list(formula = case ~ spontaneous + induced, data = infert, family = binomial()),
    list(formula = count ~ spray, data = InsectSprays, family = poisson()),
    list(formula = breaks ~ wool + tension, data = warpbreaks, family = Gamma(link = "log")),
    list(formula = breaks ~ wool + tension, data = warpbreaks, family = inverse.gaussian(link = "log")),
    list(formula = breaks ~ wool + tension, data = warpbreaks, family = gaussian()))
  for (case in cases) {
    fit <- glm(case$formula, family = case$family, data = case$data)
    text <- paste(deparse(case$formula), collapse = "")
    pieces <- split(case$data, rep(1:3, length.out = nrow(case$data)))
    fitted <- split(fit$fitted.values, rep(1:3, length.out = nrow(case$data)))
    states <- lapply(pieces, function(p) G$chunk_prepare(p, text, case$family$family, case$family$link, NULL, NULL, list())[[1]])
    any_n <- any(vapply(states, function(st) any(st$n > 1), NA))
    sum_w <- sum(vapply(states, function(st) sum(G$full_vectors(st)$weights), 0))
    part <- sum(mapply(function(st, mu) G$chunk_aic(st, unname(mu), fit$deviance, sum_w, any_n), states, fitted))
    total <- G$aic_total(case$family$family, case$family$link, part, fit$deviance, nrow(case$data), sum_w, fit$rank)
    expect_equal(total, fit$aic, tolerance = 1e-10, info = paste(case$family$family, text))
  }
})

test_that("chunked_summary prints what print(summary(glm)) prints", {
  fit <- glm(count ~ spray, family = quasipoisson(), data = InsectSprays)
  s <- summary(fit)
  q <- fit$qr
  pearson <- sum(fit$weights * fit$residuals^2)
  quantiles <- unname(quantile(residuals(fit, type = "deviance")))
  out <- G$chunked_summary("count ~ spray", "quasipoisson", NULL, "InsectSprays", names(coef(fit)), unname(coef(fit)), q$rank,
                           q$pivot, c(q$qr[seq_len(ncol(q$qr)), ]), ncol(q$qr), pearson, fit$deviance, fit$null.deviance,
                           fit$df.residual, fit$df.null, NA_real_, fit$iter, 0, quantiles, "(not computed)")
  s$call <- quote(glm(formula = count ~ spray, family = quasipoisson(link = "log"), data = InsectSprays))
  expect_identical(out$text, paste(capture.output(print(s)), collapse = "\n"))
  expect_equal(out$dispersion, s$dispersion, tolerance = 1e-12)
  expect_identical(out$statistic_name, "t value")
})

test_that("a chunk's state keeps nothing of the function that made it, and its vectors come back whole", {
  d <- esoph
  st <- G$chunk_prepare(d, "cbind(ncases, ncontrols) ~ agegp + alcgp", "binomial", NULL, NULL, NULL, list())[[1]]
  # The maker's frame (its data, model frame and vectors before initialize) is not reachable.
  expect_identical(parent.env(st), emptyenv())
  before <- G$full_vectors(st)[c("x", "y", "weights", "offset", "n", "mustart")]
  taken <- G$take_vectors(st)
  expect_setequal(names(taken), names(before))
  expect_false(any(c("x", "y", "weights", "offset", "n", "mustart") %in% ls(st)))
  expect_true(all(vapply(taken, is.double, TRUE)))
  back <- G$with_vectors(st, taken)
  dimnames(back$x) <- back$x_dimnames
  for (v in names(before)) expect_equal(back[[v]], before[[v]], info = v)
  # What R computes from the state given back is what it computed before.
  expect_identical(G$start_eta(back, NULL), G$start_eta(list2env(c(mget(ls(st), envir = st), before)), NULL))
})

test_that("weights, an offset and trials the same on every row are kept as one value, and spread again", {
  set.seed(5)
  d <- data.frame(x = rnorm(20), y = rpois(20, 3), w = rep(2, 20), o = c(rep(0.5, 19), 0.25))
  st <- G$chunk_prepare(d, "y ~ x", "poisson", NULL, "w", "o", list())[[1]]
  expect_identical(st$weights, 2)
  expect_length(st$offset, 20L)
  expect_identical(st$n, 1)
  full <- G$full_vectors(st)
  expect_identical(full$weights, rep(2, 20))
  expect_identical(full$n, rep(1, 20))
  # The AIC's part from the compact state is R's own AIC on the chunk.
  g <- glm(y ~ x, family = poisson, data = d, weights = w, offset = o)
  expect_equal(G$chunk_aic(st, fitted(g), g$deviance, sum(d$w), FALSE) + 2 * 2, g$aic, tolerance = 1e-12)
  # A chunk of one row is left as it is.
  one <- G$chunk_prepare(d[1, ], "y ~ x", "poisson", NULL, NULL, NULL, list())[[1]]
  expect_length(one$weights, 1L)
  expect_identical(G$full_vectors(one)$weights, 1)
})
