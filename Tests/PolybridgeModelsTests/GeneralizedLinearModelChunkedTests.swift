import Foundation
import Polybridge
import PolybridgeTestSupport
import Synchronization
import Testing

/// Binds R's data frame `code` as `name`, writes it to Parquet (row groups of `groupRows`) and
/// returns the file's path: chunks read the file, R's glm fits `name`.
func glmParquet(_ name: String, _ code: String) async throws -> String {
    let path = try scratchDirectory() + "/\(name).parquet", rds = path + ".rds"
    _ = try await RRuntime.shared().evaluate("\(name) <- local({ \(code) }); saveRDS(\(name), '\(rds)')")
    _ = try await DataFiles.convert(rds, to: path)
    return path
}

/// R's warnings from `glm(callText)`, in order.
func glmWarnings(_ callText: String) async throws -> [String] {
    let code = """
        local({ w <- character(); withCallingHandlers(\(callText), warning = function(x) { w <<- c(w, conditionMessage(x)); invokeRestart("muffleWarning") }); w })
        """
    return try await RRuntime.shared().eval(code, as: [String].self)
}

/// A chunked glm of the file at `path` in `count` chunks (or chunks of `rows` rows) on `executor`,
/// the chunks' state kept as `chunkState` says.
func chunkedGLM(_ path: String, _ spec: GeneralizedLinearModelSpecification, count: Int? = nil, rows: Int? = nil,
                executor: (any JobExecutor)? = nil, chunkState: ChunkStatePlacement = .memory) async throws -> GeneralizedLinearModelFit {
    let total = try await DataFiles.inspect(path).rows
    let ranges = if let rows { LinearModel.chunkRanges(rowCount: total, rowsPerChunk: rows) } else { LinearModel.chunkRanges(rowCount: total, count: count ?? 3) }
    return try await GeneralizedLinearModel.fitChunked(file: path, rowCount: total, chunks: ranges, spec,
                                                       executor: executor ?? InProcessJobExecutor(registry: WorkerJobs.registry),
                                                       chunkState: chunkState)
}

/// The glm call R makes for `spec` on the data bound as `name`.
func glmCall(_ spec: GeneralizedLinearModelSpecification, data name: String) -> String {
    let family = spec.link.map { "\(spec.family)(link = \"\($0)\")" } ?? spec.family
    let extra = (spec.weights.map { ", weights = \($0)" } ?? "") + (spec.offset.map { ", offset = \($0)" } ?? "")
    let control = spec.maxit != 25 || spec.epsilon != 1e-8 ? ", control = glm.control(epsilon = \(spec.epsilon), maxit = \(spec.maxit))" : ""
    return "glm(\(spec.formula), family = \(family), data = \(name)\(extra)\(control))"
}

/// The printed summary of `glm(callText)` as R prints it, with the call's data named `label`;
/// where R prints every deviance residual (5 residual df or fewer) a chunked fit prints a note.
func glmSummaryText(_ callText: String, label: String) async throws -> String {
    let code = """
        local({
          suppressWarnings(fit <- \(callText))
          s <- summary(fit)
          s$call <- call("glm", formula = formula(fit), family = str2lang(sprintf('%s(link = "%s")', fit$family$family, fit$family$link)),
                         data = as.name("\(label)"))
          lines <- capture.output(print(s))
          if (fit$df.residual <= 5) {
            start <- grep("^Deviance Residuals:", lines)
            end <- start + 1L
            while (end <= length(lines) && nzchar(lines[[end]])) end <- end + 1L
            lines <- c(lines[seq_len(start - 1L)], "Deviance Residuals: (not computed for a chunked fit)", lines[-seq_len(end - 1L)])
          }
          paste(lines, collapse = "\\n")
        })
        """
    return try await RRuntime.shared().eval(code, as: String.self)
}

