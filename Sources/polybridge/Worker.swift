import ArgumentParser
import CProcess
import Foundation
import Polybridge

/// `polybridge worker`: a warm worker of a process pool. Reads one JSON request per line on
/// standard input (a chunk task and its data file), answers one JSON line on standard output.
/// A Parquet or Arrow IPC file is read by row groups, only the chunk's rows of the model's
/// columns; other files are read once and kept for later tasks.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Serve chunk tasks on stdin/stdout (used by the worker pool).", shouldDisplay: false)

    func run() async throws {
        // However the coordinator ends (Ctrl-C, kill -9, a crash), its workers end with it.
        guard pb_die_with_parent() == 0 else { throw ExitCode(1) }
        // The protocol gets its own copy of standard output; what R, Python or a step's code
        // prints (print(), system("echo …")) goes to standard error instead of into the answers.
        let protocolDescriptor = dup(STDOUT_FILENO)
        guard protocolDescriptor >= 0, dup2(STDERR_FILENO, STDOUT_FILENO) >= 0 else { throw ExitCode(1) }
        let answers = WorkerAnswers(descriptor: protocolDescriptor)
        var tables: [Cached: ArrowTable] = [:]
        let encoder = WorkerJSON.encoder()
        let decoder = WorkerJSON.decoder()
        while let line = readLine(strippingNewline: true) {
            var response = WorkerResponse()
            do {
                let request = try decoder.decode(WorkerRequest.self, from: Data(line.utf8))
                if let payload = request.payload {
                    // A pipeline step (an R step beside the coordinator's own R, or a step on an engine).
                    do {
                        response.payload = try await PipelineWorker.handle(payload)
                    } catch {
                        response.failure = PipelineWorker.message(of: error)
                    }
                    answers.write(try encoder.encode(response) + Data("\n".utf8))
                    continue
                }
                guard let task = request.task, let path = request.path else {
                    // A warm-up: R and Python (with pyarrow) up before the first chunk.
                    _ = try RRuntime.shared()
                    try DataFiles.prepare()
                    response.failure = nil
                    answers.write(try encoder.encode(response) + Data("\n".utf8))
                    continue
                }
                let t0 = ContinuousClock.now
                let table: ArrowTable
                let format = try? DataFileFormat(path: path)
                // The file must be what it was when the fit started, before and after the read:
                // a file replaced mid-fit must not mix two versions' rows into one fit.
                try request.identity?.check(path)
                if task.step != .fit, format == .parquet || format == .feather,
                   let columns = try await LinearModelChunkWork.columnsRead(by: task.specification) {
                    // Only the chunk's rows of the model's columns: the row groups that hold them.
                    table = try await DataFiles.readRows(path, rows: task.rows, columns: columns)
                } else {
                    // A whole file read once is kept for later tasks on the same version of it.
                    let key = Cached(path: path, identity: request.identity)
                    if tables[key] == nil { tables = [key: try await DataFiles.readTable(path)] }
                    table = try tables[key]!.slice(rows: task.rows)
                }
                try request.identity?.check(path)
                let t1 = ContinuousClock.now
                response.result = try await LinearModelChunkWork.run(task, rows: table)
                if ProcessInfo.processInfo.environment["POLYBRIDGE_TRACE_WORKER"] != nil {
                    printError("worker \(getpid()) chunk \(task.chunk) \(task.step == .levels ? "levels" : "factor"): read \(t1 - t0), work \(ContinuousClock.now - t1)")
                }
            } catch let error as RError {
                response.failure = LinearModelChunkWork.message(of: error)
            } catch {
                response.failure = "\(error)"
            }
            answers.write(try encoder.encode(response) + Data("\n".utf8))
        }
    }
}

/// A whole data file a worker has read, by path and the version the fit pinned.
private struct Cached: Hashable {
    var path: String
    var identity: FileIdentity?

    static func == (a: Cached, b: Cached) -> Bool { a.path == b.path && a.identity == b.identity }

    func hash(into hasher: inout Hasher) {
        hasher.combine(path)
        hasher.combine(identity?.inode)
        hasher.combine(identity?.modified)
    }
}

/// A worker's answers to its pool, with a heartbeat: an empty line every second from a thread
/// of its own, so the pool tells a worker that is stopped (SIGSTOP) or frozen from one busy with
/// a long chunk. Lines are written whole, under one lock.
final class WorkerAnswers: @unchecked Sendable {
    /// How often the heartbeat is written.
    static let heartbeatInterval: Duration = .seconds(1)

    private let handle: FileHandle
    private let lock = NSLock()

    init(descriptor: Int32) {
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
        Thread.detachNewThread { [self] in
            while true {
                Thread.sleep(forTimeInterval: Self.heartbeatInterval.seconds)
                write(Data("\n".utf8))
            }
        }
    }

    /// Writes `data` (whole lines) to the pool.
    func write(_ data: Data) {
        lock.lock()
        defer { lock.unlock() }
        try? handle.write(contentsOf: data)
    }
}
