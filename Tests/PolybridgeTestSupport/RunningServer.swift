import Foundation
import PolybridgeRuntime
import Synchronization

/// A `polybridge serve` process started for a test: its address once it listens, its workers,
/// and its end. It is killed when dropped, if still running.
public final class RunningServer: @unchecked Sendable {
    /// The process.
    public let process: Process
    /// `http://127.0.0.1:PORT`.
    public let url: String
    private let errorReader: PipeReader
    private let seen = Mutex(Set<Int32>())

    /// Starts `polybridge serve --port 0 arguments...` and waits (up to 120 s) for the line that
    /// says where it listens; a server that ends first throws with its standard error.
    public init(_ arguments: [String]) async throws {
        let process = Process()
        process.executableURL = polybridgeExecutable()
        process.arguments = ["serve", "--port", "0"] + arguments
        process.environment = childEnvironment([:])
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        errorReader = PipeReader(error)
        let line: String? = try await runOnOwnThread {
            var text = ""
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { return nil }
                text += String(decoding: chunk, as: UTF8.self)
                if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) { return String(line) }
            }
            return nil
        }
        guard let line else {
            process.terminate()
            process.waitUntilExit()
            throw ServerDidNotStart(error: errorReader.text)
        }
        url = String(line.dropFirst("listening on ".count))
        // Whatever else the server prints to standard output is drained.
        DispatchQueue.global().async { _ = output.fileHandleForReading.readDataToEndOfFile() }
        noteDescendants()
    }

    /// The server's `polybridge worker` processes now.
    public func workers() -> [Int32] {
        noteDescendants()
        return ProcessTable.descendants(of: process.processIdentifier).filter(ProcessTable.isPolybridgeWorker).sorted()
    }

    /// Every process seen below the server so far.
    public var descendants: Set<Int32> {
        noteDescendants()
        return seen.withLock { $0 }
    }

    private func noteDescendants() {
        let now = ProcessTable.descendants(of: process.processIdentifier)
        seen.withLock { $0.formUnion(now) }
    }

    /// Sends `signal` and waits for the server to end; returns its exit status and standard error.
    public func stop(_ signal: Int32 = SIGTERM) async throws -> (status: Int32, error: String) {
        noteDescendants()
        kill(process.processIdentifier, signal)
        let process = self.process
        try await runOnOwnThread { process.waitUntilExit() }
        return (process.terminationStatus, errorReader.text)
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

/// `polybridge serve` ended before it said where it listens.
public struct ServerDidNotStart: Error, CustomStringConvertible {
    /// Its standard error.
    public var error: String
    /// What it printed.
    public var description: String { "the server did not start: \(error)" }
}
