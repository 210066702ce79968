import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// The chunked fit on Ray and on Dask: lm's answer (and the local pool's), a worker process
/// killed mid-fit, an R error, and no process left behind. One test per engine: Ray allows one
/// cluster per process, so each engine's checks share one cluster.
@Suite struct EngineExecutorTests {
    /// Running: it exists and is not a zombie (a killed process whose parent died may wait
    /// unreaped, as a zombie, for PID 1 to collect it).
    func alive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    @Test(arguments: ClusterEngine.allCases)
    func fitsOnTheEngineEqualLMAndThePoolSurviveAKilledWorkerAndLeaveNothing(engine: ClusterEngine) async throws {
        let name = "engine_\(engine.rawValue)"
        let path = try await WorkerPoolTests().parquet(name, "d$w[1500] <- -1; d")
        let executor = try await EngineExecutor.start(engine: engine, executable: polybridgeExecutable(), workers: 2)
        var processes: [Int32] = []
        do {
            processes = try executor.workerProcessIDs() + executor.engineProcessIDs()
            #expect(processes.count == 4)
            let spec = LinearModelSpecification(formula: "y ~ x1 + x2 + g + s")
            let ranges = LinearModel.chunkRanges(rowCount: 2400, count: 6)
            let fit = try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: ranges, spec, executor: executor)
            #expect(try await agreesWithLM(fit, data: name, formula: spec.formula) == "TRUE")
            // The same answer as the local pool.
            let pool = ProcessPoolExecutor(executable: polybridgeExecutable(), workers: 2)
            let local = try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: ranges, spec, executor: pool)
            pool.shutdown()
            for (a, b) in zip(fit.coefficients, local.coefficients) {
                #expect(a.name == b.name && abs(a.estimate - b.estimate) <= 1e-12 * abs(b.estimate), "\(a.name)")
            }

            // A polybridge worker process killed mid-fit: the engine retries the chunk; lm's answer.
            let slow = "y ~ x1 + g + I(x2 + 0 * length(Sys.sleep(0.4)))"
            let task = Task {
                try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: ranges,
                                                 LinearModelSpecification(formula: slow), executor: executor)
            }
            try await Task.sleep(for: .milliseconds(1200))
            let victim = try #require(try executor.workerProcessIDs().first)
            kill(victim, SIGKILL)
            let survived = try await task.value
            #expect(try await agreesWithLM(survived, data: name, formula: slow) == "TRUE")
            #expect(!alive(victim))
            processes += try executor.workerProcessIDs() + executor.engineProcessIDs()

            // An R error is not retried and names the chunk.
            do {
                _ = try await LinearModel.fitChunked(.file(path: path), rowCount: 2400, chunks: LinearModel.chunkRanges(rowCount: 2400, count: 4),
                                                     LinearModelSpecification(formula: "y ~ x1", weights: "w"), executor: executor)
                Issue.record("a negative weight was accepted")
            } catch let error as LinearModelError {
                #expect(error == .chunkFailed(chunk: 3, firstRow: 1201, lastRow: 1800, message: "negative weights are not allowed"))
            }
        } catch {
            await executor.stop()
            throw error
        }
        await executor.stop()
        for _ in 0..<200 where processes.contains(where: alive) { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!processes.contains(where: alive), "left behind: \(processes.filter(alive))")
    }

    /// An engine that is not installed: one clear error saying how to install it.
    @Test(arguments: ClusterEngine.allCases)
    func anEngineThatIsNotInstalledGivesAClearError(engine: ClusterEngine) async throws {
        let fake = try scratchDirectory()
        let module = engine == .ray ? "ray" : "distributed"
        try FileManager.default.createDirectory(atPath: fake + "/\(module)", withIntermediateDirectories: true)
        try Data("raise ImportError('No module named \(module)')\n".utf8).write(to: URL(fileURLWithPath: fake + "/\(module)/__init__.py"))
        let parquet = try await FitCommandTestsData.mtcarsParquet()
        let run = try runPolybridge(["fit", "--data", parquet, "--formula", "mpg ~ wt", "--workers", "2", "--executor", engine.rawValue],
                                    environment: ["PYTHONPATH": fake])
        #expect(run.status == 1)
        #expect(run.error.contains("\(engine.rawValue) is not installed") && run.error.contains("make setup-engines"), "\(run.error)")
    }
}

/// mtcars as Parquet for command tests in this target.
enum FitCommandTestsData {
    static func mtcarsParquet() async throws -> String {
        let directory = try scratchDirectory()
        let rds = directory + "/mtcars.rds", parquet = directory + "/mtcars.parquet"
        _ = try await RRuntime.shared().evaluate("saveRDS(mtcars, '\(rds)')")
        _ = try await DataFiles.convert(rds, to: parquet)
        return parquet
    }
}
