import Foundation
import Polybridge
import PolybridgeTestSupport
import Synchronization
import Testing

/// Compares `fit` with R's own `lm` + `summary` on the whole data, in R: coefficients and
/// standard errors to 1e-8, R², adjusted R², F and sigma to 1e-10, the same aliased
/// coefficients, residual df and NA count. Returns R's verdict (TRUE or the differences).
func agreesWithLM(_ fit: LinearModelFit, data: String, formula: String, weights: String? = nil,
                  offset: String? = nil) async throws -> String {
    func vector(_ values: [Double]) -> String {
        values.isEmpty ? "numeric(0)" : "c(" + values.map { $0.isNaN ? "NaN" : String(format: "%.17g", $0) }.joined(separator: ", ") + ")"
    }
    func strings(_ values: [String]) -> String {
        "c(" + values.map { "'" + $0.replacingOccurrences(of: "'", with: "\\'") + "'" }.joined(separator: ", ") + ")"
    }
    let f = fit.fStatistic.map { "c(\($0.value), \($0.numeratorDF), \($0.denominatorDF))" } ?? "NULL"
    let extra = (weights.map { ", weights = \($0)" } ?? "") + (offset.map { ", offset = \($0)" } ?? "")
    let code = """
        local({
          fit <- lm(\(formula), data = \(data)\(extra))
          s <- summary(fit)
          cf <- coef(s)
          checks <- c(
            names = identical(as.character(rownames(cf)), if (\(fit.coefficients.count) == 0) character(0) else \(strings(fit.coefficients.map(\.name)))),
            estimate = isTRUE(all.equal(unname(cf[, 1]), \(vector(fit.coefficients.map(\.estimate))), tolerance = 1e-8)),
            se = isTRUE(all.equal(unname(cf[, 2]), \(vector(fit.coefficients.map(\.standardError))), tolerance = 1e-8)),
            aliased = identical(as.character(names(s$aliased)[s$aliased]), \(fit.aliased.isEmpty ? "character(0)" : strings(fit.aliased))),
            r2 = isTRUE(all.equal(s$r.squared, \(String(format: "%.17g", fit.rSquared)), tolerance = 1e-10)),
            adj = isTRUE(all.equal(s$adj.r.squared, \(String(format: "%.17g", fit.adjustedRSquared)), tolerance = 1e-10)),
            sigma = isTRUE(all.equal(s$sigma, \(String(format: "%.17g", fit.residualStandardError)), tolerance = 1e-10)),
            f = isTRUE(all.equal(unname(s$fstatistic), \(f), tolerance = 1e-10)),
            df = identical(s$df[2], \(fit.residualDF)L),
            dropped = identical(length(fit$na.action), \(fit.rowsDroppedForNA)L))
          if (all(checks)) "TRUE" else paste(names(checks)[!checks], collapse = ", ")
        })
        """
    return try await RRuntime.shared().eval(code, as: String.self)
}

/// Makes an R data frame under `name` (a name only this test uses) and returns it as Arrow.
func table(_ name: String, _ code: String) async throws -> ArrowTable {
    _ = try await RRuntime.shared().evaluate("\(name) <- local({ \(code) })")
    return try await Bridge.table(fromR: name)
}

/// The standard test data: numeric predictors, a factor, a character column, an ordered
/// factor, weights with zeros and an offset.
let standardData = """
    set.seed(20261121)
    n <- 2400
    d <- data.frame(x1 = rnorm(n), x2 = rnorm(n), g = factor(sample(c("a", "b", "c", "d"), n, TRUE)),
                    s = sample(c("u", "v", "w"), n, TRUE),
                    o = factor(sample(c("lo", "mid", "hi"), n, TRUE), levels = c("lo", "mid", "hi"), ordered = TRUE),
                    w = runif(n), off = rnorm(n))
    d$y <- 1 + 2 * d$x1 - d$x2 + as.integer(d$g) + rnorm(n)
    d$w[sample(n, 40)] <- 0
    d
    """

@Suite struct LinearModelWholeDataTests {
    @Test(arguments: [("mtcars", "mpg ~ wt + factor(cyl)"), ("iris", "Sepal.Length ~ ."),
                      ("airquality", "Ozone ~ Solar.R + Wind + Temp + factor(Month)")])
    func rDataSetsMatchLM(data: String, formula: String) async throws {
        let fit = try await LinearModel.fit(rData: data, LinearModelSpecification(formula: formula))
        #expect(try await agreesWithLM(fit, data: data, formula: formula) == "TRUE")
        #expect(fit.combine == nil && fit.chunks == 1)
        // The text is R's own summary.lm printout.
        let printed = try await RRuntime.shared().eval(
            "paste(capture.output(print(summary(lm(\(formula), data = \(data))))), collapse = '\\n')", as: String.self)
        #expect(fit.summary == printed)
    }

