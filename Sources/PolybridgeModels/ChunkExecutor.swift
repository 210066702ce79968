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
        /// The chunk's levels, and its factor with the levels guessed for the whole data, when
        /// the chunk's present levels all fall within the guess (one read of the chunk for both
        /// passes; the fit checks the guess against the merged levels before using the factor).
        case levelsAndFactor(guess: [String: [String]])
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
    /// Which fit the task belongs to (a worker keeps rows for one fit at a time), or nil.
    public var fit: String?

    /// A task for `chunk` over `rows`, of the fit named `fit`.
    public init(chunk: Int, rows: Range<Int>, step: Step, specification: LinearModelSpecification, fit: String? = nil) {
        self.chunk = chunk
        self.rows = rows
        self.step = step
        self.specification = specification
        self.fit = fit
    }
}

extension LinearModelChunkTask.Step {
    /// `levels`, `factor` or `fit`.
    public var name: String {
        switch self {
        case .levels: "levels"
        case .factor, .levelsAndFactor: "factor"
        case .fit: "fit"
        }
    }
}

/// How far a chunked fit has come: reported after each chunk task completes.
public struct LinearModelProgress: Sendable, Equatable {
    /// The pass running, from 1 (an lm's exact combine makes two or three; a glm one per
    /// IRLS round).
    public var pass: Int
    /// How many passes the fit makes; 0 when not known in advance (a glm's iterations).
    public var passCount: Int
    /// The pass as the progress displays write it: `2/3`, or `5` when the count is not known.
    public var passText: String { passCount > 0 ? "\(pass)/\(passCount)" : "\(pass)" }
    /// The pass's step: `levels`, `factor` or `fit`.
    public var step: String
    /// Chunks of this pass finished.
    public var chunksDone: Int
    /// Chunks in the pass.
    public var chunkCount: Int
    /// Rows of this pass's finished chunks.
    public var rowsDone: Int
    /// Rows in all chunks.
    public var rowCount: Int

    /// A progress report.
    public init(pass: Int, passCount: Int, step: String, chunksDone: Int, chunkCount: Int, rowsDone: Int, rowCount: Int) {
        self.pass = pass
        self.passCount = passCount
        self.step = step
        self.chunksDone = chunksDone
        self.chunkCount = chunkCount
        self.rowsDone = rowsDone
        self.rowCount = rowCount
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
    /// How the whole data orders each variable's levels.
    public var order: [LevelOrder]
    /// The model's shape as this chunk's R model frame has it, for counting the model matrix's
    /// columns before any chunk builds it; nil from the native path, whose formula names only
    /// single columns.
    public var shape: ModelShape? = nil
}

/// What the coordinator needs, besides the global levels, to count a model's columns: the
/// formula with `.` expanded, and the number of columns of each variable that is not a factor
/// (1 when not listed).
public struct ModelShape: Sendable, Codable, Equatable {
    /// The formula as R's `terms` expands it on the chunk's data.
    public var formula: String
    /// Columns of the non-factor variables, by their model-frame names.
    public var widths: [String: Int]
}

/// How the whole data orders a factor variable's levels, which a chunk reports because it
/// cannot order them alone.
public enum LevelOrder: String, Sendable, Codable, Equatable {
    /// A factor's declared order (a factor column, `factor(x, levels = …)`).
    case declared
    /// Levels made from numbers, which sort as numbers (`factor(cyl)`).
    case numeric
    /// Levels made from text or logicals, which sort in R's collation.
    case text
    /// `interaction(a, b, …)`: its arguments' levels crossed, the first varying fastest. The
    /// arguments' levels arrive as entries named after the variable and the argument's number.
    case interaction
}

extension ChunkLevels {
    /// Whether every level present in this chunk's kept rows is among `levels` (compared as
    /// bytes, as R compares factor levels).
    public func fits(within levels: [String: [String]]) -> Bool {
        zip(names, present).allSatisfy { name, present in
            guard let allowed = levels[name] else { return present.isEmpty }
            let bytes = Set(allowed.map { Array($0.utf8) })
            return present.allSatisfy { bytes.contains(Array($0.utf8)) }
        }
    }
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

    /// A chunk's factor and its counts.
    public init(r: [Double], rows: Int, columns: [String], kept: Int, used: Int, dropped: Int, intercept: Bool, offsetSums: [Double]) {
        (self.r, self.rows, self.columns, self.kept, self.used) = (r, rows, columns, kept, used)
        (self.dropped, self.intercept, self.offsetSums) = (dropped, intercept, offsetSums)
    }
}

extension ChunkFactor {
    private enum CodingKeys: String, CodingKey { case r, rows, columns, kept, used, dropped, intercept, offsetSums }

    /// Encodes the factor with `r` as ``PackedDoubles``: a model with a 1,000-level factor has a
    /// million of them, which as JSON numbers took the coordinator longer to decode than the
    /// workers took to compute them. Bit for bit, NaN included.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(PackedDoubles(r), forKey: .r)
        try container.encode(rows, forKey: .rows)
        try container.encode(columns, forKey: .columns)
        try container.encode(kept, forKey: .kept)
        try container.encode(used, forKey: .used)
        try container.encode(dropped, forKey: .dropped)
        try container.encode(intercept, forKey: .intercept)
        try container.encode(offsetSums, forKey: .offsetSums)
    }

