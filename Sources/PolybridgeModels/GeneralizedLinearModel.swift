import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeRuntime

/// A generalized linear model to fit: R's formula, family and link, weights, offset and
/// `glm.control`'s settings.
public struct GeneralizedLinearModelSpecification: Sendable, Hashable, Codable {
    /// The formula as R text; the response may be `cbind(successes, failures)` for binomial.
    public var formula: String
    /// The family: binomial, quasibinomial, poisson, quasipoisson, Gamma, gaussian or
    /// inverse.gaussian, or R's spelling with a link (`Gamma(link = "log")`).
    public var family: String
    /// The link (logit, probit, cauchit, cloglog, log, identity, inverse, sqrt, 1/mu^2), or
    /// nil for the family's own (or the one its R spelling names).
    public var link: String?
    /// The column of prior weights, or nil.
    public var weights: String?
    /// The column added to the linear predictor with coefficient 1, or nil.
    public var offset: String?
    /// `glm.control`'s convergence tolerance.
    public var epsilon: Double
    /// `glm.control`'s most iterations.
    public var maxit: Int
    /// Functions a chunked fit may also treat as row-wise (computed on each chunk alone), as
    /// ``LinearModelSpecification/rowWiseFunctions``.
    public var rowWiseFunctions: [String]

    /// A specification with `glm.control`'s defaults (epsilon 1e-8, maxit 25).
    public init(formula: String, family: String, link: String? = nil, weights: String? = nil, offset: String? = nil,
                epsilon: Double = 1e-8, maxit: Int = 25, rowWiseFunctions: [String] = []) {
        (self.formula, self.family, self.link, self.weights, self.offset) = (formula, family, link, weights, offset)
        (self.epsilon, self.maxit, self.rowWiseFunctions) = (epsilon, maxit, rowWiseFunctions)
    }
}

/// A fitted generalized linear model: what R's `glm` and `summary.glm` give.
public struct GeneralizedLinearModelFit: Sendable, Codable, Equatable, CustomStringConvertible {
    /// One coefficient.
    public struct Coefficient: Sendable, Codable, Equatable {
        /// The model-matrix column.
        public var name: String
        /// The estimate.
        public var estimate: Double
        /// Its standard error.
        public var standardError: Double
        /// The z value (binomial, poisson) or t value (families with an estimated dispersion).
        public var statistic: Double
        /// The two-sided p-value.
        public var pValue: Double
    }

    /// The formula fitted.
    public var formula: String
    /// The family, as R names it (`binomial`, `Gamma`, …).
    public var family: String
    /// The link, as R names it.
    public var link: String
    /// The estimated coefficients, in R's order.
    public var coefficients: [Coefficient]
    /// `z value` or `t value`: which statistic the coefficients carry.
    public var statisticName: String
    /// The coefficients not estimable (aliased), by name.
    public var aliased: [String]
    /// Every coefficient's name in the model matrix's order, the aliased ones among them (the
    /// order of R's `coef()`).
    public var terms: [String]
    /// The residual deviance.
    public var deviance: Double
    /// The null deviance.
    public var nullDeviance: Double
    /// Residual degrees of freedom.
    public var residualDF: Int
    /// Null degrees of freedom.
    public var nullDF: Int
    /// Akaike's information criterion (NaN for the quasi families, whose AIC R leaves NA).
    public var aic: Double
    /// The dispersion: 1 for binomial and poisson, else Pearson's χ² over the residual df.
    public var dispersion: Double
    /// Fisher scoring iterations.
    public var iterations: Int
    /// Whether the fit converged.
    public var converged: Bool
    /// Whether the fit ended on the boundary of the parameter space.
    public var boundary: Bool
    /// The warnings R's `glm.fit` gave ("glm.fit: algorithm did not converge", …).
    public var warnings: [String]
    /// Rows used, and rows dropped for missing values.
    public var rowsUsed: Int
    public var rowsDropped: Int
    /// The model's rank.
    public var rank: Int
    /// R's `summary.glm` printout.
    public var summary: String
    /// For a chunked fit, whether the chunks kept their state on disk between rounds
    /// (``ChunkStatePlacement``); nil for a whole fit.
    public var chunkStateOnDisk: Bool? = nil

    /// R's `summary.glm` printout.
    public var description: String { summary }
}

/// R's `glm` from Swift.
public enum GeneralizedLinearModel {
    /// Fits `specification` on `table` with R's `glm` and `summary.glm` (the whole data, in this
    /// process). `label` names the data in the printed call.
    public static func fit(_ table: ArrowTable, _ specification: GeneralizedLinearModelSpecification,
                           label: String = "data") async throws -> GeneralizedLinearModelFit {
        guard specification.epsilon > 0, specification.epsilon.isFinite else {
            throw LinearModelError.glmFailed(message: "epsilon must be a positive number (got \(specification.epsilon))")
        }
        guard specification.maxit >= 1 else {
            throw LinearModelError.glmFailed(message: "maxit must be at least 1 (got \(specification.maxit))")
        }
        do {
            return try await RRuntime.shared().withSession { session in
                let frame = try session.dataFrame(from: table)
                // A model matrix larger than memory is refused before glm starts, as for lm.
                try LinearModel.checkSize(frame, formula: specification.formula, session: session)
                func optional(_ text: String?) throws -> SEXP { try text.map { try session.makeStrings([$0]) } ?? session.null }
                let value = try session.read(try call("fit_whole", [
                    frame, try session.makeStrings([specification.formula]), try session.makeStrings([specification.family]),
                    try optional(specification.link), try optional(specification.weights), try optional(specification.offset),
                    try session.make(.double([specification.epsilon])), try session.make(.double([Double(specification.maxit)])),
                    try session.makeStrings([label])], in: session))
                return try decode(value, formula: specification.formula)
            }
        } catch let error as RError {
            throw LinearModelError.glmFailed(message: error.userMessage)
        }
    }

