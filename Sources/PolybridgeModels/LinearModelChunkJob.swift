import Foundation
import PolybridgeArrow
import PolybridgeFiles
import PolybridgeJobs
import PolybridgeRuntime

/// One chunk task of a fit, run where its data file is: the worker reads the chunk's rows
/// itself (of a Parquet or Arrow IPC file, only the row groups that hold them and the model's
/// columns; any other file whole, once, kept in the worker for later chunks of the same
/// version of it) and returns the task's result.
///
/// A chunk whose levels fall outside the guess of pass 2 needs a third pass: the worker keeps
/// the chunk's rows (under ``rowsKey``), and the pass-3 job, which uses that key, goes to the
/// same worker and reads nothing. Where that worker is gone, the executor has the pass-2 job
/// run again first on the worker that gets the pass-3 job.
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

    /// The key the chunk's rows are kept under between pass 2 and pass 3: the file and its
    /// version, the rows and the model (which decides the columns read).
    public var rowsKey: String {
        let version = Self.version(identity)
        let model = [task.specification.formula, task.specification.weights ?? "", task.specification.offset ?? ""]
        return "\(Self.rowsPrefix)\(task.fit ?? "-") \(path) \(version) \(task.rows.lowerBound)-\(task.rows.upperBound) \(model.joined(separator: "\u{1f}"))"
    }

    private static let rowsPrefix = "lm-chunk rows "

    /// Pass 3 (factors with the merged levels) uses the rows pass 2 kept.
    public var usesKey: String? {
        if case .factor = task.step { return rowsKey }
        return nil
    }

    /// Reads the chunk's rows and runs its task; R's failure is a ``JobError`` with R's message.
    public func run(in context: JobContext) async throws -> LinearModelChunkResult {
        do {
            let t0 = ContinuousClock.now
            let kept = usesKey.flatMap { context.value(forKey: $0, as: ArrowTable.self) }
            let table: ArrowTable
            if let kept { table = kept } else { table = try await rows(in: context) }
            let t1 = ContinuousClock.now
            let result = try await LinearModelChunkWork.run(task, rows: table)
            switch result {
            case .levelsAndFactor(_, nil):
                // Pass 3 will need them. A worker keeps rows for one fit: another fit's go (a fit
                // that failed before its third pass would otherwise leave them for good).
                let own = Self.rowsPrefix + (task.fit ?? "-") + " "
                context.removeValues { $0.hasPrefix(Self.rowsPrefix) && !$0.hasPrefix(own) }
                context.keep(table, forKey: rowsKey)
            case .factor where kept != nil: context.setValue(nil, forKey: rowsKey)  // used: let them go
            default: break
            }
            if ProcessInfo.processInfo.environment["POLYBRIDGE_TRACE_WORKER"] != nil {
                FileHandle.standardError.write(Data("worker \(getpid()) chunk \(task.chunk) \(task.step.name): read \(t1 - t0), work \(ContinuousClock.now - t1)\n".utf8))
            }
            return result
        } catch let error as RError {
            throw JobError(.rError, error.userMessage)
        }
    }

    /// Every part of the file's identity: a version rewritten in place (same inode, size and
    /// time, another footer) is another version.
    static func version(_ identity: FileIdentity?) -> String {
        guard let identity else { return "" }
        return "\(identity.host) \(identity.device) \(identity.inode) \(identity.size) \(identity.modified) \(identity.footer)"
    }

    private func rows(in context: JobContext) async throws -> ArrowTable {
        let columns = task.step != .fit ? try await LinearModelChunkWork.columnsRead(by: task.specification) : nil
        return try await Self.readRows(path: path, identity: identity, rows: task.rows, columns: columns, context: context)
    }

    /// Rows `rows` of the file at `path`, which must still have `identity` before and after the
    /// read: of a Parquet or Arrow IPC file, only the row groups that hold them and `columns`
    /// (all when nil); any other file whole, once, kept in `context` under its path and
    /// version for the next chunk.
    static func readRows(path: String, identity: FileIdentity?, rows: Range<Int>, columns: [String]?,
                         context: JobContext) async throws -> ArrowTable {
        try identity?.check(path)
        let format = try? DataFileFormat(path: path)
        let table: ArrowTable
        if let columns, format == .parquet || format == .feather {
            table = try await DataFiles.readRows(path, rows: rows, columns: columns)
        } else {
            // One whole file at a time is kept, under its path and version.
            let key = "lm-chunk file \(path) \(version(identity))"
            let whole: ArrowTable
            if let kept = context.value(forKey: key, as: ArrowTable.self) {
                whole = kept
            } else {
                whole = try await DataFiles.readTable(path)
                context.removeValues { $0.hasPrefix("lm-chunk file ") }
                context.setValue(whole, forKey: key)
            }
            table = try whole.slice(rows: rows)
        }
        try identity?.check(path)
        return table
    }
}

extension InProcessJobExecutor: ChunkExecutor {
    /// Runs `task` as the ``LinearModelChunkJob`` a worker would, through its wire format, in
    /// this process: a chunked fit of a file without worker processes. `data` must be a file.
    public func run(_ task: LinearModelChunkTask, data: ChunkData) async throws -> LinearModelChunkResult {
        guard case .file(let path, let identity) = data else {
            throw LinearModelError.wrongDataForExecutor(executor: "in-process job executor", needs: "a file (ChunkData.file)")
        }
        do {
            return try await run(LinearModelChunkJob(task: task, path: path, identity: identity))
        } catch let error as JobError {
            throw LinearModelError.chunkFailed(task, message: error.message)
        }
    }
}