    /// Decodes what ``encode(to:)`` wrote.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(r: try container.decode(PackedDoubles.self, forKey: .r).values, rows: try container.decode(Int.self, forKey: .rows),
                  columns: try container.decode([String].self, forKey: .columns),
                  kept: try container.decode(Int.self, forKey: .kept), used: try container.decode(Int.self, forKey: .used),
                  dropped: try container.decode(Int.self, forKey: .dropped), intercept: try container.decode(Bool.self, forKey: .intercept),
                  offsetSums: try container.decode([Double].self, forKey: .offsetSums))
    }
}

/// Doubles carried as base64 of their little-endian bytes: bit for bit, and quick to decode.
public struct PackedDoubles: Sendable, Codable, Equatable {
    /// The values.
    public var values: [Double]

    /// Packs `values`.
    public init(_ values: [Double]) { self.values = values }

    /// Encodes the values as one base64 string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        let bytes = values.withUnsafeBufferPointer { values in
            Data(values.lazy.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
        }
        try container.encode(bytes.base64EncodedString())
    }

    /// Decodes what ``encode(to:)`` wrote.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let bytes = Data(base64Encoded: try container.decode(String.self)), bytes.count % 8 == 0 else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not base64 of doubles")
        }
        values = bytes.withUnsafeBytes { raw in
            (0..<(raw.count / 8)).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
        }
    }
}

/// What a chunk task produced.
public enum LinearModelChunkResult: Sendable, Codable, Equatable {
    /// Pass 1.
    case levels(ChunkLevels)
    /// Pass 2.
    case factor(ChunkFactor)
    /// Both passes on one read: the levels, and the factor when they fit the guess.
    case levelsAndFactor(ChunkLevels, ChunkFactor?)
    /// The chunk's own fit (average combine).
    case fit(LinearModelFit)
}

/// Where the rows of a chunked fit come from.
public enum ChunkData: Sendable {
    /// A table in this process (chunks are zero-copy row slices).
    case table(ArrowTable)
    /// A data file (CSV, Feather, Parquet, RDS) that each worker process reads itself, with
    /// the identity it had when the fit started (``LinearModel/fitChunked(_:rowCount:chunks:_:combine:executor:label:progress:)``
    /// pins it when nil).
    case file(path: String, identity: FileIdentity? = nil)
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
        guard case .table(let table) = data else { throw LinearModelError.wrongDataForExecutor(executor: "in-process executor", needs: "a table (ChunkData.table)") }
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
            return .levels(try levels(frame, common, session))
        case .factor(let levels):
            return .factor(try factor(frame, common, levels, session))
        case .levelsAndFactor(let guess):
            let levels = try levels(frame, common, session)
            guard levels.fits(within: guess) else { return .levelsAndFactor(levels, nil) }
            return .levelsAndFactor(levels, try underGuess { try factor(frame, common, guess, session) })
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
        case let error as RError: message = error.userMessage
        default: message = "\(error)"
        }
        return LinearModelError.chunkFailed(task, message: message)
    }

    /// `body`'s factor, or nil when it fails: an error under guessed levels (a factor with one
    /// level in the guess, say) may be the guess's doing, so the fit factors the chunk again
    /// with the merged levels, and a real error shows there. Interruption still ends the work.
    static func underGuess<T>(_ body: () throws -> T) rethrows -> T? {
        do {
            return try body()
        } catch where isInterruption(error) {
            throw error
        } catch {
            return nil
        }
    }

    /// `underGuess` for async work.
    static func underGuess<T>(_ body: () async throws -> T) async rethrows -> T? {
        do {
            return try await body()
        } catch where isInterruption(error) {
            throw error
        } catch {
            return nil
        }
    }

    /// Whether `error` is an interruption (R's or the task's), which no guess explains.
    static func isInterruption(_ error: any Error) -> Bool {
        error is CancellationError || (error as? RError) == .interrupted
    }

    private static func levels(_ frame: SEXP, _ common: [SEXP], _ session: RSession) throws -> ChunkLevels {
        let value = try session.read(try LinearModelR.call("chunk_levels", [frame] + common, in: session,
                                                          purpose: "finding the chunk's factor levels"))
        let fields = try RFields(value)
        var widths: [String: Int] = [:]
        if case .list(let items, let names) = try fields.value("widths"), let names {
            for (name, item) in zip(names, items) {
                if let name, case .integer(let counts) = item.unstructured, let count = counts.first ?? nil { widths[name] = Int(count) }
            }
        }
        return ChunkLevels(names: try fields.strings("names"), full: try fields.list("full").map(strings),
                           present: try fields.list("present").map(strings),
                           order: try fields.strings("order").map { text in
                               guard let order = LevelOrder(rawValue: text) else { throw RError.conversion("unknown level order \(text)") }
                               return order
                           },
                           shape: ModelShape(formula: try fields.strings("formula").first ?? "", widths: widths))
    }

    private static func factor(_ frame: SEXP, _ common: [SEXP], _ levels: [String: [String]], _ session: RSession) throws -> ChunkFactor {
        let names = levels.keys.sorted()
        let xlev = try session.make(.list(names.map { .character(levels[$0]!) }, names: names))
        let value = try session.read(try LinearModelR.call("chunk_factor", [frame] + common + [xlev], in: session,
                                                          purpose: "factoring the chunk"))
        let fields = try RFields(value)
        return ChunkFactor(r: try fields.doubles("r"), rows: Int(try fields.double("rows")),
                           columns: try fields.strings("columns"), kept: Int(try fields.double("kept")),
                           used: Int(try fields.double("used")), dropped: Int(try fields.double("dropped")),
                           intercept: try fields.double("intercept") != 0, offsetSums: try fields.doubles("offset_sums"))
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
