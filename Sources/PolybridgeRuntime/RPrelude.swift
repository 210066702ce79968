/// R code evaluated once at start-up: the wrappers every evaluation goes through.
///
/// A wrapper evaluates under calling handlers only (no `tryCatch`, which costs several times
/// more): warnings are collected and muffled, and an error is recorded in `state` and then
/// unwinds with the "abort" restart to the guard around the call, so nothing is printed. The
/// host reads `state` afterwards: `warnings` (character or NULL) and `error` (NULL, or
/// `c(phase, message, call)` with phase "parse" or "error"). An interrupt unwinds without
/// recording anything.
enum RPrelude {
    static let source = #"""
    local({
      state <- new.env(parent = emptyenv())
      wrapper_calls <- list(quote(eval(e, envir)), quote(eval(call, envir)))
      describe_call <- function(call) {
        # Errors raised at top level report the prelude's own frames as their call: drop those.
        if (is.null(call) || any(vapply(wrapper_calls, identical, NA, call))) return("")
        text <- paste(deparse(call, nlines = 2L, width.cutoff = 200L), collapse = " ")
        if (nchar(text) > 300L) paste0(substr(text, 1L, 300L), "...") else text
      }
      record_warning <- function(w) {
        state$warnings <- c(state$warnings, conditionMessage(w))
        invokeRestart("muffleWarning")
      }
      record_error <- function(e) {
        state$error <- c(state$phase, conditionMessage(e), describe_call(conditionCall(e)))
        invokeRestart("abort")
      }
      reset <- function(phase) {
        state$warnings <- NULL
        state$error <- NULL
        state$phase <- phase
      }
      call_function <- function(call, envir) {
        reset("error")
        withCallingHandlers(eval(call, envir), warning = record_warning, error = record_error)
      }
      eval_text <- function(text, envir, print_visible) {
        reset("parse")
        withCallingHandlers({
          exprs <- parse(text = text, keep.source = FALSE)
          state$phase <- "error"
          value <- NULL
          for (e in exprs) {
            step <- withVisible(eval(e, envir))
            if (print_visible && step$visible) print(step$value)
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
    """#
}
