/// Helper environments: R functions Polybridge binds once per R process under a name in R's
/// global environment (`.polybridge_lm`, `.polybridge_glm`, …) and then calls by name.
extension RSession {
    /// Binds the helper environment `environment` by evaluating `source` (R code that assigns
    /// it in the global environment), unless this R already has it. `what` names the helpers
    /// in an error ("the lm helpers").
    public func installHelpers(_ environment: String, from source: String, what: String) throws {
        let check = "exists('\(environment)', envir = globalenv(), inherits = FALSE)"
        if try read(try evaluateText(check, purpose: "checking \(what)")) == .logical([true]) { return }
        _ = try evaluateText(source, purpose: "installing \(what)")
    }

    /// Calls `environment$name(arguments...)`, binding the environment from `source` first
    /// (``installHelpers(_:from:what:)``); `purpose` names the call in an error.
    public func callHelper(_ environment: String, _ name: String, _ arguments: [SEXP], from source: String, what: String,
                           purpose: String) throws -> SEXP {
        try installHelpers(environment, from: source, what: what)
        let function = try evaluateText("\(environment)$\(name)", purpose: purpose)
        return try evaluate(try lang(function, arguments), purpose: purpose)
    }
}
