import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// A fit saved for prediction (`SavedFit`, `polybridge fit --save`): R reads the file, and
/// Swift's predictions from it equal R's `predict()` on R's own lm or glm, to 1e-12.
@Suite struct SavedFitTests {
    static let data = """
        set.seed(51); n <- 300
        d <- data.frame(x1 = rnorm(n), x2 = runif(n), g = factor(sample(c("p", "q", "r"), n, TRUE)),
                        s = sample(c("üb", "ab"), n, TRUE), e = runif(n, 1, 3))
        d$x3 <- 2 * d$x1
        d$y <- 1 + d$x1 - d$x2 + as.integer(d$g) + (d$s == "ab") + rnorm(n)
        d$b <- rbinom(n, 1, plogis(0.5 * d$x1 - d$x2 + 0.3 * as.integer(d$g)))
        d$count <- rpois(n, d$e * exp(0.2 * d$x1))
        d$le <- log(d$e)
        d$x1[5] <- NA
        d
        """
    static let newData = """
        data.frame(x1 = c(0.5, -1, NA, 2), x2 = c(0.1, 0.9, 0.5, 0.3), g = factor(c("r", "p", "q", "q"), levels = c("p", "q", "r")),
                   s = c("ab", "üb", "ab", "ab"), le = log(c(1.5, 2, 2.5, 1)), x3 = c(1, -2, 0, 4))
        """

    /// Swift's predictions against R's, and the file R reads back.
    func agrees(_ name: String, saved: SavedFit, rFit: String, type: SavedFit.PredictionType, newName: String) async throws -> Bool {
        let path = try scratchDirectory() + "/\(name).rds"
        try await saved.write(to: path)
        let read = try await SavedFit.read(path)
        #expect(read.terms == saved.terms && read.levels == saved.levels && read.model == saved.model)
        let rdsNew = try scratchDirectory() + "/\(newName).rds"
        _ = try await RRuntime.shared().evaluate("\(newName) <- \(Self.newData); saveRDS(\(newName), '\(rdsNew)')")
        let table = try await DataFiles.readTable(rdsNew)
        let mine = try await read.predict(table, type: type)
        let code = """
            local({ fit <- \(rFit); f <- readRDS('\(path)')
                    expected <- suppressWarnings(unname(predict(fit, newdata = \(newName), type = '\(type.rawValue)')))
                    mine <- c(\(mine.map { $0.isNaN ? "NA" : String(format: "%.17g", $0) }.joined(separator: ", ")))
                    inherits(f, 'polybridge_fit') && isTRUE(all.equal(unname(f$coefficients), unname(coef(fit)), tolerance = 1e-10)) &&
                      identical(is.na(mine), is.na(expected)) && isTRUE(all.equal(mine, expected, tolerance = 1e-12)) })
            """
        return try await RRuntime.shared().eval(code, as: Bool.self)
    }

    @Test func anLMSavedWholeOrInChunksPredictsAsRDoes() async throws {
        let path = try await glmParquet("saved_lm", Self.data)
        for formula in ["y ~ x1 + x2 + g + s", "y ~ x1 + x3 + g", "y ~ 0 + x1 + g:x2"] {
            let specification = LinearModelSpecification(formula: formula)
            var options = FileFitOptions()
            for chunks in [nil, 4] {
                options.chunks = chunks
                let (fit, _) = try await LinearModel.fit(file: path, specification, options: options)
                let saved = try #require(try await SavedFit.from(fit, file: path, specification))
                let verdict = try await agrees("saved_lm_\(chunks ?? 0)", saved: saved, rFit: "lm(\(formula), data = saved_lm)", type: .response,
                                               newName: "saved_new")
                #expect(verdict, "\(formula) in \(chunks ?? 1) chunks")
                // The check's check: a coefficient off by 1e-9 (relative) fails it.
                var perturbed = saved
                perturbed.coefficients[0] *= 1 + 1e-9
                let refused = try await agrees("saved_lm_off", saved: perturbed, rFit: "lm(\(formula), data = saved_lm)", type: .response,
                                               newName: "saved_new")
                #expect(!refused, "\(formula): a perturbed fit passed")
            }
        }
    }

    @Test func aGLMPredictsItsLinkAndResponseAsRDoes() async throws {
        let path = try await glmParquet("saved_glm", Self.data)
        let cases: [(GeneralizedLinearModelSpecification, String)] = [
            (.init(formula: "b ~ x1 + x2 + g", family: "binomial"), "glm(b ~ x1 + x2 + g, family = binomial, data = saved_glm)"),
            (.init(formula: "b ~ x1 + s", family: "binomial", link: "probit"), "glm(b ~ x1 + s, family = binomial(link = 'probit'), data = saved_glm)"),
            (.init(formula: "count ~ x1 + g", family: "poisson", offset: "le"), "glm(count ~ x1 + g, family = poisson, data = saved_glm, offset = le)"),
        ]
        for (specification, rFit) in cases {
            var options = FileFitOptions()
            options.chunks = 3
            let (fit, _) = try await GeneralizedLinearModel.fit(file: path, specification, options: options)
            let saved = try #require(try await SavedFit.from(fit, file: path, specification))
            for type in SavedFit.PredictionType.allCases {
                let verdict = try await agrees("saved_glm", saved: saved, rFit: rFit, type: type, newName: "saved_glm_new")
                #expect(verdict, "\(specification.formula) \(type)")
            }
        }
    }

