# .polybridge_r_attributes (Sources/PolybridgeConversion/Scripts/r_attributes.R): R's classes
# and attributes kept as Arrow metadata text and put back on the plain data frame that comes
# back from Arrow.
A <- attribute_helpers

# The data frame as it comes back from Arrow: the same columns (factor, Date, POSIXct and
# difftime keep what Arrow keeps of them), no other attribute, a plain data.frame.
as_from_arrow <- function(x) {
  columns <- lapply(x, function(column) {
    attributes(column) <- attributes(column)[intersect(names(attributes(column)), c("class", "levels", "tzone", "units"))]
    column
  })
  structure(columns, names = names(x), class = "data.frame", row.names = .set_row_names(NROW(x)))
}

round_trip <- function(x) {
  kept <- A$to_metadata(x)
  expect_identical(kept$notes, character(0))
  A$from_metadata(as_from_arrow(x), kept$text)
}

without_selfref <- function(x) {
  attr(x, ".internal.selfref") <- NULL
  x
}

test_that("a plain data frame keeps its class; a bare one needs nothing", {
  d <- data.frame(a = 1:3, b = c("x", "y", "z"))
  back <- round_trip(d)
  expect_identical(back$frame, d)
  # Without metadata a frame becomes a tibble, so a data.frame records its class.
  expect_false(is.na(A$to_metadata(d)$text))
})

test_that("a tibble with column and frame attributes round-trips", {
  skip_if_not_installed("tibble")
  x <- tibble::tibble(a = 1:3, b = c("x", "y", NA), f = factor(c("u", "v", "u"), levels = c("v", "u")),
                      d = as.Date("2020-01-01") + 0:2, p = as.POSIXct("2020-01-01 10:00", tz = "UTC") + 1:3,
                      t = as.difftime(c(1, 2, 3), units = "mins"))
  attr(x$a, "label") <- "Age in years"
  attr(x, "source") <- list(survey = "2020", wave = 3L)
  back <- round_trip(x)
  expect_identical(back$frame, x)
  expect_identical(back$notes, character(0))
})

test_that("a plain tibble is what a frame without metadata becomes", {
  skip_if_not_installed("tibble")
  x <- tibble::tibble(a = 1:2)
  kept <- A$to_metadata(x)
  expect_identical(A$from_metadata(as_from_arrow(x), kept$text)$frame, x)
})

test_that("a grouped tibble comes back grouped by the same columns", {
  skip_if_not_installed("dplyr")
  x <- dplyr::group_by(tibble::tibble(g = c("b", "a", "b", "c"), h = c(1, 1, 2, 2), v = 1:4), g, h)
  back <- round_trip(x)
  expect_identical(back$frame, x)
  expect_identical(dplyr::group_vars(back$frame), c("g", "h"))
  # A frame that lost a grouping column is left ungrouped, and says so.
  kept <- A$to_metadata(x)
  partial <- as_from_arrow(x)[c("h", "v")]
  restored <- A$from_metadata(partial, kept$text)
  expect_false(inherits(restored$frame, "grouped_df"))
  expect_identical(restored$notes, "the data was grouped by g, which it no longer has; it is left ungrouped")
})

test_that("a keyed data.table round-trips and takes new columns by reference", {
  skip_if_not_installed("data.table")
  x <- data.table::data.table(a = c(3L, 1L, 2L), b = c("x", "y", "z"))
  data.table::setkey(x, a)
  back <- round_trip(x)$frame
  expect_identical(without_selfref(back), without_selfref(x))
  expect_identical(data.table::key(back), "a")
  # setalloccol made it a working data.table: := adds a column in place, without a warning.
  expect_silent(data.table::set(back, j = "c", value = back$a * 2L))
  expect_identical(back$c, c(2L, 4L, 6L))
})

test_that("external pointers are left out and named in the notes", {
  skip_if_not_installed("data.table")
  pointer <- attr(data.table::data.table(a = 1), ".internal.selfref")
  expect_identical(typeof(pointer), "externalptr")
  d <- data.frame(a = 1:2, b = 3:4)
  attr(d, "handle") <- pointer
  attr(d, "note") <- "kept"
  attr(d$a, "nested") <- list(1, list(pointer))
  kept <- A$to_metadata(d)
  expect_identical(kept$notes, c(
    "attribute 'handle' of the data frame holds an external pointer, which no file keeps; it is left out",
    "attribute 'nested' of column 'a' holds an external pointer, which no file keeps; it is left out"))
  back <- A$from_metadata(as_from_arrow(d), kept$text)$frame
  expect_identical(attr(back, "note"), "kept")
  expect_null(attr(back, "handle"))
  expect_null(attr(back$a, "nested"))
})

test_that("metadata compressed as R's arrow package compresses large metadata is read", {
  d <- data.frame(a = 1:2)
  attr(d, "long") <- strrep("x", 1000)
  plain <- unserialize(charToRaw(A$to_metadata(d)$text))
  compressed <- rawToChar(serialize(memCompress(serialize(plain, NULL), type = "gzip"), NULL, ascii = TRUE))
  expect_identical(A$from_metadata(as_from_arrow(d), compressed)$frame, d)
})
