import Foundation
import Polybridge
import PolybridgeTestSupport
import Synchronization
import Testing

/// The chunked fit on a pool of worker processes: same answer as lm, and the failures a pool
/// must survive or report.
@Suite struct WorkerPoolTests {
    /// The standard data written as Parquet; returns the path (and binds it in R as `name`).
    func parquet(_ name: String, _ code: String = "d") async throws -> String {
        let path = try scratchDirectory() + "/\(name).parquet", rds = path + ".rds"
        _ = try await RRuntime.shared().evaluate("\(name) <- local({ d <- { \(standardData) }; \(code) }); saveRDS(\(name), '\(rds)')")
        _ = try await DataFiles.convert(rds, to: path)
        return path
    }

    func alive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    @Test func twoWorkersGiveLMsAnswerAndStayWarm() async throws {
        let path = try await parquet("pool_basic")
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2)
        defer { pool.shutdown() }
        let spec = LinearModelSpecification(formula: "y ~ x1 + x2 + g + s", weights: "w")
        let ranges = LinearModel.chunkRanges(rowCount: 2400, count: 6)
        let fit = try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: ranges, spec, executor: pool)
        #expect(try await agreesWithLM(fit, data: "pool_basic", formula: spec.formula, weights: "w") == "TRUE")
        let workers = pool.workerProcessIDs
        #expect(workers.count == 2)
        // A second fit reuses the same (warm) processes.
        _ = try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: ranges, spec, executor: pool)
        #expect(Set(pool.workerProcessIDs) == Set(workers))
    }

    /// Pass 2 keeps the rows of a chunk whose levels fall outside the guess, and pass 3 goes to
    /// the worker that holds them. Killed between the passes, that worker's rows are rebuilt on
    /// another (the pass-2 job runs again there first) and the answer is still lm's.
    @Test func theWorkerHoldingAChunksRowsKilledBetweenPassesIsRebuiltElsewhere() async throws {
        // Sorted by g: the first chunk, whose levels are the guess, has only some of them.
        let path = try await parquet("pool_affinity", "d[order(d$g), ]")
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2)
        defer { pool.shutdown() }
        let killer = HolderKiller(pool: pool)
        let spec = LinearModelSpecification(formula: "y ~ x1 + g")
        let fit = try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: LinearModel.chunkRanges(rowCount: 2400, count: 6),
                                                   spec, executor: killer)
        let victim = try #require(killer.victim, "no pass-3 job found a worker holding its rows")
        #expect(!pool.workerProcessIDs.contains(victim))
        #expect(pool.rebuildCount >= 1)
        #expect(try await agreesWithLM(fit, data: "pool_affinity", formula: spec.formula) == "TRUE")
    }

    /// What `polybridge fit` does is library API: a Swift program fits a file on a pool (started
    /// and stopped by the call) or in this process and gets lm's answer, and the timing on workers.
    @Test func aSwiftProgramFitsAFileOnAPoolOrInProcessThroughTheLibrary() async throws {
        let path = try await parquet("file_fit")
        let spec = LinearModelSpecification(formula: "y ~ x1 + g + s")
        var options = FileFitOptions()
        options.chunks = 4
        options.executor = .pool(workers: 2, executable: polybridgeExecutable())
        let (pooled, timing) = try await LinearModel.fit(file: path, spec, options: options)
        #expect(try await agreesWithLM(pooled, data: "file_fit", formula: spec.formula) == "TRUE")
        #expect(timing?.chunks == 4 && (timing?.workersReady ?? 0) > 0 && timing?.engineStopped == nil)
        options.executor = .inProcess
        let (local, none) = try await LinearModel.fit(file: path, spec, options: options)
        #expect(try await agreesWithLM(local, data: "file_fit", formula: spec.formula) == "TRUE" && none == nil)
    }

    /// The chunk jobs a worker serves run in this process through their wire format, no
    /// process started: sorted data makes a third pass, which reads the rows pass 2 kept.
    @Test func chunkJobsRunInProcessThroughTheirWireFormat() async throws {
        let path = try await parquet("jobs_in_process", "d[order(d$g), ]")
        let executor = InProcessJobExecutor(registry: JobRegistry([LinearModelChunkJob.self]))
        let fit = try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: LinearModel.chunkRanges(rowCount: 2400, count: 4),
                                                   LinearModelSpecification(formula: "y ~ x1 + g + s"), executor: executor)
        #expect(try await agreesWithLM(fit, data: "jobs_in_process", formula: "y ~ x1 + g + s") == "TRUE")
    }

    /// A worker keeps a chunk's rows for one fit at a time: the rows a fit kept for a third pass
    /// it never made (it failed) go when another fit keeps its own.
    @Test func aWorkerKeepsRowsForOneFitAtATime() async throws {
        let path = try await parquet("keep_one_fit", "d[order(d$g), ]")
        let spec = LinearModelSpecification(formula: "y ~ x1 + g")
        let context = JobContext()
        func job(_ fit: String) -> LinearModelChunkJob {
            // The second half of data sorted by g holds levels the guess lacks: its rows are kept.
            LinearModelChunkJob(task: LinearModelChunkTask(chunk: 2, rows: 1200..<2400, step: .levelsAndFactor(guess: ["g": ["a"]]),
                                                           specification: spec, fit: fit), path: path)
        }
        _ = try await job("A").run(in: context)
        #expect(context.holds(job("A").rowsKey))
        _ = try await job("B").run(in: context)
        #expect(!context.holds(job("A").rowsKey) && context.holds(job("B").rowsKey))
    }

    /// A worker killed with SIGKILL mid-chunk is replaced and its chunk re-run; the answer is lm's.
    @Test func aWorkerKilledMidChunkIsReplacedAndTheFitIsStillExact() async throws {
        let path = try await parquet("pool_kill")
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2)
        defer { pool.shutdown() }
        // Each chunk's model frame sleeps half a second. The kill comes when pass 2's first chunk
        // is done: both workers are then busy with the next ones, however long the fit took to
        // get there (this process's R is shared with the tests running beside this one).
        let formula = "y ~ x1 + g + I(x2 + 0 * length(Sys.sleep(0.5)))"
        let victim = Mutex<Int32?>(nil)
        let fit = try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: LinearModel.chunkRanges(rowCount: 2400, count: 6),
                                                   LinearModelSpecification(formula: formula, rowWiseFunctions: ["length", "Sys.sleep"]),
                                                   executor: pool) { progress in
            guard progress.pass == 2, progress.chunksDone == 1 else { return }
            victim.withLock { victim in
                guard victim == nil, let worker = pool.workerProcessIDs.first else { return }
                victim = worker
                kill(worker, SIGKILL)
            }
        }
        let killed = try #require(victim.withLock { $0 }, "pass 2 found no worker to kill")
        #expect(!pool.workerProcessIDs.contains(killed))
        #expect(try await agreesWithLM(fit, data: "pool_kill", formula: formula) == "TRUE")
    }

    /// A worker stopped with SIGSTOP mid-fit sends no heartbeat: the pool kills it and runs its
    /// chunk again, with no --timeout set; the answer is lm's (the fit used to wait forever).
    @Test func aWorkerStoppedWithSIGSTOPIsReplacedAndTheFitIsStillExact() async throws {
        let path = try await parquet("pool_stop")
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2, silence: .seconds(3))
        defer { pool.shutdown() }
        try await pool.warmUp()
        let victim = try #require(pool.workerProcessIDs.first)
        let formula = "y ~ x1 + g + I(x2 + 0 * length(Sys.sleep(0.5)))"
        let stopped = Mutex(false)
        // Without the heartbeat the fit never ends: the stopped worker is killed after five
        // minutes so the test does (the fit takes seconds once it reaches its chunks).
        let watchdog = Task {
            try await Task.sleep(for: .seconds(300))
            Issue.record("the fit did not end within 300 s of stopping a worker")
            kill(victim, SIGKILL)
        }
        defer { watchdog.cancel() }
        // The worker is stopped when pass 2's first chunk is done, with four chunks to go on two workers.
        let fit = try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: LinearModel.chunkRanges(rowCount: 2400, count: 6),
                                                   LinearModelSpecification(formula: formula, rowWiseFunctions: ["length", "Sys.sleep"]),
                                                   executor: pool) { progress in
            guard progress.pass == 2, progress.chunksDone == 1 else { return }
            stopped.withLock { stopped in
                if !stopped { stopped = kill(victim, SIGSTOP) == 0 }
            }
        }
        #expect(stopped.withLock { $0 })
        #expect(!pool.workerProcessIDs.contains(victim))
        #expect(kill(victim, 0) != 0, "the stopped worker is still there")
        #expect(try await agreesWithLM(fit, data: "pool_stop", formula: formula) == "TRUE")
    }

    /// A factor of 300 levels on two workers: each chunk's answer is a 302 x 302 matrix (the
    /// pool read such answers in time quadratic in their length); the fit is lm's.
    @Test func aWideFactorOnWorkersGivesLMsAnswer() async throws {
        let path = try await parquet("pool_wide", "d$h <- factor(sample(sprintf('L%03d', 1:300), nrow(d), TRUE)); d$y <- d$y + as.integer(d$h) / 50; d")
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2)
        defer { pool.shutdown() }
        let fit = try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: LinearModel.chunkRanges(rowCount: 2400, count: 4),
                                                   LinearModelSpecification(formula: "y ~ x1 + h"), executor: pool)
        #expect(fit.coefficients.count + fit.aliased.count == 301)
        #expect(try await agreesWithLM(fit, data: "pool_wide", formula: "y ~ x1 + h") == "TRUE")
    }

    /// A chunk's factor crosses the worker pipe bit for bit: NaN, signed zero, subnormals and
    /// the extremes come back as they went.
    @Test func aChunkFactorCrossesThePipeBitForBit() throws {
        let values: [Double] = [1, -0.0, 0, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1 / 3, -2.5e-300]
        let factor = ChunkFactor(r: values, rows: 2, columns: ["(Intercept)", "x", "y", "z", "w"], kept: 7, used: 6, dropped: 1,
                                 intercept: true, offsetSums: [0.5])
        struct Answer: Encodable { var output: LinearModelChunkResult }
        let line = try WorkerJSON.encoder().encode(Answer(output: .factor(factor)))
        let decoded = try JobWire.output(of: LinearModelChunkJob.self, from: line)
        guard case .factor(let back) = decoded else { Issue.record("\(decoded)"); return }
        #expect(back.r.map { $0.bitPattern } == values.map { $0.bitPattern })
        #expect(back.rows == 2 && back.columns == factor.columns && back.kept == 7 && back.used == 6 && back.dropped == 1 && back.offsetSums == [0.5])
    }

    @Test func anRErrorInOneChunkNamesItAndATimeoutStopsAChunk() async throws {
        let path = try await parquet("pool_errors", "d$w[1500] <- -1; d$slow <- 0; d$slow[601:1200] <- 1; d")
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2, timeout: .seconds(20))
        defer { pool.shutdown() }
        let ranges = LinearModel.chunkRanges(rowCount: 2400, count: 4)
        do {
            _ = try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: ranges,
                                                 LinearModelSpecification(formula: "y ~ x1", weights: "w"), executor: pool)
            Issue.record("a negative weight was accepted")
        } catch let error as LinearModelError {
            #expect(error == .chunkFailed(chunk: 3, firstRow: 1201, lastRow: 1800, message: "negative weights are not allowed"))
        }
        // Chunk 2's rows sleep far longer than the timeout.
        do {
            _ = try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: ranges,
                LinearModelSpecification(formula: "y ~ I(x1 + 0 * length(if (slow[1] == 1) Sys.sleep(600)))",
                                              rowWiseFunctions: ["length", "if", "[", "Sys.sleep"]), executor: pool)
            Issue.record("the slow chunk did not time out")
        } catch let error as LinearModelError {
            guard case .chunkFailed(let chunk, _, _, let message) = error else { Issue.record("\(error)"); return }
            #expect(chunk == 2 && message == "timed out: the chunk exceeded the timeout of 20 s", "\(error)")
        }
    }

    /// Limiting a warm pool (to the number of chunks, say) ends the idle workers beyond the limit
    /// at once, as /proc sees it, and no more start.
    @Test func limitingAWarmPoolEndsTheWorkersBeyondTheLimit() async throws {
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 3)
        defer { pool.shutdown() }
        try await pool.warmUp()
        let before = Set(pool.workerProcessIDs)
        #expect(before.count == 3)
        pool.limit(to: 1)
        try await pool.warmUp()
        let kept = Set(pool.workerProcessIDs)
        #expect(pool.size == 1 && kept.count == 1 && kept.isSubset(of: before))
        let ended = before.subtracting(kept)
        for _ in 0..<100 where ended.contains(where: ProcessTable.alive) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!ended.contains(where: ProcessTable.alive), "\(ended)")
    }

    /// Cancelling the fit kills the busy workers; shutting down leaves no process behind.
    @Test func cancellingTheFitLeavesNoWorkerBehind() async throws {
        let path = try await parquet("pool_cancel")
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2)
        let task = Task {
            try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: LinearModel.chunkRanges(rowCount: 2400, count: 4),
                                             LinearModelSpecification(formula: "y ~ I(x1 + 0 * length(Sys.sleep(600)))", rowWiseFunctions: ["length", "Sys.sleep"]), executor: pool)
        }
        // The fit's first pass runs one chunk, which sleeps: one worker starts. Before it does, the
        // fit waits for this process's R, which the tests beside this one share.
        var workers: [Int32] = []
        let deadline = ContinuousClock.now + .seconds(300)
        while workers.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            workers = pool.workerProcessIDs
        }
        try #require(!workers.isEmpty, "no worker started within 300 s")
        cancelFromOwnThread(task, after: .seconds(2))
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        pool.shutdown()
        for _ in 0..<100 where workers.contains(where: alive) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!workers.isEmpty && !workers.contains(where: alive))
    }
}

