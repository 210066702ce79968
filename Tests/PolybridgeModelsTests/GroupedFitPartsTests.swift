import Foundation
import Polybridge
import PolybridgeTestSupport
import Synchronization
import Testing

/// One fit per group in parts (chunks of the file partitioned by key, batches of whole groups,
/// a group larger than a chunk fitted in chunks and merged): each group's numbers are R's on
/// that group's rows, as `split()` makes them, to 1e-8, whatever the chunks, on the worker
/// jobs in this process, on the pool, and on Ray and Dask.
@Suite struct GroupedFitPartsTests {
    /// The cases of the whole-data suite in chunks of 1 row (every group of two rows or more is
    /// a large group, fitted in chunks or, where the chunked fit cannot, by R whole), 7 rows,
    /// 60 rows and more than the data.
    @Test(arguments: [1, 7, 60, 1000])
    func theGroupedCasesInPartsAreRsPerGroup(chunkRows: Int) async throws {
        let lm = try await groupedAgreesWithR("gp_fail_\(chunkRows)", GroupedFitTests.failures, by: ["store"],
                                              fit: "function(x) lm(y ~ x + z + g, data = x)",
                                              lm: LinearModelSpecification(formula: "y ~ x + z + g"), chunkRows: chunkRows)
        #expect(lm.verdict == "TRUE", "\(lm.verdict)")
        #expect(lm.fit.failed.map(\.label) == ["store=east", "store=solo", "store=west"])
        #expect(lm.fit.missingKeyRows == 9)
        let two = try await groupedAgreesWithR("gp_two_\(chunkRows)", GroupedFitTests.twoKeys, by: ["a", "b"],
                                               fit: "function(x) lm(y ~ x, data = x, weights = w, offset = o)",
                                               lm: LinearModelSpecification(formula: "y ~ x", weights: "w", offset: "o"), chunkRows: chunkRows)
        #expect(two.verdict == "TRUE", "\(two.verdict)")
        #expect(two.fit.results.count == 7)
        let binomial = try await groupedAgreesWithR("gp_glm_\(chunkRows)", GroupedFitTests.glmData, by: ["k"],
                                                    fit: "function(x) glm(y ~ x, family = binomial, data = x)",
                                                    glm: GeneralizedLinearModelSpecification(formula: "y ~ x", family: "binomial"), chunkRows: chunkRows)
        #expect(binomial.verdict == "TRUE", "\(binomial.verdict)")
        let warning = try #require(try binomial.fit.groups.column(named: "warning")?.stringValues())
        #expect(warning[2]?.contains("fitted probabilities numerically 0 or 1 occurred") == true, "\(warning)")
        let poisson = try await groupedAgreesWithR("gp_glm_p_\(chunkRows)", GroupedFitTests.glmData, by: ["k"],
                                                   fit: "function(x) glm(count ~ x, family = poisson, data = x, offset = le)",
                                                   glm: GeneralizedLinearModelSpecification(formula: "count ~ x", family: "poisson", offset: "le"),
                                                   chunkRows: chunkRows)
        #expect(poisson.verdict == "TRUE", "\(poisson.verdict)")
    }

