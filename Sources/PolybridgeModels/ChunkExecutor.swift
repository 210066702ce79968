import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeRuntime

/// One step of a chunked fit applied to one chunk's rows. Tasks and their results are plain
/// values, so an executor may run them in this process, in worker processes or on a cluster.
public struct LinearModelChunkTask: Sendable, Codable, Equatable {
    /// What to compute for the chunk.
    public enum Step: Sendable, Codable, Equatable {
        /// The factor levels present in the rows `lm` keeps (pass 1).
        case levels
        /// The triangular factor of the chunk's weighted model matrix and response, with the
        /// factor levels fixed for the whole data (pass 2 of the exact combine).
        case factor(levels: [String: [String]])
        /// The chunk's own `lm` (the average combine).
        case fit
    }

    /// The chunk's number, from 1.
    public var chunk: Int
    /// The chunk's rows in the data, 0-based.
    public var rows: Range<Int>
    /// What to compute.
    public var step: Step
    /// The model.
    public var specification: LinearModelSpecification

    /// A task for `chunk` over `rows`.
    public init(chunk: Int, rows: Range<Int>, step: Step, specification: LinearModelSpecification) {
        self.chunk = chunk
        self.rows = rows
        self.step = step
        self.specification = specification
    }
}

/// The factor levels one chunk's kept rows hold, per model-frame variable that is a factor.
public struct ChunkLevels: Sendable, Codable, Equatable {
    /// The model-frame variables that are factors (or character), e.g. `g`, `factor(cyl)`.
    public var names: [String]
    /// Each variable's full level set in this chunk, in level order.
    public var full: [[String]]
    /// The levels that occur in rows `lm` keeps.
    public var present: [[String]]
    /// Whether the variable is a factor column of the data (its level order is declared)
    /// rather than levels made from values.
    public var declared: [Bool]
}

/// The part of an exact fit one chunk contributes: R of a QR of its weighted [X | y].
public struct ChunkFactor: Sendable, Codable, Equatable {
    /// The factor, column-major, `rows` × (columns + 1).
    public var r: [Double]
    /// Rows of `r` (the number of coefficients plus one, or fewer for a short chunk).
    public var rows: Int
    /// The model-matrix column names.
    public var columns: [String]
    /// Rows kept after dropping missing values.
    public var kept: Int
    /// Rows with a non-zero weight.
    public var used: Int
    /// Rows dropped for missing values.
    public var dropped: Int
    /// Whether the model has an intercept.
    public var intercept: Bool
    /// Sums that let the combine count the offset as `summary.lm` does (empty without offset).
    public var offsetSums: [Double]
}

/// What a chunk task produced.
public enum LinearModelChunkResult: Sendable, Codable, Equatable {
    /// Pass 1.
    case levels(ChunkLevels)
    /// Pass 2.
    case factor(ChunkFactor)
    /// The chunk's own fit (average combine).
    case fit(LinearModelFit)
}

/// Where the rows of a chunked fit come from.
public enum ChunkData: Sendable {
    /// A table in this process (chunks are zero-copy row slices).
    case table(ArrowTable)
    /// A data file (CSV, Feather, Parquet, RDS) that each worker process reads itself.
    case file(path: String)
}

/// Runs chunk tasks: in this process, on a pool of worker processes, or on a cluster. The fit
/// only submits tasks and combines results, so no executor detail reaches it. An executor
/// throws ``LinearModelError/chunkFailed(chunk:firstRow:lastRow:message:)`` for a chunk R
/// could not process, and `CancellationError` when the calling task is cancelled.
public protocol ChunkExecutor: Sendable {
    /// Runs `task` on `data` and returns its result.
    func run(_ task: LinearModelChunkTask, data: ChunkData) async throws -> LinearModelChunkResult
}

/// Runs chunk tasks one after another on this process's embedded R.
public struct InProcessExecutor: ChunkExecutor {
    /// An executor on the shared R runtime.
    public init() {}

