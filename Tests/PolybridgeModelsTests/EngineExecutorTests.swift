import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// The chunked fit on Ray and on Dask through `polybridge fit --executor`: lm's answer (and the
/// local pool's), a worker process killed mid-fit, an R error, and no process left behind. The
/// engines run in the command's process, as users run them, not inside this test process.
@Suite struct EngineExecutorTests {
    /// Runs `polybridge fit` (the engine lives in that process, not in this test process) and
    /// records every process below it while it runs.
    func fitCommand(_ arguments: [String], killAWorkerAfter delay: Double? = nil) async throws -> WatchedPolybridgeRun {
        try await runPolybridgeWatchingProcesses(["fit"] + arguments, killAWorkerAfter: delay)
    }

    func decoded(_ run: PolybridgeRun) throws -> LinearModelFit {
        try JSONDecoder().decode(LinearModelFit.self, from: Data(run.output.utf8))
    }

    @Test(arguments: ClusterEngine.allCases)
    func fitsOnTheEngineEqualLMAndThePoolSurviveAKilledWorkerAndLeaveNothing(engine: ClusterEngine) async throws {
        let name = "engine_\(engine.rawValue)"
        let path = try await WorkerPoolTests().parquet(name, "d$w[1500] <- -1; d")
        let common = ["--data", path, "--workers", "2", "--chunks", "6", "--json"]
        var everything = Set<Int32>()

        let formula = "y ~ x1 + x2 + g + s"
        let onEngine = try await fitCommand(common + ["--formula", formula, "--executor", engine.rawValue])
        #expect(onEngine.run.status == 0, "\(onEngine.run.error)")
        everything.formUnion(onEngine.seen)
        #expect(onEngine.workers.count >= 2, "the engine's workers own polybridge worker processes")
        let fit = try decoded(onEngine.run)
        #expect(try await agreesWithLM(fit, data: name, formula: formula) == "TRUE")
        let local = try decoded(try await fitCommand(common + ["--formula", formula]).run)
        for (a, b) in zip(fit.coefficients, local.coefficients) {
            #expect(a.name == b.name && abs(a.estimate - b.estimate) <= 1e-12 * abs(b.estimate), "\(a.name)")
        }

        // A polybridge worker process killed mid-fit: the engine retries its chunk; lm's answer.
        let slow = "y ~ x1 + g + I(x2 + 0 * length(Sys.sleep(1)))"
        let killedRun = try await fitCommand(common + ["--formula", slow, "--executor", engine.rawValue], killAWorkerAfter: 2.5)
        #expect(killedRun.killed != nil)
        try #require(killedRun.run.status == 0, "\(killedRun.run.error)")
        everything.formUnion(killedRun.seen)
        #expect(try await agreesWithLM(try decoded(killedRun.run), data: name, formula: slow) == "TRUE")

        // An R error is not retried and names the chunk.
        let failing = try await fitCommand(["--data", path, "--workers", "2", "--chunks", "4", "--formula", "y ~ x1", "--weights", "w",
                                      "--executor", engine.rawValue])
        everything.formUnion(failing.seen)
        #expect(failing.run.status == 1)
        #expect(failing.run.error.contains("chunk 3 (rows 1201-1800)") && failing.run.error.contains("negative weights are not allowed"),
                "\(failing.run.error)")

        // Nothing the engine started is left running.
        let left = try await processesLeftBehind(everything)
        #expect(left.isEmpty, "left behind: \(left)")
    }

    /// An engine that is not installed: one clear error saying how to install it.
    @Test(arguments: ClusterEngine.allCases)
    func anEngineThatIsNotInstalledGivesAClearError(engine: ClusterEngine) async throws {
        let fake = try scratchDirectory()
        let module = engine == .ray ? "ray" : "distributed"
        try FileManager.default.createDirectory(atPath: fake + "/\(module)", withIntermediateDirectories: true)
        try Data("raise ImportError('No module named \(module)')\n".utf8).write(to: URL(fileURLWithPath: fake + "/\(module)/__init__.py"))
        let parquet = try await FitCommandTestsData.mtcarsParquet()
        let run = try await runPolybridge(["fit", "--data", parquet, "--formula", "mpg ~ wt", "--workers", "2", "--executor", engine.rawValue],
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
