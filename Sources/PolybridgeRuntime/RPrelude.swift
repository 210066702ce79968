/// R code evaluated once at start-up: the wrappers every evaluation goes through.
///
/// A wrapper evaluates under calling handlers only (no `tryCatch`, which costs several times
/// more): warnings are collected and muffled, and an error is recorded in `state` and then
/// unwinds with the "abort" restart to the guard around the call, so nothing is printed. The
/// host reads `state` afterwards: `warnings` (character or NULL) and `error` (NULL, or
/// `c(phase, message, call)` with phase "parse" or "error"). An interrupt unwinds without
/// recording anything.
///
/// With `report` (a streamed console), `eval_text` also reports like `Rscript`: each top-level
/// expression's warnings go to the console's error stream once it has run, in R's own format
/// (`Warning message:` / `In f() : ...`, a count past ten, `last.warning` set for
/// `warnings()`), and an evaluation error is written there as R writes it (`Error in f() : ...`)
/// followed by the warnings pending before it (`In addition: ...`).
enum RPrelude {
    static let source = EmbeddedScripts.preludeR
}
