/// The R side of pipelines, bound as `.polybridge_pipeline` in R's global environment: reading
/// scripts without running them (a function's arguments, the files a script sources) and
/// running a step's function with R's call stack kept for errors.
enum PipelineR {
    static let environmentName = ".polybridge_pipeline"

    static let source = EmbeddedScripts.pipelineR
}

/// The Python side of pipelines (module `_polybridge_pipeline`): reading scripts without
/// running them, hashing files, and running a step's function on a fresh import of its script.
/// Inputs arrive already converted (pandas, pyarrow or polars) by Polybridge's own conversion.
enum PipelinePython {
    static let moduleName = "_polybridge_pipeline"

    static let source = EmbeddedScripts.polybridgePipelinePy
}
