import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// The chunked fit on Ray and on Dask through `polybridge fit --executor`: lm's answer (and the
/// local pool's), a worker process killed mid-fit, an R error, and no process left behind. The
/// engines run in the command's process, as users run them, not inside this test process.
@Suite struct EngineExecutorTests {
    /// Running: it exists and is not a zombie (a killed process whose parent died may wait
    /// unreaped, as a zombie, for PID 1 to collect it).
    func alive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// Every process below `root` (children, their children, …), from /proc.
    func descendants(of root: Int32) -> Set<Int32> {
        var parents: [Int32: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 2, let parent = Int32(fields[1]) { parents[pid] = parent }
        }
        var found = Set<Int32>(), frontier = [root]
        while let next = frontier.popLast() {
            for (pid, parent) in parents where parent == next && !found.contains(pid) {
                found.insert(pid)
                frontier.append(pid)
            }
        }
        return found
    }

    func isPolybridgeWorker(_ pid: Int32) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return arguments.count >= 2 && arguments[0].hasSuffix("polybridge") && arguments[1] == "worker"
    }

    /// Runs `polybridge fit` (the engine lives in that process, not in this test process) and
    /// records every process below it while it runs.
    func fitCommand(_ arguments: [String], killAWorkerAfter delay: Double? = nil) async throws -> (run: PolybridgeRun, seen: Set<Int32>, killed: Int32?, workers: Set<Int32>) {
        // On a thread of its own: the command runs for seconds and this waits for it.
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try fitCommandBlocking(arguments, killAWorkerAfter: delay) }) }
        }
    }

    func fitCommandBlocking(_ arguments: [String], killAWorkerAfter delay: Double?) throws -> (run: PolybridgeRun, seen: Set<Int32>, killed: Int32?, workers: Set<Int32>) {
        let process = Process()
        process.executableURL = polybridgeExecutable()
        process.arguments = ["fit"] + arguments
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        let outputReader = PipeReader(output), errorReader = PipeReader(error)
        try process.run()
        var seen = Set<Int32>(), polybridgeWorkers = Set<Int32>()
        var killed: Int32?
        var workersSeenAt: Date?
        while process.isRunning {
            let below = descendants(of: process.processIdentifier)
            seen.formUnion(below)
            polybridgeWorkers.formUnion(below.filter(isPolybridgeWorker))
            if let delay, killed == nil {
                let workers = below.filter(isPolybridgeWorker)
                if workers.count >= 2 && workersSeenAt == nil { workersSeenAt = Date() }
                if let at = workersSeenAt, Date().timeIntervalSince(at) >= delay, let victim = workers.sorted().first {
                    kill(victim, SIGKILL)
                    killed = victim
                }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        process.waitUntilExit()
        return (PolybridgeRun(status: process.terminationStatus, output: outputReader.text, error: errorReader.text), seen, killed, polybridgeWorkers)
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
        for _ in 0..<300 where everything.contains(where: alive) { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!everything.contains(where: alive), "left behind: \(everything.filter(alive))")
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
