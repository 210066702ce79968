import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// Many small random data sets, each fitted in chunks of every awkward size (1 row up to the
/// coefficients + 2) and compared with R's own `lm` on the whole data: one-row chunks, factor
/// levels and constant columns missing from a chunk, collinear columns, NA rows, zero weights,
/// offsets, sorted and unsorted rows, factor levels declared out of order and numbers as text
/// (whose levels sort as text), and both chunk paths (bare columns go native, `I(x1)`
/// goes through R's model.frame).
@Suite struct SmallChunkPropertyTests {
    /// R code that defines `.pb_small_case(seed)`: a random data frame `d` and a model on it,
    /// with what `lm` makes of it (`ok`, `nodf` for no residual degrees of freedom, or its error)
    /// and the model matrix's width.
    static let generator = #"""
    .pb_small_case <- function(seed) {
      set.seed(seed)
      n <- sample(3:20, 1L)
      nlev <- sample(1:4, 1L)
      d <- data.frame(
        y = round(rnorm(n, 5, 2), 2),
        x1 = round(rnorm(n), 3),
        x2 = if (runif(1) < 0.3) rep(1.5, n) else round(runif(n), 3),
        g = factor(sample(letters[seq_len(nlev)], n, TRUE), levels = sample(letters[seq_len(nlev)])),
        s = sample(if (runif(1) < 0.5) c("u", "v", "w") else c("9", "10", "11"), n, TRUE),
        w = sample(c(0, 0.5, 1, 2), n, TRUE, prob = c(0.15, 0.3, 0.3, 0.25)),
        off = round(rnorm(n), 2), stringsAsFactors = FALSE)
      d$x3 <- d$x1 - 2 * d$x2
      if (runif(1) < 0.3) d$y[sample(n, 1L)] <- NA
      if (runif(1) < 0.3) d$x1[sample(n, 1L)] <- NA
      if (runif(1) < 0.2) d$g[sample(n, 1L)] <- NA
      if (runif(1) < 0.5) d <- d[order(d$g, d$s), ]
      rownames(d) <- NULL
      terms <- c("x1", "x2", "x3", "g", "s", "x1:g", "g:s", "factor(s)", "interaction(g, s)")
      chosen <- terms[runif(length(terms)) < 0.4]
      if (seed %% 2L == 1L) chosen[chosen == "x1"] <- "I(x1)"
      rhs <- if (length(chosen)) paste(chosen, collapse = " + ") else "1"
      if (length(chosen) && runif(1) < 0.2) rhs <- paste("0 +", rhs)
      weights <- if (runif(1) < 0.3) "w" else ""
      offset <- if (runif(1) < 0.2) "off" else ""
      formula <- paste("y ~", rhs)
      cl <- call("lm", formula = as.formula(formula), data = quote(d))
      if (nzchar(weights)) cl$weights <- as.name(weights)
      if (nzchar(offset)) cl$offset <- as.name(offset)
      outcome <- tryCatch(suppressWarnings({
        fit <- eval(cl)
        s <- summary(fit)
        if (s$df[[2L]] <= 0L) c("nodf", ncol(model.matrix(fit))) else c("ok", ncol(model.matrix(fit)))
      }), error = function(e) c(paste("error:", conditionMessage(e)), "0"))
      list(d = d, text = c(formula, weights, offset, outcome))
    }
    """#

    /// One batch of seeds; the batches run in parallel.
    @Test(arguments: 0..<8)
    func chunkedFitsOfSmallRandomDataEqualLM(batch: Int) async throws {
        _ = try await RRuntime.shared().evaluate(Self.generator)
        var compared = 0, refusedLikeR = 0
        let executor = PathRecordingExecutor()
        for seed in (batch * 20 + 1)...(batch * 20 + 20) {
            let name = "small_case_\(seed)"
            let text = try await RRuntime.shared().eval(
                "local({ case <- .pb_small_case(\(seed)L); assign('\(name)', case$d, envir = globalenv()); case$text })",
                as: [String].self)
            let (formula, weights, offset, outcome) = (text[0], text[1].isEmpty ? nil : text[1],
                                                       text[2].isEmpty ? nil : text[2], text[3])
            let width = Int(text[4]) ?? 0
            let data = try await Bridge.table(fromR: name)
            let spec = LinearModelSpecification(formula: formula, weights: weights, offset: offset)
            for rowsPerChunk in Set([1, 2, width + 1, width + 2, Int(UInt(seed) % UInt(width + 2)) + 1]).sorted() {
                let chunks = LinearModel.chunkRanges(rowCount: data.rowCount, rowsPerChunk: rowsPerChunk)
                let context = "seed \(seed): \(formula) weights \(weights ?? "-") offset \(offset ?? "-"), \(data.rowCount) rows in chunks of \(rowsPerChunk); lm: \(outcome)"
                do {
                    let fit = try await LinearModel.fitChunked(.table(data), rowCount: data.rowCount, chunks: chunks, spec,
                                                               executor: executor, label: name)
                    #expect(outcome == "ok", "Polybridge fitted what lm could not: \(context)")
                    if outcome == "ok" {
                        #expect(try await agreesWithLM(fit, data: name, formula: formula, weights: weights, offset: offset) == "TRUE", "\(context)")
                        compared += 1
                    }
                } catch let error as LinearModelError {
                    // lm has no answer either: no residual degrees of freedom, or an error of its own.
                    #expect(outcome != "ok", "\(error) — \(context)")
                    if outcome == "nodf" { #expect("\(error)".contains("no residual degrees of freedom"), "\(error) — \(context)") }
                    refusedLikeR += 1
                }
            }
            _ = try await RRuntime.shared().evaluate("rm('\(name)', envir = globalenv())")
        }
        #expect(compared >= 30, "only \(compared) fits were compared (\(refusedLikeR) refused as lm refuses)")
        #expect(Set(executor.factorPaths) == [.native, .r], "both chunk paths are exercised: \(Set(executor.factorPaths))")
    }

    /// The issue's case: eight rows, `y ~ g` in chunks of 2; every chunk lacks a level, so its
    /// residual lies below a row of R that the missing level's column left empty.
    @Test func twoRowChunksOfAFactorModelKeepTheirResidual() async throws {
        let data = try await table("small_issue_case", """
            data.frame(y = c(1, 2, 4, 7, 3, 9, 5, 6), g = c("a", "a", "b", "b", "c", "c", "a", "a"))
            """)
        let fit = try await LinearModel.fitChunked(.table(data), rowCount: 8, chunks: LinearModel.chunkRanges(rowCount: 8, rowsPerChunk: 2),
                                                   LinearModelSpecification(formula: "y ~ g"), label: "small_issue_case")
        #expect(try await agreesWithLM(fit, data: "small_issue_case", formula: "y ~ g") == "TRUE")
        #expect(abs(fit.residualStandardError - 2.811) < 5e-4)
    }

    /// `y ~ offset(off)` and `y ~ 1` with an offset explain nothing: R² and adjusted R² are 0
    /// and there is no F statistic, as summary.lm says (R before 4.3 counts the offset in the
    /// model sum of squares, which must not leak into R²).
    @Test(arguments: [("y ~ offset(off)", nil), ("y ~ 1", "off"), ("y ~ 0 + offset(off)", nil)] as [(String, String?)])
    func aModelOfTheInterceptAloneExplainsNothing(formula: String, offset: String?) async throws {
        let name = "small_offset_only"
        let data = try await table(name, "set.seed(8); d <- data.frame(y = rnorm(50), off = rnorm(50)); d$y <- d$y + 0.3 * d$off; d")
        let fit = try await LinearModel.fitChunked(data, chunks: 4, LinearModelSpecification(formula: formula, offset: offset), label: name)
        #expect(try await agreesWithLM(fit, data: name, formula: formula, offset: offset) == "TRUE", "\(formula)")
        #expect(fit.rSquared == 0 && fit.adjustedRSquared == 0 && fit.fStatistic == nil, "\(formula)")
    }
}
