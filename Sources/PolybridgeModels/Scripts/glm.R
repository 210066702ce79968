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
         aliased = names(s$aliased)[s$aliased], family = fam$family, link = fam$link,
         deviance = fit$deviance, null_deviance = fit$null.deviance, df_residual = fit$df.residual,
         df_null = fit$df.null, aic = if (is.na(fit$aic)) NA_real_ else fit$aic, dispersion = s$dispersion,
         iterations = fit$iter, converged = fit$converged, boundary = fit$boundary, warnings = warnings,
         n = length(fit$y), dropped = length(fit$na.action), rank = fit$rank,
         text = paste(utils::capture.output(print(s)), collapse = "\n"))
  }

  environment()
}), envir = globalenv())
