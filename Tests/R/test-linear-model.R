# .polybridge_lm (Sources/PolybridgeModels/Scripts/linear_model.R), with R's own lm,
# model.frame and model.matrix as the oracles.
L <- lm_helpers

# Random data with declared-order factors (and an unused level), text, numbers made factors,
# logicals, a matrix column, weights, an offset and a missing response.
random_data <- function(n, seed) {
  set.seed(seed)
  d <- data.frame(y = rnorm(n), x = rnorm(n), z = runif(n, 1, 2),
                  g = factor(sample(c("z", "a", "m"), n, TRUE), levels = c("z", "a", "m", "unused")),
                  h = factor(sample(c("h1", "h2"), n, TRUE)),
                  s = sample(c("b", "B", "a"), n, TRUE), k = sample(c(9, 10, 100), n, TRUE),
                  a = sample(c("p", "q"), n, TRUE), b = factor(sample(c("u", "v", "w"), n, TRUE)),
                  flag = sample(c(TRUE, FALSE), n, TRUE), w = runif(n, 0.5, 2), o = rnorm(n),
                  stringsAsFactors = FALSE)
  d$m <- matrix(rnorm(2 * n), n, 2)
  d$y[3] <- NA
  d
}

chunks_of <- function(d, count) split(d, rep(seq_len(count), each = ceiling(nrow(d) / count))[seq_len(nrow(d))])

test_that("not_rowwise accepts row-wise formulas and names what is not", {
  expect_identical(L$not_rowwise("y ~ x + log(z) + factor(g) + I(x^2) + x:g + pmin(x, 1) + offset(o)"), "")
  expect_identical(L$not_rowwise("y ~ ifelse(x > 0, 1, 0) + (g %in% c(\"a\", \"z\")) + interaction(a, b)"), "")
  expect_identical(L$not_rowwise("y ~ I(x - min(x))"), "min()")
  expect_identical(L$not_rowwise("y ~ poly(x, 2)"), "poly()")
  expect_identical(L$not_rowwise("y ~ scale(x) + g"), "scale()")
  expect_identical(L$not_rowwise("y ~ x[1]"), "indexing ([)")
  expect_identical(L$not_rowwise("y ~ d$x"), "$")
  expect_identical(L$not_rowwise("y ~ x %in% c(1, x)"), "%in% with a column on its right")
  expect_identical(L$not_rowwise("y ~ I(a %in% b)"), "%in% with a column on its right")
  # A constant vector is recycled by row position, which a chunk does not keep.
  expect_identical(L$not_rowwise("y ~ I(x * c(1, 2))"), "c()")
  expect_identical(L$not_rowwise("y ~ pmin(x, c(1, 2))"), "c()")
  expect_identical(L$not_rowwise("y ~ ifelse(x > 0, c(1, 2), 0)"), "c()")
  expect_identical(L$not_rowwise("y ~ factor(g, levels = c(\"a\", x))"), "c()")
  expect_identical(L$not_rowwise("y ~ factor(g, labels = c(\"A\", \"B\"))"), "factor() with labels")
  expect_identical(L$not_rowwise("y ~ factor(g, levels = c(\"a\", \"z\"))"), "")
  expect_identical(L$not_rowwise("y ~ interaction(a, b, sep = \"_\")"), "interaction() with named arguments")
  expect_identical(L$not_rowwise("y ~ myscale(x)"), "myscale()")
  expect_identical(L$not_rowwise("y ~ myscale(x)", also = "myscale"), "")
})

test_that("a formula that is not one response ~ terms formula is refused", {
  expect_error(L$not_rowwise("y ~ (x"), "the formula is not valid R")
  expect_error(L$not_rowwise("~ x"), "must have the form response ~ terms")
  expect_error(L$not_rowwise("y ~ x; z ~ w"), "exactly one R formula; the text holds 2 expressions")
  expect_identical(L$check_formula("y~x+  g"), "y ~ x + g")
  expect_error(L$check_formula("cbind(y, z) ~ x"), "it has 2 responses \\(cbind\\(y, z\\)\\).*'y ~ \\.\\.\\.'")
})

