# The R prelude (Sources/PolybridgeRuntime/Scripts/prelude.R): eval_text and call_function
# record warnings and errors in `state` for the host, and q()/quit() are refused.
quit_error <- NULL
prelude <- load_prelude(check_quit = function() {
  quit_error <<- tryCatch(q("no"), error = conditionMessage)
})
state <- prelude$state

test_that("q() is an ordinary error inside polybridge", {
  expect_identical(quit_error, "quit() is not available inside polybridge")
  # load_prelude put base's own back for the rest of this session.
  expect_identical(names(formals(q)), c("save", "status", "runLast"))
})

test_that("eval_text evaluates every expression and returns the last value", {
  env <- new.env()
  expect_identical(prelude$eval_text("x <- 20; y <- x + 1\nx + y", env, FALSE, FALSE), 41)
  expect_identical(env$y, 21)
  expect_null(state$error)
  expect_null(state$warnings)
  expect_identical(state$phase, "error")  # past parsing
})

test_that("eval_text prints visible values when asked", {
  env <- new.env()
  printed <- capture.output(value <- prelude$eval_text("1 + 1\ninvisible(3)\nx <- 4\nc(a = 1)", env, TRUE, FALSE))
  expect_identical(printed, c("[1] 2", "a ", "1 "))
  expect_identical(value, c(a = 1))
})

test_that("warnings are recorded, in order, and muffled", {
  env <- new.env()
  value <- expect_silent(prelude$eval_text("warning('first'); f <- function() { warning('second'); 5 }; f()",
                                           env, FALSE, FALSE))
  expect_identical(value, 5)
  expect_identical(state$warnings, c("first", "second"))
  # The next evaluation starts afresh.
  prelude$eval_text("1", env, FALSE, FALSE)
  expect_null(state$warnings)
  many <- prelude$eval_text("for (i in 1:60) warning(paste('w', i)); 'done'", env, FALSE, FALSE)
  expect_identical(many, "done")
  expect_identical(length(state$warnings), 60L)
})

test_that("an error is recorded with its phase, message and call, and evaluation stops", {
  env <- new.env()
  expect_identical(catching_abort(prelude$eval_text("x <- 1; stop('top-level boom'); x <- 2", env, FALSE, FALSE)), "aborted")
  expect_identical(state$error, c("error", "top-level boom", ""))
  expect_identical(env$x, 1)
  expect_identical(catching_abort(prelude$eval_text("f <- function(v) stop('inner boom: ', v); f(3)", env, FALSE, FALSE)),
                   "aborted")
  expect_identical(state$error, c("error", "inner boom: 3", "f(3)"))
  expect_identical(catching_abort(prelude$eval_text("x <- (1 +", env, FALSE, FALSE)), "aborted")
  expect_identical(state$error[[1]], "parse")
  expect_match(state$error[[2]], "unexpected end of input")
})

# What R itself writes to standard error for `code` run by Rscript (less "Execution halted").
r_writes <- function(code) {
  script <- tempfile(fileext = ".R")
  on.exit(unlink(script))
  writeLines(code, script)
  out <- suppressWarnings(system2(file.path(R.home("bin"), "Rscript"), c("--vanilla", shQuote(script)),
                                  stdout = FALSE, stderr = TRUE))
  out[out != "Execution halted"]
}

test_that("a reported error is written as R writes it", {
  env <- new.env()
  long <- paste(rep("word", 20), collapse = " ")
  for (code in c("stop('plain')", "g <- function() stop('in g'); g()", sprintf("h <- function(a) stop('%s'); h(1)", long))) {
    written <- capture.output(aborted <- catching_abort(prelude$eval_text(code, env, FALSE, TRUE)), type = "message")
    expect_identical(aborted, "aborted")
    expect_identical(written, r_writes(code), info = code)
  }
  expect_identical(written, c("Error in h(1) : ", paste0("  ", long)))
  # A parse error is the host's to report.
  written <- capture.output(aborted <- catching_abort(prelude$eval_text("1 +", env, FALSE, TRUE)), type = "message")
  expect_identical(written, character(0))
})

test_that("call_function records warnings and errors of a call", {
  env <- new.env()
  env$f <- function(n) { if (n > 1) warning("big n"); if (n > 2) stop("too big"); n * 2 }
  expect_identical(prelude$call_function(quote(f(2)), env), 4)
  expect_identical(state$warnings, "big n")
  expect_identical(catching_abort(prelude$call_function(quote(f(3)), env)), "aborted")
  expect_identical(state$error, c("error", "too big", "f(3)"))
  expect_identical(state$warnings, "big n")
})
