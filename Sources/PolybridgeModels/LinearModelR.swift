import PolybridgeRuntime

/// The R side of linear model fits: formula checking, the whole-data `lm`, and the three steps
/// of a chunked fit (levels per chunk, a triangular factor per chunk, the combine).
///
/// The functions live in one environment, `.polybridge_lm` in R's global environment, installed
/// on first use. Everything they return is plain vectors and lists, small enough to travel
/// between processes.
enum LinearModelR {
    /// The name the environment is bound to in R's global environment.
    static let environmentName = ".polybridge_lm"

    /// R code that binds the environment (idempotent: a second run replaces it).
    static let source = EmbeddedScripts.linearModelR

    /// Binds the environment unless this R process already has it.
    static func install(in session: RSession) throws {
        try session.installHelpers(environmentName, from: source, what: "the lm helpers")
    }

    /// Calls `.polybridge_lm$name(arguments...)` and returns the result.
    static func call(_ name: String, _ arguments: [SEXP], in session: RSession, purpose: String) throws -> SEXP {
        try session.callHelper(environmentName, name, arguments, from: source, what: "the lm helpers", purpose: purpose)
    }
}
