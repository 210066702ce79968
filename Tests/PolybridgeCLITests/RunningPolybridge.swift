import Foundation
import Polybridge
import PolybridgeTestSupport

/// A `polybridge` child process whose standard output the test reads while it runs.
///
/// Output is collected on GCD threads as it arrives; `waitForOutput(containing:)` returns as
/// soon as it contains a text, so tests synchronise on what the child printed, not on time.
final class RunningPolybridge: @unchecked Sendable {
    let process = Process()
    private let condition = NSCondition()
    private var output = Data()
    private var outputEnded = false
    private var errorOutput = Data()
    private var errorEnded = false

    /// Starts `polybridge arguments...`; `blocking` lists signals it starts with blocked.
    init(_ arguments: [String], environment: [String: String] = [:], blocking: [Int32] = []) throws {
        // The tests send it Ctrl-C: SIGINT must not be inherited as ignored.
        (process.executableURL, process.arguments) = withDefaultInterrupt(polybridgeExecutable(), arguments, blocking: blocking)
        process.environment = childEnvironment(environment)
        process.standardInput = FileHandle.nullDevice
        let outputPipe = Pipe(), errorPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        try process.run()
        collect(outputPipe.fileHandleForReading, isErrorOutput: false)
        collect(errorPipe.fileHandleForReading, isErrorOutput: true)
    }

    private func collect(_ handle: FileHandle, isErrorOutput: Bool) {
        DispatchQueue.global().async { [self] in
            while true {
                let chunk = handle.availableData
                condition.lock()
                switch (isErrorOutput, chunk.isEmpty) {
                case (false, true): outputEnded = true
                case (false, false): output.append(chunk)
                case (true, true): errorEnded = true
                case (true, false): errorOutput.append(chunk)
                }
                condition.broadcast()
                condition.unlock()
                if chunk.isEmpty { return }
            }
        }
    }

    /// Waits (off Swift's pool) until standard output contains `text` (true) or ends without it (false).
    func waitForOutput(containing text: String) async -> Bool {
        await runOnOwnThread { self.blockingWaitForOutput(containing: text) }
    }

    private func blockingWaitForOutput(containing text: String) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if String(decoding: output, as: UTF8.self).contains(text) { return true }
            if outputEnded { return false }
            condition.wait()
        }
    }

    /// Sends `signal` once standard output contains `text` (and, with `selectWithin`, once a
    /// thread waits in select(2) or that many seconds have passed), all on a thread of its
    /// own: resuming a test task on Swift's pool can take longer than the child runs when
    /// other tests hold both pool threads, and the signal would then come too late. False
    /// when the output ended without `text` (nothing is sent).
    func send(_ signal: Int32, whenOutputContains text: String, selectWithin seconds: Double? = nil) async -> Bool {
        await runOnOwnThread {
            guard self.blockingWaitForOutput(containing: text) else { return false }
            if let seconds { _ = self.blockingWaitUntilAThreadIsInSelect(atMost: seconds) }
            self.send(signal)
            return true
        }
    }

    /// Sends `signal` to the child.
    func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits (off Swift's pool) until one of the child's threads waits in select(2)/pselect6(2)
    /// (true; R's `Sys.sleep` does), or the child has exited or `seconds` have passed (false).
    func waitUntilAThreadIsInSelect(atMost seconds: Double = .infinity) async -> Bool {
        await runOnOwnThread { self.blockingWaitUntilAThreadIsInSelect(atMost: seconds) }
    }

    private func blockingWaitUntilAThreadIsInSelect(atMost seconds: Double) -> Bool {
        let tasks = "/proc/\(process.processIdentifier)/task"
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline {
            let threads = (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []
            for thread in threads {
                if let syscall = try? String(contentsOfFile: "\(tasks)/\(thread)/syscall", encoding: .utf8),
                   let number = syscall.split(separator: " ").first, ["23", "270"].contains(number) {
                    return true
                }
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    /// Waits (off Swift's pool) for the child to exit and returns how it ended and everything it wrote.
    func finish() async -> FinishedRun {
        await runOnOwnThread { self.blockingFinish() }
    }

    private func blockingFinish() -> FinishedRun {
        process.waitUntilExit()
        condition.lock()
        defer { condition.unlock() }
        while !outputEnded || !errorEnded { condition.wait() }
        return FinishedRun(exited: process.terminationReason == .exit, status: process.terminationStatus,
                           output: String(decoding: output, as: UTF8.self),
                           error: String(decoding: errorOutput, as: UTF8.self))
    }
}

/// How a `RunningPolybridge` ended.
struct FinishedRun {
    /// True when the child exited (false when a signal killed it or it crashed).
    var exited: Bool
    /// The exit status, or the signal number when `exited` is false.
    var status: Int32
    /// Everything written to standard output.
    var output: String
    /// Everything written to standard error.
    var error: String
}
