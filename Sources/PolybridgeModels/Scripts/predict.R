# The R side of predictions from R model objects (`ModelPredictionJob`), bound as
# `.polybridge_predict` in R's global environment.
assign(".polybridge_predict", local({
  # Models read so far, by path: each with the version of its file it was read from.
  models <- new.env(parent = emptyenv())

  # The R object in the RDS file `path`, read once per version of the file (its size and
  # modification time); an object without a predict method is refused, naming its class.
  model <- function(path) {
    info <- file.info(path)
    if (is.na(info$size)) stop(sprintf("no model file %s", path), call. = FALSE)
    key <- paste(info$size, format(info$mtime, "%Y-%m-%d %H:%M:%OS6"))
    kept <- models[[path]]
    if (!is.null(kept) && identical(kept$key, key)) return(kept$object)
    object <- readRDS(path)
    methods <- vapply(class(object), function(k) !is.null(utils::getS3method("predict", k, optional = TRUE)), NA)
    if (!any(methods)) {
      stop(sprintf("%s holds an object of class %s, which has no predict method", path, paste(class(object), collapse = "/")),
           call. = FALSE)
    }
    assign(path, list(key = key, object = object), envir = models)
    object
  }

  # R's predict() of the model in `path` on `columns` (a named list of equal-length vectors),
  # with `type` and `interval` passed when given. Returns the predictions (`fit`), and the
  # interval's bounds (`lwr`, `upr`) when predict gives a matrix of them.
  predict_rows <- function(path, columns, type, interval) {
    object <- model(path)
    newdata <- as.data.frame(columns, stringsAsFactors = FALSE, optional = TRUE)
    arguments <- list(object, newdata = newdata)
    if (!is.null(type)) arguments$type <- type
    if (!is.null(interval)) arguments$interval <- interval
    out <- do.call(stats::predict, arguments)
    if (is.matrix(out) && ncol(out) == 3L) {
      return(list(fit = unname(as.double(out[, 1L])), lwr = unname(as.double(out[, 2L])), upr = unname(as.double(out[, 3L]))))
    }
    if (is.list(out) && !is.null(out$fit)) out <- out$fit
    list(fit = unname(as.double(out)))
  }

  # The columns the model in `path` predicts from, and each one's kind ("numeric", "factor"
  # for factor or text, "logical"), from its terms where it has them (none otherwise).
  describe <- function(path) {
    object <- model(path)
    tt <- tryCatch(stats::delete.response(stats::terms(object)), error = function(e) NULL)
    if (is.null(tt)) return(list(names = character(), kinds = character()))
    vars <- all.vars(tt)
    classes <- attr(tt, "dataClasses")
    kinds <- vapply(vars, function(v) {
      k <- if (!is.null(classes) && v %in% names(classes)) classes[[v]] else "numeric"
      if (k %in% c("factor", "ordered", "character")) "factor" else if (k == "logical") "logical" else "numeric"
    }, "")
    list(names = vars, kinds = unname(kinds))
  }

  environment()
}), envir = globalenv())