    /// Many small random cases in random chunk sizes: groups of 1 to 30 rows, keys of two
    /// columns (one may be NA), factors whose levels some groups lack, collinear and constant
    /// columns, zero weights, offsets, NA rows, no intercept; every fourth a binomial glm.
    @Test(arguments: 0..<6)
    func smallRandomCasesInRandomPartsAreRsPerGroup(batch: Int) async throws {
        for seed in (batch * 6 + 1)...(batch * 6 + 6) {
            let code = """
                set.seed(\(900 + seed)); groups <- sample(1:6, 1); sizes <- sample(1:30, groups, TRUE); n <- sum(sizes)
                d <- data.frame(k = rep(c("ä", letters)[seq_len(groups)], sizes), j = sample(c(1L, 2L, NA), n, TRUE, prob = c(.5, .45, .05)),
                                x1 = round(rnorm(n), 2), x2 = round(runif(n), 2), g = factor(sample(c("p", "q", "r"), n, TRUE)),
                                w = sample(0:3, n, TRUE), o = round(runif(n), 2))
                d$x3 <- 2 * d$x1; d$c <- 1; d$y <- 1 + d$x1 - d$x2 + as.integer(d$g) / 2 + rnorm(n)
                d$b <- as.integer(d$y > median(d$y))
                if (n > 3) { d$x1[sample(n, 1)] <- NA; d$y[sample(n, 1)] <- NA }
                d[sample(n), ]
                """
            let terms = ["x1", "x2", "g", "x3", "c"].enumerated().filter { (seed * 7 + $0.offset * 3) % 5 < 3 }.map(\.element)
            let rhs = (seed % 6 == 0 ? "0 + " : "") + (terms.isEmpty ? "x1" : terms.joined(separator: " + "))
            let weights = seed % 3 == 0 ? "w" : nil, offset = seed % 4 == 0 ? "o" : nil
            let glm = seed % 4 == 1
            let response = glm ? "b" : "y"
            let extras = "\(weights.map { ", weights = \($0)" } ?? "")\(offset.map { ", offset = \($0)" } ?? "")"
            let rFit = glm ? "function(x) glm(b ~ \(rhs), family = binomial, data = x\(extras))" : "function(x) lm(y ~ \(rhs), data = x\(extras))"
            let rows = try await RRuntime.shared().eval("local({ set.seed(\(900 + seed)); groups <- sample(1:6, 1); sum(sample(1:30, groups, TRUE)) })",
                                                        as: Int.self)
            let chunkRows = [1, 2, 5, rows / 2 + 1, rows][seed % 5]
            let (verdict, _) = try await groupedAgreesWithR("gp_small_\(seed)", code, by: ["k", "j"], fit: rFit,
                                                             glm: glm ? GeneralizedLinearModelSpecification(formula: "b ~ \(rhs)", family: "binomial",
                                                                                                            weights: weights, offset: offset) : nil,
                                                             lm: glm ? nil : LinearModelSpecification(formula: "y ~ \(rhs)", weights: weights, offset: offset),
                                                             chunkRows: max(1, chunkRows))
            #expect(verdict == "TRUE", "seed \(seed): \(response) ~ \(rhs) in chunks of \(chunkRows), weights \(weights ?? "-"), offset \(offset ?? "-"): \(verdict)")
        }
    }

    /// Skewed data: one group holds 60% of the rows, spread over every chunk (the data is not
    /// sorted), and 300 small groups. The large group is fitted in chunks and merged.
    static let skewed = """
        set.seed(41); n <- 3000
        k <- ifelse(runif(n) < 0.6, "big", sprintf("s%03d", sample(300, n, TRUE)))
        d <- data.frame(k = k, x1 = rnorm(n), x2 = runif(n), g = factor(sample(c("p", "q", "r"), n, TRUE)))
        d$y <- 1 + d$x1 - 2 * d$x2 + as.integer(d$g) + rnorm(n)
        d$b <- rbinom(n, 1, plogis(d$x1))
        d
        """

