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

# The worker path in R alone: the rows cut into parts, each part grouped by its keys as a worker
# groups it (first appearance order), the groups merged with prepare_parts, fitted in batches of
# pre-grouped rows (prepare_runs) and gathered with raw/add_batch.
fit_in_parts <- function(d, by, text, parts, batches, family = NULL) {
  d <- d[stats::complete.cases(d[by]), , drop = FALSE]
  cut <- split(seq_len(nrow(d)), sort(rep_len(seq_len(parts), nrow(d))))
  grouped <- lapply(cut, function(rows) {
    key <- do.call(paste, c(lapply(d[rows, by, drop = FALSE], function(x) sprintf("%s", x)), sep = "\r"))
    runs <- split(rows, factor(key, levels = unique(key)))
    list(rows = unlist(runs, use.names = FALSE), sizes = lengths(runs, use.names = FALSE))
  })
  keys <- lapply(grouped, function(p) {
    k <- d[p$rows[cumsum(c(1L, p$sizes[-length(p$sizes)]))], by, drop = FALSE]
    k[["__rows"]] <- p$sizes
    k
  })
  e <- G$prepare_parts(unname(keys), 0)
  pieces <- G$pieces(e)
  ids <- split(seq_along(e$starts), sort(rep_len(seq_len(batches), length(e$starts))))
  for (batch in ids) {
    rows <- unlist(lapply(batch, function(i) {
      at <- which(pieces$group == i)
      unlist(lapply(at, function(j) grouped[[pieces$part[[j]]]]$rows[pieces$start[[j]] + seq_len(pieces$size[[j]])]))
    }))
    sizes <- vapply(batch, function(i) sum(pieces$size[pieces$group == i]), 1L)
    b <- G$prepare_runs(d[rows[cumsum(c(1L, sizes[-length(sizes)]))], by, drop = FALSE], sizes)
    G$set_data(b, d[rows, , drop = FALSE])
    G$set_model(b, text, family, NULL, NULL, NULL, 1e-8, 25L)
    G$fit_batch(b, 1L, G$group_count(b))
    r <- G$raw(b, !is.null(family))
    G$add_batch(e, batch, r$groups, r$coefficients)
  }
  G$collect(e, !is.null(family))
}

test_that("groups split over parts and fitted in batches equal the fits of the whole data", {
  set.seed(11)
  d <- data.frame(k = sample(c("ü", "a", "b", "c", "d", NA), 300, TRUE), j = sample(1:2, 300, TRUE), x = rnorm(300),
                  g = factor(sample(c("u", "v", "w"), 300, TRUE)))
  d$y <- 1 + d$x + rnorm(300)
  whole <- fit_all(d, c("k", "j"), "y ~ x + g")
  for (shape in list(c(1L, 1L), c(3L, 2L), c(7L, 5L))) {
    parted <- fit_in_parts(d, c("k", "j"), "y ~ x + g", shape[[1L]], shape[[2L]])
    expect_identical(parted$groups[c("k", "j")], whole$groups[c("k", "j")])
    expect_identical(parted$coefficients[c("k", "j", "term")], whole$coefficients[c("k", "j", "term")])
    expect_equal(parted$coefficients$std_error, whole$coefficients$std_error, tolerance = 1e-12)
    expect_equal(parted$groups$r_squared, whole$groups$r_squared, tolerance = 1e-12)
    expect_identical(parted$info$labels, whole$info$labels)
  }
})

test_that("a group seen twice in one part, a one-row group and glm columns survive the batches", {
  d <- data.frame(k = c(2, 1, 2, 1, 2, 1, 3, 2, 1, 2), x = c(1, 2, 3, 4, 5, 6, 7, 8, 9, 3), y = c(0, 1, 1, 0, 1, 0, 1, 0, 1, 1))
  whole <- fit_all(d, "k", "y ~ x", family = "binomial")
  parted <- fit_in_parts(d, "k", "y ~ x", 2L, 2L, family = "binomial")
  expect_identical(parted$groups$k, c(1, 2, 3))
  expect_identical(parted$groups$error, whole$groups$error)
  # The one-row group's slope is aliased, as glm has it.
  expect_identical(is.na(parted$coefficients$estimate), is.na(whole$coefficients$estimate))
  expect_true(is.na(parted$coefficients$estimate[[6L]]))
  expect_equal(parted$groups$deviance, whole$groups$deviance, tolerance = 1e-12)
  expect_identical(parted$groups$converged, whole$groups$converged)
  expect_identical(parted$groups$iterations, whole$groups$iterations)
  # prepare_parts merges a key that occurs in two runs of one part.
  e <- G$prepare_parts(list(data.frame(k = c(2, 1, 2), `__rows` = c(2L, 1L, 3L), check.names = FALSE)), 4)
  expect_identical(G$pieces(e), list(group = c(1L, 2L, 2L), part = c(1L, 1L, 1L), start = c(2L, 0L, 3L), size = c(1L, 2L, 3L)))
  expect_identical(e$missing_keys, 4)
})
