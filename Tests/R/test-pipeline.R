# .polybridge_pipeline (Sources/PolybridgePipelines/Scripts/pipeline.R): reading a step script
# without running it, the files it sources, and running steps with the session put back.
P <- pipeline_helpers

write_script <- function(folder, name, lines) {
  path <- file.path(folder, name)
  dir.create(dirname(path), showWarnings = FALSE, recursive = TRUE)
  writeLines(lines, path)
  path
}

test_that("script_function reads the last top-level definition without running the script", {
  folder <- tempfile("pipeline-")
  dir.create(folder)
  on.exit(unlink(folder, recursive = TRUE))
  marker <- file.path(folder, "ran")
  path <- write_script(folder, "step.R", c(
    sprintf("file.create(%s)", deparse(marker)),
    "clean <- function(d) d",
    "clean = function(d, n = 1, s = \"a\", b = TRUE, neg = -2, na = NA, nul = NULL, other = list(), int = 3L, ...) d",
    "helper <- function() NULL",
    "local({ clean <- function(x) x })"))
  found <- P$script_function(path, "clean")
  expect_identical(found$found, TRUE)
  expect_identical(found$args, c("d", "n", "s", "b", "neg", "na", "nul", "other", "int", "..."))
  expect_identical(found$kinds, c("none", "number", "string", "boolean", "number", "other", "null", "other", "number", "none"))
  expect_identical(P$script_function(path, "helper"), list(found = TRUE, args = character(0), kinds = character(0)))
  expect_identical(P$script_function(path, "absent"), list(found = FALSE, args = character(0), kinds = character(0)))
  expect_false(file.exists(marker))
})

test_that("sourced_files follows literal source() paths from each file's folder", {
  folder <- normalizePath(tempfile("pipeline-"), mustWork = FALSE)
  dir.create(folder)
  folder <- normalizePath(folder)
  on.exit(unlink(folder, recursive = TRUE))
  main <- write_script(folder, "main.R", c("source(\"lib/a.R\")", "f <- function() sys.source('gone.R', new.env())",
                                           "source(paste0(dir, 'x.R'))"))
  write_script(folder, "lib/a.R", c("if (TRUE) source(\"b.R\")", "source(file.path('..', 'main.R'))"))
  write_script(folder, "lib/b.R", "source('../lib/a.R')  # a cycle")
  found <- P$sourced_files(main)
  expect_identical(found, normalizePath(file.path(folder, c("main.R", "lib/a.R", "lib/b.R"))))
  expect_identical(P$unresolved_sources(main),
                   c("source(paste0(dir, \"x.R\")) in main.R", "source(file.path(\"..\", \"main.R\")) in a.R"))
  expect_identical(P$sourced_files(file.path(folder, "missing.R")), character(0))
})

test_that("check_code parses without running", {
  expect_true(P$check_code("stop('not run')\nx + 1"))
  expect_error(P$check_code("x <- (1 +"), "unexpected end of input")
})

test_that("run_step calls the script's function with its arguments bound by name", {
  folder <- tempfile("pipeline-")
  dir.create(folder)
  on.exit(unlink(folder, recursive = TRUE))
  write_script(folder, "data.csv", c("a", "1", "2"))
  path <- write_script(folder, "step.R", c(
    "extra <- read.csv('data.csv')  # relative to the script's folder",
    "scale_it <- function(d, by = 1) data.frame(x = d$x * by, n = nrow(extra))",
    "both <- function(d) list(first = d, second = d[1, , drop = FALSE])",
    "not_a_frame <- function(d) 42"))
  d <- data.frame(x = c(1, 2, 3))
  result <- P$run_step(path, "", "scale_it", list(d = d, by = 10))
  expect_identical(result, list(data.frame(x = c(10, 20, 30), n = 2L)))
  both <- P$run_step(path, "", "both", list(d = d))
  expect_identical(names(both), c("first", "second"))
  expect_identical(both$second, d[1, , drop = FALSE])
  expect_error(P$run_step(path, "", "not_a_frame", list(d = d)),
               "the function returned numeric, not a data frame or a named list of data frames")
})

test_that("run_step runs inline code with the arguments bound", {
  result <- P$run_step("", "d$y <- d$x * k\nd", "", list(d = data.frame(x = 1:2), k = 3))
  expect_identical(result[[1]]$y, c(3, 6))
})

test_that("run_step puts back what the step changed of the session", {
  folder <- tempfile("pipeline-")
  dir.create(folder)
  on.exit(unlink(folder, recursive = TRUE))
  path <- write_script(folder, "step.R", c(
    "messy <- function(d) {",
    "  setwd(tempdir()); Sys.setenv(POLYBRIDGE_TEST_STEP = 'set'); Sys.unsetenv('POLYBRIDGE_TEST_KEEP')",
    "  options(polybridge.test.option = 1, digits = 3); assign('left_behind', 1, envir = globalenv())",
    "  set.seed(42); runif(1)",
    "  d",
    "}"))
  Sys.setenv(POLYBRIDGE_TEST_KEEP = "kept")
  on.exit(Sys.unsetenv("POLYBRIDGE_TEST_KEEP"), add = TRUE)
  wd <- getwd()
  digits <- getOption("digits")
  set.seed(1)
  expected <- runif(1)
  set.seed(1)
  P$run_step(path, "", "messy", list(d = data.frame(x = 1)))
  expect_identical(getwd(), wd)
  expect_identical(Sys.getenv("POLYBRIDGE_TEST_STEP", unset = NA), NA_character_)
  expect_identical(Sys.getenv("POLYBRIDGE_TEST_KEEP"), "kept")
  expect_null(getOption("polybridge.test.option"))
  expect_identical(getOption("digits"), digits)
  expect_false(exists("left_behind", envir = globalenv(), inherits = FALSE))
  expect_identical(runif(1), expected)
  expect_true(exists(".polybridge_lm", envir = globalenv(), inherits = FALSE))
})

test_that("a step's error names its call and the step's call stack; warnings are written at once", {
  folder <- tempfile("pipeline-")
  dir.create(folder)
  on.exit(unlink(folder, recursive = TRUE))
  path <- write_script(folder, "step.R", c(
    "check <- function(v) if (any(v < 0)) stop('negative values') else v",
    "clean <- function(d) { warning('careful'); check(d$x); d }"))
  err <- NULL
  messages <- capture.output(err <- tryCatch(P$run_step(path, "", "clean", list(d = data.frame(x = -1))), error = identity),
                             type = "message")
  # The stack runs from the failing call up to the step's function, called by name.
  expect_identical(conditionMessage(err),
                   "in check(d$x): negative values\nR call stack:\n  stop(\"negative values\")\n  check(d$x)\n  clean(d = d)")
  expect_identical(messages, "Warning in clean(d = d): careful")
  messages <- capture.output(result <- P$run_step(path, "", "clean", list(d = data.frame(x = 1))), type = "message")
  expect_identical(messages, "Warning in clean(d = d): careful")
  expect_identical(result, list(data.frame(x = 1)))
})