    /// On the pool: the large group in chunks, the small ones in batches, and a worker killed
    /// with SIGKILL when the first of eight chunks is partitioned (its job, and any later one
    /// sent to it, runs again on the new worker).
    @Test func aGroupWithMostRowsIsSplitAndMergedOnThePoolWithAWorkerKilled() async throws {
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2)
        defer { pool.shutdown() }
        let victim = Mutex<Int32?>(nil)
        // Each group's R fit sleeps, so both workers are mid-batch when the kill comes.
        let formula = "y ~ x1 + g + I(x2 + 0 * length(Sys.sleep(0.002)))"
        let (verdict, fit) = try await groupedAgreesWithR("gp_skew_pool", Self.skewed, by: ["k"],
                                                           fit: "function(x) lm(\(formula), data = x)",
                                                           lm: LinearModelSpecification(formula: formula), chunkRows: 400, executor: pool) { progress in
            guard progress.step == "partition", progress.chunksDone == 1 else { return }
            victim.withLock { victim in
                guard victim == nil, let worker = pool.workerProcessIDs.first else { return }
                victim = worker
                kill(worker, SIGKILL)
            }
        }
        #expect(verdict == "TRUE", "\(verdict)")
        let killed = try #require(victim.withLock { $0 }, "no worker was killed")
        #expect(!pool.workerProcessIDs.contains(killed))
        let groups = try await RRuntime.shared().eval("length(unique(gp_skew_pool$k))", as: Int.self)
        #expect(fit.results.count == groups)
        // The large group: (Intercept), x1, gq, gr and the I() term. (Small groups of one level
        // of g fail with R's message; the oracle checked it.)
        let big = try #require(fit.results.first { $0.label == "k=big" })
        #expect(big.error == nil && big.terms == 5)
    }

    /// 10,000 groups in batches of thousands on the pool, Swift's lm for each.
    @Test func tenThousandGroupsInBatchesOnThePool() async throws {
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2)
        defer { pool.shutdown() }
        let steps = Mutex<[Int]>([])
        let code = """
            set.seed(42); sizes <- sample(3:8, 10000, TRUE); n <- sum(sizes)
            d <- data.frame(id = rep(sprintf("g%05d", seq_len(10000)), sizes), x = rnorm(n))
            d$y <- 2 * d$x + rnorm(n)
            d[sample(n), ]
            """
        let (verdict, fit) = try await groupedAgreesWithR("gp_many_pool", code, by: ["id"], fit: "function(x) lm(y ~ x, data = x)",
                                                           lm: LinearModelSpecification(formula: "y ~ x"), chunkRows: 20_000, executor: pool) { progress in
            if progress.step == "groups" { steps.withLock { $0.append(progress.chunksDone) } }
        }
        #expect(verdict == "TRUE", "\(verdict)")
        #expect(fit.results.count == 10_000 && fit.nativeGroupCount == 10_000)
        // Progress comes batch by batch: each batch holds more than a thousand groups.
        // (Batches end at once on two workers: their reports may come out of order.)
        let done = steps.withLock { $0 }.sorted()
        #expect(done.last == 10_000)
        #expect(zip(done.dropFirst(), done).allSatisfy { $0 - $1 >= 1000 }, "\(done)")
    }

    /// `polybridge fit --by` on Ray and Dask (and the pool): the skewed data's glm per group,
    /// written as Parquet and read back, is R's per group; nothing is left behind.
    @Test(arguments: ["ray", "dask", "pool"])
    func theCommandOnEachExecutorIsRsPerGroup(executor: String) async throws {
        let name = "gp_skew_cli_\(executor)"
        let path = try await glmParquet(name, Self.skewed)
        let folder = try scratchDirectory()
        let engine = executor == "pool" ? [] : ["--executor", executor]
        let run = try await runPolybridgeWatchingProcesses(["fit", "--data", path, "--formula", "b ~ x1 + g", "--family", "binomial", "--by", "k",
                                                            "--workers", "2", "--chunk-rows", "500", "--out", folder + "/c.parquet",
                                                            "--groups-out", folder + "/g.parquet"] + engine)
        try #require(run.run.status == 0, "\(run.run.error)")
        let verdict = try await groupedVerdict(name, by: ["k"], fit: "function(x) glm(b ~ x1 + g, family = binomial, data = x)", glm: true,
                                               coefficients: try await DataFiles.readTable(folder + "/c.parquet"),
                                               groups: try await DataFiles.readTable(folder + "/g.parquet"))
        #expect(verdict == "TRUE", "\(verdict)")
        let left = try await processesLeftBehind(run.seen)
        #expect(left.isEmpty, "\(left)")
    }

    /// On Ray and Dask, a `polybridge worker` killed with SIGKILL mid-run (each group's fit
    /// sleeps 0.1 s, so the batches take seconds): the engine runs its job again, every group
    /// is still R's, and nothing is left behind.
    @Test(arguments: ["ray", "dask"])
    func aWorkerKilledOnTheEngineMidRunIsRetried(engine: String) async throws {
        let name = "gp_engine_kill_\(engine)"
        let path = try await glmParquet(name, """
            set.seed(43); n <- 1200
            d <- data.frame(k = sample(sprintf("k%02d", 1:40), n, TRUE), x1 = rnorm(n), x2 = runif(n))
            d$y <- 1 + d$x1 - d$x2 + rnorm(n)
            d
            """)
        let folder = try scratchDirectory()
        let formula = "y ~ x1 + I(x2 + 0 * length(Sys.sleep(0.1)))"
        let run = try await runPolybridgeWatchingProcesses(["fit", "--data", path, "--formula", formula, "--by", "k", "--workers", "2",
                                                            "--chunk-rows", "300", "--executor", engine, "--out", folder + "/c.parquet",
                                                            "--groups-out", folder + "/g.parquet"], killAWorkerAfter: 1.5)
        #expect(run.killed != nil)
        try #require(run.run.status == 0, "\(run.run.error)")
        let verdict = try await groupedVerdict(name, by: ["k"], fit: "function(x) lm(\(formula), data = x)", glm: false,
                                               coefficients: try await DataFiles.readTable(folder + "/c.parquet"),
                                               groups: try await DataFiles.readTable(folder + "/g.parquet"))
        #expect(verdict == "TRUE", "\(verdict)")
        let left = try await processesLeftBehind(run.seen)
        #expect(left.isEmpty, "\(left)")
    }
}
