/// R code evaluated once at start-up: the wrappers every evaluation goes through.
///
/// Each wrapper returns `list(status, value, message, call, warnings)` so that errors,
/// interrupts and warnings come back as data instead of a longjmp.
enum RPrelude {
    static let source = #"""
    local({
      wrapper_calls <- list(quote(eval(e, envir)), quote(thunk()))
      describe_call <- function(call) {
        # Errors raised at top level report the prelude's own frames as their call: drop those.
        if (is.null(call) || any(vapply(wrapper_calls, identical, NA, call))) return("")
        text <- paste(deparse(call, nlines = 2L, width.cutoff = 200L), collapse = " ")
        if (nchar(text) > 300L) paste0(substr(text, 1L, 300L), "...") else text
      }
      run <- function(thunk) {
        collected <- character()
        outcome <- withCallingHandlers(
          tryCatch(list("ok", thunk(), "", ""),
            error = function(e) list("error", NULL, conditionMessage(e), describe_call(conditionCall(e))),
            interrupt = function(e) list("interrupt", NULL, "interrupted", "")),
          warning = function(w) {
            collected <<- c(collected, conditionMessage(w))
            invokeRestart("muffleWarning")
          })
        if (is.null(outcome[[2L]])) outcome[2L] <- list(NULL)
        outcome[[5L]] <- collected
        outcome
      }
      eval_text <- function(text, envir, print_visible) {
        exprs <- tryCatch(parse(text = text, keep.source = FALSE),
          error = function(e) conditionMessage(e))
        if (is.character(exprs)) return(list("parse", NULL, exprs, "", character()))
        run(function() {
          value <- NULL
          for (e in exprs) {
            step <- withVisible(eval(e, envir))
            if (print_visible && step$visible) print(step$value)
            value <- step$value
          }
          value
        })
      }
      call_function <- function(f, args, envir) {
        env <- new.env(parent = envir)
        labels <- names(args)
        if (is.null(labels)) labels <- character(length(args))
        symbols <- paste0(".arg", seq_along(args))
        for (i in seq_along(args)) assign(symbols[[i]], args[[i]], envir = env)
        call_args <- lapply(symbols, as.name)
        names(call_args) <- labels
        head <- if (is.character(f)) str2lang(f) else f
        run(function() eval(as.call(c(list(head), call_args)), env))
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
      list(eval_text = eval_text, call_function = call_function)
    })
    """#
}