test_that("model_columns counts model.matrix's columns as lm does", {
  d <- random_data(200, 1)
  d$g <- droplevels(d$g)
  levels <- list(g = levels(d$g), h = levels(d$h), s = sort(unique(d$s)), "factor(k)" = c("9", "10", "100"),
                 b = levels(d$b), flag = c("FALSE", "TRUE"))
  widths <- list(m = 2L, y = 1L)
  formulas <- c("y ~ x + g", "y ~ g * h", "y ~ 0 + g + x", "y ~ 0 + g:h", "y ~ g:x", "y ~ x + m + g",
                "y ~ factor(k) + g", "y ~ (g + h + x)^2", "y ~ g + h - 1", "y ~ log(z) * g", "y ~ s + b:g",
                "y ~ m:g + x", "y ~ 1", "y ~ 0 + x", "y ~ flag * x", "y ~ g*h*b - g:h:b")
  for (text in formulas) {
    expected <- ncol(model.matrix(lm(as.formula(text), d)))
    expect_identical(L$model_columns(text, levels, widths), expected, info = text)
  }
  # A factor with one level cannot be laid out: NA, as lm fails on it.
  expect_identical(L$model_columns("y ~ x + g", list(g = "a"), list()), NA_integer_)
})

test_that("model_size gives rows, lm's column count and the factor with the most levels", {
  d <- random_data(150, 2)
  size <- L$model_size(d, "y ~ x + g * h + s + factor(k)")
  expect_identical(size$rows, 150L)
  expect_identical(size$columns, ncol(model.matrix(lm(y ~ x + g * h + s + factor(k), d))))
  # Terms that call functions count too (they gave NA, which skipped the memory check).
  for (text in c("y ~ log(z) * g", "y ~ I(x^2) + poly(z, 3) + s", "y ~ m + offset(o) + g:log(z)", "y ~ 0 + factor(k):h"))
    expect_identical(L$model_size(d, text)$columns, ncol(model.matrix(lm(as.formula(text), d))), info = text)
  expect_identical(size$biggest, "g")  # the unused level is not counted: 3 levels, as s has
  expect_identical(size$levels, 3L)
  dot <- d[c("y", "x", "g", "s", "k")]
  expect_identical(L$model_size(dot, "y ~ .")$columns, ncol(model.matrix(lm(y ~ ., dot))))
  expect_identical(L$model_size(d, "y ~ x + z")[c("biggest", "levels")], list(biggest = "", levels = 0L))
})

test_that("merge_levels orders the chunks' levels as lm on the whole data does", {
  d <- random_data(240, 3)
  # Levels that appear only in later chunks, and one only in a row lm drops (missing y).
  d$s[200] <- "late"
  d$g[d$g == "m"][1:3] <- "z"
  d$s[3] <- "only-in-a-dropped-row"
  text <- "y ~ x + g + s + factor(k) + interaction(a, b) + flag + x:g"
  per_chunk <- lapply(chunks_of(d, 4), function(chunk) L$chunk_levels(chunk, text, NULL, NULL))
  merged <- L$merge_levels(per_chunk)
  whole <- lm(as.formula(text), d)$xlevels
  expect_identical(merged[names(whole)], whole)
  expect_identical(merged$g[1:2], c("z", "a"))          # declared order, not alphabetical
  expect_identical(merged$`factor(k)`, c("9", "10", "100"))  # numbers sort as numbers
  expect_false("only-in-a-dropped-row" %in% merged$s)
  expect_identical(merged$flag, c("FALSE", "TRUE"))     # logicals are factors to model.matrix
  # The per-chunk step also reports the interaction's arguments and the non-factor widths.
  first <- per_chunk[[1]]
  expect_true(all(c("interaction(a, b)\x1f1", "interaction(a, b)\x1f2") %in% first$names))
  expect_identical(first$rows, 60L)
  expect_identical(first$widths$x, 1L)
})

