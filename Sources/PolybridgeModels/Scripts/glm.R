# The R side of generalized linear model fits, bound as `.polybridge_glm` in R's global
# environment (it uses `.polybridge_lm`'s formula reading, installed first).
assign(".polybridge_glm", local({
  families <- c("binomial", "quasibinomial", "poisson", "quasipoisson", "Gamma", "gaussian", "inverse.gaussian")
  # Each family's links for a link written as a bare name (binomial(link = probit)), as its
  # constructor lists them; a link given as text may be any that make.link knows, as in R.
  known_links <- c("logit", "probit", "cauchit", "cloglog", "identity", "log", "sqrt", "1/mu^2", "inverse")
  links <- list(binomial = c("logit", "probit", "cloglog", "cauchit", "log"),
                quasibinomial = c("logit", "probit", "cloglog", "cauchit", "log"),
                poisson = c("log", "identity", "sqrt"), quasipoisson = c("log", "identity", "sqrt"),
                Gamma = c("inverse", "identity", "log"), gaussian = c("inverse", "log", "identity"),
                inverse.gaussian = c("1/mu^2", "inverse", "identity", "log"))

  # The family object for `family` (a name, or R's spelling such as 'Gamma(link = "log")') and
  # `link` (NULL, or a link name that the family must accept).
  family_from <- function(family, link) {
    e <- tryCatch(str2lang(family), error = function(err) NULL)
    name <- if (is.name(e)) as.character(e) else if (is.call(e) && is.name(e[[1L]])) as.character(e[[1L]]) else ""
    if (!(name %in% families))
      stop(sprintf("unknown family '%s': use one of %s, optionally with a link as R writes it (Gamma(link = \"log\"))",
                   family, paste(families, collapse = ", ")), call. = FALSE)
    given <- NULL
    bare <- FALSE
    if (is.call(e)) {
      arguments <- as.list(e)[-1L]
      if (length(arguments) > 1L || (length(arguments) == 1L && !is.null(names(arguments)) && !(names(arguments) %in% c("", "link"))))
        stop(sprintf("family '%s': only a link may be given", family), call. = FALSE)
      if (length(arguments) == 1L) {
        value <- arguments[[1L]]
        bare <- !is.character(value)
        given <- if (is.character(value)) value else paste(deparse(value), collapse = "")
      }
    }
    if (!is.null(link) && !is.null(given) && !identical(link, given))
      stop(sprintf("the family says link %s and the link given (--link, params.link) is %s", given, link), call. = FALSE)
    chosen <- if (!is.null(link)) link else given
    if (!is.null(chosen) && is.null(link) && bare && !(chosen %in% links[[name]]))
      stop(sprintf("family %s: link %s not available for %s family; available links are %s (or any of %s, quoted)", name, chosen, name,
                   paste0("'", links[[name]], "'", collapse = ", "), paste0("'", known_links, "'", collapse = ", ")), call. = FALSE)
    if (!is.null(chosen) && !(chosen %in% known_links))
      stop(sprintf("family %s: link '%s' is not one R knows (%s)", name, chosen, paste0("'", known_links, "'", collapse = ", ")),
           call. = FALSE)
    constructor <- get(name, envir = asNamespace("stats"))
    tryCatch(if (is.null(chosen)) constructor() else constructor(link = chosen),
             error = function(err) stop(sprintf("family %s: %s", name, conditionMessage(err)), call. = FALSE))
  }

  # The whole data in one glm, as R itself fits it, with the warnings glm.fit gave.
  fit_whole <- function(data, text, family, link, weights, offset, epsilon, maxit, label) {
    f <- .polybridge_lm$formula_from_text(text)
    fam <- family_from(family, link)
    lhs <- f[[2L]]
    if (is.call(lhs) && identical(lhs[[1L]], as.name("cbind")) && !(fam$family %in% c("binomial", "quasibinomial")))
      stop(sprintf("the response %s is counts of successes and failures: it needs family binomial or quasibinomial, not %s",
                   paste(deparse(lhs), collapse = ""), fam$family), call. = FALSE)
    cl <- call("glm", formula = f, family = quote(fam), data = quote(data), na.action = quote(na.omit),
               control = call("glm.control", epsilon = epsilon, maxit = as.integer(maxit)))
    if (!is.null(weights)) cl$weights <- as.name(weights)
    if (!is.null(offset)) cl$offset <- as.name(offset)
    warnings <- character()
    fit <- withCallingHandlers(
      tryCatch(eval(cl), error = function(e) .polybridge_lm$name_one_level_factor(e, f, data, weights, offset, "glm")),
      warning = function(w) {
        warnings <<- c(warnings, conditionMessage(w))
        invokeRestart("muffleWarning")
      })
    s <- summary(fit)
    s$call <- call("glm", formula = f, family = str2lang(sprintf("%s(link = \"%s\")", fam$family, fam$link)),
                   data = as.name(label))
    cf <- coef(s)
    list(names = rownames(cf), estimate = unname(cf[, 1L]), se = unname(cf[, 2L]),
         statistic = unname(cf[, 3L]), p = unname(cf[, 4L]), statistic_name = colnames(cf)[[3L]],
         aliased = names(s$aliased)[s$aliased], terms = names(s$aliased), family = fam$family, link = fam$link,
         deviance = fit$deviance, null_deviance = fit$null.deviance, df_residual = fit$df.residual,
         df_null = fit$df.null, aic = if (is.na(fit$aic)) NA_real_ else fit$aic, dispersion = s$dispersion,
         iterations = fit$iter, converged = fit$converged, boundary = fit$boundary, warnings = warnings,
         n = length(fit$y), dropped = length(fit$na.action), rank = fit$rank,
         text = paste(utils::capture.output(print(s)), collapse = "\n"))
  }

  # The chunked fit. Each chunk's worker keeps its IRLS state (an environment made by
  # chunk_prepare) and answers rounds: given coefficients, glm.fit's deviance, validity and
  # working weights and response for its rows; the coordinator merges the chunks' factors of
  # sqrt(W) [X | z] and solves as glm.fit does (Cdqrls on the stacked factors). A state's
  # parent is the empty environment: the function that made it (its data, model frame and
  # vectors before the family's initialize) must not stay alive with it.

  # A chunk's rows set up as glm.fit sets up the whole data: the model frame with the global
  # levels `xlev`, the model matrix, the response, weights and offset after the family's
  # initialize, and the starting means. Returns the state and the counts the coordinator sums.
  chunk_prepare <- function(data, text, family, link, weights, offset, xlev) {
    f <- .polybridge_lm$formula_from_text(text)
    fam <- family_from(family, link)
    check_response(f, fam)
    if (!length(xlev)) xlev <- NULL
    warnings <- character()
    st <- withCallingHandlers({
      mf <- .polybridge_lm$model_frame(f, data, weights, offset, xlev = xlev, drop = FALSE)
      mt <- attr(mf, "terms")
      y <- model.response(mf, "any")
      if (length(dim(y)) == 1L) dim(y) <- NULL
      x <- model.matrix(mt, mf)
      w <- as.vector(model.weights(mf))
      if (!is.null(w) && !is.numeric(w)) stop("'weights' must be a numeric vector", call. = FALSE)
      if (!is.null(w) && any(w < 0)) stop("negative weights not allowed", call. = FALSE)
      off <- as.vector(model.offset(mf))
      nobs <- NROW(y)
      if (is.null(w)) w <- rep.int(1, nobs)
      has_offset <- !is.null(off)
      if (is.null(off)) off <- rep.int(0, nobs)
      initialized <- initialize(fam, y, w, nobs, NULL)
      for (v in c("y", "weights")) storage.mode(initialized[[v]]) <- "double"
      list2env(c(initialized, list(x = x, offset = as.double(off), fam = fam, nobs = nobs, has_offset = has_offset,
                                   intercept = attr(mt, "intercept") > 0L, dropped = NROW(data) - nobs)),
               parent = emptyenv())
    }, warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
    counts(st, fam, warnings)
  }

  # The family's and link's names as R gives them.
  family_names <- function(family, link) {
    fam <- family_from(family, link)
    c(fam$family, fam$link)
  }

  # The formula as R reads it (one formula, response ~ terms), deparsed.
  check_formula <- function(text) paste(deparse(.polybridge_lm$formula_from_text(text), width.cutoff = 500L), collapse = " ")

  # The data columns a chunk reads: every variable of the formula, the weights and the offset
  # (NULL when the formula's `.` needs them all).
  columns_read <- function(text, weights, offset) {
    f <- .polybridge_lm$formula_from_text(text)
    if ("." %in% all.names(f)) return(NULL)
    unique(c(all.vars(f), weights, offset))
  }

  # chunk_prepare for a model matrix `x` (with its dimensions and column names), response,
  # weights and offset that Swift built from the data's columns as model.frame and
  # model.matrix would.
  native_prepare <- function(x, columns, y, w, off, intercept, dropped, text, family, link) {
    fam <- family_from(family, link)
    check_response(.polybridge_lm$formula_from_text(text), fam)
    nobs <- length(y)
    if (!is.null(w) && any(w < 0)) stop("negative weights not allowed", call. = FALSE)
    if (is.null(w)) w <- rep.int(1, nobs)
    has_offset <- !is.null(off)
    if (is.null(off)) off <- rep.int(0, nobs)
    warnings <- character()
    st <- withCallingHandlers({
      initialized <- initialize(fam, y, w, nobs, NULL)
      for (v in c("y", "weights")) storage.mode(initialized[[v]]) <- "double"
      list2env(c(initialized, list(x = x, offset = as.double(off), fam = fam, nobs = nobs, has_offset = has_offset,
                                   intercept = intercept, dropped = dropped)), parent = emptyenv())
    }, warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
    counts(st, fam, warnings)
  }

  # What the coordinator sums of a chunk's state; the state is then made compact.
  counts <- function(st, fam, warnings) {
    sums <- list(columns = colnames(st$x), nobs = st$nobs, zero = sum(st$weights == 0),
                 sum_wy = sum(st$weights * st$y), sum_w = sum(st$weights), intercept = st$intercept,
                 has_offset = st$has_offset, any_n = any(st$n > 1), dropped = st$dropped, warnings = warnings,
                 family = c(fam$family, fam$link), probit = -qnorm(.Machine$double.eps), cauchit = -qcauchy(.Machine$double.eps))
    compact_vectors(st)
    list(st, sums)
  }

  # The weights, offset and binomial trials of a chunk's state are kept as one value when they
  # are the same on every row (no weights, no offset, one trial a row: the usual case), which
  # saves 24 bytes a row; full_vectors spreads them again where R needs every row.
  compact_vectors <- function(st) {
    for (v in intersect(c("weights", "offset", "n"), ls(st))) {
      x <- st[[v]]
      if (length(x) > 1L && !anyNA(x) && all(x == x[[1L]])) assign(v, x[[1L]], envir = st)
    }
  }

  # The chunk's state as a list whose weights, offset and trials have a value for every row.
  full_vectors <- function(st) {
    out <- mget(ls(st, all.names = TRUE), envir = st)
    for (v in intersect(c("weights", "offset", "n"), names(out))) out[[v]] <- rep_len(out[[v]], st$nobs)
    out
  }

  # The per-row vectors of a chunk's state, as doubles by name (the ones it holds), taken out
  # of the state to be kept on disk; the model matrix's column names stay.
  take_vectors <- function(st) {
    names <- intersect(c("x", "y", "weights", "offset", "n", "mustart"), ls(st))
    taken <- lapply(full_vectors(st)[names], function(v) {
      storage.mode(v) <- "double"
      v
    })
    st$x_dimnames <- dimnames(st$x)
    rm(list = names, envir = st)
    taken
  }

  # A copy of a chunk's state with its vectors given back (read from disk; `x` has its
  # dimensions and names already: setting them here would copy it).
  with_vectors <- function(st, vectors) {
    list2env(c(mget(ls(st, all.names = TRUE), envir = st), vectors), parent = emptyenv())
  }

  # glm.fit's family initialize on (y, weights): y as the family fits it (proportions for
  # cbind counts), the weights it implies, n, and the starting means (`mustart` kept when given).
  initialize <- function(family, y, weights, nobs, mustart) {
    e <- new.env(parent = environment(family$variance))
    e$y <- y; e$weights <- weights; e$nobs <- nobs; e$etastart <- NULL; e$start <- NULL
    e$mustart <- mustart; e$family <- family
    mukeep <- mustart
    eval(family$initialize, e)
    if (!is.null(mukeep)) e$mustart <- mukeep
    list(y = e$y, weights = e$weights, n = e$n, mustart = e$mustart)
  }

  # The response of cbind(successes, failures) needs a binomial family.
  check_response <- function(f, fam) {
    lhs <- f[[2L]]
    if (is.call(lhs) && identical(lhs[[1L]], as.name("cbind")) && !(fam$family %in% c("binomial", "quasibinomial")))
      stop(sprintf("the response %s is counts of successes and failures: it needs family binomial or quasibinomial, not %s",
                   paste(deparse(lhs), collapse = ""), fam$family), call. = FALSE)
  }

  # The linear predictor a chunk's IRLS starts from: the family's link of its starting means,
  # or of the full model's means at `fitted` (glm's intercept-only fit for the null deviance
  # starts there; the family's initialize keeps given means, and y and the weights are the chunk's).
  start_eta <- function(st, fitted) {
    mu <- if (is.null(fitted)) st$mustart else st$fam$linkinv(drop(st$x %*% fitted) + st$offset)
    eta <- st$fam$linkfun(mu)
    storage.mode(eta) <- "double"
    eta
  }

  # The chunk's part of the AIC at the fitted means `mu` (which Swift computes, with the rest
  # of the summary's sums).
  chunk_aic <- function(st, mu, dev, sum_w, any_n) {
    if (st$nobs == 0L) return(0)
    aic_part(st$fam, full_vectors(st), mu, dev, sum_w, any_n)
  }

  # The chunk's share of the family's AIC; aic_total adds the parts that need the whole data.
  aic_part <- function(fam, st, mu, dev, sum_w, any_n) {
    switch(fam$family,
           binomial = {
             # binomial()$aic counts trials when any row of the whole data has more than one.
             m <- if (any_n) st$n else st$weights
             -2 * sum(ifelse(m > 0, (st$weights / m), 0) * dbinom(round(m * st$y), round(m), mu, log = TRUE))
           },
           poisson = fam$aic(st$y, st$n, mu, st$weights, dev),
           Gamma = { disp <- dev / sum_w; -2 * sum(dgamma(st$y, 1 / disp, scale = mu * disp, log = TRUE) * st$weights) },
           inverse.gaussian = 3 * sum(log(st$y) * st$weights),
           gaussian = -sum(log(st$weights)),
           NA_real_)
  }

  aic_total <- function(family, link, part, dev, nobs, sum_w, rank) {
    fam <- family_from(family, link)
    base <- switch(fam$family,
                   binomial = , poisson = part,
                   Gamma = part + 2,
                   inverse.gaussian = sum_w * (1 + log(dev / sum_w * 2 * pi)) + part + 2,
                   gaussian = nobs * (log(dev / nobs * 2 * pi) + 1) + 2 + part,
                   NA_real_)
    base + 2 * rank
  }

  # One IRLS solve on the stacked chunk factors, as glm.fit solves (Cdqrls, its tolerance).
  solve_stacked <- function(parts, p, tol) {
    s <- do.call(rbind, lapply(parts, function(part) matrix(part$r, nrow = part$rows, ncol = p + 1L)))
    fit <- .Call(stats:::C_Cdqrls, s[, seq_len(p), drop = FALSE], s[, p + 1L], tol, FALSE)
    beta <- numeric(p)
    beta[fit$pivot] <- fit$coefficients
    list(beta = beta, rank = fit$rank, pivot = fit$pivot, qr = c(fit$qr[seq_len(min(nrow(s), p)), , drop = FALSE]),
         qr_rows = min(nrow(s), p))
  }

  # summary.glm for the chunked fit, from the last solve's QR: the table, dispersion and the
  # printout by R's own print method, with the deviance residuals' exact quantiles.
  chunked_summary <- function(text, family, link, label, columns, beta, rank, pivot, qr, qr_rows, pearson,
                              deviance, null_deviance, df_residual, df_null, aic, iter, dropped, quantiles, note) {
    fam <- family_from(family, link)
    p <- length(columns)
    est.disp <- FALSE
    dispersion <- if (fam$family %in% c("poisson", "binomial")) 1
                  else if (df_residual > 0) { est.disp <- TRUE; pearson / df_residual }
                  else { est.disp <- TRUE; NaN }
    coef <- beta
    if (rank < p) coef[pivot][seq.int(rank + 1L, p)] <- NA
    names(coef) <- columns
    aliased <- is.na(coef)
    qrm <- matrix(qr, nrow = qr_rows, ncol = p)
    p1 <- seq_len(rank)
    if (rank > 0L) {
      coef.p <- coef[pivot[p1]]
      covmat.unscaled <- chol2inv(qrm[p1, p1, drop = FALSE])
      var.cf <- diag(covmat.unscaled * dispersion)
      s.err <- sqrt(var.cf)
      tvalue <- coef.p / s.err
      if (!est.disp) {
        pvalue <- 2 * pnorm(-abs(tvalue))
        coef.table <- cbind(coef.p, s.err, tvalue, pvalue)
        dimnames(coef.table) <- list(names(coef.p), c("Estimate", "Std. Error", "z value", "Pr(>|z|)"))
      } else if (df_residual > 0) {
        pvalue <- 2 * pt(-abs(tvalue), df_residual)
        coef.table <- cbind(coef.p, s.err, tvalue, pvalue)
        dimnames(coef.table) <- list(names(coef.p), c("Estimate", "Std. Error", "t value", "Pr(>|t|)"))
      } else {
        coef.table <- cbind(coef.p, NaN, NaN, NaN)
        dimnames(coef.table) <- list(names(coef.p), c("Estimate", "Std. Error", "t value", "Pr(>|t|)"))
      }
    } else {
      coef.table <- matrix(numeric(0), 0L, 4L)
      dimnames(coef.table) <- list(NULL, c("Estimate", "Std. Error", "t value", "Pr(>|t|)"))
    }
    f <- .polybridge_lm$formula_from_text(text)
    ans <- list(call = call("glm", formula = f, family = str2lang(sprintf("%s(link = \"%s\")", fam$family, fam$link)),
                            data = as.name(label)),
                family = fam, deviance = deviance, aic = aic, df.residual = df_residual, null.deviance = null_deviance,
                df.null = df_null, iter = iter, deviance.resid = quantiles, coefficients = coef.table, aliased = aliased,
                dispersion = dispersion, df = c(rank, df_residual, p))
    if (dropped > 0) ans$na.action <- structure(seq_len(dropped), class = "omit")
    class(ans) <- "summary.glm"
    lines <- utils::capture.output(print(ans))
    start <- grep("^Deviance Residuals:", lines)
    # The five quantiles print as R prints them (quantile() of five sorted values at 0, 1/4,
    # 1/2, 3/4 and 1 returns them); without them (df of 5 or fewer) a note replaces the block.
    if (length(start) && length(quantiles) != 5L) {
      # The header, the (empty) residual lines and the blank line after them.
      end <- start + 1L
      while (end <= length(lines) && nzchar(lines[[end]])) end <- end + 1L
      lines <- c(lines[seq_len(start - 1L)], paste("Deviance Residuals:", note), lines[-seq_len(end - 1L)])
    }
    list(names = rownames(coef.table), estimate = unname(coef.table[, 1L]), se = unname(coef.table[, 2L]),
         statistic = unname(coef.table[, 3L]), p = unname(coef.table[, 4L]), statistic_name = colnames(coef.table)[[3L]],
         aliased = columns[aliased], terms = columns, family = fam$family, link = fam$link, dispersion = dispersion,
         text = paste(lines, collapse = "\n"))
  }

  environment()
}), envir = globalenv())
