# Sources the R helper scripts the binary embeds (Sources/*/Scripts/*.R) into this R session,
# as the binary binds them: .polybridge_lm, .polybridge_glm, .polybridge_grouped, .polybridge_predict,
# .polybridge_pipeline and
# .polybridge_r_attributes
# in the global environment. The prelude is loaded by load_prelude() (it replaces q() and
# quit() in base, which it puts back here).

# The repository root: $POLYBRIDGE_ROOT, else the first folder above this one that holds
# Package.swift and Sources/.
polybridge_root <- function() {
  given <- Sys.getenv("POLYBRIDGE_ROOT", "")
  if (nzchar(given)) return(normalizePath(given, mustWork = TRUE))
  starts <- c(tryCatch(testthat::test_path("."), error = function(e) NULL), getwd())
  for (start in starts) {
    dir <- normalizePath(start, mustWork = FALSE)
    repeat {
      if (file.exists(file.path(dir, "Package.swift")) && dir.exists(file.path(dir, "Sources"))) return(dir)
      parent <- dirname(dir)
      if (identical(parent, dir)) break
      dir <- parent
    }
  }
  stop("cannot find the Polybridge repository root above ", getwd(), "; set POLYBRIDGE_ROOT")
}

script_path <- function(target, file) {
  path <- file.path(polybridge_root(), "Sources", target, "Scripts", file)
  if (!file.exists(path)) stop("no script ", path)
  path
}

source(script_path("PolybridgeModels", "linear_model.R"), local = new.env())
source(script_path("PolybridgeModels", "glm.R"), local = new.env())
source(script_path("PolybridgeModels", "grouped.R"), local = new.env())
source(script_path("PolybridgeModels", "predict.R"), local = new.env())
source(script_path("PolybridgePipelines", "pipeline.R"), local = new.env())
source(script_path("PolybridgeConversion", "r_attributes.R"), local = new.env())

lm_helpers <- get(".polybridge_lm", envir = globalenv())
glm_helpers <- get(".polybridge_glm", envir = globalenv())
grouped_helpers <- get(".polybridge_grouped", envir = globalenv())
predict_helpers <- get(".polybridge_predict", envir = globalenv())
pipeline_helpers <- get(".polybridge_pipeline", envir = globalenv())
attribute_helpers <- get(".polybridge_r_attributes", envir = globalenv())

# The prelude's list(eval_text, call_function, state), with base's q() and quit() put back
# once `check_quit` (called with the prelude's versions in place) has run.
load_prelude <- function(check_quit = function() NULL) {
  saved <- list(q = get("q", baseenv()), quit = get("quit", baseenv()))
  on.exit(for (name in names(saved)) {
    unlockBinding(name, baseenv())
    assign(name, saved[[name]], envir = baseenv())
    lockBinding(name, baseenv())
  })
  prelude <- source(script_path("PolybridgeRuntime", "prelude.R"), local = new.env())$value
  check_quit()
  prelude
}

# Runs `expr`, returning "aborted" when it invokes the "abort" restart (as the prelude does
# after recording an error; at R's top level that restart ends the evaluation).
catching_abort <- function(expr) withRestarts(expr, abort = function() "aborted")