/// The cases every executor-independent test fits: R data sets and made-up data for each
/// family and link, weights, offsets, responses and odd rows.
let chunkedGLMCases: [(name: String, source: String, spec: GeneralizedLinearModelSpecification, chunks: [Int])] = [
    ("cg_mtcars", "mtcars", .init(formula: "am ~ wt + hp", family: "binomial"), [1, 3, 10]),
    ("cg_esoph", "esoph", .init(formula: "cbind(ncases, ncontrols) ~ agegp + tobgp + alcgp", family: "binomial"), [1, 4, 60]),
    ("cg_infert_probit", "infert", .init(formula: "case ~ spontaneous + induced + education", family: "binomial(link = \"probit\")"), [3]),
    ("cg_infert_cll", "infert", .init(formula: "case ~ spontaneous + induced", family: "binomial", link: "cloglog"), [5]),
    ("cg_infert_cauchit", "infert", .init(formula: "case ~ age + parity", family: "quasibinomial", link: "cauchit"), [2]),
    ("cg_insects", "InsectSprays", .init(formula: "count ~ spray", family: "poisson"), [1, 6]),
    ("cg_insects_q", "InsectSprays", .init(formula: "count ~ spray", family: "quasipoisson"), [4]),
    ("cg_insects_id", "InsectSprays", .init(formula: "count ~ spray", family: "poisson", link: "identity"), [3]),
    ("cg_insects_sqrt", "InsectSprays", .init(formula: "count ~ spray", family: "poisson", link: "sqrt"), [3]),
    ("cg_breaks_gamma", "warpbreaks", .init(formula: "breaks ~ wool * tension", family: "Gamma"), [3]),
    ("cg_breaks_glog", "warpbreaks", .init(formula: "breaks ~ wool * tension", family: "Gamma(link = \"log\")"), [2, 54]),
    ("cg_breaks_ig", "warpbreaks", .init(formula: "breaks ~ wool + tension", family: "inverse.gaussian"), [3]),
    ("cg_breaks_gauss_log", "warpbreaks", .init(formula: "breaks ~ wool + tension", family: "gaussian", link: "log"), [4]),
    ("cg_offset", "set.seed(3); n <- 200; d <- data.frame(x = rnorm(n), e = runif(n, 1, 5)); d$y <- rpois(n, d$e * exp(0.3 + 0.5 * d$x)); d$le <- log(d$e); d",
     .init(formula: "y ~ x", family: "poisson", offset: "le"), [1, 7]),
    ("cg_offset_f", "set.seed(3); n <- 200; d <- data.frame(x = rnorm(n), e = runif(n, 1, 5)); d$y <- rpois(n, d$e * exp(0.3 + 0.5 * d$x)); d$le <- log(d$e); d",
     .init(formula: "y ~ x + offset(le)", family: "poisson"), [5]),
    ("cg_offset_gamma", "set.seed(8); n <- 120; d <- data.frame(x = rnorm(n), o = runif(n, -0.5, 0.5)); d$y <- rgamma(n, 3, 3 / exp(1 + 0.4 * d$x + d$o)); d",
     .init(formula: "y ~ x", family: "Gamma(link = \"log\")", offset: "o"), [4]),
    ("cg_props", "set.seed(4); n <- 120; d <- data.frame(x = rnorm(n), n = sample(1:9, n, TRUE)); d$p <- rbinom(n, d$n, plogis(d$x)) / d$n; d$n[1:5] <- 0; d",
     .init(formula: "p ~ x", family: "binomial", weights: "n"), [3, 40]),
    ("cg_props_q", "set.seed(4); n <- 120; d <- data.frame(x = rnorm(n), n = sample(1:9, n, TRUE)); d$p <- rbinom(n, d$n, plogis(d$x)) / d$n; d$n[1:5] <- 0; d",
     .init(formula: "p ~ x", family: "quasibinomial", weights: "n"), [3]),
    ("cg_weights_zero", "set.seed(6); n <- 90; d <- data.frame(x = rnorm(n), w = sample(0:3, n, TRUE)); d$y <- rpois(n, exp(1 + 0.3 * d$x)); d",
     .init(formula: "y ~ x", family: "poisson", weights: "w"), [3]),
    ("cg_gauss_na_collinear", "set.seed(5); d <- data.frame(x = rnorm(50), z = rnorm(50)); d$w <- d$x * 2; d$y <- 1 + d$x + rnorm(50); d$y[3] <- NA; d$z[17] <- NA; d",
     .init(formula: "y ~ x + z + w", family: "gaussian"), [1, 4, 25]),
    ("cg_level_late", "set.seed(7); n <- 150; d <- data.frame(x = rnorm(n), g = factor(sample(c('a', 'b', 'c'), n, TRUE))); d$y <- rbinom(n, 1, plogis(0.2 * d$x + as.integer(d$g) / 3)); d[order(d$g), ]",
     .init(formula: "y ~ x + g", family: "binomial"), [5]),
    ("cg_log_binomial", "set.seed(102); n <- sample(30:80, 1); x <- runif(n, 0, 4); z <- rnorm(n); y <- rbinom(n, 1, pmin(0.97, exp(-2 + 0.45 * x + 0.1 * z))); data.frame(x = x, z = z, y = y)",
     .init(formula: "y ~ x + z", family: "binomial", link: "log"), [1, 3]),
    ("cg_separated", "data.frame(x = c(1:10), y = c(rep(0, 5), rep(1, 5)))", .init(formula: "y ~ x", family: "binomial"), [1, 3]),
    ("cg_maxit", "infert", .init(formula: "case ~ spontaneous + induced", family: "binomial", maxit: 2), [3]),
    ("cg_no_intercept", "infert", .init(formula: "case ~ 0 + spontaneous + induced", family: "binomial"), [3]),
]