test_that("merge_levels sorts text levels as factor() on the whole data would", {
  chunk <- function(values) L$chunk_levels(data.frame(y = seq_along(values), s = values), "y ~ s", NULL, NULL)
  parts <- list(chunk(c("b", "B")), chunk(c("a", "10", "9")), chunk("_x"))
  all_values <- c("b", "B", "a", "10", "9", "_x")
  expect_identical(L$merge_levels(parts)$s, levels(factor(all_values)))
})

# The chunked fit's three steps, compared with summary(lm) on the whole data.
chunked_fit <- function(d, text, count, weights = NULL, offset = NULL) {
  chunks <- chunks_of(d, count)
  xlev <- L$merge_levels(lapply(chunks, function(chunk) L$chunk_levels(chunk, text, weights, offset)))
  # model.frame warns that a logical "is not a factor" when given its levels; the fit is the same.
  parts <- suppressWarnings(lapply(chunks, function(chunk) L$chunk_factor(chunk, text, weights, offset, xlev)))
  L$combine_exact(parts)
}

expect_same_fit <- function(st, s) {
  cf <- coef(s)
  expect_identical(st$names, rownames(cf))
  expect_equal(st$estimate, unname(cf[, 1]), tolerance = 1e-9)
  expect_equal(st$se, unname(cf[, 2]), tolerance = 1e-9)
  expect_equal(st$p, unname(cf[, 4]), tolerance = 1e-7)
  expect_equal(st$sigma, s$sigma, tolerance = 1e-9)
  expect_equal(st$r2, s$r.squared, tolerance = 1e-9)
  expect_equal(st$adj, s$adj.r.squared, tolerance = 1e-9)
  expect_equal(st$fstat, unname(s$fstatistic), tolerance = 1e-9)
  expect_equal(st$rdf, s$df[[2]])
  expect_identical(st$aliased, names(s$aliased)[s$aliased])
  expect_equal(st$vcov, c(s$cov.unscaled * s$sigma^2), tolerance = 1e-8)
}

test_that("a chunked fit combines to lm's numbers", {
  d <- random_data(300, 4)
  text <- "y ~ x + g + s + factor(k) + interaction(a, b) + flag + x:g + m"
  st <- chunked_fit(d, text, 3)
  s <- summary(lm(as.formula(text), d))
  expect_same_fit(st, s)
  expect_identical(st$dropped, 1)
  expect_identical(st$n, 299)
})

test_that("a chunked fit with weights, an offset and an aliased column matches lm", {
  d <- random_data(240, 5)
  d$x2 <- 2 * d$x
  text <- "y ~ x + x2 + g + h"
  st <- chunked_fit(d, text, 4, weights = "w", offset = "o")
  fit <- lm(as.formula(text), d, weights = w, offset = o)
  expect_same_fit(st, summary(fit))
  expect_identical(st$aliased, "x2")
  # The whole-data path gives the same numbers (and R's printout).
  whole <- L$fit_whole(d, text, "w", "o", "mydata")
  expect_equal(whole$estimate, st$estimate, tolerance = 1e-9)
  expect_identical(whole$aliased, "x2")
  expect_identical(whole$dropped, 1L)
  expect_match(whole$text, "lm(formula = y ~ x + x2 + g + h, data = mydata)", fixed = TRUE)
})

test_that("a model of the intercept alone explains nothing, as summary.lm says", {
  d <- random_data(60, 6)
  st <- chunked_fit(d, "y ~ 1", 2)
  s <- summary(lm(y ~ 1, d))
  expect_identical(st$r2, 0)
  expect_identical(st$fstat, numeric(0))
  expect_equal(st$estimate, unname(coef(s)[, 1]))
})

test_that("chunked_text prints lm's own summary, the residuals aside", {
  d <- random_data(120, 7)
  text <- "y ~ x + g"
  st <- chunked_fit(d, text, 3)
  printed <- strsplit(L$chunked_text(st, text, "d", "not kept (3 chunks)"), "\n")[[1]]
  expected <- utils::capture.output(print(summary(lm(y ~ x + g, d))))
  # From the coefficients on (strsplit drops the trailing empty line print leaves).
  from <- function(lines) { lines <- lines[grep("^Coefficients:", lines):length(lines)]; lines[nzchar(lines) | seq_along(lines) < length(lines)] }
  expect_identical(from(printed), from(expected))
  expect_true("Residuals: not kept (3 chunks)" %in% printed)
  expect_identical(printed[2:3], c("Call:", "lm(formula = y ~ x + g, data = d)"))
})

