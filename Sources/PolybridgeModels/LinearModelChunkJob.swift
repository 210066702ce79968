import Foundation
import PolybridgeArrow
import PolybridgeFiles
import PolybridgeJobs
import PolybridgeRuntime

/// One chunk task of a fit, run where its data file is: the worker reads the chunk's rows
/// itself (of a Parquet or Arrow IPC file, only the row groups that hold them and the model's
/// columns; any other file whole, once, kept in the worker for later chunks of the same
/// version of it) and returns the task's result.
public struct LinearModelChunkJob: Job {
    /// `lm-chunk`.
    public static let kind = "lm-chunk"
    /// "chunk".
    public static let noun = "chunk"

    /// The chunk task.
    public var task: LinearModelChunkTask
    /// The data file, as the worker's node sees it.
    public var path: String
    /// What the data file was when the fit started; checked before and after the read, so a
    /// file replaced mid-fit cannot mix two versions' rows into one fit.
    public var identity: FileIdentity?

    /// The job of `task` on `path`, which should still have `identity`.
    public init(task: LinearModelChunkTask, path: String, identity: FileIdentity? = nil) {
        self.task = task
        self.path = path
        self.identity = identity
    }

    /// Reads the chunk's rows and runs its task; R's failure is a ``JobError`` with R's message.
    public func run(in context: JobContext) async throws -> LinearModelChunkResult {
        do {
            let t0 = ContinuousClock.now
            let table = try await rows(in: context)
            let t1 = ContinuousClock.now
            let result = try await LinearModelChunkWork.run(task, rows: table)
            if ProcessInfo.processInfo.environment["POLYBRIDGE_TRACE_WORKER"] != nil {
                FileHandle.standardError.write(Data("worker \(getpid()) chunk \(task.chunk) \(task.step.name): read \(t1 - t0), work \(ContinuousClock.now - t1)\n".utf8))
            }
            return result
        } catch let error as RError {
            throw JobError(.rError, LinearModelChunkWork.message(of: error))
        }
    }

    private func rows(in context: JobContext) async throws -> ArrowTable {
        try identity?.check(path)
        let format = try? DataFileFormat(path: path)
        let table: ArrowTable
        if task.step != .fit, format == .parquet || format == .feather,
           let columns = try await LinearModelChunkWork.columnsRead(by: task.specification) {
            table = try await DataFiles.readRows(path, rows: task.rows, columns: columns)
        } else {
            // One whole file at a time is kept, under its path and version.
            let key = "lm-chunk file \(path) \(identity.map { "\($0.inode) \($0.modified)" } ?? "")"
            let whole: ArrowTable
            if let kept = context.value(forKey: key, as: ArrowTable.self) {
                whole = kept
            } else {
                whole = try await DataFiles.readTable(path)
                context.removeValues { $0.hasPrefix("lm-chunk file ") }
                context.setValue(whole, forKey: key)
            }
            table = try whole.slice(rows: task.rows)
        }
        try identity?.check(path)
        return table
    }
}