/// The chunked glm: IRLS over chunks kept on workers, equal to R's glm on the whole data.
@Suite struct GeneralizedLinearModelChunkedTests {
    /// Each case in each of its chunkings, in this process through the jobs' wire format:
    /// coefficients, standard errors, deviances, AIC and dispersion to 1e-8 relative; df,
    /// iterations, convergence, boundary, aliased set, warnings and the printout (the deviance
    /// residuals' quantiles included) equal R's.
    @Test(arguments: chunkedGLMCases.indices)
    func chunkedFitsEqualGLM(index: Int) async throws {
        let (name, source, spec, chunkings) = chunkedGLMCases[index]
        let path = try await glmParquet(name, source)
        let call = glmCall(spec, data: name)
        let warnings = try await glmWarnings(call)
        let text = try await glmSummaryText(call, label: "data")
        for count in chunkings {
            let fit = try await chunkedGLM(path, spec, count: count)
            #expect(try await agreesWithGLM(fit, call) == "TRUE", "\(name) in \(count) chunks")
            #expect(fit.warnings == warnings, "\(name) in \(count) chunks")
            #expect(fit.summary == text, "\(name) in \(count) chunks:\n\(fit.summary)\n---\n\(text)")
            #expect(fit.chunkStateOnDisk == false)
        }
    }

    /// Each case in its last chunking with the chunks' state on disk (a file per chunk, mapped
    /// once per round): the same numbers, warnings and printout as R's.
    @Test(arguments: chunkedGLMCases.indices)
    func chunkedFitsWithTheStateOnDiskEqualGLM(index: Int) async throws {
        let (name, source, spec, chunkings) = chunkedGLMCases[index]
        let path = try await glmParquet(name + "_disk", source)
        let call = glmCall(spec, data: name + "_disk")
        let count = chunkings.last!
        let fit = try await chunkedGLM(path, spec, count: count, chunkState: .disk)
        #expect(fit.chunkStateOnDisk == true)
        #expect(try await agreesWithGLM(fit, call) == "TRUE", "\(name) in \(count) chunks")
        #expect(fit.warnings == (try await glmWarnings(call)), "\(name) in \(count) chunks")
        let text = try await glmSummaryText(call, label: "data")
        #expect(fit.summary == text, "\(name) in \(count) chunks:\n\(fit.summary)\n---\n\(text)")
    }
}

