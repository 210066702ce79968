import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// Whether `fit` is what R's own `glm(callText)` gives on the same data (``agreesWithRsGLM``).
func agreesWithGLM(_ fit: GeneralizedLinearModelFit, _ callText: String) async throws -> String {
    try await agreesWithRsGLM(fit.oracleNumbers, callText)
}


/// R's glm from Swift, checked against R's own `glm` on the same data, odd cases included.
@Suite struct GeneralizedLinearModelTests {
    @Test func logisticRegressionOnMtcarsEqualsGLM() async throws {
        let data = try await table("glm_mtcars", "mtcars")
        let fit = try await GeneralizedLinearModel.fit(data, GeneralizedLinearModelSpecification(formula: "am ~ wt + hp", family: "binomial"))
        #expect(try await agreesWithGLM(fit, "glm(am ~ wt + hp, family = binomial, data = glm_mtcars)") == "TRUE")
        #expect(fit.family == "binomial" && fit.link == "logit" && fit.statisticName == "z value" && fit.dispersion == 1)
        #expect(fit.summary.contains("family = binomial(link = \"logit\")") && fit.summary.contains("data = data)"), "\(fit.summary)")
        #expect(fit.summary.contains("Number of Fisher Scoring iterations: \(fit.iterations)"), "\(fit.summary)")
    }

    /// Every family with a non-canonical link given both ways, prior weights, an offset as a
    /// column and as offset(), a cbind response, and the quasi families' estimated dispersion.
    @Test(arguments: [
        ("glm_esoph", "esoph", "cbind(ncases, ncontrols) ~ agegp + tobgp + alcgp", "binomial", nil as String?, nil as String?, nil as String?),
        ("glm_infert", "infert", "case ~ spontaneous + induced + education", "binomial(link = \"probit\")", nil, nil, nil),
        ("glm_infert_cll", "infert", "case ~ spontaneous + induced", "binomial", "cloglog", nil, nil),
        ("glm_insects", "InsectSprays", "count ~ spray", "poisson", nil, nil, nil),
        ("glm_insects_q", "InsectSprays", "count ~ spray", "quasipoisson", nil, nil, nil),
        ("glm_breaks", "warpbreaks", "breaks ~ wool * tension", "Gamma(link = \"log\")", nil, nil, nil),
        ("glm_breaks_ig", "warpbreaks", "breaks ~ wool + tension", "inverse.gaussian", nil, nil, nil),
        ("glm_offset", "local({ set.seed(3); n <- 200; d <- data.frame(x = rnorm(n), e = runif(n, 1, 5)); d$y <- rpois(n, d$e * exp(0.3 + 0.5 * d$x)); d$le <- log(d$e); d })",
         "y ~ x", "poisson", nil, nil, "le"),
        ("glm_offset_f", "local({ set.seed(3); n <- 200; d <- data.frame(x = rnorm(n), e = runif(n, 1, 5)); d$y <- rpois(n, d$e * exp(0.3 + 0.5 * d$x)); d$le <- log(d$e); d })",
         "y ~ x + offset(le)", "poisson", nil, nil, nil),
        ("glm_insects_id", "InsectSprays", "count ~ spray", "poisson", "identity", nil, nil),
        ("glm_props", "local({ set.seed(4); n <- 120; d <- data.frame(x = rnorm(n), n = sample(1:9, n, TRUE)); d$p <- rbinom(n, d$n, plogis(d$x)) / d$n; d$n[1:5] <- 0; d })",
         "p ~ x", "quasibinomial", nil, "n", nil),
        ("glm_gauss", "local({ set.seed(5); d <- data.frame(x = rnorm(50), z = rnorm(50)); d$w <- d$x * 2; d$y <- 1 + d$x + rnorm(50); d$y[3] <- NA; d })",
         "y ~ x + z + w", "gaussian", nil, nil, nil),
    ])
    func familiesLinksWeightsAndOffsetsEqualGLM(name: String, source: String, formula: String, family: String, link: String?,
                                                weights: String?, offset: String?) async throws {
        let data = try await table(name, source)
        let spec = GeneralizedLinearModelSpecification(formula: formula, family: family, link: link, weights: weights, offset: offset)
        let fit = try await GeneralizedLinearModel.fit(data, spec)
        let familyCall = link.map { "\(family)(link = \"\($0)\")" } ?? family
        let extra = (weights.map { ", weights = \($0)" } ?? "") + (offset.map { ", offset = \($0)" } ?? "")
        #expect(try await agreesWithGLM(fit, "glm(\(formula), family = \(familyCall), data = \(name)\(extra))") == "TRUE", "\(name)")
    }

