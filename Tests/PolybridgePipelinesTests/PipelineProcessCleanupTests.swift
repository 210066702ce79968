import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// What a `polybridge run` leaves on the machine: no forked children, and neither its shared
/// memory nor its temporary folders once it ends, however it ends short of SIGKILL.
@Suite struct PipelineProcessCleanupTests {
    /// An R step's `mclapply` children end with the step (they inherited the R thread's mask,
    /// SIGUSR1 blocked, and waited forever for the parent's permission to exit).
    @Test func anRStepsMclapplyChildrenEndWithTheStep() async throws {
        let project = try PipelineProject([
            "rscripts/fork.R": "forked <- function() data.frame(pid = unlist(parallel::mclapply(1:2, function(i) Sys.getpid(), mc.cores = 2)))\n",
            "p.yaml": """
                name: p
                steps:
                  - {id: forked, kind: r, script: rscripts/fork.R, function: forked}
                  - {id: out, kind: write, path: pids.csv, inputs: {d: forked}}
                """,
        ])
        let run = try await runPolybridgeWritingToFiles(["run", project.path("p.yaml"), "--no-cache"])
        #expect(run.status == 0, "\(run.output)\(run.error)")
        let children = processIDs(in: (try? String(contentsOfFile: project.path("pids.csv"), encoding: .utf8)) ?? "")
        #expect(children.count == 2)
        let left = try await stillRunningAfterAWhile(children)
        #expect(left.isEmpty, "forked children still running: \(left)")
    }

    /// Two R steps at once (one of them on a worker, its data in /dev/shm), then a slow Python step.
    static let sharedDataThenSlow: [String: String] = baseFiles.merging([
        "pyscripts/wait.py": "import time\n\ndef wait(x, y):\n    time.sleep(120)\n    return x\n",
        "p.yaml": """
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - {id: a, kind: r, script: rscripts/clean.R, function: slow, inputs: {d: raw}, params: {seconds: 1}}
              - {id: b, kind: r, script: rscripts/clean.R, function: slow, inputs: {d: raw}, params: {seconds: 1}}
              - {id: wait, kind: python, script: pyscripts/wait.py, function: wait, inputs: {x: a, y: b}}
            """,
    ]) { $1 }

    /// The run's folders in /dev/shm (named after its process ID).
    func sharedMemoryFolders(of pid: Int32) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []
        return names.filter { $0.hasPrefix("polybridge-\(pid)-") }.map { "/dev/shm/" + $0 }
    }

    /// The permission bits of `path`.
    func mode(_ path: String) -> mode_t {
        var status = stat()
        return stat(path, &status) == 0 ? status.st_mode & 0o777 : 0
    }

    /// Ctrl-C (SIGINT) or `kill` (SIGTERM) while a slow step runs after a step that handed
    /// data through shared memory: the data is only its owner's while it exists (a 0700
    /// folder of 0600 files) and is gone when the run ends, with the run's TMPDIR left empty.
    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalledRunRemovesItsSharedMemoryAndTemporaryFolders(signal: Int32) async throws {
        let project = try PipelineProject(PipelineProcessCleanupTests.sharedDataThenSlow)
        let temporary = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let process = Process()
        (process.executableURL, process.arguments) = withDefaultInterrupt(polybridgeExecutable(), ["run", project.path("p.yaml"), "--no-cache"])
        process.environment = childEnvironment(["TMPDIR": temporary])
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        // Wait (up to 60 s) until the worker's step has handed its input and output over.
        var handed: [String] = []
        for _ in 0..<600 {
            if let folder = sharedMemoryFolders(of: pid).first {
                let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".arrow") }
                if files.count >= 2 { handed = files.map { folder + "/" + $0 }; break }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let folder = try #require(sharedMemoryFolders(of: pid).first, "no shared-memory folder appeared")
        defer { for left in sharedMemoryFolders(of: pid) { try? FileManager.default.removeItem(atPath: left) } }
        #expect(handed.count >= 2, "files in \(folder): \(handed)")
        #expect(mode(folder) == 0o700, "folder mode \(String(mode(folder), radix: 8))")
        for file in handed { #expect(mode(file) == 0o600, "\(file): mode \(String(mode(file), radix: 8))") }
        kill(pid, signal)
        await runOnOwnThread { process.waitUntilExit() }
        if signal == SIGINT {
            #expect(process.terminationReason == .exit && process.terminationStatus == 130)
        } else {
            #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGTERM)
        }
        #expect(sharedMemoryFolders(of: pid) == [])
        // The workers die with the run (SIGKILL); their folders are inside the run's.
        let left = try FileManager.default.contentsOfDirectory(atPath: temporary)
        #expect(left.isEmpty, "left in TMPDIR: \(left)")
    }

    /// `os._exit` in a Python step is an error of the step, not an end of the command that
    /// skips the exit handlers: R's session folder goes (the run's status is checked in
    /// PipelineStepIsolationTests).
    @Test func osExitInAPythonStepLeavesNoTemporaryFolder() async throws {
        let project = try PipelineProject(baseFiles.merging([
            "pyscripts/bye.py": "import os\n\ndef bye(d):\n    os._exit(0)\n",
            "p.yaml": """
                name: p
                steps:
                  - {id: raw, kind: read, path: data/small.csv}
                  - {id: clean, kind: r, script: rscripts/clean.R, function: clean, inputs: {d: raw}}
                  - {id: bye, kind: python, script: pyscripts/bye.py, function: bye, inputs: {d: clean}}
                """,
        ]) { $1 })
        let temporary = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        _ = try await runPolybridge(["run", project.path("p.yaml"), "--no-cache"], environment: ["TMPDIR": temporary])
        let left = try FileManager.default.contentsOfDirectory(atPath: temporary)
        #expect(left.isEmpty, "left in TMPDIR: \(left)")
    }
}