/// Many small random glm cases in tiny chunks, each compared with R's own glm on the whole
/// data: every family, links, one-level and sorted factors, NA rows, zero weights, offsets,
/// collinear and constant columns, no intercept. Where glm fails, the chunked fit must fail.
@Suite struct GeneralizedLinearModelPropertyTests {
    static let generator = """
        .pb_glm_case <- function(seed) {
          set.seed(seed)
          n <- sample(4:40, 1)
          kinds <- list(c("binomial", "logit"), c("binomial", "probit"), c("binomial", "cloglog"), c("quasibinomial", "logit"),
                        c("poisson", "log"), c("quasipoisson", "log"), c("poisson", "sqrt"), c("Gamma", "log"), c("Gamma", "inverse"),
                        c("gaussian", "identity"), c("gaussian", "log"), c("inverse.gaussian", "log"))
          k <- kinds[[sample(length(kinds), 1L)]]
          d <- data.frame(x1 = round(rnorm(n), 2), x2 = round(runif(n), 2))
          d$g <- factor(sample(letters[seq_len(sample(1:3, 1L))], n, TRUE))
          eta <- 0.3 + 0.5 * d$x1 - 0.4 * d$x2 + 0.2 * as.integer(d$g)
          d$y <- switch(k[[1L]], binomial = , quasibinomial = rbinom(n, 1, plogis(eta)), poisson = , quasipoisson = rpois(n, exp(eta)),
                        gaussian = exp(eta) + rnorm(n, sd = 0.3), rgamma(n, 4, 4 / exp(eta)))
          terms <- c("x1", "x2", "g")[runif(3) < 0.7]
          if (runif(1) < 0.2) { d$x3 <- d$x1 * 2; terms <- c(terms, "x3") }
          if (runif(1) < 0.15) { d$k <- 1; terms <- c(terms, "k") }
          weights <- ""
          if (runif(1) < 0.3) { d$w <- sample(0:3, n, TRUE); weights <- "w" }
          offset <- ""
          if (runif(1) < 0.25) { d$o <- round(runif(n, -0.3, 0.3), 2); offset <- "o" }
          if (runif(1) < 0.25) d$x1[sample(n, 1L)] <- NA
          if (runif(1) < 0.1) d$y[sample(n, 1L)] <- NA
          if (runif(1) < 0.3) d <- d[order(d$g), ]
          rhs <- if (length(terms)) paste(terms, collapse = " + ") else "1"
          if (runif(1) < 0.1) rhs <- paste("0 +", rhs)
          formula <- paste("y ~", rhs)
          cl <- sprintf("glm(%s, family = %s(link = '%s'), data = d%s%s)", formula, k[[1L]], k[[2L]],
                        if (nzchar(weights)) ", weights = w" else "", if (nzchar(offset)) ", offset = o" else "")
          warned <- character()
          fit <- tryCatch(withCallingHandlers(eval(parse(text = cl)), warning = function(w) {
            warned <<- c(warned, conditionMessage(w)); invokeRestart("muffleWarning") }), error = function(e) NULL)
          # A fit with no residual df, or at fitted values of 0 or 1 (separation), has standard
          # errors and an AIC that are rounding noise in R too: such a fit must be made or
          # refused without a crash, but its numbers are not compared.
          outcome <- if (is.null(fit)) "error" else if (fit$df.residual == 0 || !fit$converged ||
            any(grepl("numerically 0", warned))) "degenerate" else "ok"
          list(d = d, text = c(formula, k[[1L]], k[[2L]], weights, offset, outcome,
                               if (is.null(fit)) "1" else as.character(length(coef(fit)))))
        }
        """

    @Test(arguments: 0..<6)
    func chunkedGLMsOfSmallRandomDataEqualGLM(batch: Int) async throws {
        _ = try await RRuntime.shared().evaluate(Self.generator)
        var compared = 0, refusedLikeR = 0
        for seed in (batch * 15 + 1)...(batch * 15 + 15) {
            let name = "glm_small_\(seed)"
            let text = try await RRuntime.shared().eval(
                "local({ case <- .pb_glm_case(\(seed)L); assign('\(name)', case$d, envir = globalenv()); case$text })", as: [String].self)
            let spec = GeneralizedLinearModelSpecification(formula: text[0], family: text[1], link: text[2],
                                                           weights: text[3].isEmpty ? nil : text[3], offset: text[4].isEmpty ? nil : text[4])
            let (outcome, width) = (text[5], Int(text[6]) ?? 1)
            let path = try scratchDirectory() + "/\(name).parquet", rds = path + ".rds"
            _ = try await RRuntime.shared().evaluate("saveRDS(\(name), '\(rds)')")
            _ = try await DataFiles.convert(rds, to: path)
            let rows = try await DataFiles.inspect(path).rows
            let call = glmCall(spec, data: name)
            let warnings = outcome == "ok" ? try await glmWarnings(call) : []
            for (index, rowsPerChunk) in Set([1, 2, width + 1, Int(UInt(seed) % UInt(width + 3)) + 1, rows]).sorted().enumerated() {
                // The chunks' state in memory and on disk by turns.
                let placement: ChunkStatePlacement = (seed + index) % 2 == 0 ? .memory : .disk
                let context = "seed \(seed): \(call), \(rows) rows in chunks of \(rowsPerChunk), state \(placement); glm: \(outcome)"
                do {
                    let fit = try await chunkedGLM(path, spec, rows: rowsPerChunk, chunkState: placement)
                    #expect(outcome != "error", "Polybridge fitted what glm could not: \(context)")
                    if outcome == "ok" {
                        let verdict = try await agreesWithGLM(fit, call)
                        #expect(verdict == "TRUE", "\(verdict) — \(context)")
                        #expect(fit.warnings == warnings, "\(context)")
                        compared += 1
                    }
                } catch let error as LinearModelError {
                    #expect(outcome != "ok", "\(error) — \(context)")
                    if outcome == "error" { refusedLikeR += 1 }
                }
            }
            _ = try await RRuntime.shared().evaluate("rm('\(name)', envir = globalenv())")
        }
        #expect(compared >= 30, "only \(compared) fits were compared (\(refusedLikeR) refused as glm refuses)")
    }
}