    /// An lm's confidence and prediction intervals are R's `predict(fit, newdata, interval =)`,
    /// whole and in chunks, with an aliased column; a glm has none.
    @Test func anLMsIntervalsAreRs() async throws {
        let path = try await glmParquet("saved_interval", Self.data)
        let rds = try scratchDirectory() + "/saved_interval_new.rds"
        _ = try await RRuntime.shared().evaluate("saved_interval_new <- \(Self.newData); saveRDS(saved_interval_new, '\(rds)')")
        let table = try await DataFiles.readTable(rds)
        for formula in ["y ~ x1 + x2 + g + s", "y ~ x1 + x3 + g"] {
            for chunks in [nil, 3] {
                var options = FileFitOptions()
                options.chunks = chunks
                let specification = LinearModelSpecification(formula: formula)
                let (fit, _) = try await LinearModel.fit(file: path, specification, options: options)
                let predictor = try await #require(try await SavedFit.from(fit, file: path, specification)).predictor()
                for interval in SavedFitPredictor.Interval.allCases {
                    let mine = try predictor.predict(table, interval: interval)
                    let values = (mine.fit + mine.lower + mine.upper).map { $0.isNaN ? "NA" : String(format: "%.17g", $0) }.joined(separator: ", ")
                    let agrees = try await RRuntime.shared().eval("""
                        local({ expected <- suppressWarnings(as.double(predict(lm(\(formula), data = saved_interval), saved_interval_new,
                                                                                   interval = '\(interval.rawValue)')))
                                mine <- c(\(values))
                                identical(is.na(mine), is.na(expected)) && isTRUE(all.equal(mine, expected, tolerance = 1e-10)) })
                        """, as: Bool.self)
                    #expect(agrees, "\(formula) in \(chunks ?? 1) chunks, \(interval)")
                }
            }
        }
        let glm = GeneralizedLinearModelSpecification(formula: "b ~ x1", family: "binomial")
        let (glmFit, _) = try await GeneralizedLinearModel.fit(file: path, glm, options: FileFitOptions())
        let glmPredictor = try await #require(try await SavedFit.from(glmFit, file: path, glm)).predictor()
        #expect(throws: LinearModelError.self) { try glmPredictor.predict(table, interval: .confidence) }
    }

    /// A level the fit did not see is R's error; a formula the native path does not build is not
    /// saved; a file that is not a saved fit is named.
    @Test func newLevelsOtherFormulasAndOtherFilesAreRefused() async throws {
        let path = try await glmParquet("saved_bad", Self.data)
        let specification = LinearModelSpecification(formula: "y ~ x1 + g")
        let (fit, _) = try await LinearModel.fit(file: path, specification, options: FileFitOptions())
        let saved = try #require(try await SavedFit.from(fit, file: path, specification))
        let rds = try scratchDirectory() + "/saved_bad_new.rds"
        _ = try await RRuntime.shared().evaluate("saved_bad_new <- data.frame(x1 = 1, g = 'z'); saveRDS(saved_bad_new, '\(rds)')")
        let expected = try await RRuntime.shared().eval("""
            tryCatch(predict(lm(y ~ x1 + g, data = saved_bad), newdata = saved_bad_new), error = conditionMessage)
            """, as: String.self)
        await #expect {
            _ = try await saved.predict(try await DataFiles.readTable(rds))
        } throws: { error in
            "\(error)".contains(expected)
        }
        let (poly, _) = try await LinearModel.fit(file: path, LinearModelSpecification(formula: "y ~ poly(x2, 2)"), options: FileFitOptions())
        #expect(try await SavedFit.from(poly, file: path, LinearModelSpecification(formula: "y ~ poly(x2, 2)")) == nil)
        // Written by the output policy: through a symlink to its target, never over a device.
        let target = try scratchDirectory() + "/saved_target.rds", link = try scratchDirectory() + "/saved_link.rds"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try await saved.write(to: link)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == target)
        #expect(try await SavedFit.read(target).terms == saved.terms)
        await #expect(throws: DataFileError.self) { try await saved.write(to: "/dev/null") }
        let other = try scratchDirectory() + "/not_a_fit.rds"
        _ = try await RRuntime.shared().evaluate("saveRDS(list(a = 1), '\(other)')")
        await #expect {
            _ = try await SavedFit.read(other)
        } throws: { error in
            "\(error)".contains("\(other) is not a fit saved by polybridge fit --save")
        }
    }
}