    /// Checks that `family` and `link` name a family and link R's glm accepts, as a fit would,
    /// without data; throws ``LinearModelError/glmFailed(message:)`` naming what is wrong.
    public static func checkFamily(_ family: String, link: String?) async throws {
        do {
            try await RRuntime.shared().withSession { session in
                _ = try call("family_from", [try session.makeStrings([family]), try link.map { try session.makeStrings([$0]) } ?? session.null],
                             in: session)
            }
        } catch let error as RError {
            throw LinearModelError.glmFailed(message: error.userMessage)
        }
    }

    /// The family's and link's names as R's family object gives them (`binomial` and its
    /// default link `logit`, …).
    static func familyNames(_ family: String, link: String?) async throws -> (family: String, link: String) {
        do {
            return try await RRuntime.shared().withSession { session in
                let object = try session.protect(try call("family_from", [try session.makeStrings([family]),
                                                                          try link.map { try session.makeStrings([$0]) } ?? session.null], in: session))
                // A family object's first two elements are its family's and link's names.
                guard case .character(let names) = try session.read(try session.element(of: object, at: 0)).unstructured,
                      case .character(let links) = try session.read(try session.element(of: object, at: 1)).unstructured,
                      let name = names.first ?? nil, let linkName = links.first ?? nil else {
                    throw RError.conversion("the family \(family) has no names")
                }
                return (name, linkName)
            }
        } catch let error as RError {
            throw LinearModelError.glmFailed(message: error.userMessage)
        }
    }

    /// Writes a PNG of the coefficients with 95% intervals (normal for z values, t with the
    /// residual df otherwise), by the policy of every output file.
    public static func plotCoefficients(_ fit: GeneralizedLinearModelFit, to path: String) async throws {
        try await LinearModel.plotCoefficients(names: fit.coefficients.map(\.name), estimates: fit.coefficients.map(\.estimate),
                                               standardErrors: fit.coefficients.map(\.standardError),
                                               df: fit.statisticName.hasPrefix("z") ? .infinity : Double(fit.residualDF),
                                               title: "glm(\(fit.formula), \(fit.family)(link = \"\(fit.link)\"))", to: path)
    }

    private static func decode(_ value: RValue, formula: String) throws -> GeneralizedLinearModelFit {
        let fields = try RFields(value)
        let names = try fields.strings("names")
        let estimate = try fields.doubles("estimate"), se = try fields.doubles("se")
        let statistic = try fields.doubles("statistic"), p = try fields.doubles("p")
        return GeneralizedLinearModelFit(
            formula: formula, family: try fields.strings("family").first ?? "", link: try fields.strings("link").first ?? "",
            coefficients: names.indices.map {
                .init(name: names[$0], estimate: estimate[$0], standardError: se[$0], statistic: statistic[$0], pValue: p[$0])
            },
            statisticName: try fields.strings("statistic_name").first ?? "", aliased: try fields.strings("aliased"),
            terms: try fields.strings("terms"),
            deviance: try fields.double("deviance"), nullDeviance: try fields.double("null_deviance"),
            residualDF: Int(try fields.double("df_residual")), nullDF: Int(try fields.double("df_null")),
            aic: try fields.double("aic"), dispersion: try fields.double("dispersion"),
            iterations: Int(try fields.double("iterations")), converged: try fields.bool("converged"),
            boundary: try fields.bool("boundary"), warnings: try fields.strings("warnings"),
            rowsUsed: Int(try fields.double("n")), rowsDropped: Int(try fields.double("dropped")), rank: Int(try fields.double("rank")),
            summary: try fields.strings("text").first ?? "")
    }

    /// Calls `.polybridge_glm$name(arguments...)`, binding the lm and glm helpers first.
    /// The data columns a model reads: the formula's variables, the weights and the offset;
    /// nil when the formula's `.` needs every column.
    static func columnsRead(formula: String, weights: String?, offset: String?, in session: RSession) throws -> [String]? {
        let value = try session.read(try call("columns_read", [
            try session.makeStrings([formula]), try LinearModelChunkWork.optionalString(weights, session),
            try LinearModelChunkWork.optionalString(offset, session)], in: session))
        guard case .character(let names) = value.unstructured else { return nil }
        return names.compactMap { $0 }
    }

    static func call(_ name: String, _ arguments: [SEXP], in session: RSession) throws -> SEXP {
        try LinearModelR.install(in: session)
        return try session.callHelper(".polybridge_glm", name, arguments, from: EmbeddedScripts.glmR, what: "the glm helpers",
                                      purpose: "fitting glm")
    }
}