/// The chunked glm on workers: the pool, Ray and Dask give R's glm; iterations read no file;
/// a worker lost between iterations has its chunks rebuilt elsewhere with the same answer.
@Suite struct GeneralizedLinearModelWorkerTests {
    /// Poisson counts with an exposure offset and a factor sorted so that the first chunk lacks
    /// most levels (the chunks are built again with the merged levels).
    static let counts = """
        set.seed(11); n <- 3000; d <- data.frame(x1 = rnorm(n), x2 = runif(n), g = factor(sample(c('p', 'q', 'r', 's'), n, TRUE)),
                                                 e = runif(n, 1, 4))
        d$le <- log(d$e); d$y <- rpois(n, d$e * exp(-0.5 + 0.4 * d$x1 - 0.3 * d$x2 + 0.15 * as.integer(d$g))); d[order(d$g), ]
        """
    static let spec = GeneralizedLinearModelSpecification(formula: "y ~ x1 + x2 + g", family: "poisson", offset: "le")

    /// Killed when an iteration's round is done, the worker's chunks are rebuilt on the other
    /// (the prepare step runs there first, its state kept as before: in memory or on disk)
    /// and the fit is R's.
    @Test(arguments: [ChunkStatePlacement.memory, .disk])
    func aWorkerKilledBetweenIterationsIsRebuiltElsewhereAndTheFitIsGLMs(chunkState: ChunkStatePlacement) async throws {
        let path = try await glmParquet("glm_pool_kill_\(chunkState)", Self.counts)
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2)
        defer { pool.shutdown() }
        let victim = Mutex<Int32?>(nil)
        let rounds = Mutex(0)
        let fit = try await GeneralizedLinearModel.fitChunked(file: path, rowCount: 3000, chunks: LinearModel.chunkRanges(rowCount: 3000, count: 6),
                                                              Self.spec, executor: pool, chunkState: chunkState) { progress in
            guard progress.step == "iteration", progress.chunksDone == progress.chunkCount else { return }
            // After the second iteration's round: the next round needs every chunk's state.
            guard rounds.withLock({ $0 += 1; return $0 }) == 2 else { return }
            victim.withLock { victim in
                guard let worker = pool.workerProcessIDs.first else { return }
                victim = worker
                kill(worker, SIGKILL)
            }
        }
        let killed = try #require(victim.withLock { $0 }, "no worker was killed")
        #expect(!pool.workerProcessIDs.contains(killed))
        #expect(pool.rebuildCount >= 1)
        #expect(fit.chunkStateOnDisk == (chunkState == .disk))
        let call = glmCall(Self.spec, data: "glm_pool_kill_\(chunkState)")
        #expect(try await agreesWithGLM(fit, call) == "TRUE")
        #expect(fit.warnings == (try await glmWarnings(call)))
    }

    /// Once the chunks are read, the file can go: the iterations use what the workers keep.
    @Test func iterationsReadNoFile() async throws {
        let path = try await glmParquet("glm_pool_moved", Self.counts)
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2)
        defer { pool.shutdown() }
        let moved = Mutex(false)
        let fit = try await GeneralizedLinearModel.fitChunked(file: path, rowCount: 3000, chunks: LinearModel.chunkRanges(rowCount: 3000, count: 4),
                                                              Self.spec, executor: pool) { progress in
            guard progress.step == "iteration" else { return }
            moved.withLock { moved in
                if !moved { moved = rename(path, path + ".moved") == 0 }
            }
        }
        #expect(moved.withLock { $0 })
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try await agreesWithGLM(fit, glmCall(Self.spec, data: "glm_pool_moved")) == "TRUE")
    }

    /// `polybridge fit --family` on Ray and Dask: R's glm, and nothing left behind.
    @Test(arguments: ClusterEngine.allCases)
    func glmOnTheEngineEqualsGLM(engine: ClusterEngine) async throws {
        let name = "glm_engine_\(engine.rawValue)"
        let path = try await glmParquet(name, Self.counts)
        let run = try await runPolybridgeWatchingProcesses(["fit", "--data", path, "--formula", Self.spec.formula, "--family", "poisson",
                                                            "--offset", "le", "--workers", "2", "--chunks", "6", "--json",
                                                            "--executor", engine.rawValue])
        try #require(run.run.status == 0, "\(run.run.error)")
        let fit = try JSONDecoder().decode(GeneralizedLinearModelFit.self, from: Data(run.run.output.utf8))
        #expect(try await agreesWithGLM(fit, glmCall(Self.spec, data: name)) == "TRUE")
        let left = try await processesLeftBehind(run.seen)
        #expect(left.isEmpty, "left behind: \(left)")
    }
}