test_that("fit_whole names a factor with one level and refuses a matrix response", {
  d <- data.frame(y = rnorm(6), x = rnorm(6), g = c("a", "a", "a", "a", "b", "b"))
  d$y[5:6] <- NA
  expect_error(L$fit_whole(d, "y ~ x + g", NULL, NULL, "d"),
               "factor g has only one level \\(a\\) in these rows: lm needs two or more")
  d$y <- rnorm(6)
  d$m <- matrix(rnorm(12), 6)
  expect_error(L$fit_whole(d, "m ~ x", NULL, NULL, "d"), "the response is a matrix of 2 columns")
})

test_that("native_plan takes bare column names only", {
  expect_identical(L$native_plan("y ~ x + g + x:g"), list(reason = "", response = "y", predictors = c("x", "g")))
  expect_identical(L$native_plan("y ~ log(x)")$reason, "a term calls a function")
  expect_identical(L$native_plan("y ~ .")$reason, "the formula needs the data to expand")
})

test_that("native_layout's products of parts rebuild model.matrix", {
  set.seed(8)
  n <- 50
  d <- data.frame(y = rnorm(n), x = rnorm(n), z = rnorm(n),
                  g = factor(sample(c("c", "a", "b"), n, TRUE), levels = c("c", "a", "b")),
                  h = factor(sample(c("lo", "mid", "hi"), n, TRUE), levels = c("lo", "mid", "hi"), ordered = TRUE),
                  e = factor(sample(c("p", "q"), n, TRUE)))
  xlev <- list(g = levels(d$g), h = levels(d$h), e = levels(d$e))
  for (text in c("y ~ x + g", "y ~ 0 + g + x", "y ~ g * x", "y ~ g:e + z", "y ~ 0 + x:g + e", "y ~ h + g:h",
                 "y ~ x * z", "y ~ 0 + g:e")) {
    layout <- L$native_layout(text, xlev, "h")
    expected <- model.matrix(as.formula(text), d)
    rebuilt <- sapply(seq_along(layout$variables), function(j) {
      column <- rep(1, n)
      for (i in seq_along(layout$variables[[j]])) {
        v <- layout$variables[[j]][[i]]
        part <- layout$values[[j]][[i]]
        column <- column * (if (length(part)) part[as.integer(d[[v]])] else d[[v]])
      }
      column
    })
    expect_identical(layout$names, colnames(expected), info = text)
    expect_equal(unname(matrix(rebuilt, n)), unname(expected[, , drop = FALSE]), info = text, tolerance = 1e-12)
  }
})

test_that("model_rows gives the kept rows' model matrix, response, weights and offset", {
  d <- random_data(40, 9)
  rows <- L$model_rows(d, "y ~ x + g", "w", "o", list(g = c("z", "a", "m")))
  kept <- !is.na(d$y)
  expected <- model.matrix(y ~ x + g, droplevels(d[kept, ]))
  expect_identical(rows$kept, sum(kept))
  expect_equal(rows$x, c(expected))
  expect_identical(rows$y, d$y[kept])
  expect_identical(rows$w, d$w[kept])
  expect_identical(rows$off, d$o[kept])
})

test_that("plot_coefficients writes a PNG and refuses an empty fit", {
  skip_if_not(capabilities("png") || capabilities("cairo"))
  file <- tempfile(fileext = ".png")
  on.exit(unlink(file))
  L$plot_coefficients(file, c("(Intercept)", "x"), c(1, -0.5), c(0.1, 0.2), 10, "y ~ x")
  expect_identical(readBin(file, "raw", 8), as.raw(c(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)))
  expect_error(L$plot_coefficients(file, character(0), numeric(0), numeric(0), 1, "t"), "no coefficients")
})
