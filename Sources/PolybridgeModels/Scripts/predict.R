# The R side of predictions from R model objects (`ModelPredictionJob`), bound as
# `.polybridge_predict` in R's global environment (it uses `.polybridge_lm`, installed first).
assign(".polybridge_predict", local({
  # Models read so far, by path: each with the version of its file it was read from.
  models <- new.env(parent = emptyenv())

  # The R object in the RDS file `path`, read once per version of the file (its size and
  # modification time); an object without a predict method is refused, naming its class.
  entry <- function(path) {
    info <- file.info(path, extra_cols = FALSE)
    if (is.na(info$size)) stop(sprintf("no model file %s", path), call. = FALSE)
    key <- c(info$size, unclass(info$mtime))
    kept <- models[[path]]
    if (!is.null(kept) && identical(kept$key, key)) return(kept)
    object <- readRDS(path)
    methods <- vapply(class(object), function(k) !is.null(utils::getS3method("predict", k, optional = TRUE)), NA)
    if (!any(methods)) {
      stop(sprintf("%s holds an object of class %s, which has no predict method", path, paste(class(object), collapse = "/")),
           call. = FALSE)
    }
    kept <- list(key = key, object = object)
    assign(path, kept, envir = models)
    kept
  }

  model <- function(path) entry(path)$object

  # R's predict() of the model in `path` on `columns` (a named list of equal-length vectors),
  # with `type` and `interval` passed when given. Returns the predictions (`fit`), and the
  # interval's bounds (`lwr`, `upr`) when predict gives a matrix of them.
  predict_rows <- function(path, columns, type, interval) {
    kept <- entry(path)
    # The columns as a data frame, as as.data.frame(columns, stringsAsFactors = FALSE,
    # optional = TRUE) makes it, without its checks (the columns are plain vectors of one length).
    n <- if (length(columns)) length(columns[[1L]]) else 0L
    newdata <- structure(columns, class = "data.frame", row.names = c(NA_integer_, -n))
    out <- if (is.null(type) && is.null(interval)) stats::predict(kept$object, newdata = newdata)
      else if (is.null(interval)) stats::predict(kept$object, newdata = newdata, type = type)
      else if (is.null(type)) stats::predict(kept$object, newdata = newdata, interval = interval)
      else stats::predict(kept$object, newdata = newdata, type = type, interval = interval)
    if (is.matrix(out) && identical(colnames(out), c("fit", "lwr", "upr"))) {
      return(list(fit = unname(as.double(out[, 1L])), lwr = unname(as.double(out[, 2L])), upr = unname(as.double(out[, 3L]))))
    }
    if (is.list(out) && !is.null(out$fit)) out <- out$fit
    list(fit = unname(as.double(out)))
  }

  # Whether the predictions of the model `object` for a row depend on that row alone, so rows
  # of several requests may be predicted in one call: a model that R predicts with stats' own
  # predict.lm, predict.glm or predict.mlm, whose terms, as predict() evaluates them on new
  # data (`predvars`), call only row-wise functions (those of a chunked fit, and poly() with its
  # saved coefficients), and whose offsets (in the formula, or the call's `offset =`) do too.
  # Not so for I(x - mean(x)), which takes the mean of the new data, or for other classes.
  rowwise <- function(object) {
    method <- NULL
    for (k in class(object)) {
      method <- utils::getS3method("predict", k, optional = TRUE)
      if (!is.null(method)) break
    }
    own <- lapply(c("lm", "glm", "mlm"), function(k) utils::getS3method("predict", k))
    if (is.null(method) || !any(vapply(own, identical, NA, method))) return(FALSE)
    tt <- tryCatch(stats::delete.response(stats::terms(object)), error = function(e) NULL)
    if (is.null(tt)) return(FALSE)
    vars <- attr(tt, "predvars")
    if (is.null(vars)) vars <- attr(tt, "variables")
    polys <- all(vapply(all_calls(vars), function(e) !identical(e[[1L]], as.name("poly")) || !is.null(e$coefs), NA))
    # predict.lm evaluates the formula's offsets from the terms' variables, and the call's offset.
    offsets <- c(lapply(attr(tt, "offset"), function(i) attr(tt, "variables")[[i + 1L]]), list(object$call$offset))
    offset_rowwise <- function(e) {
      if (is.null(e) || is.name(e)) return(TRUE)
      # A vector kept in the call is recycled by row position.
      if (is.atomic(e)) return(length(e) <= 1L)
      is.call(e) && !nzchar(.polybridge_lm$not_rowwise_call(e))
    }
    polys && !nzchar(.polybridge_lm$not_rowwise_call(vars, also = c("list", "poly"))) && all(vapply(offsets, offset_rowwise, NA))
  }

  # Every call within the expression `e`, `e` included.
  all_calls <- function(e) {
    if (!is.call(e)) return(list())
    c(list(e), unlist(lapply(as.list(e)[-1L], all_calls), recursive = FALSE))
  }

  # The columns the model in `path` predicts from, and each one's kind ("numeric", "factor"
  # for factor or text, "logical"), from its terms where it has them (none otherwise), and
  # whether its rows may be predicted together with other requests' (`rowwise`).
  describe <- function(path) {
    object <- model(path)
    tt <- tryCatch(stats::delete.response(stats::terms(object)), error = function(e) NULL)
    if (is.null(tt)) return(list(names = character(), kinds = character(), rowwise = FALSE))
    # The call's `offset =` is evaluated on the new data too.
    offset <- if (is.list(object) && is.call(object$call)) object$call$offset
    vars <- unique(c(all.vars(tt), if (is.language(offset)) all.vars(offset)))
    classes <- attr(tt, "dataClasses")
    kinds <- vapply(vars, function(v) {
      k <- if (!is.null(classes) && v %in% names(classes)) classes[[v]] else "numeric"
      if (k %in% c("factor", "ordered", "character")) "factor" else if (k == "logical") "logical" else "numeric"
    }, "")
    list(names = vars, kinds = unname(kinds), rowwise = rowwise(object))
  }

  environment()
}), envir = globalenv())
