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

    /// Sorted by g, the chunks after the first hold levels the first lacks: their rows stay in
    /// the engine worker that read them in pass 2, pass 3 is sent to that worker (with the
    /// request that kept them, for a worker that no longer has them), and the answer is lm's.
    @Test(arguments: ClusterEngine.allCases)
    func aThirdPassOnTheEngineGoesWhereTheRowsAreKeptAndEqualsLM(engine: ClusterEngine) async throws {
        let name = "engine_sorted_\(engine.rawValue)"
        let path = try await WorkerPoolTests().parquet(name, "d[order(d$g), ]")
        let run = try await fitCommand(["--data", path, "--workers", "2", "--chunks", "6", "--json", "--formula", "y ~ x1 + g",
                                        "--executor", engine.rawValue])
        try #require(run.run.status == 0, "\(run.run.error)")
        #expect(try await agreesWithLM(try decoded(run.run), data: name, formula: "y ~ x1 + g") == "TRUE")
        let left = try await processesLeftBehind(run.seen)
        #expect(left.isEmpty, "left behind: \(left)")
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
        let killedRun = try await fitCommand(common + ["--formula", slow, "--row-wise", "length", "--row-wise", "Sys.sleep", "--executor", engine.rawValue], killAWorkerAfter: 2.5)
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

    /// Ctrl-C while the engine's workers are inside their chunks: exit 130 and nothing left,
    /// the local Ray head and its processes included.
    @Test(arguments: ClusterEngine.allCases)
    func ctrlCDuringAnEngineFitLeavesNothing(engine: ClusterEngine) async throws {
        let path = try await WorkerPoolTests().parquet("engine_interrupt_\(engine.rawValue)", "d")
        let run = try await runPolybridgeWatchingProcesses(["fit", "--data", path, "--workers", "2", "--chunks", "6", "--executor", engine.rawValue,
                                                            "--formula", "y ~ x1 + I(x2 + 0 * length(Sys.sleep(20)))", "--row-wise", "length", "--row-wise", "Sys.sleep"], interruptAfter: 1)
        #expect(run.run.status == 130, "\(run.run.error)")
        #expect(run.run.error.contains("interrupted"))
        #expect(run.workers.count >= 2)
        let left = try await processesLeftBehind(run.seen)
        #expect(left.isEmpty, "left behind: \(left)")
        // Once, in a full test run on Dask, the first Ctrl-C had no effect (the fit ran to its
        // end, so the watcher then sent none again); not explained. The watcher now repeats it.
        withKnownIssue("a first Ctrl-C to an engine fit was once lost in a full test run", isIntermittent: true) {
            #expect(run.interruptsSent == 1)
        }
    }

    /// Ctrl-C while the local Ray head is still starting (before Ray can be reached): exit
    /// 130, and the head, killed as it starts (or by its watchdog once the command is gone),
    /// is not left running.
    @Test func ctrlCWhileTheLocalRayHeadStartsLeavesNothing() async throws {
        let parquet = try await FitCommandTestsData.mtcarsParquet()
        let run = try await runPolybridgeWatchingProcesses(["fit", "--data", parquet, "--formula", "mpg ~ wt", "--workers", "2", "--executor", "ray"],
                                                            interruptOnceSeen: "ray.scripts.scripts start")
        #expect(run.run.status == 130, "\(run.run.error)")
        #expect(run.run.error.contains("interrupted"))
        #expect(run.interruptsSent == 1)
        #expect(run.workers.isEmpty, "the engine had not started")
        let left = try await processesLeftBehind(run.seen)
        #expect(left.isEmpty, "left behind: \(left)")
    }

    /// A coordinator ended by SIGTERM or SIGKILL mid-fit cannot stop its engine. A local Ray
    /// head runs in a session of its own: its watchdog sees the coordinator gone and kills the
    /// head's process group. Dask's local processes end with their parent. Nothing is left.
    @Test(arguments: ClusterEngine.allCases, [SIGTERM, SIGKILL])
    func aCoordinatorKilledMidFitLeavesNothingRunning(engine: ClusterEngine, signal: Int32) async throws {
        let path = try await WorkerPoolTests().parquet("engine_killed_coordinator_\(engine.rawValue)_\(signal)", "d")
        let run = try await runPolybridgeWatchingProcesses(["fit", "--data", path, "--workers", "2", "--chunks", "6", "--executor", engine.rawValue,
                                                            "--formula", "y ~ x1 + I(x2 + 0 * length(Sys.sleep(20)))", "--row-wise", "length", "--row-wise", "Sys.sleep"],
                                                           interruptAfter: 1, interruptSignal: signal)
        #expect(run.interruptsSent == 1)
        #expect(run.workers.count >= 2)
        let left = try await processesLeftBehind(run.seen)
        #expect(left.isEmpty, "left behind: \(left.map { ($0, ProcessTable.commandLine(of: $0).prefix(80)) })")
    }

    /// The engine's worker processes keep their temporary files (R's session folder) in a
    /// folder of their own, removed when the engine stops: the command leaves no `Rtmp` folder
    /// and no worker folder in TMPDIR (the engine's own files, Ray's session and Dask's scratch
    /// space, are its business).
    @Test(arguments: ClusterEngine.allCases)
    func anEngineFitLeavesNoWorkerFolderInTheTemporaryFolder(engine: ClusterEngine) async throws {
        let path = try await WorkerPoolTests().parquet("engine_tmpdir_\(engine.rawValue)", "d")
        // Short: Ray's socket paths under TMPDIR must stay within the 107 bytes Linux allows.
        let temporary = "/tmp/pb-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let run = try await runPolybridge(["fit", "--data", path, "--workers", "2", "--chunks", "4", "--executor", engine.rawValue,
                                           "--formula", "y ~ x1 + x2"], environment: ["TMPDIR": temporary])
        #expect(run.status == 0, "\(run.error)")
        let everything = FileManager.default.enumerator(atPath: temporary)?.allObjects as? [String] ?? []
        let left = everything.filter { path in
            let name = URL(fileURLWithPath: path).lastPathComponent
            return name.hasPrefix("Rtmp") || name.hasPrefix(ProcessFolders.workersPrefix)
        }
        #expect(left.isEmpty, "left in TMPDIR: \(left)")
    }

    /// A local Ray head that ends while it starts is started again, and the third failure is
    /// one clear error with the head's own last line, not Ray's "cannot connect" from the
    /// driver. Here every start fails: TMPDIR is too long for Ray's socket paths (108 bytes).
    @Test func aLocalRayHeadThatCannotStartIsStartedAgainThenAClearError() async throws {
        let parquet = try await FitCommandTestsData.mtcarsParquet()
        let temporary = try scratchDirectory() + "/" + String(repeating: "t", count: 110)
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let run = try await runPolybridgeWatchingProcesses(["fit", "--data", parquet, "--formula", "mpg ~ wt", "--workers", "2", "--executor", "ray"],
                                                            environment: ["TMPDIR": temporary])
        #expect(run.run.status == 1)
        #expect(run.run.error.contains("cannot start ray: the local Ray head ended with status 1: OSError:")
                && run.run.error.contains("AF_UNIX path length cannot exceed 107 bytes"), "\(run.run.error)")
        // Ray's own record: each head it started made a session folder before it failed.
        let sessions = try FileManager.default.contentsOfDirectory(atPath: temporary + "/ray").filter { $0.hasPrefix("session_2") }
        #expect(sessions.count == 3, "\(sessions)")
        let left = try await processesLeftBehind(run.seen)
        #expect(left.isEmpty, "left behind: \(left)")
    }

    /// `--timeout` on an engine: a chunk that runs longer fails the fit, naming the chunk, and
    /// the engine is stopped with nothing left.
    @Test(arguments: ClusterEngine.allCases)
    func aChunkLongerThanTheTimeoutFailsTheFit(engine: ClusterEngine) async throws {
        let path = try await WorkerPoolTests().parquet("engine_timeout_\(engine.rawValue)", "d")
        let run = try await runPolybridgeWatchingProcesses(["fit", "--data", path, "--workers", "2", "--chunks", "4", "--executor", engine.rawValue,
                                                            "--timeout", "3", "--formula", "y ~ x1 + I(x2 + 0 * length(Sys.sleep(60)))", "--row-wise", "length", "--row-wise", "Sys.sleep"])
        #expect(run.run.status == 1)
        #expect(run.run.error.contains("exceeded the timeout of 3 s") && run.run.error.contains("chunk "), "\(run.run.error)")
        let left = try await processesLeftBehind(run.seen)
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

/// Problems on the engine's nodes, each one clear error naming the node: an existing Dask
/// cluster (`--address`) whose worker has no usable R, and a `polybridge` binary that is
/// missing on Ray's nodes.
@Suite struct EngineNodeProblemTests {
    /// This machine's name, as the engine's Python sees it (`socket.gethostname()`).
    func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Starts `python3 -m arguments...` with the usual signal mask.
    func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // Through Python, which clears the signal mask first: a process started from this
        // test's threads would inherit their mask, SIGTERM blocked, and ignore terminate().
        process.arguments = ["python3", "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); "
                             + "os.execv(sys.executable, [sys.executable, '-m'] + sys.argv[1:])"] + arguments
        process.environment = childEnvironment(environment)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test func aDaskWorkerWithoutRIsNamedByItsNode() async throws {
        let port = try await runCommand("python3", ["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        let address = "tcp://127.0.0.1:\(port)"
        let scheduler = try start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", port, "--dashboard-address", ":0"])
        let worker = try start(["distributed.cli.dask_worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard"],
                               environment: ["R_HOME": "/nonexistent/R"])
        var started = ProcessTable.descendants(of: scheduler.processIdentifier).union(ProcessTable.descendants(of: worker.processIdentifier))
        defer {
            if worker.isRunning { worker.terminate() }
            if scheduler.isRunning { scheduler.terminate() }
        }
        let ready = try await runCommand("python3", ["-c", "from distributed import Client; c = Client('\(address)', timeout=60); c.wait_for_workers(1, timeout=120); print('ready')"])
        try #require(ready.output.contains("ready"), "\(ready.error)")
        started.formUnion(ProcessTable.descendants(of: worker.processIdentifier))

        let parquet = try await FitCommandTestsData.mtcarsParquet()
        let run = try await runPolybridgeWatchingProcesses(["fit", "--data", parquet, "--formula", "mpg ~ wt", "--workers", "1",
                                                            "--executor", "dask", "--address", address])
        #expect(run.run.status == 1)
        let error = run.run.error.split(separator: "\n").last { $0.hasPrefix("error:") }.map(String.init) ?? run.run.error
        #expect(error.contains("node \(hostName())") && error.contains("R_HOME=/nonexistent/R is not an R installation"), "\(error)")

        if worker.isRunning { worker.terminate() }
        if scheduler.isRunning { scheduler.terminate() }
        let left = try await processesLeftBehind(started.union(run.seen).union([worker.processIdentifier, scheduler.processIdentifier]))
        #expect(left.isEmpty, "left behind: \(left)")
    }

    /// An address where nothing listens is an error naming it after about half a minute, on
    /// either engine (Ray waited for good: still running after 420 s).
    @Test(arguments: ClusterEngine.allCases)
    func anAddressWhereNothingListensFailsWithinHalfAMinute(engine: ClusterEngine) async throws {
        let parquet = try await FitCommandTestsData.mtcarsParquet()
        let started = ContinuousClock.now
        let run = try await runCommand("/usr/bin/timeout", ["300", polybridgeExecutable().path, "fit", "--data", parquet, "--formula", "mpg ~ wt",
                                                            "--workers", "1", "--executor", engine.rawValue, "--address", "127.0.0.1:1"])
        #expect(run.status == 1, "status \(run.status) (124: still running after 300 s): \(run.error)")
        #expect(run.error.contains("127.0.0.1:1"), "\(run.error)")
        // A bound against a hang, not a measurement: alone it takes about 32 s, in a full run
        // on two busy cores it took over two minutes.
        #expect(ContinuousClock.now - started < .seconds(240))
    }

    /// Ray's own INFO and WARNING lines ("Connecting to existing Ray cluster", "SIGTERM handler
    /// is not set") stay out of the command's output unless --verbose asks for them.
    @Test func rayPrintsNoLogLinesOfItsOwnWithoutVerbose() async throws {
        let parquet = try await FitCommandTestsData.mtcarsParquet()
        let run = try await runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt", "--workers", "1", "--executor", "ray")
        #expect(run.status == 0, "\(run.error)")
        let ownLines = run.error.split(separator: "\n").filter { $0.contains(" INFO ") || $0.contains(" WARNING ") }
        #expect(ownLines.isEmpty, "\(ownLines)")
    }

    /// `ray start` records its head's address where a plain `ray.init()` looks for a cluster
    /// (`$TMPDIR/ray/ray_current_cluster`); once the local head is stopped, the file is as it
    /// was before, else a user's own `ray.init()` waits for minutes on a head that is gone.
    @Test func aLocalRayHeadLeavesRaysAddressFileAsItFoundIt() async throws {
        let parquet = try await FitCommandTestsData.mtcarsParquet()
        // A short folder: Ray's socket paths under it must stay within 107 bytes.
        var template = Array("/tmp/pbray-XXXXXX".utf8CString)
        let folder = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/ray/ray_current_cluster"
        for before in [nil, "192.0.2.7:6379"] {
            if let before {
                try FileManager.default.createDirectory(atPath: folder + "/ray", withIntermediateDirectories: true)
                try before.write(toFile: file, atomically: true, encoding: .utf8)
            }
            let run = try await runPolybridge(["fit", "--data", parquet, "--formula", "mpg ~ wt", "--workers", "1", "--executor", "ray"],
                                              environment: ["TMPDIR": folder])
            #expect(run.status == 0, "\(run.error)")
            #expect((try? String(contentsOfFile: file, encoding: .utf8)) == before)
        }
    }

    /// A local cluster's nodes are this machine: a missing binary is named before Ray starts.
    @Test func aMissingPolybridgeBinaryIsNamedBeforeALocalRayStarts() async throws {
        let parquet = try await FitCommandTestsData.mtcarsParquet()
        let run = try await runPolybridgeWatchingProcesses(["fit", "--data", parquet, "--formula", "mpg ~ wt", "--workers", "1",
                                                            "--executor", "ray", "--worker-binary", "/nonexistent/polybridge"])
        #expect(run.run.status == 1)
        let error = run.run.error.split(separator: "\n").last { $0.hasPrefix("error:") }.map(String.init) ?? run.run.error
        #expect(error == "error: --worker-binary /nonexistent/polybridge: no such file", "\(error)")
        #expect(!run.seen.contains { ProcessTable.commandLine(of: $0).contains("ray") }, "Ray was started")
        let left = try await processesLeftBehind(run.seen)
        #expect(left.isEmpty, "left behind: \(left)")
    }
}