    /// Runs `task` on its rows of `data` in this process's R.
    public func run(_ task: LinearModelChunkTask, data: ChunkData) async throws -> LinearModelChunkResult {
        guard case .table(let table) = data else { throw LinearModelError.data("the in-process executor needs a table") }
        let rows = try table.slice(rows: task.rows)
        do {
            return try await LinearModelChunkWork.run(task, rows: rows)
        } catch {
            throw LinearModelChunkWork.chunkFailure(error, task: task)
        }
    }
}

/// The R work of one chunk task, on the R thread: the same code for every executor that runs
/// tasks in an embedded R (this process or a worker).
public enum LinearModelChunkWork {
    /// Runs `task` on the data frame `frame`.
    public static func run(_ task: LinearModelChunkTask, on frame: SEXP, in session: RSession) throws -> LinearModelChunkResult {
        let spec = task.specification
        let common = [try session.makeStrings([spec.formula]), try optionalString(spec.weights, session),
                      try optionalString(spec.offset, session)]
        switch task.step {
        case .levels:
            let value = try session.read(try LinearModelR.call("chunk_levels", [frame] + common, in: session,
                                                              purpose: "finding the chunk's factor levels"))
            let fields = try RFields(value)
            return .levels(ChunkLevels(names: try fields.strings("names"),
                                       full: try fields.list("full").map(strings),
                                       present: try fields.list("present").map(strings),
                                       declared: try logicals(try fields.value("declared"))))
        case .factor(let levels):
            let names = levels.keys.sorted()
            let xlev = try session.make(.list(names.map { .character(levels[$0]!) }, names: names))
            let value = try session.read(try LinearModelR.call("chunk_factor", [frame] + common + [xlev], in: session,
                                                              purpose: "factoring the chunk"))
            let fields = try RFields(value)
            return .factor(ChunkFactor(r: try fields.doubles("r"), rows: Int(try fields.double("rows")),
                                       columns: try fields.strings("columns"), kept: Int(try fields.double("kept")),
                                       used: Int(try fields.double("used")), dropped: Int(try fields.double("dropped")),
                                       intercept: try fields.double("intercept") != 0,
                                       offsetSums: try fields.doubles("offset_sums")))
        case .fit:
            let label = try session.makeStrings(["chunk \(task.chunk)"])
            let value = try session.read(try LinearModelR.call("fit_whole", [frame] + common + [label], in: session,
                                                              purpose: "fitting the chunk"))
            let fields = try RFields(value)
            return .fit(try LinearModelFit(decoding: value, formula: spec.formula, combine: nil, chunks: 1,
                                           summary: try fields.strings("text").first ?? ""))
        }
    }

    /// `error` from running `task` as the fit reports it: R's (or the reader's) message as a
    /// ``LinearModelError/chunkFailed(chunk:firstRow:lastRow:message:)`` naming the chunk and
    /// its rows; cancellation and fit errors pass through.
    public static func chunkFailure(_ error: any Error, task: LinearModelChunkTask) -> any Error {
        let message: String
        switch error {
        case is CancellationError, is LinearModelError: return error
        case let error as RError: message = Self.message(of: error)
        default: message = "\(error)"
        }
        return LinearModelError.chunkFailed(chunk: task.chunk, firstRow: task.rows.lowerBound + 1,
                                            lastRow: task.rows.upperBound, message: message)
    }

    /// R's message for an error, without R's "Error in …:" framing.
    public static func message(of error: RError) -> String {
        switch error {
        case .evaluation(let message, _, _): return message
        case .internalCall(_, let message):
            return RRuntime.conditionMessage(fromErrorBuffer: message).trimmingCharacters(in: .whitespacesAndNewlines)
        default: return error.description
        }
    }

    static func optionalString(_ text: String?, _ session: RSession) throws -> SEXP {
        guard let text else { return session.null }
        return try session.makeStrings([text])
    }

    static func strings(_ value: RValue) throws -> [String] {
        switch value.unstructured {
        case .character(let values): return values.map { $0 ?? "NA" }
        case .null: return []
        case let other: throw RError.conversion("expected levels, got \(other.typeName)")
        }
    }

    static func logicals(_ value: RValue) throws -> [Bool] {
        switch value.unstructured {
        case .logical(let values): return values.map { $0 ?? false }
        case .null: return []
        case let other: throw RError.conversion("expected logicals, got \(other.typeName)")
        }
    }
}
