# .polybridge_grouped (Sources/PolybridgeModels/Scripts/grouped.R): one fit per group, with
# R's own lm and glm on split() of the data, and broom's tidy, as the oracles.
G <- grouped_helpers

fit_all <- function(d, by, text, family = NULL, link = NULL, weights = NULL, offset = NULL) {
  e <- G$prepare(d[by])
  G$set_data(e, d)
  if (G$group_count(e) > 0L) {
    G$set_model(e, text, family, link, weights, offset, 1e-8, 25L)
    G$fit_batch(e, 1L, G$group_count(e))
  }
  G$collect(e, !is.null(family))
}

test_that("each group's lm is lm on that group's rows, in key order, NA keys left out", {
  set.seed(3)
  d <- data.frame(k = sample(c("b", "a", "c", NA), 60, TRUE), x = rnorm(60), g = factor(sample(c("u", "v"), 60, TRUE)))
  d$y <- 1 + d$x + rnorm(60)
  out <- fit_all(d, "k", "y ~ x + g")
  expect_identical(out$groups$k, c("a", "b", "c"))
  expect_identical(out$info$missing_keys, as.double(sum(is.na(d$k))))
  for (key in c("a", "b", "c")) {
    rows <- d[!is.na(d$k) & d$k == key, ]
    tidy <- broom::tidy(lm(y ~ x + g, data = rows))
    mine <- out$coefficients[out$coefficients$k == key, ]
    expect_identical(mine$term, tidy$term)
    expect_equal(mine$estimate, tidy$estimate, tolerance = 1e-12)
    expect_equal(mine$std_error, tidy$std.error, tolerance = 1e-12)
    expect_equal(mine$p_value, tidy$p.value, tolerance = 1e-12)
    glance <- broom::glance(lm(y ~ x + g, data = rows))
    group <- out$groups[out$groups$k == key, ]
    expect_equal(group$r_squared, glance$r.squared, tolerance = 1e-12)
    expect_equal(group$f_statistic, unname(glance$statistic), tolerance = 1e-12)
    expect_identical(group$df_residual, glance$df.residual)
  }
})

test_that("two keys, a failing group, an aliased coefficient and a glm warning stay in their groups", {
  d <- data.frame(a = c(1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 1), b = c("x", "x", "x", "x", "x", "x", "x", "x", "x", "x", "y"),
                  x = c(1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 1), y = c(0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1))
  d$z <- 2 * d$x
  out <- fit_all(d, c("a", "b"), "y ~ x + z")
  expect_identical(out$groups$a, c(1, 1, 2))
  expect_identical(out$groups$b, c("x", "y", "x"))
  expect_true(all(is.na(out$coefficients$estimate[out$coefficients$term == "z"])))
  # The one-row group: lm fits it (no residual df); its standard errors are missing as R's are.
  one <- out$coefficients[out$coefficients$b == "y", ]
  expect_equal(one$estimate, unname(coef(lm(y ~ x + z, data = d[11, ]))))
  glm <- fit_all(d, c("a", "b"), "y ~ x", family = "binomial")
  expect_match(glm$groups$warning[[1L]], "fitted probabilities numerically 0 or 1 occurred")
  failing <- fit_all(transform(d, y = ifelse(a == 2, NA, y)), "a", "y ~ x")
  expect_identical(failing$groups$error[[2L]], "0 (non-NA) cases")
  expect_false(any(failing$coefficients$a == 2))
  expect_identical(failing$info$terms, c(2, 0))
})
