import Foundation
import PolybridgeModels
import PolybridgeRuntime

/// The numbers of a glm fit that the oracle compares with R's own `glm`.
public struct GLMNumbers: Sendable {
    /// The coefficients' estimates, standard errors and z or t values, in R's order.
    public var estimates: [Double], standardErrors: [Double], statistics: [Double]
    /// The deviances, the AIC (NaN where R's is NA) and the dispersion.
    public var deviance: Double, nullDeviance: Double, aic: Double, dispersion: Double
    /// The residual and null df, and the Fisher scoring iterations.
    public var residualDF: Int, nullDF: Int, iterations: Int
    /// glm's `converged` and `boundary`.
    public var converged: Bool, boundary: Bool
    /// The aliased coefficients' names.
    public var aliased: [String]

    /// The numbers, as named.
    public init(estimates: [Double], standardErrors: [Double], statistics: [Double], deviance: Double, nullDeviance: Double, aic: Double,
                dispersion: Double, residualDF: Int, nullDF: Int, iterations: Int, converged: Bool, boundary: Bool, aliased: [String]) {
        (self.estimates, self.standardErrors, self.statistics) = (estimates, standardErrors, statistics)
        (self.deviance, self.nullDeviance, self.aic, self.dispersion) = (deviance, nullDeviance, aic, dispersion)
        (self.residualDF, self.nullDF, self.iterations) = (residualDF, nullDF, iterations)
        (self.converged, self.boundary, self.aliased) = (converged, boundary, aliased)
    }
}

/// Whether `numbers` are what R's own `glm(callText)` gives on the same data: coefficients,
/// standard errors, statistics, deviances, AIC and dispersion to 1e-8 relative; df,
/// iterations, `converged`, `boundary` and the aliased set equal. Returns "TRUE" or the names
/// of the checks that failed.
public func agreesWithRsGLM(_ numbers: GLMNumbers, _ callText: String) async throws -> String {
    func number(_ value: Double) -> String {
        value.isNaN ? "NA_real_" : value.isInfinite ? (value < 0 ? "-Inf" : "Inf") : String(format: "%.17g", value)
    }
    func vector(_ values: [Double]) -> String {
        values.isEmpty ? "numeric(0)" : "c(" + values.map(number).joined(separator: ", ") + ")"
    }
    let aliased = numbers.aliased.isEmpty ? "character(0)" : "c(" + numbers.aliased.map { "'\($0)'" }.joined(separator: ", ") + ")"
    let code = """
        local({
          suppressWarnings(fit <- \(callText))
          s <- summary(fit)
          cf <- coef(s)
          checks <- c(
            estimate = isTRUE(all.equal(unname(cf[, 1]), \(vector(numbers.estimates)), tolerance = 1e-8)),
            se = isTRUE(all.equal(unname(cf[, 2]), \(vector(numbers.standardErrors)), tolerance = 1e-8)),
            statistic = isTRUE(all.equal(unname(cf[, 3]), \(vector(numbers.statistics)), tolerance = 1e-8)),
            deviance = isTRUE(all.equal(fit$deviance, \(number(numbers.deviance)), tolerance = 1e-8)),
            null = isTRUE(all.equal(fit$null.deviance, \(number(numbers.nullDeviance)), tolerance = 1e-8)),
            aic = isTRUE(all.equal(fit$aic, \(number(numbers.aic)), tolerance = 1e-8)),
            dispersion = isTRUE(all.equal(s$dispersion, \(number(numbers.dispersion)), tolerance = 1e-8)),
            df = identical(c(fit$df.residual, fit$df.null), c(\(numbers.residualDF)L, \(numbers.nullDF)L)),
            iter = identical(fit$iter, \(numbers.iterations)L),
            converged = identical(fit$converged, \(numbers.converged ? "TRUE" : "FALSE")),
            boundary = identical(fit$boundary, \(numbers.boundary ? "TRUE" : "FALSE")),
            aliased = identical(names(s$aliased)[s$aliased], \(aliased)))
          if (all(checks)) "TRUE" else paste(names(checks)[!checks], collapse = ", ")
        })
        """
    return try await RRuntime.shared().eval(code, as: String.self)
}

extension GeneralizedLinearModelFit {
    /// The numbers the glm oracle (``agreesWithRsGLM(_:_:)``) checks.
    public var oracleNumbers: GLMNumbers {
        GLMNumbers(estimates: coefficients.map(\.estimate), standardErrors: coefficients.map(\.standardError),
                   statistics: coefficients.map(\.statistic), deviance: deviance, nullDeviance: nullDeviance, aic: aic,
                   dispersion: dispersion, residualDF: residualDF, nullDF: nullDF, iterations: iterations, converged: converged,
                   boundary: boundary, aliased: aliased)
    }
}