    @Test func aFormulaStringThatIsNotOneFormulaIsRefusedBeforeAnythingRuns() async throws {
        let marker = try scratchDirectory() + "/ran"
        for formula in ["y ~ x1; system('touch \(marker)')", "y ~ x1\nfile.create('\(marker)')", "system('touch \(marker)')", "y ~ (x1"] {
            await #expect(throws: LinearModelError.self) {
                _ = try await LinearModel.fit(rData: "mtcars", LinearModelSpecification(formula: formula))
            }
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
        do {
            _ = try await LinearModel.checkFormula("y ~ x1; system('true')")
        } catch {
            #expect("\(error)".contains("exactly one R formula; the text holds 2 expressions"))
        }
    }
}

@Suite struct LinearModelChunkedTests {
    /// Each case: data (R code), formula, chunks, weights, offset. The exact combine must equal
    /// lm on the whole data.
    static let cases: [(String, String, String, Int, String?, String?)] = [
        ("basic", "d", "y ~ x1 + x2 + g", 7, nil, nil),
        ("reference level missing from a chunk", "d <- d[order(d$g != 'a'), ]; d$g[1:300] <- 'b'; d[order(d$g == 'a'), ]",
         "y ~ x1 + g", 5, nil, nil),
        ("a level only on rows dropped for NA", "d$x1[d$g == 'd'] <- NA; d", "y ~ x1 + g", 4, nil, nil),
        ("exactly collinear column", "d$x3 <- 2 * d$x1 - d$x2; d", "y ~ x1 + x2 + x3 + g", 6, nil, nil),
        ("constant within one chunk only", "d$c <- rnorm(nrow(d)); d$c[1:400] <- 1; d", "y ~ x1 + c", 6, nil, nil),
        ("NA in response, predictors and weights",
         "d$y[sample(nrow(d), 30)] <- NA; d$x2[sample(nrow(d), 30)] <- NA; d$w[sample(nrow(d), 30)] <- NA; d",
         "y ~ x1 + x2 + g", 5, "w", nil),
        ("weights including zeros", "d", "y ~ x1 + x2 + g", 5, "w", nil),
        ("an offset", "d", "y ~ x1 + g", 5, nil, "off"),
        ("an offset in the formula", "d", "y ~ x1 + g + offset(off)", 5, nil, nil),
        ("weights and an offset", "d", "y ~ x1 + g", 4, "w", "off"),
        ("no intercept", "d", "y ~ 0 + x1 + g", 5, nil, nil),
        ("no intercept with an offset", "d", "y ~ x1 - 1", 3, nil, "off"),
        ("ill-conditioned raw polynomial", "d$t <- 30 + runif(nrow(d)); d$y <- 1 + d$t - 0.5 * d$t^2 + rnorm(nrow(d)); d",
         "y ~ t + I(t^2)", 6, nil, nil),
        ("chunks with fewer rows than coefficients", "d[1:40, ]", "y ~ x1 + x2 + g + s", 12, nil, nil),
        ("K = 1", "d", "y ~ x1 + x2 + g", 1, nil, nil),
        ("K = many", "d", "y ~ x1 + x2 + g", 60, nil, nil),
        ("character columns and ordered factors", "d", "y ~ x1 + s + o", 6, nil, nil),
        ("interactions", "d", "y ~ x1 * g + s:x2", 6, nil, nil),
    ]

    @Test(arguments: cases.indices)
    func exactCombineEqualsLMOnTheWholeData(index: Int) async throws {
        let (label, dataCode, formula, chunks, weights, offset) = LinearModelChunkedTests.cases[index]
        let name = "lm_case_\(index)"
        let data = try await table(name, "d <- { \(standardData) }; \(dataCode)")
        let spec = LinearModelSpecification(formula: formula, weights: weights, offset: offset)
        let fit = try await LinearModel.fitChunked(data, chunks: chunks, spec, label: name)
        #expect(try await agreesWithLM(fit, data: name, formula: formula, weights: weights, offset: offset) == "TRUE", "\(label)")
        #expect(fit.combine == .exact && !fit.isApproximate)
    }