/// A data file replaced or rewritten while workers read it: the fit stops with an error that
/// names the file, instead of combining rows of two versions.
@Suite struct DataFileChangeTests {
    /// A CSV or Parquet file of the standard data, and a second version of the same shape.
    func twoVersions(_ name: String, format: String) async throws -> (path: String, other: String) {
        let directory = try scratchDirectory()
        let path = directory + "/\(name).\(format)", other = directory + "/other.\(format)"
        for (target, seed) in [(path, 1), (other, 2)] {
            let rds = target + ".rds"
            _ = try await RRuntime.shared().evaluate("local({ d <- { \(standardData) }; set.seed(\(seed)); d$y <- rnorm(nrow(d)); saveRDS(d, '\(rds)') })")
            _ = try await DataFiles.convert(rds, to: target)
        }
        return (path, other)
    }

    @Test(arguments: ["parquet", "csv"])
    func aFileReplacedDuringAPoolFitStopsTheFitNamingTheFile(format: String) async throws {
        let (path, other) = try await twoVersions("replaced_\(format)", format: format)
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2)
        defer { pool.shutdown() }
        try await pool.warmUp()
        // The file is replaced as soon as the first chunk is done, while the others are read.
        let spec = LinearModelSpecification(formula: "y ~ x1 + I(x2 + 0 * length(Sys.sleep(0.2)))", rowWiseFunctions: ["length", "Sys.sleep"])
        let replaced = Mutex(false)
        do {
            let fit = try await LinearModel.fitChunked(.file(path: path), rowCount: 2400,
                                                       chunks: LinearModel.chunkRanges(rowCount: 2400, count: 12), spec, executor: pool) { _ in
                replaced.withLock { done in
                    if !done { done = rename(other, path) == 0 }
                }
            }
            Issue.record("the fit ended with \(fit.coefficients.map(\.estimate)) over a file replaced mid-fit")
        } catch let error as LinearModelError {
            guard case .chunkFailed(_, _, _, let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("the data file \(path) changed during the fit: it is another file (device and inode)"), "\(message)")
        }
        #expect(replaced.withLock { $0 })
    }

    /// The identity sees a same-content copy moved over the file (another inode), and an
    /// in-place rewrite of the same size with the modification time set back (the footer).
    @Test func theIdentitySeesAReplacementAndARewriteThatKeepsSizeAndTime() async throws {
        let (path, _) = try await twoVersions("identity", format: "parquet")
        let identity = try FileIdentity.pin(path)
        try identity.check(path)
        let copy = path + ".copy"
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        #expect(rename(copy, path) == 0)
        #expect(throws: LinearModelError.self) { try identity.check(path) }

        let pinned = try FileIdentity.pin(path)
        var before = stat()
        #expect(stat(path, &before) == 0)
        // Flip one byte of the Parquet footer, then put the modification time back.
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size - 12)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: size - 12)
        try handle.write(contentsOf: Data([byte ^ 0xFF]))
        try handle.close()
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        do {
            try pinned.check(path)
            Issue.record("a rewritten footer went unseen")
        } catch {
            #expect("\(error)" == "the data file \(path) changed during the fit: its footer changed. Its chunks could mix rows of two versions, so the fit stopped; fit again once the file is complete (write it under another name and rename it into place)")
        }
    }

    /// A FIFO (or any file that cannot be read twice) is refused at the start of a pool fit
    /// instead of leaving every worker blocked on it.
    @Test func aFIFOIsRefusedBeforeWorkersWaitOnIt() async throws {
        let fifo = try scratchDirectory() + "/data.csv"
        #expect(mkfifo(fifo, 0o600) == 0)
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2)
        defer { pool.shutdown() }
        do {
            _ = try await LinearModel.fitChunked(.file(path: fifo), rowCount: 10, chunks: [0..<5, 5..<10],
                                                 LinearModelSpecification(formula: "y ~ x"), executor: pool)
            Issue.record("a FIFO was fitted")
        } catch {
            #expect("\(error)".contains("\(fifo) is not a regular file"), "\(error)")
        }
    }
}

/// Runs chunk tasks on `pool`, and before the first pass-3 task kills the worker that holds
/// that chunk's rows.
final class HolderKiller: ChunkExecutor, @unchecked Sendable {
    let pool: ProcessPoolExecutor
    private let killed = Mutex<Int32?>(nil)

    init(pool: ProcessPoolExecutor) { self.pool = pool }

    /// The worker killed, if any.
    var victim: Int32? { killed.withLock { $0 } }

    func run(_ task: LinearModelChunkTask, data: ChunkData) async throws -> LinearModelChunkResult {
        if case .factor = task.step, case .file(let path, let identity) = data,
           let holder = pool.holder(of: LinearModelChunkJob(task: task, path: path, identity: identity).rowsKey) {
            let first = killed.withLock { victim -> Bool in
                guard victim == nil else { return false }
                victim = holder
                return true
            }
            if first {
                kill(holder, SIGKILL)
                while kill(holder, 0) == 0 { usleep(10_000) }
            }
        }
        return try await pool.run(task, data: data)
    }
}
