import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// R's own answer per group, the oracle: `split()` of the data by the keys (which drops NA
/// keys), then the model on each part with `coef` and `summary`, compared with the two tables
/// a grouped fit returned (bound in R as `coefs` and `groups`). "TRUE", or what differs.
let groupedOracle = #"""
    .pb_grouped_agrees <- function(d, by, fit, coefs, groups, glm) {
      key <- function(frame) do.call(paste, c(lapply(frame[by], as.character), sep = "\r"))
      parts <- split(seq_len(nrow(d)), d[by], drop = TRUE, sep = "\r")
      ours <- key(groups)
      if (length(ours) != length(parts) || !setequal(ours, names(parts))) {
        return(sprintf("groups: %d here, %d from split()", length(ours), length(parts)))
      }
      sorted <- do.call(order, c(unname(as.list(groups[by])), list(method = "radix")))
      if (!identical(sorted, seq_along(ours))) return("the groups are not in ascending key order")
      coef_keys <- key(coefs)
      for (name in names(parts)) {
        rows <- d[parts[[name]], , drop = FALSE]
        g <- groups[ours == name, , drop = FALSE]
        mine <- coefs[coef_keys == name, , drop = FALSE]
        warned <- character()
        r <- tryCatch(withCallingHandlers(fit(rows), warning = function(w) {
          warned <<- c(warned, conditionMessage(w)); invokeRestart("muffleWarning") }), error = function(e) e)
        where <- gsub("\r", "/", name)
        if (inherits(r, "error")) {
          if (!identical(g$error, conditionMessage(r))) return(sprintf("%s: error %s, R's %s", where, g$error, conditionMessage(r)))
          if (nrow(mine)) return(sprintf("%s: a failed group has coefficients", where))
          next
        }
        if (!is.na(g$error)) return(sprintf("%s: failed (%s) where R fits it", where, g$error))
        s <- summary(r)
        est <- coef(r)
        close <- function(a, b) isTRUE(all.equal(as.double(a), as.double(unname(b)), tolerance = 1e-8))
        # An lm whose every weight is zero has coefficients without names: the model matrix's are expected.
        terms <- if (is.null(names(est))) colnames(model.matrix(r)) else names(est)
        table <- s$coefficients[match(terms, rownames(s$coefficients)), , drop = FALSE]
        if (!identical(mine$term, terms)) return(sprintf("%s: terms %s, R's %s", where, toString(mine$term), toString(terms)))
        if (!close(mine$estimate, est)) return(sprintf("%s: estimates differ", where))
        if (!close(mine$std_error, table[, 2L]) || !close(mine$statistic, table[, 3L]) || !close(mine$p_value, table[, 4L])) {
          return(sprintf("%s: standard errors, statistics or p-values differ", where))
        }
        if (g$rows_used != NROW(r$model) || g$rows_dropped != nrow(rows) - NROW(r$model)) return(sprintf("%s: row counts differ", where))
        if (g$df_residual != r$df.residual) return(sprintf("%s: df differ", where))
        expected_warning <- if (length(warned)) paste(unique(warned), collapse = "; ") else NA_character_
        if (!identical(g$warning, expected_warning)) return(sprintf("%s: warning %s, R's %s", where, g$warning, expected_warning))
        if (glm) {
          if (!close(c(g$deviance, g$null_deviance, g$dispersion), c(r$deviance, r$null.deviance, s$dispersion)) ||
              !isTRUE(all.equal(g$aic, r$aic, tolerance = 1e-8)) || g$iterations != r$iter || g$converged != r$converged) {
            return(sprintf("%s: the glm statistics differ", where))
          }
        } else {
          f <- if (is.null(s$fstatistic)) NA_real_ else s$fstatistic[[1L]]
          if (!isTRUE(all.equal(c(g$r_squared, g$adj_r_squared, g$sigma, g$f_statistic), c(s$r.squared, s$adj.r.squared, s$sigma, f),
                                tolerance = 1e-8))) {
            return(sprintf("%s: R-squared, sigma or F differ", where))
          }
        }
      }
      "TRUE"
    }
    """#

/// A grouped fit of R's data frame `name` (made by `code`) read back from Parquet, compared
/// with R's own fit per group (`fit`, an R function of one group's rows). With `chunkRows`,
/// the fit is made in parts (``LinearModel/fitGrouped(file:identity:chunks:by:_:executor:progress:)``)
/// on `executor` (the worker jobs in this process by default), else in this process whole.
func groupedAgreesWithR(_ name: String, _ code: String, by: [String], fit rFit: String, glm: GeneralizedLinearModelSpecification? = nil,
                        lm: LinearModelSpecification? = nil, perturbed: Bool = false, chunkRows: Int? = nil,
                        executor: (any ChunkExecutor & JobExecutor)? = nil,
                        progress: (@Sendable (LinearModelProgress) -> Void)? = nil) async throws -> (verdict: String, fit: GroupedFit) {
    let path = try await glmParquet(name, code)
    let table = try await DataFiles.readTable(path)
    let fit: GroupedFit
    if let chunkRows {
        let chunks = LinearModel.chunkRanges(rowCount: table.rowCount, rowsPerChunk: chunkRows)
        let executor = executor ?? InProcessJobExecutor(registry: WorkerJobs.registry)
        fit = if let glm { try await GeneralizedLinearModel.fitGrouped(file: path, chunks: chunks, by: by, glm, executor: executor, progress: progress) }
              else { try await LinearModel.fitGrouped(file: path, chunks: chunks, by: by, lm!, executor: executor, progress: progress) }
    } else {
        fit = if let glm { try await GeneralizedLinearModel.fitGrouped(table, by: by, glm) } else { try await LinearModel.fitGrouped(table, by: by, lm!) }
    }
    let verdict = try await groupedVerdict(name, by: by, fit: rFit, glm: glm != nil, coefficients: fit.coefficients, groups: fit.groups,
                                           perturbed: perturbed)
    return (verdict, fit)
}

/// The grouped oracle's verdict on the two tables of a fit per group of R's data frame `name`,
/// against R's `fit` (an R function of one group's rows).
func groupedVerdict(_ name: String, by: [String], fit rFit: String, glm: Bool, coefficients: ArrowTable, groups: ArrowTable,
                    perturbed: Bool = false) async throws -> String {
    _ = try await RRuntime.shared().evaluate(groupedOracle)
    let byText = by.map { "'\($0)'" }.joined(separator: ", ")
    return try await RRuntime.shared().withSession { session -> String in
        let coefficients = try session.protect(try session.dataFrame(from: coefficients))
        let groups = try session.protect(try session.dataFrame(from: groups))
        // The checker's check: one estimate off by 1e-7 (relative) must fail the oracle.
        let change = perturbed ? "coefs$estimate[[1L]] <- coefs$estimate[[1L]] * (1 + 1e-7); " : ""
        let function = try session.evaluateText("function(coefs, groups) { \(change).pb_grouped_agrees(\(name), c(\(byText)), \(rFit), coefs, groups, \(glm ? "TRUE" : "FALSE")) }",
                                                purpose: "the grouped oracle")
        let value = try session.read(try session.evaluate(try session.lang(function, [coefficients, groups]), purpose: "the grouped oracle"))
        guard case .character(let text) = value.unstructured, let first = text.first ?? nil else { return "no verdict" }
        return first
    }
}

/// One fit per group (`LinearModel.fitGrouped`, `GeneralizedLinearModel.fitGrouped`): each
/// group's numbers are R's on that group's rows, as `split()` makes them, to 1e-8.
@Suite struct GroupedFitTests {
    /// Unsorted text keys (one not ASCII) and NA keys; groups of one row, of all-NA y, with a
    /// factor of one level, and a collinear column everywhere (z = 2x, aliased).
    static let failures = """
        set.seed(21); n <- 400
        d <- data.frame(store = sample(c("north", "süd", "east", "west"), n, TRUE), x = rnorm(n),
                        g = factor(sample(c("p", "q", "r"), n, TRUE)))
        d$z <- 2 * d$x; d$y <- 1 + d$x + as.integer(d$g) + rnorm(n)
        d$store[sample(n, 9)] <- NA
        d$y[d$store %in% "west"] <- NA
        d$g[d$store %in% "east"] <- "p"
        d <- rbind(d, data.frame(store = "solo", x = 0.5, g = factor("q", levels = c("p", "q", "r")), z = 1, y = 2))
        d[sample(nrow(d)), ]
        """
    /// Two key columns (a number and text), weights and an offset.
    static let twoKeys = """
        set.seed(22); n <- 300
        d <- data.frame(a = sample(c(1, 2.5), n, TRUE), b = sample(c("x", "y", "z"), n, TRUE), x = rnorm(n),
                        w = sample(1:4, n, TRUE), o = runif(n))
        d$y <- d$a + d$x + d$o + rnorm(n)
        rbind(d, data.frame(a = 1, b = "solo", x = 0.3, w = 2, o = 0.1, y = 1.4))
        """
    /// Binomial responses (group c separated) and Poisson counts with an exposure offset.
    static let glmData = """
        set.seed(23); n <- 240
        d <- data.frame(k = sample(c("a", "b", "c"), n, TRUE), x = rnorm(n))
        d$y <- rbinom(n, 1, plogis(0.5 * d$x))
        d$y[d$k == "c"] <- as.integer(d$x[d$k == "c"] > 0)
        d$count <- rpois(n, exp(0.3 + 0.2 * d$x)); d$le <- log(runif(n, 1, 2))
        d
        """
    /// Unsorted data with text keys (one not ASCII) and NA keys; groups of one row, of all-NA
    /// y, with a factor of one level, and a collinear column everywhere (z = 2x, aliased).
    @Test func eachGroupsLMIsRsOnItsRowsAndFailuresStayInTheirGroup() async throws {
        let code = Self.failures
        let (verdict, fit) = try await groupedAgreesWithR("gr_lm", code, by: ["store"], fit: "function(x) lm(y ~ x + z + g, data = x)",
                                                           lm: LinearModelSpecification(formula: "y ~ x + z + g"))
        #expect(verdict == "TRUE", "\(verdict)")
        #expect(fit.results.map(\.label) == ["store=east", "store=north", "store=solo", "store=süd", "store=west"])
        // R refuses the one-row group too: its factor has one level.
        #expect(fit.failed.map(\.label) == ["store=east", "store=solo", "store=west"])
        #expect(fit.missingKeyRows == 9)
        // north and süd in Swift; R's lm for the three it refuses.
        #expect(fit.nativeGroupCount == 2)
        let north = try fit.coefficients(ofGroup: 1)
        #expect(north.map(\.name) == ["(Intercept)", "x", "z", "gq", "gr"])
        #expect(north[2].estimate.isNaN)
    }

    /// Two key columns (a number and text), weights and an offset.
    @Test func twoKeysWeightsAndAnOffset() async throws {
        let code = Self.twoKeys
        let (verdict, fit) = try await groupedAgreesWithR("gr_two", code, by: ["a", "b"], fit: "function(x) lm(y ~ x, data = x, weights = w, offset = o)",
                                                           lm: LinearModelSpecification(formula: "y ~ x", weights: "w", offset: "o"))
        #expect(verdict == "TRUE", "\(verdict)")
        #expect(fit.results.count == 7 && fit.failed.isEmpty)
        let perturbed = try await groupedAgreesWithR("gr_two", code, by: ["a", "b"], fit: "function(x) lm(y ~ x, data = x, weights = w, offset = o)",
                                                     lm: LinearModelSpecification(formula: "y ~ x", weights: "w", offset: "o"), perturbed: true)
        #expect(perturbed.verdict.hasSuffix("estimates differ"), "\(perturbed.verdict)")
        // The one-row group: its intercept alone, x aliased.
        let solo = try fit.coefficients(ofGroup: try #require(fit.results.firstIndex { $0.label == "a=1, b=solo" }))
        #expect(solo.map(\.estimate.isNaN) == [false, true])
    }

    /// glm per group: Poisson with an offset, and a binomial group with separation (R's
    /// warning in its row of the groups table).
    @Test func glmPerGroupWithRsWarnings() async throws {
        let code = Self.glmData
        let binomial = try await groupedAgreesWithR("gr_glm", code, by: ["k"], fit: "function(x) glm(y ~ x, family = binomial, data = x)",
                                                     glm: GeneralizedLinearModelSpecification(formula: "y ~ x", family: "binomial"))
        #expect(binomial.verdict == "TRUE", "\(binomial.verdict)")
        // a and b in Swift; c, whose fitted probabilities reach 0 and 1, by R's glm (its warning).
        #expect(binomial.fit.nativeGroupCount == 2)
        let warning = try #require(try binomial.fit.groups.column(named: "warning")?.stringValues())
        #expect(warning[2]?.contains("fitted probabilities numerically 0 or 1 occurred") == true, "\(warning)")
        let poisson = try await groupedAgreesWithR("gr_glm_p", code, by: ["k"],
                                                    fit: "function(x) glm(count ~ x, family = poisson, data = x, offset = le)",
                                                    glm: GeneralizedLinearModelSpecification(formula: "count ~ x", family: "poisson", offset: "le"))
        #expect(poisson.verdict == "TRUE", "\(poisson.verdict)")
    }

    /// One group, and 10,000 groups of 3 to 8 rows.
    @Test(arguments: [1, 10_000])
    func oneGroupAndTenThousand(groups: Int) async throws {
        let code = """
            set.seed(24); sizes <- sample(3:8, \(groups), TRUE); n <- sum(sizes)
            d <- data.frame(id = rep(sprintf("g%05d", seq_len(\(groups))), sizes), x = rnorm(n))
            d$y <- 2 * d$x + rnorm(n)
            d[sample(n), ]
            """
        let (verdict, fit) = try await groupedAgreesWithR("gr_many_\(groups)", code, by: ["id"], fit: "function(x) lm(y ~ x, data = x)",
                                                           lm: LinearModelSpecification(formula: "y ~ x"))
        #expect(verdict == "TRUE", "\(verdict)")
        #expect(fit.results.count == groups && fit.failed.isEmpty)
        #expect(fit.nativeGroupCount == groups)
    }

    /// Many small random cases, each with a few groups, compared with R per group: lm's native
    /// path (and R's lm for the groups it leaves to R) on groups of 1 to 12 rows, factors whose
    /// levels some groups lack, collinear and constant columns, zero weights, offsets, NA rows
    /// and no intercept.
    @Test(arguments: 0..<8)
    func smallRandomGroupedCasesEqualRsPerGroup(batch: Int) async throws {
        var native = 0
        for seed in (batch * 10 + 1)...(batch * 10 + 10) {
            let code = """
                set.seed(\(700 + seed)); groups <- sample(1:5, 1); sizes <- sample(1:12, groups, TRUE); n <- sum(sizes)
                d <- data.frame(k = rep(letters[seq_len(groups)], sizes), x1 = round(rnorm(n), 2), x2 = round(runif(n), 2),
                                g = factor(sample(c("p", "q", "r"), n, TRUE)), w = sample(0:3, n, TRUE), o = round(runif(n), 2))
                d$x3 <- 2 * d$x1; d$c <- 1; d$y <- 1 + d$x1 - d$x2 + as.integer(d$g) / 2 + rnorm(n)
                if (n > 3) { d$x1[sample(n, 1)] <- NA; d$y[sample(n, 1)] <- NA }
                d[sample(n), ]
                """
            let terms = ["x1", "x2", "g", "x3", "c"].enumerated().filter { (seed * 7 + $0.offset * 3) % 5 < 3 }.map(\.element)
            let rhs = (seed % 6 == 0 ? "0 + " : "") + (terms.isEmpty ? "x1" : terms.joined(separator: " + "))
            let weights = seed % 3 == 0 ? "w" : nil, offset = seed % 4 == 0 ? "o" : nil
            let rFit = "function(x) lm(y ~ \(rhs), data = x\(weights.map { ", weights = \($0)" } ?? "")\(offset.map { ", offset = \($0)" } ?? ""))"
            let (verdict, fit) = try await groupedAgreesWithR("gr_small_\(seed)", code, by: ["k"], fit: rFit,
                                                               lm: LinearModelSpecification(formula: "y ~ \(rhs)", weights: weights, offset: offset))
            #expect(verdict == "TRUE", "seed \(seed): y ~ \(rhs), weights \(weights ?? "-"), offset \(offset ?? "-"): \(verdict)")
            native += fit.nativeGroupCount
        }
        #expect(native >= 20, "only \(native) groups took the native path")
    }

    /// Many small random glm cases per group, through Swift's IRLS where it covers the group
    /// (binomial logit, cloglog and log, Poisson log, identity and sqrt, gaussian identity, log
    /// and inverse, quasibinomial and quasipoisson) and R's glm for the rest: weights (zeros
    /// among them), offsets, no intercept, factors some groups lack, collinear columns, NA rows,
    /// groups of 1 to 40 rows. Each group equals R's glm on its rows.
    @Test(arguments: 0..<6)
    func smallRandomGLMCasesPerGroupEqualRs(batch: Int) async throws {
        let families = [("binomial", "logit"), ("binomial", "cloglog"), ("binomial", "log"), ("poisson", "log"), ("poisson", "identity"),
                        ("poisson", "sqrt"), ("gaussian", "identity"), ("gaussian", "log"), ("gaussian", "inverse"), ("quasibinomial", "logit"),
                        ("quasipoisson", "log"), ("Gamma", "inverse")]
        var native = 0
        for seed in (batch * 8 + 1)...(batch * 8 + 8) {
            let (family, link) = families[seed % families.count]
            let code = """
                set.seed(\(1300 + seed)); groups <- sample(1:5, 1); sizes <- sample(c(1:6, 15:40), groups, TRUE); n <- sum(sizes)
                d <- data.frame(k = rep(letters[seq_len(groups)], sizes), x1 = round(rnorm(n), 2), x2 = round(runif(n), 2),
                                g = factor(sample(c("p", "q", "r"), n, TRUE)), w = sample(c(0, 1, 2, 3), n, TRUE, prob = c(.1, .5, .2, .2)),
                                o = round(runif(n, 0, 0.3), 2))
                d$x3 <- 2 * d$x2
                eta <- 0.3 + 0.4 * d$x1 - 0.5 * d$x2 + 0.2 * as.integer(d$g)
                d$b <- rbinom(n, 1, plogis(eta) * 0.8)
                d$count <- rpois(n, exp(eta + 1))
                d$y <- exp(eta) + 5 + rnorm(n, sd = 0.3)
                if (n > 3) { d$x1[sample(n, 1)] <- NA }
                d[sample(n), ]
                """
            let response = family.hasSuffix("binomial") ? "b" : family.hasSuffix("poisson") ? "count" : "y"
            let terms = ["x1", "x2", "g", "x3"].enumerated().filter { (seed * 5 + $0.offset * 3) % 4 < 3 }.map(\.element)
            let rhs = (seed % 5 == 0 ? "0 + " : "") + (terms.isEmpty ? "x1" : terms.joined(separator: " + "))
            let weights = seed % 3 == 0 ? "w" : nil
            let offset = seed % 4 == 0 && family.hasSuffix("poisson") ? "o" : nil
            let extras = "\(weights.map { ", weights = \($0)" } ?? "")\(offset.map { ", offset = \($0)" } ?? "")"
            let rFit = "function(x) glm(\(response) ~ \(rhs), family = \(family)(link = \"\(link)\"), data = x\(extras))"
            let (verdict, fit) = try await groupedAgreesWithR("gr_glm_small_\(seed)", code, by: ["k"], fit: rFit,
                                                               glm: GeneralizedLinearModelSpecification(formula: "\(response) ~ \(rhs)", family: family,
                                                                                                        link: link, weights: weights, offset: offset))
            #expect(verdict == "TRUE", "seed \(seed): \(family)(\(link)) \(response) ~ \(rhs), weights \(weights ?? "-"), offset \(offset ?? "-"): \(verdict)")
            native += fit.nativeGroupCount
        }
        #expect(native >= 8, "only \(native) groups took the native glm path")
    }

    /// A key column that is not in the data is an error naming it; data whose every key is
    /// missing has no groups.
    @Test func aMissingKeyColumnIsNamedAndAllNAKeysGiveNoGroups() async throws {
        let path = try await glmParquet("gr_bad", "data.frame(k = c(NA, NA), x = c(1, 2), y = c(1, 3))")
        let table = try await DataFiles.readTable(path)
        await #expect {
            _ = try await LinearModel.fitGrouped(table, by: ["store"], LinearModelSpecification(formula: "y ~ x"))
        } throws: { error in
            "\(error)".contains("no column 'store' to group by (the columns are k, x, y)")
        }
        let none = try await LinearModel.fitGrouped(table, by: ["k"], LinearModelSpecification(formula: "y ~ x"))
        #expect(none.results.isEmpty && none.missingKeyRows == 2 && none.coefficients.rowCount == 0)
    }
}