    /// Complete separation: R's warning and R's numbers; maxit reached: not converged, R's warning.
    @Test func separationAndNonConvergenceGiveRsWarningsAndNumbers() async throws {
        let data = try await table("glm_separated", "data.frame(x = c(1:10), y = c(rep(0, 5), rep(1, 5)))")
        let separated = try await GeneralizedLinearModel.fit(data, GeneralizedLinearModelSpecification(formula: "y ~ x", family: "binomial"))
        #expect(separated.warnings.contains("glm.fit: fitted probabilities numerically 0 or 1 occurred"), "\(separated.warnings)")
        #expect(try await agreesWithGLM(separated, "glm(y ~ x, family = binomial, data = glm_separated)") == "TRUE")
        let short = try await GeneralizedLinearModel.fit(try await table("glm_short", "infert"),
                                                         GeneralizedLinearModelSpecification(formula: "case ~ spontaneous + induced", family: "binomial", maxit: 2))
        #expect(!short.converged && short.iterations == 2 && short.warnings.contains("glm.fit: algorithm did not converge"), "\(short.warnings)")
        #expect(try await agreesWithGLM(short, "glm(case ~ spontaneous + induced, family = binomial, data = glm_short, control = glm.control(maxit = 2))") == "TRUE")
    }

    /// The oracle is sharp: a fit moved by 1e-7 of one coefficient fails it.
    @Test func theOracleRefusesAFitPerturbedBy1e7() async throws {
        let data = try await table("glm_check", "mtcars")
        var fit = try await GeneralizedLinearModel.fit(data, GeneralizedLinearModelSpecification(formula: "am ~ wt", family: "binomial"))
        fit.coefficients[1].estimate *= 1 + 1e-7
        #expect(try await agreesWithGLM(fit, "glm(am ~ wt, family = binomial, data = glm_check)") == "estimate")
    }

    @Test func anUnknownFamilyOrAWrongLinkIsAClearError() async throws {
        let data = try await table("glm_bad", "mtcars")
        let unknown = await #expect(throws: LinearModelError.self) {
            try await GeneralizedLinearModel.fit(data, GeneralizedLinearModelSpecification(formula: "am ~ wt", family: "binomal"))
        }
        #expect("\(unknown!)".contains("unknown family 'binomal'"), "\(unknown!)")
        // As in R: a bare link name must be one of the family's; a quoted one any make.link knows.
        let bare = await #expect(throws: LinearModelError.self) {
            try await GeneralizedLinearModel.fit(data, GeneralizedLinearModelSpecification(formula: "am ~ wt", family: "poisson(link = logit)"))
        }
        #expect("\(bare!)".contains("family poisson: link logit not available for poisson family; available links are 'log', 'identity', 'sqrt'"), "\(bare!)")
        let unknownLink = await #expect(throws: LinearModelError.self) {
            try await GeneralizedLinearModel.fit(data, GeneralizedLinearModelSpecification(formula: "am ~ wt", family: "poisson", link: "logt"))
        }
        #expect("\(unknownLink!)".contains("family poisson: link 'logt' is not one R knows"), "\(unknownLink!)")
        let both = await #expect(throws: LinearModelError.self) {
            try await GeneralizedLinearModel.fit(data, GeneralizedLinearModelSpecification(formula: "am ~ wt", family: "binomial(link = \"probit\")", link: "logit"))
        }
        #expect("\(both!)".contains("the family says link probit and the link given (--link, params.link) is logit"), "\(both!)")
        // R's own words would be "(subscript) logical subscript too long" and "contrasts can be
        // applied only to factors with 2 or more levels": the response and the factor are named.
        let counts = try await table("glm_bad_counts", "data.frame(a = 1:4, b = 4:1, x = c(0.5, 1.5, 0.2, 2), g = factor('u'))")
        let cbind = await #expect(throws: LinearModelError.self) {
            try await GeneralizedLinearModel.fit(counts, GeneralizedLinearModelSpecification(formula: "cbind(a, b) ~ x", family: "poisson"))
        }
        #expect("\(cbind!)".contains("the response cbind(a, b) is counts of successes and failures: it needs family binomial or quasibinomial, not poisson"), "\(cbind!)")
        let oneLevel = await #expect(throws: LinearModelError.self) {
            try await GeneralizedLinearModel.fit(counts, GeneralizedLinearModelSpecification(formula: "a ~ x + g", family: "poisson"))
        }
        #expect("\(oneLevel!)".contains("factor g has only one level (u) in these rows: glm needs two or more"), "\(oneLevel!)")
    }

    /// A quoted link outside the family's own list is R's: the linear probability model fits, as
    /// glm(family = binomial(link = "identity")) does, leaving out the row with a missing value.
    @Test func aQuotedLinkAnyMakeLinkKnowsFitsAsInR() async throws {
        let data = try await table("glm_lpm", "data.frame(y = c(0, 0, 1, 1, 0, 1, 1, 1, 0, 1), x = 1:10, z = c(1, NA, 3:10))")
        let fit = try await GeneralizedLinearModel.fit(data, GeneralizedLinearModelSpecification(formula: "y ~ x + z", family: "binomial", link: "identity"))
        #expect(fit.link == "identity" && fit.rowsDropped == 1)
        #expect(try await agreesWithGLM(fit, "glm(y ~ x + z, family = binomial(link = 'identity'), data = glm_lpm, na.action = na.omit)") == "TRUE")
    }
}