    /// R's data sets through the chunked path too.
    @Test(arguments: [("mtcars", "mpg ~ wt + factor(cyl)", 3), ("iris", "Sepal.Length ~ .", 4),
                      ("airquality", "Ozone ~ Solar.R + Wind + Temp + factor(Month)", 5)])
    func rDataSetsInChunksMatchLM(data: String, formula: String, chunks: Int) async throws {
        let fit = try await LinearModel.fitChunked(try await Bridge.table(fromR: data), chunks: chunks,
                                                   LinearModelSpecification(formula: formula), label: data)
        #expect(try await agreesWithLM(fit, data: data, formula: formula) == "TRUE")
        // The printout is summary.lm's, with the residual quantiles it cannot know replaced.
        let printed = try await RRuntime.shared().eval(
            "paste(capture.output(print(summary(lm(\(formula), data = \(data))))), collapse = '\\n')", as: String.self)
        let withoutResiduals = { (text: String) in
            text.components(separatedBy: "\n").filter { !$0.hasPrefix("Residuals") && !$0.contains("Min") && !$0.contains("-") || $0.contains("lm(") || $0.contains("Signif") }
        }
        #expect(withoutResiduals(fit.summary).dropFirst(2) == withoutResiduals(printed).dropFirst(2))
        #expect(fit.summary.contains("Residuals: not kept by a chunked fit"))
    }

    /// A permuted chunk order gives the same answer as lm.
    @Test func permutedChunkOrderAgrees() async throws {
        let data = try await table("lm_permuted", standardData)
        let ranges = LinearModel.chunkRanges(rowCount: data.rowCount, count: 6)
        let permuted = [ranges[3], ranges[0], ranges[5], ranges[1], ranges[4], ranges[2]]
        let fit = try await LinearModel.fitChunked(.table(data), rowCount: data.rowCount, chunks: permuted,
                                                   LinearModelSpecification(formula: "y ~ x1 + x2 + g + s"))
        #expect(try await agreesWithLM(fit, data: "lm_permuted", formula: "y ~ x1 + x2 + g + s") == "TRUE")
    }

    /// An R error inside one chunk names the chunk, its rows and R's message.
    @Test func anRErrorInOneChunkNamesTheChunk() async throws {
        let data = try await table("lm_bad_chunk", "d <- { \(standardData) }; d$w[1500] <- -1; d")
        do {
            _ = try await LinearModel.fitChunked(data, chunks: 4, LinearModelSpecification(formula: "y ~ x1", weights: "w"))
            Issue.record("a negative weight was accepted")
        } catch let error as LinearModelError {
            #expect(error == .chunkFailed(chunk: 3, firstRow: 1201, lastRow: 1800, message: "negative weights are not allowed"))
        }
    }

