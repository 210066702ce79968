import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeFiles
import PolybridgeJobs
import PolybridgeRuntime

/// Pass 1 of a fit per group on workers: the worker reads one chunk of the data file's rows
/// (the key and model columns) and writes them group by group to `part`, with the groups' keys
/// and sizes to `keys` (``DataFiles/writeGroups(_:by:to:keys:)``), both in the fit's scratch
/// folder. Rows whose key is missing are left out and counted.
public struct GroupPartitionJob: Job {
    /// `group-partition`.
    public static let kind = "group-partition"
    /// "chunk".
    public static let noun = "chunk"

    /// The data file, as the worker's node sees it.
    public var path: String
    /// What the data file was when the fit started.
    public var identity: FileIdentity?
    /// The chunk's rows, 0-based.
    public var rows: Range<Int>
    /// The columns read (nil: every column, for a formula with `.`).
    public var columns: [String]?
    /// The key columns.
    public var by: [String]
    /// Where the rows go.
    public var part: String
    /// Where the keys go.
    public var keys: String

    /// What the worker wrote.
    public struct Output: Codable, Sendable, Equatable {
        /// Rows written.
        public var rows: Int
        /// Rows left out for a missing key.
        public var leftOut: Int
    }

    /// Reads the chunk and writes it group by group.
    public func run(in context: JobContext) async throws -> Output {
        let t0 = ContinuousClock.now
        let table = try await LinearModelChunkJob.readRows(path: path, identity: identity, rows: rows, columns: columns, context: context)
        let t1 = ContinuousClock.now
        let (written, leftOut) = try DataFiles.writeGroups(table, by: by, to: part, keys: keys)
        if ProcessInfo.processInfo.environment["POLYBRIDGE_TRACE_WORKER"] != nil {
            FileHandle.standardError.write(Data("worker \(getpid()) partition of \(rows.count) rows: read \(t1 - t0), write \(ContinuousClock.now - t1)\n".utf8))
        }
        return Output(rows: written, leftOut: leftOut)
    }
}

/// Pass 2 of a fit per group on workers: a batch of whole groups, whose rows the worker reads
/// from the pass-1 files (`pieces`, group after group; `sizes` rows each), fits one by one as
/// in this process (Swift's lm for bare columns, R's lm or glm otherwise), and writes as two
/// tables next to `output`: the groups' numbers and their coefficients.
public struct GroupBatchJob: Job {
    /// `group-batch`.
    public static let kind = "group-batch"
    /// "batch".
    public static let noun = "batch"

    /// The rows of the batch's groups, group after group.
    public var pieces: [FilePiece]
    /// Each group's row count, in order.
    public var sizes: [Int]
    /// The key columns.
    public var by: [String]
    /// The model.
    public var model: GroupedModel
    /// The path prefix of the two tables written.
    public var output: String

    /// Where the worker wrote the batch's tables.
    public struct Output: Codable, Sendable, Equatable {
        /// One row per group (by the grouped helpers' internal names).
        public var groups: String
        /// One row per coefficient, with `group`, the group's number in the batch from 1.
        public var coefficients: String
        /// Groups fitted in Swift.
        public var native: Int
    }

    /// Reads the batch's rows, fits each group and writes the tables.
    public func run(in context: JobContext) async throws -> Output {
        let t0 = ContinuousClock.now
        let (table, keys) = try DataFiles.readPieces(pieces, runs: sizes, by: by)
        let t1 = ContinuousClock.now
        let (state, native) = try await GroupedFits.fitGroups(table, by: by, runs: (keys, sizes), model: model, progress: nil)
        let (groups, coefficients) = try await RRuntime.shared().withSession { session -> (ArrowTable, ArrowTable) in
            let value = try session.protect(try GroupedFits.call("raw", [state.object, try session.make(.logical([model.isGLM]))], in: session))
            return (try session.arrowTable(fromDataFrame: try session.element(of: value, at: 0)),
                    try session.arrowTable(fromDataFrame: try session.element(of: value, at: 1)))
        }
        let t2 = ContinuousClock.now
        let out = Output(groups: output + ".groups.arrow", coefficients: output + ".coefficients.arrow", native: native)
        _ = try await DataFiles.writeTable(groups, to: out.groups, compression: "none")
        _ = try await DataFiles.writeTable(coefficients, to: out.coefficients, compression: "none")
        if ProcessInfo.processInfo.environment["POLYBRIDGE_TRACE_WORKER"] != nil {
            FileHandle.standardError.write(Data("worker \(getpid()) batch of \(sizes.count) groups, \(table.rowCount) rows: read \(t1 - t0), fit \(t2 - t1), write \(ContinuousClock.now - t2)\n".utf8))
        }
        return out
    }
}

/// For a group larger than a chunk: the worker writes its rows, gathered from the pass-1
/// files, to one Arrow IPC file in record batches of at most `batchRows`, which the chunked
/// fit then reads chunk by chunk. Returns the batches' row counts.
public struct GroupGatherJob: Job {
    /// `group-gather`.
    public static let kind = "group-gather"

    /// The group's rows.
    public var pieces: [FilePiece]
    /// The file written.
    public var path: String
    /// The most rows of a record batch.
    public var batchRows: Int

    /// Writes the file.
    public func run(in context: JobContext) async throws -> [Int] {
        try DataFiles.writePieces(pieces, to: path, batchRows: batchRows)
    }
}