/// Bad input to a chunked glm: an error naming the chunk and its rows, the column or the term.
@Suite struct GeneralizedLinearModelChunkedErrorTests {
    @Test func aChunkWhoseResponseTheFamilyRefusesIsNamed() async throws {
        let path = try await glmParquet("glm_bad_response", "d <- data.frame(x = seq_len(100) / 10, y = rep(0:1, 50)); d$y[57] <- 2; d")
        let error = await #expect(throws: LinearModelError.self) {
            try await chunkedGLM(path, GeneralizedLinearModelSpecification(formula: "y ~ x", family: "binomial"), count: 5)
        }
        #expect(error == .chunkFailed(chunk: 3, firstRow: 41, lastRow: 60, message: "y values must be 0 <= y <= 1"), "\(String(describing: error))")
        let negative = await #expect(throws: LinearModelError.self) {
            try await chunkedGLM(path, GeneralizedLinearModelSpecification(formula: "I(y - 1) ~ x", family: "poisson"), count: 5)
        }
        // Every chunk has negative responses: the error names whichever failed first.
        let named = (1...5).map { "chunk \($0) (rows \(($0 - 1) * 20 + 1)-\($0 * 20)): negative values not allowed for the 'Poisson' family" }
        #expect(named.contains("\(negative!)"), "\(negative!)")
    }

    @Test func aTermComputedOverAllRowsAMissingColumnAndABadFamilyAreRefused() async throws {
        let path = try await glmParquet("glm_bad_terms", "data.frame(x = seq_len(60) / 10, y = rep(0:1, 30))")
        let poly = await #expect(throws: LinearModelError.self) {
            try await chunkedGLM(path, GeneralizedLinearModelSpecification(formula: "y ~ poly(x, 2)", family: "binomial"), count: 3)
        }
        #expect(poly == .notRowWise(formula: "y ~ poly(x, 2)", function: "poly()"), "\(String(describing: poly))")
        let missing = await #expect(throws: LinearModelError.self) {
            try await chunkedGLM(path, GeneralizedLinearModelSpecification(formula: "y ~ z", family: "binomial"), count: 3)
        }
        #expect("\(missing!)".contains("chunk 1 (rows 1-20)") && "\(missing!)".contains("'z' not found"), "\(missing!)")
        let family = await #expect(throws: LinearModelError.self) {
            try await chunkedGLM(path, GeneralizedLinearModelSpecification(formula: "y ~ x", family: "binomal"), count: 3)
        }
        #expect("\(family!)".contains("unknown family 'binomal'"), "\(family!)")
    }
}