    /// A chunked fit (exact or average) refuses, by name, any function not known to be
    /// row-wise: those that need the whole data (`min(y)` computed per chunk gave a wrong
    /// intercept; `c(1, 2)` restarts its recycling at each chunk's first row, and `%in%` a
    /// column sees only the chunk's rows), indexing, and functions R would look up elsewhere.
    @Test(arguments: [("log(y - min(y) + 1) ~ x1", "min()"), ("y ~ I(x1 - max(x1))", "max()"), ("y ~ I(x1 / diff(range(x1)))", "diff()"),
                      ("y ~ I(x1 / sum(x2))", "sum()"), ("y ~ I(x1 * length(x1))", "length()"), ("y ~ seq_along(x1)", "seq_along()"),
                      ("y ~ I(x1 - x1[1])", "indexing ([)"), ("y ~ poly(x1, 2)", "poly()"), ("y ~ scale(x1)", "scale()"), ("y ~ I(x1 > median(x1))", "median()"),
                      ("y ~ rank(x1)", "rank()"), ("y ~ my_transform(x1)", "my_transform()"), ("y ~ d$x1", "$"),
                      ("y ~ I(x1 - mean(x1))", "mean()"), ("y ~ cumsum(x1)", "cumsum()"), ("y ~ factor(x1, levels = unique(x1))", "unique()"),
                      ("y ~ factor(s, labels = c('U', 'V', 'W'))", "factor() with labels"), ("y ~ interaction(g, s, sep = '_')", "interaction() with named arguments"),
                      // A constant vector recycles by row position, and %in% a column looks at all its rows.
                      ("y ~ I(x1 * c(1, 2))", "c()"), ("y ~ I(s %in% g)", "%in% with a column on its right")])
    func functionsThatAreNotRowWiseAreRefusedByName(formula: String, function: String) async throws {
        let data = try await table("lm_not_rowwise", standardData)
        for combine in [LinearModelCombine.exact, .average] {
            await #expect(throws: LinearModelError.notRowWise(formula: formula, function: function)) {
                _ = try await LinearModel.fitChunked(data, chunks: 3, LinearModelSpecification(formula: formula), combine: combine)
            }
        }
    }

    /// Sorted data leaves factor levels out of whole chunks: the average combine averages each
    /// coefficient over the chunks that estimate it and says how many did. The oracle is R's own
    /// lm on each chunk, averaged by name in R.
    @Test func averageCombineAveragesEachCoefficientOverTheChunksThatEstimateIt() async throws {
        let name = "lm_average_sorted"
        let data = try await table(name, "d <- { \(standardData) }; d[order(d$g), ]")
        // Three chunks of sorted data: each holds two of g's four levels.
        let ranges = LinearModel.chunkRanges(rowCount: data.rowCount, count: 3)
        let fit = try await LinearModel.fitChunked(.table(data), rowCount: data.rowCount, chunks: ranges,
                                                   LinearModelSpecification(formula: "y ~ x1 + g + s"), combine: .average, label: name)
        let bounds = ranges.map { "c(\($0.lowerBound + 1), \($0.upperBound))" }.joined(separator: ", ")
        let expected = try await RRuntime.shared().eval("""
            local({
              fits <- lapply(list(\(bounds)), function(b) coef(summary(lm(y ~ x1 + g + s, data = \(name)[b[1]:b[2], ]))))
              names <- unique(unlist(lapply(fits, rownames)))
              unlist(lapply(names, function(n) {
                have <- Filter(function(cf) n %in% rownames(cf), fits)
                c(mean(vapply(have, function(cf) cf[n, 1], 0)), mean(vapply(have, function(cf) cf[n, 2], 0)), length(have))
              }))
            })
            """, as: [Double].self)
        #expect(expected.count == 3 * fit.coefficients.count)
        for (index, coefficient) in fit.coefficients.enumerated() where 3 * index + 2 < expected.count {
            #expect(abs(coefficient.estimate - expected[3 * index]) <= 1e-10 * max(1, abs(expected[3 * index])), "\(coefficient.name)")
            #expect(abs(coefficient.standardError - expected[3 * index + 1]) <= 1e-10 * expected[3 * index + 1], "\(coefficient.name)")
            #expect(coefficient.chunks == Int(expected[3 * index + 2]), "\(coefficient.name)")
        }
        // gd is in the last chunk alone; x1 in all three.
        #expect(fit.coefficient("gd")?.chunks == 1 && fit.coefficient("x1")?.chunks == 3)
        #expect(fit.summary.contains("1 of 3") && fit.summary.hasPrefix("APPROXIMATE"))
    }

    /// A chunk in which a factor has one level cannot be fitted on its own: the error names
    /// the chunk, its rows and the factor (R says only "contrasts can be applied only to
    /// factors with 2 or more levels").
    @Test func aChunkWhereAFactorHasOneLevelIsNamedWithTheFactor() async throws {
        let data = try await table("lm_average_one_level", "d <- { \(standardData) }; d[order(d$g), ]")
        do {
            _ = try await LinearModel.fitChunked(data, chunks: 4, LinearModelSpecification(formula: "y ~ x1 + g"), combine: .average)
            Issue.record("a chunk with one level of g was fitted")
        } catch let error as LinearModelError {
            guard case .chunkFailed(let chunk, let first, _, let message) = error else { Issue.record("\(error)"); return }
            #expect(first == (chunk - 1) * 600 + 1)
            #expect(message.hasPrefix("factor g has only one level (") && message.contains("in these rows: lm needs two or more"), "\(message)")
        }
    }

    /// A formula with several responses is refused, whole or in chunks, with a message that says
    /// to fit each response on its own (chunks used to print the first response's fit alone).
    @Test func aMultiResponseFormulaIsRefusedWholeAndInChunks() async throws {
        let data = try await table("lm_multi_response", standardData)
        let formula = "cbind(x2, y) ~ x1"
        let reason = "it has 2 responses (cbind(x2, y)): lm fits them as one multivariate model, whose summary is one lm per response; fit each response on its own, e.g. 'x2 ~ ...'"
        for combine in [LinearModelCombine.exact, .average] {
            await #expect(throws: LinearModelError.invalidFormula(formula: formula, reason: reason)) {
                _ = try await LinearModel.fitChunked(data, chunks: 4, LinearModelSpecification(formula: formula), combine: combine)
            }
        }
        await #expect(throws: LinearModelError.invalidFormula(formula: formula, reason: reason)) {
            _ = try await LinearModel.fit(data, LinearModelSpecification(formula: formula))
        }
        // A matrix response made another way reaches lm, which makes a multivariate fit: refused too.
        do {
            _ = try await LinearModel.fit(data, LinearModelSpecification(formula: "as.matrix(data.frame(x2, y)) ~ x1"))
            Issue.record("a matrix response was fitted")
        } catch let error as LinearModelError {
            #expect("\(error)".contains("the response is a matrix of 2 columns: fit each response on its own"), "\(error)")
        }
    }

    /// Row-wise terms are accepted in chunks and give lm's answer on the whole data.
    @Test(arguments: ["log(y + 10) ~ I(x1^2) + sqrt(abs(x2)) + exp(-x1) + round(x2, 1)",
                      "y ~ factor(g) + as.factor(s) + pmin(x1, 1) + pmax(x2, -0.5) + ifelse(x1 > 0, 1, 2)",
                      "y ~ interaction(g, s) + x1", "y ~ interaction(z, s, n) + x1", "y ~ factor(z) + as.factor(o) + factor(n)",
                      "y ~ x1 + n + z + o", "y ~ x1 + offset(0.5 * off) + I(g %in% c('a', 'b'))",
                      "y ~ (x1 + x2 + g)^2 - x1:x2", "y ~ g / x1", "(y > 3) ~ x1 + log1p(abs(x2)) + floor(x1) + sign(x2)"])
    func rowWiseTermsInChunksEqualLM(formula: String) async throws {
        let name = "lm_rowwise"
        // z: a factor whose declared level order is not sorted; n: numbers as text ("10" sorts before "9").
        let data = try await table(name, """
            d <- { \(standardData) }; d$z <- factor(sample(c("zz", "aa", "mm"), nrow(d), TRUE), levels = c("zz", "aa", "mm"))
            d$n <- as.character(sample(c(9, 10, 11), nrow(d), TRUE)); d$y <- d$y + (d$z == "aa") + (d$n == "9"); d
            """)
        let fit = try await LinearModel.fitChunked(data, chunks: 5, LinearModelSpecification(formula: formula), label: name)
        #expect(try await agreesWithLM(fit, data: name, formula: formula) == "TRUE", "\(formula)")
    }

    /// The average combine is the common recipe and says it is approximate; it differs from lm.
    @Test func averageCombineIsLabelledApproximate() async throws {
        let data = try await table("lm_average", standardData)
        let spec = LinearModelSpecification(formula: "y ~ x1 + x2 + g")
        let average = try await LinearModel.fitChunked(data, chunks: 4, spec, combine: .average)
        let exact = try await LinearModel.fitChunked(data, chunks: 4, spec)
        #expect(average.isApproximate && average.summary.hasPrefix("APPROXIMATE"))
        #expect(average.coefficient("x1")!.estimate != exact.coefficient("x1")!.estimate)
        // Each chunk has a quarter of the rows: averaged standard errors come out about twice lm's.
        #expect(average.coefficient("x1")!.standardError > 1.5 * exact.coefficient("x1")!.standardError)
    }
}

