assign(".polybridge_lm", local({
  # What a chunked fit may call in a formula: functions known to give each row's value from
  # that row alone, so a chunk computes what the whole data would. Anything else (min(y),
  # x[1], mean(x), a user's function) may read other rows, and is refused by name.
  rowwise_operators <- c("+", "-", "*", "/", "^", "%%", "%/%", "(", "==", "!=", "<", ">", "<=", ">=",
                         "&", "|", "!", "&&", "||", ":", "%in%", "~")
  rowwise_math <- c("abs", "sqrt", "exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos", "tan",
                    "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sinpi",
                    "cospi", "tanpi", "floor", "ceiling", "trunc", "round", "signif", "sign", "gamma",
                    "lgamma", "digamma", "trigamma", "beta", "lbeta", "choose", "lchoose", "factorial",
                    "lfactorial", "atan2", "is.na", "is.finite", "is.nan")
  rowwise_calls <- c(rowwise_operators, rowwise_math, "I", "factor", "as.factor", "interaction", "offset",
                     "pmin", "pmax", "ifelse")

  # The first function `text` calls that a chunk cannot compute row by row, or "". `also`
  # names functions the caller vouches for.
  not_rowwise <- function(text, also = character(0)) not_rowwise_call(formula_from_text(text), also)

  # The same for an R expression `e` (a formula, or a model's `predvars`).
  not_rowwise_call <- function(e, also = character(0)) {
    # A constant: a number, text or logical, or c() of such (the levels of x %in% c("a", "b")).
    constant <- function(a) {
      if (is.atomic(a)) return(TRUE)
      is.call(a) && identical(a[[1L]], as.name("c")) && all(vapply(as.list(a)[-1L], function(x) is.atomic(x) && length(x) == 1L, NA))
    }
    walk <- function(e) {
      if (!is.call(e)) return("")
      head <- e[[1L]]
      name <- if (is.name(head)) as.character(head) else paste(deparse(head, width.cutoff = 60L)[[1L]], "(a computed function)")
      args <- as.list(e)[-1L]
      named <- setdiff(names(args), "")
      # c() elsewhere than on the right of %in% or as factor()'s levels is recycled by row
      # position, which a chunk (or a batch of requests) does not keep.
      ok <- name %in% c(rowwise_calls, also) && name != "c"
      if (!ok) return(switch(name, "[" = "indexing ([)", "[[" = "indexing ([[)", "$" = "$", paste0(name, "()")))
      # x %in% y asks whether x is anywhere in all of y: y must be a constant.
      if (name == "%in%") {
        if (length(args) != 2L || !constant(args[[2L]])) return("%in% with a column on its right")
        args <- args[1L]
      }
      # Levels a chunk could not know alone: interaction's options, factor's labels.
      if (name == "interaction" && length(named)) return("interaction() with named arguments")
      if (name %in% c("factor", "as.factor")) {
        if (length(setdiff(named, "levels"))) return(paste0(name, "() with ", paste(setdiff(named, "levels"), collapse = ", ")))
        if ("levels" %in% named) {
          if (!constant(args[["levels"]])) {
            found <- walk(args[["levels"]])
            return(if (nzchar(found)) found else paste0(name, "() with levels that are not constants"))
          }
          args[["levels"]] <- NULL
        }
      }
      for (a in args) { found <- walk(a); if (nzchar(found)) return(found) }
      ""
    }
    walk(e)
  }

  formula_from_text <- function(text) {
    exprs <- tryCatch(parse(text = text, keep.source = FALSE),
                      error = function(e) stop("the formula is not valid R: ", conditionMessage(e), call. = FALSE))
    if (length(exprs) != 1L)
      stop(sprintf("the formula must be exactly one R formula; the text holds %d expressions", length(exprs)), call. = FALSE)
    e <- exprs[[1L]]
    if (!is.call(e) || !identical(e[[1L]], as.name("~")) || length(e) != 3L)
      stop("the formula must have the form response ~ terms", call. = FALSE)
    f <- eval(e, baseenv())  # `~` evaluates nothing: it only makes the formula object
    environment(f) <- globalenv()
    f
  }

  check_formula <- function(text) {
    f <- formula_from_text(text)
    lhs <- f[[2L]]
    if (is.call(lhs) && identical(lhs[[1L]], as.name("cbind")))
      stop(sprintf(paste("it has %d responses (%s): lm fits them as one multivariate model, whose summary is",
                         "one lm per response; fit each response on its own, e.g. '%s ~ ...'"),
                   length(lhs) - 1L, deparse(lhs, width.cutoff = 500L)[[1L]], deparse(lhs[[2L]])[[1L]]), call. = FALSE)
    paste(deparse(f, width.cutoff = 500L), collapse = " ")
  }

  model_frame <- function(f, data, weights, offset, xlev = NULL, drop = TRUE) {
    cl <- call("model.frame", formula = f, data = quote(data), na.action = quote(na.omit),
               drop.unused.levels = drop)
    if (!is.null(weights)) cl$weights <- as.name(weights)
    if (!is.null(offset)) cl$offset <- as.name(offset)
    if (!is.null(xlev)) cl$xlev <- xlev
    eval(cl)
  }

  summary_text <- function(s) paste(utils::capture.output(print(s)), collapse = "\n")

  # The model matrix's size before anything is fitted: its rows, its columns (from
  # model.matrix on a zero-row frame holding every variable's levels, so `.` and
  # interactions count as lm counts them), and the factor variable with the most levels.
  model_size <- function(data, text) {
    f <- formula_from_text(text)
    mt <- terms(f, data = data)
    vars <- as.list(attr(mt, "variables"))[-1L]
    names <- vapply(vars, function(v) paste(deparse(v, width.cutoff = 500L), collapse = " "), "")
    levels <- integer(0)
    proto <- lapply(seq_along(vars), function(i) {
      v <- eval(vars[[i]], data, environment(f))
      if (is.factor(v) || is.character(v)) {
        lev <- if (is.factor(v)) levels(droplevels(v)) else sort(unique(v[!is.na(v)]))
        levels[[names[[i]]]] <<- length(lev)
        return(factor(character(0), levels = lev))
      }
      if (is.logical(v)) return(logical(0))
      if (is.matrix(v)) return(v[0L, , drop = FALSE])
      numeric(0)
    })
    names(proto) <- names
    # The frame carries its terms, so model.matrix takes its columns as they are: model.frame
    # would evaluate log(z) or factor(k) again in a frame that has only their results.
    proto <- structure(proto, class = "data.frame", row.names = integer(0), terms = mt)
    columns <- tryCatch(ncol(model.matrix(mt, proto)), error = function(e) NA_integer_)
    biggest <- if (length(levels)) names(levels)[which.max(levels)] else ""
    list(rows = NROW(data), columns = columns, biggest = biggest, levels = if (length(levels)) max(levels) else 0L)
  }

  # R says only "contrasts can be applied only to factors with 2 or more levels" when error
  # `e` is that: the factor is named (`what` is "lm" or "glm"); any other error passes on.
  name_one_level_factor <- function(e, f, data, weights, offset, what) {
    if (grepl("contrasts can be applied only to factors with 2 or more levels", conditionMessage(e), fixed = TRUE)) {
      mf <- model_frame(f, data, weights, offset)
      for (nm in names(mf)) {
        x <- mf[[nm]]
        if ((is.factor(x) || is.character(x)) && length(unique(x)) < 2L)
          stop(sprintf("factor %s has only one level (%s) in these rows: %s needs two or more", nm,
                       paste(as.character(unique(x)), collapse = ""), what), call. = FALSE)
      }
    }
    stop(e)
  }

  # The whole data in one lm, as R itself fits it.
  fit_whole <- function(data, text, weights, offset, label) {
    f <- formula_from_text(text)
    cl <- call("lm", formula = f, data = quote(data))
    if (!is.null(weights)) cl$weights <- as.name(weights)
    if (!is.null(offset)) cl$offset <- as.name(offset)
    fit <- tryCatch(eval(cl), error = function(e) name_one_level_factor(e, f, data, weights, offset, "lm"))
    if (inherits(fit, "mlm"))
      stop("the response is a matrix of ", ncol(fit$coefficients), " columns: fit each response on its own", call. = FALSE)
    s <- summary(fit)
    s$call <- call("lm", formula = f, data = as.name(label))
    cf <- coef(s)
    list(names = rownames(cf), estimate = unname(cf[, 1L]), se = unname(cf[, 2L]),
         t = unname(cf[, 3L]), p = unname(cf[, 4L]), aliased = names(s$aliased)[s$aliased], terms = names(s$aliased),
         sigma = s$sigma, rdf = s$df[[2L]], rank = s$df[[1L]], r2 = s$r.squared,
         adj = s$adj.r.squared, fstat = if (is.null(s$fstatistic)) numeric(0) else unname(s$fstatistic),
         fp = if (is.null(s$fstatistic)) NA_real_ else
           pf(s$fstatistic[[1L]], s$fstatistic[[2L]], s$fstatistic[[3L]], lower.tail = FALSE),
         n = s$df[[1L]] + s$df[[2L]], dropped = length(fit$na.action),
         vcov = unname(c(s$cov.unscaled * s$sigma^2)), text = summary_text(s))
  }

  # How the whole data orders a factor variable's levels, from the values it is made of: a
  # factor keeps its declared order, numbers sort as numbers, anything else as text.
  level_order <- function(value) if (is.factor(value)) "declared" else if (is.numeric(value)) "numeric" else "text"

  # The separator between an interaction variable's name and its argument's number in the
  # names of the entries that carry the arguments' levels.
  part_mark <- "\x1f"

  # Chunk step 1: the factor levels lm would see in the rows it keeps, with how the whole
  # data orders them. An interaction(a, b, ...) variable also reports each argument's
  # levels (as entries named variable, part_mark, argument number), since its level order
  # crosses theirs.
  chunk_levels <- function(data, text, weights, offset) {
    f <- formula_from_text(text)
    mf <- model_frame(f, data, weights, offset, drop = FALSE)
    mt <- attr(mf, "terms")
    vars <- as.list(attr(mt, "variables"))[-1L]
    response <- attr(mt, "response")
    names <- character(0); full <- list(); present <- list(); order <- character(0)
    add <- function(nm, lev, here, kind) {
      names <<- c(names, nm); full[[length(full) + 1L]] <<- lev
      present[[length(present) + 1L]] <<- here; order <<- c(order, kind)
    }
    source_value <- function(e) eval(e, data, environment(f))
    for (i in setdiff(seq_along(vars), response)) {
      nm <- names(mf)[[i]]; x <- mf[[i]]; e <- vars[[i]]
      kind <- "declared"
      if (is.character(x) || is.logical(x)) { x <- factor(x); kind <- "text" }
      if (!is.factor(x)) next
      lev <- levels(x)
      if (is.call(e) && identical(e[[1L]], as.name("interaction"))) {
        kind <- "interaction"
        for (k in seq_along(e)[-1L]) {
          part <- source_value(e[[k]])
          add(paste0(nm, part_mark, k - 1L), levels(as.factor(part)), character(0), level_order(part))
        }
      } else if (is.call(e) && is.name(e[[1L]]) && as.character(e[[1L]]) %in% c("factor", "as.factor") && is.null(names(e))) {
        kind <- level_order(source_value(e[[2L]]))
      } else if (is.name(e) && !is.factor(source_value(e))) {
        kind <- "text"
      }
      add(nm, lev, lev[tabulate(unclass(x), length(lev)) > 0L], kind)
    }
    widths <- list()
    for (i in seq_along(vars)) if (!(names(mf)[[i]] %in% names)) widths[[names(mf)[[i]]]] <- NCOL(mf[[i]])
    list(names = names, full = full, present = present, order = order, rows = NROW(data),
         formula = paste(deparse(formula(mt), width.cutoff = 500L), collapse = " "), widths = widths)
  }

  # The number of model-matrix columns of the formula `text` (with `.` expanded) when the
  # factor variables have `levels` and the others `widths` columns (1 when not named): a
  # zero-row model frame through model.matrix, so contrasts and interactions count as lm
  # counts them. NA when R cannot lay it out (a factor with one level).
  model_columns <- function(text, levels, widths) {
    mt <- terms(formula_from_text(text))
    vars <- as.list(attr(mt, "variables"))[-1L]
    labels <- vapply(vars, function(v) paste(deparse(v, width.cutoff = 500L, backtick = !is.symbol(v) && is.language(v)),
                                             collapse = " "), "")
    proto <- lapply(labels, function(nm) {
      if (!is.null(levels[[nm]])) return(factor(character(0), levels = levels[[nm]]))
      w <- widths[[nm]]
      if (is.null(w) || w == 1L) numeric(0) else matrix(numeric(0), 0L, w)
    })
    names(proto) <- labels
    proto <- structure(proto, class = "data.frame", row.names = integer(0), terms = mt)
    tryCatch(ncol(model.matrix(mt, proto)), error = function(e) NA_integer_)
  }

  # The global levels, in the order lm on the whole data would use: a factor keeps its
  # declared levels (chunks' levels united in chunk order, as converting the whole data
  # unites them); levels made from numbers sort as numbers (factor(cyl)), from text or
  # logicals in R's collation; an interaction's levels cross its arguments' global levels,
  # the first varying fastest, as interaction() makes them. Only levels present in kept rows
  # remain (lm drops unused levels).
  merge_levels <- function(per_chunk) {
    names <- unique(unlist(lapply(per_chunk, `[[`, "names")))
    pick <- function(nm, key) Filter(Negate(is.null), lapply(per_chunk, function(p) {
      i <- match(nm, p$names); if (is.na(i)) NULL else p[[key]][[i]] }))
    global_levels <- function(nm) {
      values <- unique(unlist(pick(nm, "full")))
      switch(unlist(pick(nm, "order"))[[1L]],
             declared = values,
             numeric = values[order(as.numeric(values))],
             text = sort(values),
             interaction = {
               parts <- names[startsWith(names, paste0(nm, part_mark))]
               parts <- parts[order(as.integer(substring(parts, nchar(nm) + 2L)))]
               Reduce(function(a, b) as.vector(outer(a, b, paste, sep = ".")), lapply(parts, global_levels))
             })
    }
    xlev <- list()
    for (nm in names[!grepl(part_mark, names, fixed = TRUE)]) {
      ordered_levels <- global_levels(nm)
      xlev[[nm]] <- ordered_levels[ordered_levels %in% unique(unlist(pick(nm, "present")))]
    }
    xlev
  }

  # Chunk step 2: the triangular factor of [sqrt(w) X | sqrt(w) (y - offset)] with the
  # columns in model-matrix order (Q'[X|y] for an orthogonal Q), and the counts.
  chunk_factor <- function(data, text, weights, offset, xlev) {
    f <- formula_from_text(text)
    if (!length(xlev)) xlev <- NULL
    mf <- model_frame(f, data, weights, offset, xlev = xlev, drop = FALSE)
    mt <- attr(mf, "terms")
    x <- model.matrix(mt, mf)
    y <- model.response(mf, "numeric")
    if (NCOL(y) != 1L) stop("the response has ", NCOL(y), " columns: fit each response on its own", call. = FALSE)
    w <- model.weights(mf)
    off <- model.offset(mf)
    kept <- nrow(x)
    used <- kept
    # summary.lm in R before 4.3 counts the offset in the model sum of squares: these sums
    # let the combine do the same.
    offset_sums <- numeric(0)
    if (!is.null(off)) {
      ww <- if (is.null(w)) rep(1, kept) else w
      offset_sums <- c(sum(ww), sum(ww * off), sum(ww * off^2), colSums(ww * x), colSums(ww * off * x))
      y <- y - off
    }
    if (!is.null(w)) {
      if (any(w < 0)) stop("negative weights are not allowed", call. = FALSE)
      used <- sum(w != 0)
      s <- sqrt(w)
      x <- x * s
      y <- y * s
    }
    z <- cbind(x, y)
    if (nrow(z) > 0L) {
      q <- qr(z, tol = 0)  # any Q'z will do: the chunk's own rank does not matter
      r <- qr.R(q)[, order(q$pivot), drop = FALSE]
    } else {
      r <- z
    }
    list(r = c(r), rows = nrow(r), columns = colnames(x), kept = kept, used = used,
         dropped = NROW(data) - kept, intercept = attr(mt, "intercept"), offset_sums = offset_sums)
  }

  # Whether the native chunk path can build the model matrix: every model-frame variable
  # is a bare column name (no function calls, no `.`, no offset() term). Returns the
  # response and the predictor variables, or the reason it cannot.
  native_plan <- function(text) {
    f <- formula_from_text(text)
    mt <- tryCatch(terms(f), error = function(e) NULL)
    if (is.null(mt)) return(list(reason = "the formula needs the data to expand"))
    vars <- as.list(attr(mt, "variables"))[-1L]
    if (!length(vars) || !all(vapply(vars, is.name, NA)))
      return(list(reason = "a term calls a function"))
    if (attr(mt, "response") != 1L) return(list(reason = "the formula has no response"))
    names <- vapply(vars, as.character, "")
    list(reason = "", response = names[[1L]], predictors = names[-1L])
  }

  # The model matrix's columns as products of per-variable parts, for the native chunk
  # path: column j is the product over its components of a numeric variable's value or a
  # factor variable's contrast column (indexed by level). The column names, contrasts and
  # errors are model.matrix's own, from a zero-row frame with the global levels.
  native_layout <- function(text, xlev, ordered) {
    f <- formula_from_text(text)
    mt <- terms(f)
    vars <- vapply(as.list(attr(mt, "variables"))[-1L], as.character, "")
    proto <- lapply(vars, function(v)
      if (v %in% names(xlev)) factor(character(0), levels = xlev[[v]], ordered = v %in% ordered) else numeric(0))
    names(proto) <- vars
    proto <- structure(proto, class = "data.frame", row.names = integer(0))
    mf <- model.frame(mt, proto, drop.unused.levels = FALSE)
    x <- model.matrix(mt, mf)
    fac <- attr(mt, "factors")
    # As model.matrix does: without an intercept, the first factor of the first term that
    # has one is coded by indicators for all its levels.
    if (!attr(mt, "intercept")) {
      first <- which(fac > 0 & rownames(fac)[row(fac)] %in% names(xlev), arr.ind = TRUE)
      if (nrow(first)) { first <- first[order(first[, 2L], first[, 1L]), , drop = FALSE][1L, ]; fac[first[[1L]], first[[2L]]] <- 2L }
    }
    variables <- list(); values <- list()
    if (attr(mt, "intercept")) { variables[[1L]] <- character(0); values[[1L]] <- list() }
    for (t in seq_len(NCOL(fac) * (length(fac) > 0L))) {
      inside <- rownames(fac)[fac[, t] > 0]
      parts <- lapply(inside, function(v) {
        if (!is.factor(mf[[v]])) return(NULL)
        m <- if (fac[v, t] == 1L) contrasts(mf[[v]]) else contrasts(mf[[v]], contrasts = FALSE)
        lapply(seq_len(ncol(m)), function(k) unname(m[, k]))
      })
      widths <- vapply(parts, function(p) if (is.null(p)) 1L else length(p), 1L)
      for (index in seq_len(prod(widths)) - 1L) {
        picks <- integer(length(inside)); rest <- index
        for (i in seq_along(inside)) { picks[[i]] <- rest %% widths[[i]]; rest <- rest %/% widths[[i]] }
        variables[[length(variables) + 1L]] <- inside
        values[[length(values) + 1L]] <- lapply(seq_along(inside), function(i)
          if (is.null(parts[[i]])) numeric(0) else parts[[i]][[picks[[i]] + 1L]])
      }
    }
    if (length(variables) != ncol(x)) stop("the native layout does not match model.matrix", call. = FALSE)
    list(names = colnames(x), variables = variables, values = values, intercept = attr(mt, "intercept"))
  }

  # The model matrix, response, weights and offset of `data`'s kept rows as model.frame and
  # model.matrix make them: the oracle each chunk checks its native rows against.
  model_rows <- function(data, text, weights, offset, xlev) {
    f <- formula_from_text(text)
    if (!length(xlev)) xlev <- NULL
    mf <- model_frame(f, data, weights, offset, xlev = xlev, drop = FALSE)
    x <- model.matrix(attr(mf, "terms"), mf)
    w <- model.weights(mf); off <- model.offset(mf)
    list(x = c(x), y = as.numeric(model.response(mf, "numeric")), kept = nrow(x),
         w = if (is.null(w)) numeric(0) else as.numeric(w), off = if (is.null(off)) numeric(0) else as.numeric(off))
  }

  # A coefficient plot: each estimate with its 95% confidence interval (t quantile on the
  # residual df), drawn with R's png device (cairo, so no display is needed).
  plot_coefficients <- function(file, names, estimate, se, df, title) {
    k <- length(names)
    if (!k) stop("the fit has no coefficients to plot", call. = FALSE)
    q <- if (is.finite(df) && df > 0) stats::qt(0.975, df) else stats::qnorm(0.975)
    lo <- estimate - q * se; hi <- estimate + q * se
    type <- if (capabilities("cairo")) "cairo" else NULL
    args <- list(filename = file, width = 1000, height = max(320, 90 + 32 * k), res = 120)
    if (!is.null(type)) args$type <- type
    do.call(grDevices::png, args)
    on.exit(grDevices::dev.off())
    op <- graphics::par(mar = c(4.5, min(20, max(5, 0.6 * max(nchar(names)) + 1)), 3.5, 1.5))
    xr <- range(c(lo, hi, estimate, 0)[is.finite(c(lo, hi, estimate, 0))])
    graphics::plot(xr, c(0.5, k + 0.5), type = "n", yaxt = "n", ylab = "", main = title,
                   xlab = "estimate with 95% confidence interval", cex.main = 0.95)
    graphics::axis(2, at = k:1, labels = names, las = 1, cex.axis = 0.85)
    graphics::abline(v = 0, lty = 2, col = "grey55")
    graphics::segments(lo, k:1, hi, k:1, lwd = 2.5, col = "steelblue")
    graphics::points(estimate, k:1, pch = 19, cex = 0.9)
    invisible(file)
  }

  # Whether this R's summary.lm takes the model sum of squares from fitted values that
  # include the offset (R before 4.3 does; later versions subtract it first).
  summary_counts_offset <- !any(grepl("offset", deparse(body(stats::summary.lm))))

  # The combine: stack the chunks' factors and decide the rank as lm.fit does (LINPACK
  # dqrdc2, tol 1e-7) on the stacked rows, which have the same Gram matrix as the data.
  combine_exact <- function(parts) {
    columns <- parts[[1L]]$columns
    p <- length(columns)
    s <- do.call(rbind, lapply(parts, function(part) matrix(part$r, nrow = part$rows, ncol = p + 1L)))
    fit <- lm.fit(s[, seq_len(p), drop = FALSE], s[, p + 1L])
    n <- sum(vapply(parts, `[[`, 0, "used"))
    dropped <- sum(vapply(parts, `[[`, 0, "dropped"))
    intercept <- parts[[1L]]$intercept
    rank <- fit$rank
    effects <- fit$effects
    # The stack has the data's Gram matrix, so its residual sum of squares is the data's
    # (lm.fit returns no effects for a model of no columns).
    rss <- sum(fit$residuals^2)
    mss <- if (intercept) sum(effects[seq_len(rank)][-1L]^2) else sum(effects[seq_len(rank)]^2)
    if (length(parts[[1L]]$offset_sums) && summary_counts_offset) {
      sums <- Reduce(`+`, lapply(parts, `[[`, "offset_sums"))
      b <- fit$coefficients
      b[is.na(b)] <- 0
      sw <- sums[[1L]]; so <- sums[[2L]]; soo <- sums[[3L]]
      xw <- sums[3L + seq_len(p)]; xo <- sums[3L + p + seq_len(p)]
      if (intercept) {
        m <- so / sw
        mss <- mss + 2 * (sum(b * xo) - m * sum(b * xw)) + (soo - so * m)
      } else {
        mss <- mss + 2 * sum(b * xo) + soo
      }
    }
    statistics(fit$coefficients, fit$qr, rank, n, rss, mss, intercept, dropped, columns)
  }

  statistics <- function(coefficients, qr, rank, n, rss, mss, intercept, dropped, columns) {
    rdf <- n - rank
    if (rdf <= 0L) stop(sprintf("%d rows used for %d coefficients: no residual degrees of freedom", n, rank), call. = FALSE)
    p1 <- seq_len(rank)
    resvar <- rss / rdf
    R <- if (rank) chol2inv(qr$qr[p1, p1, drop = FALSE]) else matrix(numeric(0), 0L, 0L)
    kept <- qr$pivot[p1]
    est <- unname(coefficients[kept])
    se <- sqrt(diag(R) * resvar)
    tval <- est / se
    df.int <- if (intercept) 1L else 0L
    # As summary.lm: a model of the intercept alone (or of nothing) explains nothing, whatever
    # an offset contributes, so R-squared is 0 and there is no F statistic.
    explains <- rank != df.int && rank > 0L
    r2 <- if (explains) mss / (mss + rss) else 0
    adj <- if (explains) 1 - (1 - r2) * ((n - df.int) / rdf) else 0
    fstat <- if (explains) c((mss / (rank - df.int)) / resvar, rank - df.int, rdf) else numeric(0)
    list(names = columns[kept], estimate = est, se = se, t = tval,
         p = 2 * pt(abs(tval), rdf, lower.tail = FALSE), aliased = columns[is.na(coefficients)], terms = columns,
         sigma = sqrt(resvar), rdf = rdf, rank = rank, r2 = r2,
         adj = adj, fstat = fstat,
         fp = if (length(fstat)) pf(fstat[[1L]], fstat[[2L]], fstat[[3L]], lower.tail = FALSE) else NA_real_,
         n = n, dropped = dropped, vcov = c(R * resvar))
  }

  # summary.lm's printout for a fit made of chunks: the same object, printed by R's own
  # print method; the residual quantiles (which need every row) are not known.
  chunked_text <- function(st, text, label, note) {
    cf <- cbind(st$estimate, st$se, st$t, st$p)
    dimnames(cf) <- list(st$names, c("Estimate", "Std. Error", "t value", "Pr(>|t|)"))
    all <- c(st$names, st$aliased)
    ans <- list(call = call("lm", formula = formula_from_text(text), data = as.name(label)),
                residuals = numeric(0), coefficients = cf,
                aliased = setNames(all %in% st$aliased, all), sigma = st$sigma,
                df = c(st$rank, st$rdf, length(all)), r.squared = st$r2,
                adj.r.squared = st$adj)
    if (length(st$fstat)) ans$fstatistic <- setNames(st$fstat, c("value", "numdf", "dendf"))
    if (st$dropped > 0) ans$na.action <- structure(seq_len(st$dropped), class = "omit")
    class(ans) <- "summary.lm"
    lines <- utils::capture.output(print(ans))
    start <- grep("^Residuals:", lines)
    if (length(start)) lines <- c(lines[seq_len(start - 1L)], paste("Residuals:", note), lines[-seq_len(start + 2L)])
    paste(lines, collapse = "\n")
  }

  environment()
}), envir = globalenv())
