import Foundation
import PolybridgeRuntime

/// Output and exit status of one run of the `polybridge` executable built beside the tests.
public struct PolybridgeRun: Sendable {
    /// The process's exit status.
    public var status: Int32
    /// Everything written to standard output.
    public var output: String
    /// Everything written to standard error.
    public var error: String

    /// A run's outcome.
    public init(status: Int32, output: String, error: String) {
        self.status = status
        self.output = output
        self.error = error
    }
}

/// The `polybridge` binary in the build products directory (next to the test bundle).
public func polybridgeExecutable() -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("polybridge").path),
          directory.path != "/" {
        directory.deleteLastPathComponent()
    }
    return directory.appendingPathComponent("polybridge")
}

/// Collects one pipe's bytes on a GCD thread (never a Swift concurrency thread, which must not block).
public final class PipeReader: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    /// Starts reading `pipe` to its end.
    public init(_ pipe: Pipe) {
        DispatchQueue.global().async {
            self.data = pipe.fileHandleForReading.readDataToEndOfFile()
            self.done.signal()
        }
    }

    /// Everything read, once the pipe has ended.
    public var text: String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Runs `polybridge arguments...` with extra environment variables and collects its output.
public func runPolybridge(_ arguments: String..., environment: [String: String] = [:]) async throws -> PolybridgeRun {
    try await runPolybridge(arguments, environment: environment)
}

/// Runs `polybridge arguments...` with extra environment variables and collects its output.
public func runPolybridge(_ arguments: [String], environment: [String: String] = [:]) async throws -> PolybridgeRun {
    let executable = polybridgeExecutable()
    return try await runOnOwnThread { try LocalRayHeads.takingTurns(arguments) { try run(executable, arguments, environment: environment) } }
}

/// Runs any program found on PATH (`Rscript`, `python3`) and collects its output.
public func runCommand(_ program: String, _ arguments: [String]) async throws -> PolybridgeRun {
    try await runOnOwnThread { try runCommandBlocking(program, arguments) }
}

/// ``runCommand(_:_:)`` on the calling thread, for cleanup in `defer` (never from a task on
/// Swift's pool while other tests run: it blocks for as long as the program runs).
public func runCommandBlocking(_ program: String, _ arguments: [String]) throws -> PolybridgeRun {
    try run(URL(fileURLWithPath: "/usr/bin/env"), [program] + arguments, environment: [:])
}

private func run(_ executable: URL, _ arguments: [String], environment: [String: String]) throws -> PolybridgeRun {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = childEnvironment(environment)
    let (output, error) = try launchCollectingOutput(process)
    process.waitUntilExit()
    return PolybridgeRun(status: process.terminationStatus, output: output.text, error: error.text)
}

/// The environment for a program a test starts: this process's, then `extra`, with Swift's
/// crash backtracer off unless set. The backtracer inherits the child's pipes and the socket by
/// which Foundation learns that the child ended, and it has been seen to hang for good on a
/// process that crashed inside `exit`, which would hang the test rather than fail it. A crash
/// still shows as the exit status (134 for SIGABRT) and whatever the child printed.
public func childEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
    if environment["SWIFT_BACKTRACE"] == nil { environment["SWIFT_BACKTRACE"] = "enable=no" }
    return environment
}

/// Starts `process` with no standard input, collecting its standard output and error as they
/// come (on GCD threads, so a full pipe never stalls it).
func launchCollectingOutput(_ process: Process) throws -> (output: PipeReader, error: PipeReader) {
    if process.environment == nil { process.environment = childEnvironment() }
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    let readers = (output: PipeReader(output), error: PipeReader(error))
    try process.run()
    return readers
}

/// The repository's root directory (where Package.swift is).
public func repositoryRoot() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
}

/// Cancels `task` after `delay` from a thread of its own. Swift's cooperative pool has one
/// thread per core; when Python calls on all of them wait for the GIL that a long R job holds,
/// a cancel scheduled on the pool (after `Task.sleep`) would wait for that very job to end.
public func cancelFromOwnThread<Success: Sendable, Failure: Error>(_ task: Task<Success, Failure>, after delay: Duration) {
    Thread.detachNewThread {
        Thread.sleep(forTimeInterval: delay.seconds)
        task.cancel()
    }
}

/// Runs `polybridge arguments...` on a pseudo-terminal, as a user at a terminal runs it, through
/// util-linux's `script` (Debian ships it in every installation); the run's `output` is all the
/// terminal showed (standard output and standard error together).
public func runPolybridgeOnATerminal(_ arguments: String...) async throws -> PolybridgeRun {
    func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
    let command = ([polybridgeExecutable().path] + arguments).map(quoted).joined(separator: " ")
    return try await runCommand("script", ["--quiet", "--return", "--command", command, "/dev/null"])
}

/// How to start `executable arguments...` so that it has SIGINT's default action whatever this
/// process's is at that moment: glibc's `system()`, which R's `system()` calls, ignores SIGINT
/// in the whole calling process while its child runs, and a program started then inherits the
/// ignored signal and never sees a Ctrl-C a test sends it. The program replaces a small Python
/// process that resets the action (same process ID).
/// `blocking` lists signals the program starts with blocked, as a parent thread that blocks
/// them would pass on.
public func withDefaultInterrupt(_ executable: URL, _ arguments: [String], blocking: [Int32] = []) -> (executable: URL, arguments: [String]) {
    let blocked = blocking.map(String.init).joined(separator: ", ")
    return (URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                + "signal.pthread_sigmask(signal.SIG_BLOCK, [\(blocked)]); os.execv(sys.argv[1], sys.argv[1:])",
             executable.path] + arguments)
}

/// Runs `polybridge arguments...` with its standard output and error going to files, and
/// returns when the command itself has exited: processes it left behind that still hold its
/// descriptors do not hold up the test. (Foundation's `Process` learns that a child ended when
/// a socket the child inherited closes, so it waits for such leftovers too; this starts the
/// command with `posix_spawn`, no descriptor above 2 kept, and waits with `waitpid`.)
/// `status` is the exit status, or 128 + the signal that ended the command.
public func runPolybridgeWritingToFiles(_ arguments: [String], environment: [String: String] = [:]) async throws -> PolybridgeRun {
    let executable = polybridgeExecutable()
    return try await runOnOwnThread { try LocalRayHeads.takingTurns(arguments) {
        let folder = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let outputPath = folder + "/output", errorPath = folder + "/error"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Default actions and no signal blocked, whatever the test thread has.
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        // A small Python closes every inherited descriptor above 2 (other tests' pipes and
        // sockets) and replaces itself with the command (same process ID).
        let closing = ["/usr/bin/env", "python3", "-c", "import os, sys; os.closerange(3, 1 << 20); os.execv(sys.argv[1], sys.argv[1:])"]
        let argv = (closing + [executable.path] + arguments).map { strdup($0) } + [nil]
        let envp = childEnvironment(environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let started = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, envp)
        guard started == 0 else { throw POSIXError(POSIXErrorCode(rawValue: started) ?? .EIO) }
        var wait: Int32 = 0
        while waitpid(pid, &wait, 0) < 0 && errno == EINTR {}
        let status = wait & 0x7f == 0 ? (wait >> 8) & 0xff : 128 + (wait & 0x7f)
        return PolybridgeRun(status: status,
                             output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
                             error: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
    } }
}