/// Runs chunk tasks in this process and records which path built each chunk's factor.
final class PathRecordingExecutor: ChunkExecutor, @unchecked Sendable {
    private let recorded = Mutex<[LinearModelChunkWork.Path]>([])

    /// The paths of the factor tasks run so far.
    var factorPaths: [LinearModelChunkWork.Path] { recorded.withLock { $0 } }

    func run(_ task: LinearModelChunkTask, data: ChunkData) async throws -> LinearModelChunkResult {
        guard case .table(let table) = data else { throw LinearModelError.wrongDataForExecutor(executor: "test executor", needs: "a table") }
        do {
            let (result, path) = try await LinearModelChunkWork.runReportingPath(task, rows: try table.slice(rows: task.rows))
            switch (task.step, result) {
            case (.factor, _), (.levelsAndFactor, .levelsAndFactor(_, .some)): recorded.withLock { $0.append(path) }
            default: break
            }
            return result
        } catch {
            throw LinearModelChunkWork.chunkFailure(error, task: task)
        }
    }
}

/// The native path (model matrix built from Arrow buffers in Swift, QR in blocks) is taken for
/// formulas of bare columns and gives lm's answer; other formulas go through R's model.frame.
@Suite struct NativeChunkPathTests {
    static let cases: [(String, String, String?, String?, LinearModelChunkWork.Path)] = [
        ("d", "y ~ x1 + x2 + g", nil, nil, .native),
        ("d", "y ~ x1 * g + s:x2 + o", "w", "off", .native),
        ("d", "y ~ 0 + g + x1", nil, nil, .native),
        ("d", "y ~ x1 + g:s - 1", "w", nil, .native),
        ("d$y[c(3, 900)] <- NA; d$x2[c(5, 1700)] <- NaN; d$s[c(7, 2000)] <- NA; d$g[10] <- NA; d$i <- 1:nrow(d); d",
         "y ~ x2 + s + g + i", nil, nil, .native),
        ("d", "y ~ I(x1^2) + g", nil, nil, .r),
    ]

