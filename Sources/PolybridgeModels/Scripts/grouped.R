# The R side of one fit per group (`polybridge fit --by`), bound as `.polybridge_grouped` in
# R's global environment (it uses `.polybridge_lm` and `.polybridge_glm`, installed first).
assign(".polybridge_grouped", local({
  # One fit per group: R's lm or glm on each group's rows, as lapply(split(d, keys), ...)
  # fits them, collected into two tables named as broom names them (the coefficients, one row
  # per term; the groups, one row per group). A group that cannot be fitted keeps R's message
  # and has no coefficients; the others go on.

  # The groups of `data` by the columns `by`. Rows whose key has a missing value are left out,
  # as split() leaves them out. The groups are in ascending order of their keys (the first
  # column first; factors by their levels, text in C-locale order).
  prepare <- function(data, by) {
    absent <- setdiff(by, names(data))
    if (length(absent)) stop(sprintf("no column '%s' to group by (the columns are %s)", absent[[1L]],
                                     paste(names(data), collapse = ", ")), call. = FALSE)
    keys <- data[by]
    complete <- which(stats::complete.cases(keys))
    e <- new.env(parent = emptyenv())
    e$data <- data
    e$missing_keys <- nrow(data) - length(complete)
    if (!length(complete)) {
      e$groups <- list()
      e$keys <- keys[0L, , drop = FALSE]
    } else {
      ordered <- complete[do.call(order, c(unname(as.list(keys[complete, , drop = FALSE])), list(method = "radix")))]
      sorted <- keys[ordered, , drop = FALSE]
      changed <- rep(FALSE, length(ordered))
      if (length(ordered) > 1L) {
        for (column in sorted) {
          values <- if (is.factor(column)) as.integer(column) else column
          changed[-1L] <- changed[-1L] | values[-1L] != values[-length(values)]
        }
      }
      starts <- c(TRUE, changed[-1L])
      e$groups <- unname(split(ordered, cumsum(starts)))
      e$keys <- sorted[starts, , drop = FALSE]
      rownames(e$keys) <- NULL
    }
    e$labels <- if (length(e$groups)) do.call(paste, c(lapply(names(e$keys), function(k) paste0(k, "=", format_key(e$keys[[k]]))),
                                                      list(sep = ", "))) else character()
    e$results <- vector("list", length(e$groups))
    e
  }

  format_key <- function(x) as.character(x)

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
      d <- e$data[e$groups[[i]], , drop = FALSE]
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

  # The two tables and the counts, once every group is fitted.
  collect <- function(e, glm) {
    results <- e$results
    n <- length(results)
    field <- function(name, missing) vapply(results, function(r) if (is.null(r[[name]])) missing else r[[name]], missing)
    failed <- !is.na(field("error", NA_character_))
    terms <- lapply(results, function(r) r$term)
    counts <- lengths(terms)
    which_group <- rep.int(seq_len(n), counts)
    coefficients <- cbind(e$keys[which_group, , drop = FALSE],
                          data.frame(term = as.character(unlist(terms)),
                                     estimate = as.double(unlist(lapply(results, `[[`, "estimate"))),
                                     std_error = as.double(unlist(lapply(results, `[[`, "std_error"))),
                                     statistic = as.double(unlist(lapply(results, `[[`, "statistic"))),
                                     p_value = as.double(unlist(lapply(results, `[[`, "p_value"))),
                                     stringsAsFactors = FALSE))
    rows <- field("rows", 0L)
    used <- field("used", NA_integer_)
    groups <- data.frame(rows_used = used, rows_dropped = ifelse(failed, NA_integer_, rows - used))
    statistics <- if (glm) {
      list(df_residual = field("df_residual", NA_integer_), deviance = field("deviance", NA_real_),
           null_deviance = field("null_deviance", NA_real_), aic = field("aic", NA_real_),
           dispersion = field("dispersion", NA_real_), iterations = field("iterations", NA_integer_),
           converged = field("converged", NA))
    } else {
      list(r_squared = field("r_squared", NA_real_), adj_r_squared = field("adj_r_squared", NA_real_),
           sigma = field("sigma", NA_real_), df_residual = field("df_residual", NA_integer_),
           f_statistic = field("f_statistic", NA_real_))
    }
    for (name in names(statistics)) groups[[name]] <- statistics[[name]]
    groups$error <- field("error", NA_character_)
    groups$warning <- field("warning", NA_character_)
    groups <- cbind(e$keys, groups)
    rownames(coefficients) <- NULL
    rownames(groups) <- NULL
    list(coefficients = coefficients, groups = groups,
         info = list(labels = as.character(e$labels), errors = field("error", NA_character_), terms = as.double(counts),
                     seconds = as.double(field("seconds", 0)), missing_keys = as.double(e$missing_keys)))
  }

  group_count <- function(e) length(e$groups)

  # Every group's rows (1-based, group after group) and each group's size, for fits made
  # outside R.
  group_rows <- function(e) list(rows = as.integer(unlist(e$groups, use.names = FALSE)), sizes = lengths(e$groups))

  # Keeps lm results computed outside R (the native path) for the groups `index`: their terms
  # and numbers, `counts` terms each, with the p-values R's summary.lm gives from the t values.
  set_native <- function(e, index, counts, term, estimate, std_error, statistic, rows, used, df_residual, r_squared,
                         adj_r_squared, sigma, f_statistic, seconds) {
    p_value <- 2 * stats::pt(abs(statistic), rep.int(df_residual, counts), lower.tail = FALSE)
    ends <- cumsum(counts)
    for (k in seq_along(index)) {
      s <- seq.int(ends[[k]] - counts[[k]] + 1L, length.out = counts[[k]])
      e$results[[index[[k]]]] <- list(error = NA_character_, warning = NA_character_, rows = rows[[k]], seconds = seconds[[k]],
                                       used = used[[k]], term = term[s], estimate = estimate[s], std_error = std_error[s],
                                       statistic = statistic[s], p_value = p_value[s], df_residual = df_residual[[k]],
                                       r_squared = r_squared[[k]], adj_r_squared = adj_r_squared[[k]], sigma = sigma[[k]],
                                       f_statistic = f_statistic[[k]])
    }
    invisible(NULL)
  }

  environment()
}), envir = globalenv())
