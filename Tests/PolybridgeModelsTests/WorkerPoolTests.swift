import Foundation
import Polybridge
import PolybridgeTestSupport
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

    /// A worker killed with SIGKILL mid-chunk is replaced and its chunk re-run; the answer is lm's.
    @Test func aWorkerKilledMidChunkIsReplacedAndTheFitIsStillExact() async throws {
        let path = try await parquet("pool_kill")
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2)
        defer { pool.shutdown() }
        // Each chunk's model frame sleeps half a second, so chunks are certainly running when the kill comes.
        let formula = "y ~ x1 + g + I(x2 + 0 * length(Sys.sleep(0.5)))"
        let task = Task {
            try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: LinearModel.chunkRanges(rowCount: 2400, count: 6),
                                             LinearModelSpecification(formula: formula, rowWiseFunctions: ["length", "Sys.sleep"]), executor: pool)
        }
        var victim: Int32?
        for _ in 0..<600 where victim == nil {
            victim = pool.workerProcessIDs.first
            if victim == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let killed = try #require(victim)
        try await Task.sleep(for: .milliseconds(1500))  // well into the fit (R starts, the file is read, chunks sleep)
        kill(killed, SIGKILL)
        let fit = try await task.value
        #expect(!pool.workerProcessIDs.contains(killed))
        #expect(try await agreesWithLM(fit, data: "pool_kill", formula: formula) == "TRUE")
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
            #expect(chunk == 2 && message.hasPrefix("timed out"), "\(error)")
        }
    }

    /// Cancelling the fit kills the busy workers; shutting down leaves no process behind.
    @Test func cancellingTheFitLeavesNoWorkerBehind() async throws {
        let path = try await parquet("pool_cancel")
        let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2)
        let task = Task {
            try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: LinearModel.chunkRanges(rowCount: 2400, count: 4),
                                             LinearModelSpecification(formula: "y ~ I(x1 + 0 * length(Sys.sleep(600)))", rowWiseFunctions: ["length", "Sys.sleep"]), executor: pool)
        }
        var workers: [Int32] = []
        for _ in 0..<600 where workers.count < 2 {
            workers = pool.workerProcessIDs
            try await Task.sleep(for: .milliseconds(50))
        }
        cancelFromOwnThread(task, after: .seconds(2))
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        pool.shutdown()
        for _ in 0..<100 where workers.contains(where: alive) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!workers.isEmpty && !workers.contains(where: alive))
    }
}
