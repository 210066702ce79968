assign(".polybridge_pipeline", local({
  default_kind <- function(d) {
    if (is.symbol(d) && identical(as.character(d), "")) return("none")
    if (is.logical(d) && length(d) == 1L && is.na(d)) return("other")  # NA: any type
    if (is.call(d) && identical(d[[1L]], as.name("-")) && length(d) == 2L && is.numeric(d[[2L]])) return("number")
    if (is.numeric(d)) "number" else if (is.character(d)) "string" else if (is.logical(d)) "boolean"
    else if (is.null(d)) "null" else "other"
  }

  # The arguments of `name` as the script defines it at top level (the last definition), by
  # parsing only: nothing in the script runs.
  script_function <- function(file, name) {
    exprs <- parse(file, keep.source = FALSE)
    for (e in rev(as.list(exprs))) {
      if (is.call(e) && length(e) == 3L && (identical(e[[1L]], as.name("<-")) || identical(e[[1L]], as.name("="))) &&
          identical(e[[2L]], as.name(name)) && is.call(e[[3L]]) && identical(e[[3L]][[1L]], as.name("function"))) {
        fm <- e[[3L]][[2L]]
        args <- if (is.null(fm)) character(0) else names(fm)
        kinds <- if (is.null(fm)) character(0) else unname(vapply(as.list(fm), default_kind, ""))
        return(list(found = TRUE, args = args, kinds = kinds))
      }
    }
    list(found = FALSE, args = character(0), kinds = character(0))
  }

  # Files that `file` sources with a literal path (source("x.R") or sys.source), resolved
  # against the script's folder as source(chdir = TRUE) does, recursively.
  sourced_files <- function(file, seen = character(0)) {
    file <- normalizePath(file, mustWork = FALSE)
    if (file %in% seen || !file.exists(file)) return(seen)
    seen <- c(seen, file)
    walk <- function(e) {
      found <- character(0)
      if (is.call(e)) {
        f <- e[[1L]]
        if ((identical(f, as.name("source")) || identical(f, as.name("sys.source"))) && length(e) >= 2L && is.character(e[[2L]]))
          found <- e[[2L]]
        for (part in as.list(e)[-1L]) if (!missing(part)) found <- c(found, walk(part))
      }
      found
    }
    for (path in unlist(lapply(as.list(parse(file, keep.source = FALSE)), walk))) {
      full <- if (grepl("^/", path)) path else file.path(dirname(file), path)
      seen <- sourced_files(full, seen)
    }
    seen
  }

  # The source()/sys.source() calls in `file` and the files it sources whose path is not a
  # literal (source(paste0(dir, "x.R"))), as "<call> in <file>".
  unresolved_sources <- function(file) {
    found <- character(0)
    for (f in sourced_files(file)) {
      walk <- function(e) {
        if (!is.call(e)) return(invisible())
        head <- e[[1L]]
        if ((identical(head, as.name("source")) || identical(head, as.name("sys.source"))) && length(e) >= 2L && !is.character(e[[2L]]))
          found <<- c(found, sprintf("%s in %s", paste(deparse(e, width.cutoff = 200L), collapse = " "), basename(f)))
        for (part in as.list(e)[-1L]) if (!missing(part)) walk(part)
      }
      for (e in as.list(parse(f, keep.source = FALSE))) walk(e)
    }
    found
  }

  check_code <- function(code) { parse(text = code, keep.source = FALSE); TRUE }

  # What a step may change that the next step would otherwise see: the working directory,
  # environment variables, options, the random number state and new global variables.
  save_state <- function() {
    list(wd = getwd(), env = Sys.getenv(), options = options(), globals = ls(globalenv(), all.names = TRUE),
         seed = if (exists(".Random.seed", globalenv(), inherits = FALSE)) get(".Random.seed", globalenv()))
  }

  restore_state <- function(saved) {
    setwd(saved$wd)
    now <- Sys.getenv()
    gone <- setdiff(names(now), names(saved$env))
    if (length(gone)) Sys.unsetenv(gone)
    changed <- names(saved$env)[is.na(now[names(saved$env)]) | now[names(saved$env)] != saved$env]
    if (length(changed)) do.call(Sys.setenv, as.list(saved$env[changed]))
    added <- setdiff(names(options()), names(saved$options))
    if (length(added)) options(setNames(vector("list", length(added)), added))
    options(saved$options)
    new <- setdiff(ls(globalenv(), all.names = TRUE), saved$globals)
    new <- new[!startsWith(new, ".polybridge") & new != ".Random.seed"]
    if (length(new)) rm(list = new, envir = globalenv())
    if (is.null(saved$seed)) {
      if (exists(".Random.seed", globalenv(), inherits = FALSE)) rm(".Random.seed", envir = globalenv())
    } else {
      assign(".Random.seed", saved$seed, envir = globalenv())
    }
  }

  # Runs a step: the script sourced into a fresh environment (its folder as the working
  # directory while it is sourced), or inline code evaluated with the arguments bound. An
  # error keeps R's message and the call stack from the step's function down. Whatever the
  # step changes of the session's state is put back afterwards, so each step starts from
  # the pipeline's own (as targets runs each target).
  run_step <- function(file, code, fname, args) {
    saved <- save_state()
    on.exit(restore_state(saved), add = TRUE)
    env <- new.env(parent = globalenv())
    stack <- NULL
    base <- sys.nframe()
    handler <- function(e) {
      calls <- sys.calls()
      calls <- calls[seq_along(calls) > base + 2L]
      stack <<- vapply(calls, function(cl) paste(deparse(cl, nlines = 1L, width.cutoff = 120L), collapse = ""), "")
    }
    # Warnings are written when signalled, as "Warning in f(): ..." (R would hold them
    # until the top level, which an embedded step never returns to).
    warned <- function(w) {
      call <- conditionCall(w)
      where <- if (is.null(call)) "" else paste0(" in ", paste(deparse(call, nlines = 1L), collapse = ""))
      cat(sprintf("Warning%s: %s\n", where, conditionMessage(w)), file = stderr())
      invokeRestart("muffleWarning")
    }
    result <- tryCatch(withCallingHandlers({
      if (nzchar(file)) {
        sys.source(file, envir = env, chdir = TRUE, keep.source = TRUE)
        get(fname, envir = env, mode = "function")
        # Called by name with its arguments bound as symbols, so the call stack reads
        # clean(d = d) rather than a deparsed data frame.
        frame <- new.env(parent = env)
        for (nm in names(args)) assign(nm, args[[nm]], envir = frame)
        call <- as.call(c(as.name(fname), sapply(names(args), as.name, simplify = FALSE)))
        eval(call, frame)
      } else {
        for (nm in names(args)) assign(nm, args[[nm]], envir = env)
        eval(parse(text = code, keep.source = FALSE), env)
      }
    }, error = handler, warning = warned), error = function(e) {
      stack <- stack[!grepl("^(withCallingHandlers|tryCatch|tryCatchList|tryCatchOne|doTryCatch|do\\.call|eval|sys\\.source|\\.handleSimpleError|h)\\(", stack)]
      message <- conditionMessage(e)
      where <- if (is.null(conditionCall(e))) "" else paste(deparse(conditionCall(e), nlines = 1L), collapse = "")
      if (nzchar(where) && !grepl("^eval\\(", where)) message <- paste0("in ", where, ": ", message)
      if (length(stack)) message <- paste0(message, "\nR call stack:\n", paste0("  ", rev(stack), collapse = "\n"))
      stop(message, call. = FALSE)
    })
    if (is.data.frame(result)) return(list(result))
    if (is.list(result) && length(result) && !is.null(names(result)) && all(nzchar(names(result))) &&
        all(vapply(result, is.data.frame, NA))) return(result)
    stop(sprintf("the function returned %s, not a data frame or a named list of data frames",
                 paste(class(result), collapse = "/")), call. = FALSE)
  }

  environment()
}), envir = globalenv())
