local({
  state <- new.env(parent = emptyenv())
  state$report <- FALSE
  wrapper_calls <- list(quote(eval(e, envir)), quote(eval(call, envir)))
  # Conditions raised at top level name the prelude's own frames as their call: that is none.
  is_top_level <- function(call) is.null(call) || any(vapply(wrapper_calls, identical, NA, call))
  describe_call <- function(call) {
    if (is_top_level(call)) return("")
    text <- paste(deparse(call, nlines = 2L, width.cutoff = 200L), collapse = " ")
    if (nchar(text) > 300L) paste0(substr(text, 1L, 300L), "...") else text
  }
  # Display width of a text's first line (its bytes when it is not valid text), for R's rule
  # that a long call and message go on two lines.
  first_line_width <- function(text) {
    line <- strsplit(text, "\n", fixed = TRUE)[[1L]]
    line <- if (length(line)) line[1L] else ""
    width <- nchar(line, type = "width", allowNA = TRUE)
    if (is.na(width)) nchar(line, type = "bytes") else width
  }
  call_line <- function(call) deparse(call, nlines = 1L)[1L]
  write_error_stream <- function(lines) cat(paste0(lines, "\n"), sep = "", file = stderr())
  # One warning as R's PrintWarnings writes it; `margin` is R's allowance for the tag.
  format_warning <- function(message, call, tag, margin) {
    if (is.null(call)) return(paste0(tag, message, " "))
    dcall <- call_line(call)
    separator <- if (margin + first_line_width(dcall) + first_line_width(message) > 75L) "\n  " else " "
    paste0(tag, "In ", dcall, " :", separator, message)
  }
  report_warnings <- function(prefix) {
    pending <- state$pending
    state$pending <- NULL
    n <- length(pending)
    if (n == 0L) return(invisible(NULL))
    calls <- lapply(pending, function(w) { call <- conditionCall(w); if (is_top_level(call)) NULL else call })
    messages <- vapply(pending, conditionMessage, "")
    # warnings() shows them afterwards, as after a top-level call in R.
    .Call("polybridge_set_last_warning", structure(calls, names = messages), PACKAGE = "(embedding)")
    limit <- getOption("nwarnings", 50L)
    lines <- if (n == 1L) {
      c(paste0(prefix, "Warning message:"), format_warning(messages, calls[[1L]], "", 6L))
    } else if (n <= 10L) {
      c(paste0(prefix, "Warning messages:"),
        vapply(seq_len(n), function(i) format_warning(messages[i], calls[[i]], paste0(i, ": "), 10L), ""))
    } else if (n < limit) {
      paste0(prefix, sprintf("There were %d warnings (use warnings() to see them)", n))
    } else {
      paste0(prefix, sprintf("There were %d or more warnings (use warnings() to see the first %d)", limit, limit))
    }
    write_error_stream(lines)
  }
  report_error <- function(message, call) {
    text <- if (is_top_level(call)) {
      paste0("Error: ", message)
    } else {
      dcall <- call_line(call)
      separator <- if (14L + first_line_width(dcall) + first_line_width(message) > 75L) "\n  " else ""
      paste0("Error in ", dcall, " : ", separator, message)
    }
    write_error_stream(text)
    report_warnings("In addition: ")
  }
  record_warning <- function(w) {
    state$warnings <- c(state$warnings, conditionMessage(w))
    # R keeps the first nwarnings (50) for its report; so does this one.
    if (state$report && length(state$pending) < getOption("nwarnings", 50L)) {
      state$pending <- c(state$pending, list(w))
    }
    invokeRestart("muffleWarning")
  }
  record_error <- function(e) {
    state$error <- c(state$phase, conditionMessage(e), describe_call(conditionCall(e)))
    if (state$report && state$phase == "error") report_error(conditionMessage(e), conditionCall(e))
    invokeRestart("abort")
  }
  reset <- function(phase, report) {
    state$warnings <- NULL
    state$pending <- NULL
    state$error <- NULL
    state$phase <- phase
    state$report <- report
  }
  call_function <- function(call, envir) {
    reset("error", FALSE)
    withCallingHandlers(eval(call, envir), warning = record_warning, error = record_error)
  }
  eval_text <- function(text, envir, print_visible, report) {
    reset("parse", report)
    withCallingHandlers({
      exprs <- parse(text = text, keep.source = FALSE)
      state$phase <- "error"
      value <- NULL
      for (e in exprs) {
        step <- withVisible(eval(e, envir))
        if (print_visible && step$visible) print(step$value)
        if (report) report_warnings("")
        value <- step$value
      }
      value
    }, warning = record_warning, error = record_error)
  }
  # reticulate (inside this R) calls Python without taking the GIL; tell the host first.
  setHook(packageEvent("reticulate", "onLoad"),
    function(...) .Call("polybridge_host_event", "reticulate-loaded", PACKAGE = "(embedding)"))
  # q() would end the host process; inside Polybridge it is an ordinary error instead.
  refuse_quit <- function(...) stop("quit() is not available inside polybridge", call. = FALSE)
  for (name in c("q", "quit")) {
    unlockBinding(name, baseenv())
    assign(name, refuse_quit, envir = baseenv())
    lockBinding(name, baseenv())
  }
  list(eval_text = eval_text, call_function = call_function, state = state)
})
