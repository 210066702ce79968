# The R side of one fit per group (`polybridge fit --by`), bound as `.polybridge_grouped` in
# R's global environment (it uses `.polybridge_lm` and `.polybridge_glm`, installed first).
assign(".polybridge_grouped", local({
  # One fit per group: R's lm or glm on each group's rows, as lapply(split(d, keys), ...)
  # fits them, collected into two tables named as broom names them (the coefficients, one row
  # per term; the groups, one row per group). A group that cannot be fitted keeps R's message
  # and has no coefficients; the others go on.

  # The groups of the data by its key columns `keys` (a data frame of those columns alone; the
  # data itself comes with set_data, when R fits a group). Rows whose key has a missing value
  # are left out, as split() leaves them out. The groups are in ascending order of their keys
  # (the first column first; factors by their levels, text in C-locale order).
  prepare <- function(keys) {
    e <- new.env(parent = emptyenv())
    complete <- stats::complete.cases(keys)
    e$missing_keys <- sum(!complete)
    columns <- unname(as.list(keys))
    kept <- NULL
    if (e$missing_keys > 0L) {
      kept <- which(complete)
      columns <- lapply(columns, `[`, kept)
    }
    rm(complete)
    # The rows in key order, held once (`order`); a group is a run of it (`starts`, `sizes`).
    o <- if (length(columns[[1L]])) do.call(order, c(columns, list(method = "radix"))) else integer()
    changed <- logical(length(o))
    if (length(o) > 1L) {
      for (column in columns) {
        values <- if (is.factor(column)) unclass(column)[o] else column[o]
        changed[-1L] <- changed[-1L] | values[-1L] != values[-length(values)]
        rm(values)
      }
    }
    rm(columns)
    if (!is.null(kept)) o <- kept[o]
    starts <- if (length(o)) which(c(TRUE, changed[-1L])) else integer()
    rm(changed, kept)
    e$order <- o
    e$starts <- starts
    e$sizes <- diff(c(starts, length(o) + 1L))
    # Big data: the temporaries of the ordering go now, before the fits need the memory.
    if (length(o) >= 1e6) invisible(gc(FALSE))
    finish(e, keys[o[starts], , drop = FALSE])
  }

  # Completes a state whose groups are known: their keys (one row each), labels and results.
  finish <- function(e, keys) {
    rownames(keys) <- NULL
    e$keys <- keys
    e$labels <- if (nrow(keys)) do.call(paste, c(lapply(names(keys), function(k) paste0(k, "=", format_key(keys[[k]]))),
                                                 list(sep = ", "))) else character()
    e$results <- vector("list", nrow(keys))
    e$native <- list()
    e$batches <- list()
    e
  }

  # The groups of data already grouped: runs of `sizes` rows, one run per group, whose keys
  # are the rows of `keys` (the key columns, one row per group; none missing).
  prepare_runs <- function(keys, sizes) {
    e <- new.env(parent = emptyenv())
    e$missing_keys <- 0
    e$sizes <- as.integer(sizes)
    e$order <- seq_len(sum(e$sizes))
    e$starts <- if (length(sizes)) cumsum(c(1L, e$sizes[-length(e$sizes)])) else integer()
    finish(e, keys)
  }

  # The groups of data partitioned by workers: `parts` holds one data frame per part (the key
  # columns, one row per group of the part in the part's order, and `__rows`, its row count),
  # and `missing` the rows the parts left out for a missing key. A group may appear in several
  # parts (and, for keys R holds equal, more than once in one). Returns the state, whose
  # `pieces` say where each group's rows are: `group`, `part` (from 1), `start` (0-based row of
  # the part) and `size`, ordered by group.
  prepare_parts <- function(parts, missing) {
    sizes <- lapply(parts, function(p) as.integer(p[["__rows"]]))
    keys <- do.call(rbind, lapply(parts, function(p) p[setdiff(names(p), "__rows")]))
    rownames(keys) <- NULL
    e <- prepare(keys)
    e$missing_keys <- missing
    group <- integer(nrow(keys))
    group[e$order] <- rep.int(seq_along(e$starts), e$sizes)
    size <- unlist(sizes, use.names = FALSE)
    start <- unlist(lapply(sizes, function(s) if (length(s)) cumsum(c(0L, s[-length(s)])) else integer()), use.names = FALSE)
    part <- rep.int(seq_along(sizes), lengths(sizes))
    o <- order(group, part, start, method = "radix")
    e$pieces <- data.frame(group = group[o], part = part[o], start = start[o], size = size[o])
    e$order <- NULL
    e
  }

  # The pieces of `e` (prepare_parts), as columns.
  pieces <- function(e) as.list(e$pieces)

  # The rows (1-based) of group `i` of `e`.
  rows_of <- function(e, i) e$order[seq.int(e$starts[[i]], length.out = e$sizes[[i]])]

  format_key <- function(x) as.character(x)

  # The data whose groups R fits.
  set_data <- function(e, data) {
    e$data <- data
    invisible(NULL)
  }

  # Sets the model of `e`'s fits: the call that fits one group's rows `d` (lm, or glm with the
  # family, its link and control). The call stays in `e`: a call handed back to R as an argument
  # would be evaluated.
  set_model <- function(e, text, family, link, weights, offset, epsilon, maxit) {
    e$call <- fit_call(text, family, link, weights, offset, epsilon, maxit)
    invisible(NULL)
  }

  fit_call <- function(text, family, link, weights, offset, epsilon, maxit) {
    f <- .polybridge_lm$formula_from_text(text)
    cl <- if (is.null(family)) call("lm", formula = f, data = quote(d)) else
      call("glm", formula = f, family = .polybridge_glm$family_from(family, link), data = quote(d),
           control = call("glm.control", epsilon = epsilon, maxit = maxit))
    if (!is.null(weights)) cl$weights <- as.name(weights)
    if (!is.null(offset)) cl$offset <- as.name(offset)
    cl
  }

  # Fits groups `from`..`to` of `e` with its model, keeping each group's result in `e`.
  fit_batch <- function(e, from, to) fit_indices(e, seq.int(from, to))

  # Fits the groups `indices` of `e` with R's lm or glm.
  fit_indices <- function(e, indices) {
    cl <- e$call
    glm <- identical(cl[[1L]], as.name("glm"))
    for (i in indices) {
      d <- e$data[rows_of(e, i), , drop = FALSE]
      warnings <- character()
      started <- proc.time()[[3L]]
      fit <- tryCatch(withCallingHandlers(eval(cl, list(d = d), globalenv()), warning = function(w) {
        warnings <<- c(warnings, conditionMessage(w))
        invokeRestart("muffleWarning")
      }), error = function(err) err)
      e$results[[i]] <- summarise(fit, glm, nrow(d), warnings, proc.time()[[3L]] - started)
    }
    invisible(NULL)
  }

  # One group's coefficients and statistics, or its error.
  summarise <- function(fit, glm, rows, warnings, seconds) {
    warning <- if (length(warnings)) paste(unique(warnings), collapse = "; ") else NA_character_
    if (inherits(fit, "error")) {
      return(list(error = conditionMessage(fit), warning = warning, rows = rows, seconds = seconds))
    }
    s <- summary(fit)
    estimate <- stats::coef(fit)
    table <- s$coefficients
    # Coefficients without names (an lm whose every weight is zero) take the model matrix's.
    term <- if (is.null(names(estimate))) colnames(stats::model.matrix(fit)) else names(estimate)
    pick <- function(column) unname(table[, column][match(term, rownames(table))])
    used <- NROW(fit$model)
    out <- list(error = NA_character_, warning = warning, rows = rows, seconds = seconds, used = used,
                term = term, estimate = unname(estimate), std_error = pick(2L), statistic = pick(3L),
                p_value = pick(4L), df_residual = fit$df.residual)
    if (glm) {
      c(out, list(deviance = fit$deviance, null_deviance = fit$null.deviance, aic = fit$aic, dispersion = s$dispersion,
                  iterations = fit$iter, converged = fit$converged))
    } else {
      f <- s$fstatistic
      c(out, list(r_squared = s$r.squared, adj_r_squared = s$adj.r.squared, sigma = s$sigma,
                  f_statistic = if (is.null(f)) NA_real_ else unname(f[[1L]])))
    }
  }

  # Every group's numbers, once every group is fitted, as columns (`g`, one entry per group,
  # by the internal names) and the coefficients (`parts`, lists of columns whose `group` is the
  # group's index): the groups R fitted keep a list each (e$results), those fitted outside R a
  # batch of columns each (e$native), and those fitted by workers a batch of tables each
  # (e$batches, from add_batch).
  gather <- function(e, glm) {
    n <- length(e$starts)
    statistics <- if (glm) c("deviance", "null_deviance", "aic", "dispersion") else c("r_squared", "adj_r_squared", "sigma", "f_statistic")
    g <- list(error = rep(NA_character_, n), warning = rep(NA_character_, n), rows = integer(n), used = rep(NA_integer_, n),
              df_residual = rep(NA_integer_, n), seconds = numeric(n))
    for (name in statistics) g[[name]] <- rep(NA_real_, n)
    if (glm) {
      g$iterations <- rep(NA_integer_, n)
      g$converged <- rep(NA, n)
    }
    parts <- list()
    for (i in which(!vapply(e$results, is.null, NA))) {
      r <- e$results[[i]]
      for (name in intersect(names(g), names(r))) g[[name]][[i]] <- r[[name]]
      if (length(r$term)) parts[[length(parts) + 1L]] <- list(group = rep.int(i, length(r$term)), term = r$term, estimate = r$estimate,
                                                             std_error = r$std_error, statistic = r$statistic, p_value = r$p_value)
    }
    for (b in e$native) {
      for (name in intersect(names(g), names(b))) g[[name]][b$index] <- b[[name]]
      parts[[length(parts) + 1L]] <- list(group = rep.int(b$index, b$counts), term = b$term, estimate = b$estimate,
                                         std_error = b$std_error, statistic = b$statistic, p_value = b$p_value)
    }
    for (b in e$batches) {
      for (name in intersect(names(g), names(b$groups))) g[[name]][b$index] <- b$groups[[name]]
      k <- b$coefficients
      parts[[length(parts) + 1L]] <- list(group = b$index[k$group], term = k$term, estimate = k$estimate, std_error = k$std_error,
                                         statistic = k$statistic, p_value = k$p_value)
    }
    list(g = g, parts = parts)
  }

  # One batch's numbers as two data frames, for the coordinator's add_batch: the groups (the
  # internal names of gather) and the coefficients (with `group`, the batch's group index).
  raw <- function(e, glm) {
    r <- gather(e, glm)
    list(groups = as.data.frame(r$g, stringsAsFactors = FALSE), coefficients = coefficient_frame(r$parts))
  }

  # The coefficients of `parts` (gather) as one data frame ordered by `group`.
  coefficient_frame <- function(parts) {
    column <- function(name, empty) if (length(parts)) unlist(lapply(parts, `[[`, name), use.names = FALSE) else empty
    group <- as.integer(column("group", integer()))
    o <- order(group, method = "radix")
    data.frame(group = group[o], term = as.character(column("term", character())[o]),
               estimate = as.double(column("estimate", double())[o]), std_error = as.double(column("std_error", double())[o]),
               statistic = as.double(column("statistic", double())[o]), p_value = as.double(column("p_value", double())[o]),
               stringsAsFactors = FALSE)
  }

  # Keeps a worker's batch (raw's two tables) for the groups `index` of `e` (the batch's
  # groups in its order).
  add_batch <- function(e, index, groups, coefficients) {
    e$batches[[length(e$batches) + 1L]] <- list(index = as.integer(index), groups = groups, coefficients = coefficients)
    invisible(NULL)
  }

  # Keeps the result of group `i` fitted elsewhere (a big group in chunks), in summarise's form.
  set_result <- function(e, i, result) {
    e$results[[i]] <- result
    invisible(NULL)
  }

  # The two tables and the counts, once every group is fitted.
  collect <- function(e, glm) {
    n <- length(e$starts)
    r <- gather(e, glm)
    g <- r$g
    statistics <- if (glm) c("deviance", "null_deviance", "aic", "dispersion") else c("r_squared", "adj_r_squared", "sigma", "f_statistic")
    k <- coefficient_frame(r$parts)
    coefficients <- cbind(e$keys[k$group, , drop = FALSE], k[-1L])
    failed <- !is.na(g$error)
    groups <- data.frame(rows_used = g$used, rows_dropped = ifelse(failed, NA_integer_, g$rows - g$used))
    order_of <- if (glm) c("df_residual", statistics, "iterations", "converged") else c(statistics[1:3], "df_residual", statistics[[4L]])
    for (name in order_of) groups[[name]] <- g[[name]]
    groups$error <- g$error
    groups$warning <- g$warning
    groups <- cbind(e$keys, groups)
    rownames(coefficients) <- NULL
    rownames(groups) <- NULL
    list(coefficients = coefficients, groups = groups,
         info = list(labels = as.character(e$labels), errors = g$error, terms = as.double(tabulate(k$group, n)),
                     seconds = as.double(g$seconds), missing_keys = as.double(e$missing_keys)))
  }

  group_count <- function(e) length(e$starts)

  # Every group's rows (1-based, group after group) and each group's size, for fits made
  # outside R.
  group_rows <- function(e) list(rows = e$order, sizes = e$sizes)

  # Keeps lm results computed outside R (the native path) for the groups `index`, as one batch
  # of columns: their terms and numbers, `counts` terms each, with the p-values R's summary.lm
  # gives from the t values.
  set_native <- function(e, index, counts, term, estimate, std_error, statistic, rows, used, df_residual, r_squared,
                         adj_r_squared, sigma, f_statistic, seconds) {
    p_value <- 2 * stats::pt(abs(statistic), rep.int(df_residual, counts), lower.tail = FALSE)
    e$native[[length(e$native) + 1L]] <- list(index = index, counts = counts, term = term, estimate = estimate, std_error = std_error,
                                             statistic = statistic, p_value = p_value, rows = rows, used = used,
                                             df_residual = df_residual, r_squared = r_squared, adj_r_squared = adj_r_squared,
                                             sigma = sigma, f_statistic = f_statistic, seconds = seconds)
    invisible(NULL)
  }

  # Keeps glm results computed outside R for the groups `index`, as set_native keeps lm's, with
  # the p-values summary.glm gives: normal for a fixed dispersion (`z`), else t with the df.
  set_native_glm <- function(e, index, counts, term, estimate, std_error, statistic, rows, used, df_residual, deviance,
                             null_deviance, aic, dispersion, iterations, z, seconds) {
    df <- rep.int(df_residual, counts)
    p_value <- if (z) 2 * stats::pnorm(-abs(statistic)) else 2 * stats::pt(-abs(statistic), df)
    e$native[[length(e$native) + 1L]] <- list(index = index, counts = counts, term = term, estimate = estimate, std_error = std_error,
                                             statistic = statistic, p_value = p_value, rows = rows, used = used,
                                             df_residual = df_residual, deviance = deviance, null_deviance = null_deviance,
                                             aic = aic, dispersion = dispersion, iterations = iterations,
                                             converged = rep(TRUE, length(index)), seconds = seconds)
    invisible(NULL)
  }

  # The resolved family and link of `e`'s glm, and the probit and cauchit thresholds, for the
  # glm per group fitted outside R.
  native_family <- function(e) {
    fam <- e$call$family
    list(family = c(fam$family, fam$link), probit = -stats::qnorm(.Machine$double.eps), cauchit = -stats::qcauchy(.Machine$double.eps))
  }

  environment()
}), envir = globalenv())