    @Test(arguments: cases.indices)
    func nativePathMatchesLM(index: Int) async throws {
        let (dataCode, formula, weights, offset, expected) = NativeChunkPathTests.cases[index]
        let name = "native_case_\(index)"
        let data = try await table(name, "d <- { \(standardData) }; \(dataCode)")
        let executor = PathRecordingExecutor()
        let spec = LinearModelSpecification(formula: formula, weights: weights, offset: offset)
        let fit = try await LinearModel.fitChunked(data, chunks: 5, spec, executor: executor, label: name)
        #expect(try await agreesWithLM(fit, data: name, formula: formula, weights: weights, offset: offset) == "TRUE", "\(formula)")
        #expect(executor.factorPaths == Array(repeating: expected, count: 5), "\(formula)")
    }

    /// Chunks are read once when the first chunk's levels hold for all (pass 2 is the last);
    /// when another chunk has a level the first lacks, a third pass refactors with the merged
    /// levels, and both give lm's answer.
    @Test(arguments: [("d", 2), ("d$g[1:500] <- 'a'; d", 3)])
    func theGuessedLevelsAreUsedOnlyWhenTheyHold(dataCode: String, passes: Int) async throws {
        let name = "native_guess_\(passes)"
        let data = try await table(name, "d <- { \(standardData) }; \(dataCode)")
        let seen = Mutex<[Int]>([])
        let fit = try await LinearModel.fitChunked(.table(data), rowCount: data.rowCount,
                                                   chunks: LinearModel.chunkRanges(rowCount: data.rowCount, count: 6),
                                                   LinearModelSpecification(formula: "y ~ x1 + g"), label: name) { progress in
            seen.withLock { $0.append(progress.pass) }
        }
        #expect(seen.withLock { $0.max() } == passes)
        #expect(try await agreesWithLM(fit, data: name, formula: "y ~ x1 + g") == "TRUE")
    }

    /// The Householder factor in blocks has the data's Gram matrix (RᵀR = XᵀX) and is upper
    /// triangular, however the rows are split into blocks.
    @Test func blockedFactorHasTheDataGramMatrix() async throws {
        let name = "native_gram"
        let data = try await table(name, "set.seed(3); as.data.frame(matrix(rnorm(1000 * 4), 1000, 4, dimnames = list(NULL, c('y', 'a', 'b', 'c'))))")
        let result = try await LinearModelChunkWork.run(
            LinearModelChunkTask(chunk: 1, rows: 0..<1000, step: .factor(levels: [:]),
                                 specification: LinearModelSpecification(formula: "y ~ a + b + c")), rows: data)
        guard case .factor(let factor) = result else { Issue.record("\(result)"); return }
        let values = "c(" + factor.r.map { String(format: "%.17g", $0) }.joined(separator: ", ") + ")"
        let verdict = try await RRuntime.shared().eval("""
            local({ r <- matrix(\(values), 5, 5); x <- cbind(1, as.matrix(\(name)[, c('a', 'b', 'c', 'y')]))
              if (isTRUE(all.equal(crossprod(r), crossprod(x), tolerance = 1e-12, check.attributes = FALSE)) && all(r[lower.tri(r)] == 0)) "TRUE" else "FALSE" })
            """, as: String.self)
        #expect(verdict == "TRUE")
    }
}
