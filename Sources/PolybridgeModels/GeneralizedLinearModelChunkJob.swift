import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeFiles
import PolybridgeJobs
import PolybridgeRuntime

/// One chunk's part of a chunked glm, run where its data file is.
///
/// The chunk's rows are read once: the prepare step builds the chunk's model matrix, response,
/// weights and offset as `glm.fit` sets them up, and keeps them in the worker (under
/// ``stateKey``). Each IRLS iteration is then one round per chunk that reads nothing: given the
/// coefficients, the chunk returns its deviance, whether its linear predictor and means are
/// valid, and the triangular factor of √W [X | z]. A worker that is gone between rounds has
/// the prepare step run again on the worker that gets the next round, which rebuilds the same
/// state from the file.
public struct GeneralizedLinearModelChunkJob: Job {
    /// `glm-chunk`.
    public static let kind = "glm-chunk"
    /// "chunk".
    public static let noun = "chunk"

    /// What the job computes.
    public enum Step: Sendable, Codable, Equatable {
        /// The factor levels of the chunk's model frame (pass 1, on the first chunk: the guess).
        case levels
        /// The chunk's levels, and its IRLS state built with `levels` and kept, with the first
        /// round at the family's starting means. With `guess`, a chunk whose levels fall
        /// outside `levels` keeps its rows instead and returns its levels alone. With
        /// `onDisk`, the state's per-row vectors go to a file of the worker's
        /// (``ChunkStatePlacement/disk``).
        case prepare(levels: [String: [String]], guess: Bool, onDisk: Bool)
        /// One IRLS round.
        case round(GeneralizedLinearModelRound)
        /// The sums the summary needs once the coefficients are final.
        case final(GeneralizedLinearModelFinalRequest)
        /// The chunk's deviance residuals at or below each of `below`, and those between each
        /// bound and its `above` (for exact quantiles of all rows' residuals).
        case residuals(GeneralizedLinearModelResidualRequest)
    }

    /// The chunk's number, from 1.
    public var chunk: Int
    /// The chunk's rows in the file, 0-based.
    public var rows: Range<Int>
    /// The data file, as the worker's node sees it.
    public var path: String
    /// What the file was when the fit started.
    public var identity: FileIdentity?
    /// The model.
    public var specification: GeneralizedLinearModelSpecification
    /// The fit this job belongs to: a worker keeps state for one fit at a time.
    public var fit: String
    /// What to compute.
    public var step: Step

    /// A job for `chunk` over `rows` of `path`.
    public init(chunk: Int, rows: Range<Int>, path: String, identity: FileIdentity?, specification: GeneralizedLinearModelSpecification,
                fit: String, step: Step) {
        (self.chunk, self.rows, self.path, self.identity) = (chunk, rows, path, identity)
        (self.specification, self.fit, self.step) = (specification, fit, step)
    }

    private static let statePrefix = "glm-chunk state "
    private static let rowsPrefix = "glm-chunk rows "

    private var chunkName: String {
        "\(fit) \(path) \(LinearModelChunkJob.version(identity)) \(rows.lowerBound)-\(rows.upperBound)"
    }

    /// The key of the chunk's IRLS state.
    public var stateKey: String { Self.statePrefix + chunkName }
    /// The key of the chunk's rows, kept when they fall outside the guessed levels.
    public var rowsKey: String { Self.rowsPrefix + chunkName }

    /// Rounds and the final step use the chunk's state; a prepare step after a guess that
    /// failed goes where the chunk's rows are kept.
    public var usesKey: String? {
        switch step {
        case .levels: nil
        case .prepare(_, let guess, _): guess ? nil : rowsKey
        case .round, .final, .residuals: stateKey
        }
    }

    /// Runs the step; R's failure is a ``JobError`` with R's message.
    public func run(in context: JobContext) async throws -> GeneralizedLinearModelChunkOutput {
        let started = ContinuousClock.now
        defer {
            let name = switch step {
                case .levels: "levels"; case .prepare: "prepare"; case .round: "round"; case .final: "final"; case .residuals: "residuals"
            }
            trace("\(name) done", since: started)
        }
        do {
            switch step {
            case .levels:
                return .levels(try await levels(of: try await readRows(context)))
            case .prepare(let levels, let guess, let onDisk):
                // A worker keeps one fit's chunks: another fit's (one that failed, say) go.
                let own = [Self.statePrefix + fit + " ", Self.rowsPrefix + fit + " "]
                context.removeValues { key in
                    (key.hasPrefix(Self.statePrefix) || key.hasPrefix(Self.rowsPrefix)) && !own.contains { key.hasPrefix($0) }
                }
                let kept = context.value(forKey: rowsKey, as: ArrowTable.self)
                let table = if let kept { kept } else { try await readRows(context) }
                trace("read", since: started)
                if guess {
                    let chunkLevels = try await self.levels(of: table)
                    trace("levels", since: started)
                    // Under guessed levels an error (a factor of one level in the guess) may be
                    // the guess's doing: the chunk is built again with the merged levels, where
                    // a real error shows.
                    if chunkLevels.fits(within: levels), let built = try await LinearModelChunkWork.underGuess({ try await prepare(table, levels: levels, onDisk: onDisk) }) {
                        context.keep(built.0, forKey: stateKey)
                        try await releaseGarbage()
                        return .prepared(levels: chunkLevels, built.1)
                    }
                    context.keep(table, forKey: rowsKey)
                    return .prepared(levels: chunkLevels, nil)
                }
                let (state, prepared) = try await prepare(table, levels: levels, onDisk: onDisk)
                context.setValue(nil, forKey: rowsKey)
                try await releaseGarbage()
                context.keep(state, forKey: stateKey)
                return .prepared(levels: nil, prepared)
            case .round(let round):
                return .round(try await self.round(round, state: try state(context)))
            case .final(let request):
                let sums = try await final(request, state: try state(context), context: context)
                try await releaseGarbage()
                return .final(sums)
            case .residuals(let request):
                return .residuals(try await residuals(request, state: try state(context), context: context))
            }
        } catch let error as RError {
            throw JobError(.rError, error.userMessage)
        }
    }

    /// Chunks smaller than this leave temporaries not worth a full collection (whose cost
    /// grows with R's heap: in a process that holds much else in R, it dominates small fits).
    private static let collectAfterRows = 100_000

    /// Gives back what building a big chunk's state or its summary sums left behind: R's
    /// garbage (the model frame, the initialize's and the AIC's temporaries) and the heap pages
    /// freed since, which a worker's malloc settings would otherwise keep (see ``Worker``): a
    /// worker holds chunk after chunk, and its peak should be their state, not also their
    /// temporaries.
    private func releaseGarbage() async throws {
        guard rows.count >= Self.collectAfterRows else { return }
        try await RRuntime.shared().withSession { session in
            _ = try session.evaluateText("invisible(gc(FALSE))", purpose: "collecting R's garbage")
        }
        ProcessMemory.trim()
    }

    /// With POLYBRIDGE_TRACE_WORKER set, says on standard error when a step of the job ended,
    /// and the worker's resident memory then.
    private func trace(_ what: String, since started: ContinuousClock.Instant) {
        if ProcessInfo.processInfo.environment["POLYBRIDGE_TRACE_WORKER"] != nil {
            let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
            let resident = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.map { " (" + $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().joined(separator: " ") + " resident)" } ?? ""
            FileHandle.standardError.write(Data("worker \(getpid()) glm chunk \(chunk): \(what) after \(ContinuousClock.now - started)\(resident)\n".utf8))
        }
    }

    private func state(_ context: JobContext) throws -> GeneralizedLinearModelChunkState {
        guard let state = context.value(forKey: stateKey, as: GeneralizedLinearModelChunkState.self) else {
            throw JobError(.stateMissing, "chunk \(chunk)'s IRLS state is not kept on this worker")
        }
        return state
    }

    private func readRows(_ context: JobContext) async throws -> ArrowTable {
        let spec = specification
        let columns = try await RRuntime.shared().withSession { session in
            try GeneralizedLinearModel.columnsRead(formula: spec.formula, weights: spec.weights, offset: spec.offset, in: session)
        }
        return try await LinearModelChunkJob.readRows(path: path, identity: identity, rows: rows,
                                                      columns: columns, context: context)
    }

    private var linearSpecification: LinearModelSpecification {
        LinearModelSpecification(formula: specification.formula, weights: specification.weights, offset: specification.offset,
                                 rowWiseFunctions: specification.rowWiseFunctions)
    }

    private func levels(of table: ArrowTable) async throws -> ChunkLevels {
        let task = LinearModelChunkTask(chunk: chunk, rows: rows, step: .levels, specification: linearSpecification)
        guard case .levels(let levels) = try await LinearModelChunkWork.run(task, rows: table) else {
            throw JobError(.failed, "chunk \(chunk) returned no levels")
        }
        return levels
    }

    /// The chunk's IRLS state. When every model variable is a bare column (numeric response,
    /// numeric, string or factor predictors) the model matrix is built from the Arrow columns in
    /// Swift, straight into R's memory, once R has built the chunk's first rows the same way;
    /// any other formula goes through R's `model.frame` and `model.matrix`.
    private func prepare(_ table: ArrowTable, levels: [String: [String]], onDisk: Bool) async throws -> (GeneralizedLinearModelChunkState, GeneralizedLinearModelPrepared) {
        let spec = specification
        let native = try await nativeRows(table, levels: levels).map(NativeRows.init)
        return try await RRuntime.shared().withSession { session in
            let names = levels.keys.sorted()
            let common = [try session.makeStrings([spec.family]), try LinearModelChunkWork.optionalString(spec.link, session)]
            let value: SEXP
            if let native {
                let rows = native.data.keptRows
                let p = native.layout.names.count
                // The matrix gets its dimensions here: set in R, they would copy it.
                let x = try session.protect(try session.allocate(.double, length: rows.count * p))
                try session.setAttribute(x, "dim", try session.make(.integer([Int32(rows.count), Int32(p)])))
                try session.setAttribute(x, "dimnames", try session.make(.list([.null, .character(native.layout.names)])))
                let (y, w, offset) = try native.data.modelMatrix(rows, layout: native.layout, levels: levels,
                                                                 into: try session.writableValues(of: x, as: Double.self))
                // A chunk whose rows are all missing still has its weights and offset columns.
                func doubles(_ values: [Double], given: Bool) throws -> SEXP { given ? try session.make(.double(values)) : session.null }
                value = try session.protect(try GeneralizedLinearModel.call("native_prepare", [
                    x, try session.makeStrings(native.layout.names), try session.make(.double(y)),
                    try doubles(w, given: spec.weights != nil), try doubles(offset, given: spec.offset != nil),
                    try session.make(.logical([native.layout.intercept])), try session.make(.integer([Int32(table.rowCount - rows.count)])),
                    try session.makeStrings([spec.formula])] + common, in: session))
            } else {
                value = try session.protect(try GeneralizedLinearModel.call("chunk_prepare", [
                    try session.dataFrame(from: table), try session.makeStrings([spec.formula])] + common + [
                    try LinearModelChunkWork.optionalString(spec.weights, session), try LinearModelChunkWork.optionalString(spec.offset, session),
                    try session.make(.list(names.map { .character(levels[$0]!) }, names: names))], in: session))
            }
            let environment = try session.element(of: value, at: 0)
            let fields = try RFields(try session.read(try session.element(of: value, at: 1)))
            let familyNames = try fields.strings("family")
            guard familyNames.count == 2, let family = NativeFamily(family: familyNames[0], link: familyNames[1], probitThreshold: try fields.double("probit"),
                                                              cauchitThreshold: try fields.double("cauchit")) else {
                throw JobError(.failed, "no IRLS for family \(familyNames)")
            }
            let inMemory = GeneralizedLinearModelChunkState(environment: try session.preserve(environment), family: family, file: nil)
            let first = try Self.round(inMemory, beta: nil, columns: nil, fitted: nil, factor: true, session: session)
            let rowsKept = Int(try fields.double("nobs"))
            let state = onDisk && rowsKept > 0 ? try Self.keepOnDisk(inMemory, session: session) : inMemory
            return (state, GeneralizedLinearModelPrepared(
                columns: try fields.strings("columns"), rows: Int(try fields.double("nobs")), zeroWeights: Int(try fields.double("zero")),
                weightedResponse: try fields.double("sum_wy"), weightSum: try fields.double("sum_w"),
                intercept: try fields.bool("intercept"), offset: try fields.bool("has_offset"), anyTrials: try fields.bool("any_n"),
                dropped: Int(try fields.double("dropped")), warnings: try fields.strings("warnings"), first: first))
        }
    }

    /// The columns read for a Swift-built model matrix and its layout, handed to the R thread
    /// that builds the matrix in R's memory while this job waits (nothing else touches them).
    private struct NativeRows: @unchecked Sendable {
        let data: NativeChunkData
        let layout: NativeLayout
        init(_ rows: (data: NativeChunkData, layout: NativeLayout)) { (data, layout) = rows }
    }

    /// The chunk's columns read for the Swift-built model matrix with its layout, or nil when
    /// the formula or the columns need R (or R's first rows differ from Swift's).
    private func nativeRows(_ table: ArrowTable, levels: [String: [String]]) async throws -> (data: NativeChunkData, layout: NativeLayout)? {
        let linear = linearSpecification
        guard let plan = try await LinearModelChunkWork.nativePlan(linear), let data = NativeChunkData(table, plan: plan) else { return nil }
        let layout = try await LinearModelChunkWork.nativeLayout(linear.formula, levels: levels, ordered: data.orderedVariables)
        let task = LinearModelChunkTask(chunk: chunk, rows: rows, step: .factor(levels: levels), specification: linear)
        guard try await LinearModelChunkWork.firstRowsAgree(data, table: table, task: task, layout: layout, levels: levels) else { return nil }
        return (data, layout)
    }

    private func round(_ round: GeneralizedLinearModelRound, state: GeneralizedLinearModelChunkState) async throws -> GeneralizedLinearModelRoundResult {
        try await RRuntime.shared().withSession { session in
            try Self.round(state, beta: round.beta, columns: round.columns, fitted: round.fitted, factor: round.factor, session: session)
        }
    }

    /// One round on a chunk's state: the family in Swift reads R's model matrix, response,
    /// weights and offset in place. Without coefficients the round starts from the family's
    /// starting means, or from the means of the full model at `fitted` (which R computes).
    private static func round(_ state: GeneralizedLinearModelChunkState, beta: [Double]?, columns: [Int]?, fitted: [Double]?, factor: Bool,
                              session: RSession) throws -> GeneralizedLinearModelRoundResult {
        return try withInput(state, columns: columns, session: session) { input in
            guard let input else {
                return GeneralizedLinearModelRoundResult(deviance: 0, valid: true, good: 0, factor: PackedDoubles([]), factorRows: 0, factorError: nil)
            }
            if beta != nil { return state.family.round(input, beta: beta, start: nil, factor: factor) }
            // Without coefficients: the starting linear predictor, which R computes.
            let start = try session.protect(try GeneralizedLinearModel.call("start_eta", [
                try rEnvironment(state, session: session), try fitted.map { try session.make(.double($0)) } ?? session.null], in: session))
            return state.family.round(input, beta: nil, start: try session.readOnlyValues(of: start, as: Double.self), factor: factor)
        }
    }

    /// The vectors a chunk's state keeps on disk: the model matrix, response, weights,
    /// offset, binomial trials and starting means.
    private static let keptVectors = ["x", "y", "weights", "offset", "n", "mustart"]

    /// The chunk's state with its per-row vectors moved to a file of the worker's, in its
    /// temporary folder; R keeps the rest (family, counts, the matrix's column names).
    private static func keepOnDisk(_ state: GeneralizedLinearModelChunkState, session: RSession) throws -> GeneralizedLinearModelChunkState {
        let taken = try session.protect(try GeneralizedLinearModel.call("take_vectors", [state.environment.object], in: session))
        let names = try session.names(of: taken) ?? []
        let vectors = try names.enumerated().map { index, name -> (name: String, values: UnsafePointer<Double>, count: Int) in
            let vector = try session.element(of: taken, at: index)
            let count = try session.length(of: vector)
            return (name, try session.readOnlyValues(of: vector, as: Double.self) ?? UnsafePointer(bitPattern: 8)!, count)
        }
        let file = try ChunkStateFile(folder: NSTemporaryDirectory(), vectors: vectors)
        return GeneralizedLinearModelChunkState(environment: state.environment, family: state.family, file: file)
    }

    /// The chunk's state as R sees it: kept in memory, its environment; kept on disk, a copy
    /// of its environment with the vectors read back (for the R functions that need them:
    /// the starting linear predictor and the AIC's part).
    private static func rEnvironment(_ state: GeneralizedLinearModelChunkState, session: RSession) throws -> SEXP {
        guard let file = state.file else { return state.environment.object }
        let environment = state.environment.object
        let vectors = try file.withMapping { vector -> SEXP in
            let present = keptVectors.compactMap { name in vector(name).map { (name, $0) } }
            let list = try session.protect(try session.allocate(.list, length: present.count))
            let rows = vector("y")?.count ?? 0
            for (index, (name, values)) in present.enumerated() {
                let copy = try session.allocate(.double, length: values.count)
                try session.setElement(of: list, at: index, to: copy)
                try session.writableValues(of: copy, as: Double.self).update(from: values.values, count: values.count)
                if name == "x" {
                    try session.setAttribute(copy, "dim", try session.make(.integer([Int32(rows), Int32(rows == 0 ? 0 : values.count / rows)])))
                    try session.setAttribute(copy, "dimnames", try session.evaluate(try session.symbol("x_dimnames"), in: environment,
                                                                                   purpose: "reading the model matrix's names"))
                }
            }
            try session.setNames(list, present.map(\.0))
            return list
        }
        return try session.protect(try GeneralizedLinearModel.call("with_vectors", [environment, vectors], in: session))
    }

    /// Calls `body` with the chunk's vectors (nil for a chunk without rows): R's, read in
    /// place, or the file's, mapped while `body` runs.
    private static func withInput<T>(_ state: GeneralizedLinearModelChunkState, columns: [Int]?, session: RSession,
                                     _ body: (NativeRoundInput?) throws -> T) throws -> T {
        if let file = state.file {
            return try file.withMapping { vector in
                guard let y = vector("y"), y.count > 0, let x = vector("x"), let weights = vector("weights"), let offset = vector("offset") else {
                    return try body(nil)
                }
                return try withRoundInput(x: x.values, columns: columns, y: y.values, rows: y.count, p: x.count / y.count,
                                          weights: weights, offset: offset, body)
            }
        }
        let environment = state.environment.object
        func vector(_ name: String) throws -> (values: UnsafePointer<Double>, count: Int)? {
            let value = try session.evaluate(try session.symbol(name), in: environment, purpose: "reading the chunk's \(name)")
            let count = try session.length(of: value)
            guard count > 0 else { return nil }
            guard let values = try session.readOnlyValues(of: value, as: Double.self) else { throw JobError(.failed, "the chunk's \(name) holds no numbers") }
            return (values, count)
        }
        guard let y = try vector("y") else { return try body(nil) }
        guard let x = try vector("x"), let weights = try vector("weights"), let offset = try vector("offset") else {
            throw JobError(.failed, "the chunk's state lacks its model matrix, weights or offset")
        }
        return try withRoundInput(x: x.values, columns: columns, y: y.values, rows: y.count, p: x.count / y.count,
                                  weights: weights, offset: offset, body)
    }

    /// The round's input over the chunk's vectors. Weights or an offset that are the same on
    /// every row are kept as one value (``compact_vectors`` in glm.R); they are spread to a
    /// vector that lasts while `body` runs.
    private static func withRoundInput<T>(x: UnsafePointer<Double>, columns: [Int]?, y: UnsafePointer<Double>, rows: Int, p: Int,
                                          weights: (values: UnsafePointer<Double>, count: Int), offset: (values: UnsafePointer<Double>, count: Int),
                                          _ body: (NativeRoundInput?) throws -> T) throws -> T {
        func spread<R>(_ vector: (values: UnsafePointer<Double>, count: Int), _ use: (UnsafePointer<Double>) throws -> R) throws -> R {
            guard vector.count != rows else { return try use(vector.values) }
            guard vector.count == 1 else { throw JobError(.failed, "the chunk's state has \(vector.count) values for \(rows) rows") }
            return try [Double](repeating: vector.values[0], count: rows).withUnsafeBufferPointer { try use($0.baseAddress!) }
        }
        return try spread(weights) { weights in
            try spread(offset) { offset in
                try body(NativeRoundInput(columns: (columns ?? Array(0..<p)).map { x + $0 * rows }, rows: rows, y: y,
                                          weights: weights, offset: offset))
            }
        }
    }

    private var residualsKey: String { "glm-chunk residuals " + chunkName }

    /// The chunk's deviance residuals at `beta`, sorted (missing ones left out, as R's quantile
    /// does): kept in the worker for the residual rounds, or computed again where they are not.
    private func sortedResiduals(_ beta: [Double], state: GeneralizedLinearModelChunkState, context: JobContext) async throws -> [Double] {
        struct Kept: Sendable { var beta: [Double]; var values: [Double] }
        if let kept = context.value(forKey: residualsKey, as: Kept.self), kept.beta == beta { return kept.values }
        let values = try await RRuntime.shared().withSession { session -> [Double] in
            try Self.withInput(state, columns: nil, session: session) { input in
                guard let input else { return [] }
                return state.family.devianceResiduals(input, beta: beta).filter { !$0.isNaN }.sorted()
            }
        }
        // One fit's residuals at a time.
        context.removeValues { $0.hasPrefix("glm-chunk residuals ") && !$0.hasPrefix("glm-chunk residuals " + fit + " ") }
        context.setValue(Kept(beta: beta, values: values), forKey: residualsKey)
        return values
    }

    private func residuals(_ request: GeneralizedLinearModelResidualRequest, state: GeneralizedLinearModelChunkState,
                           context: JobContext) async throws -> [GeneralizedLinearModelResidualPart] {
        let values = try await sortedResiduals(request.beta, state: state, context: context)
        return zip(request.below, request.above).map { below, above in
            // Sorted: the residuals at or below `below` come first, then those up to `above`.
            let start = values.partitioningIndex { $0 > below }
            let end = values.partitioningIndex { $0 > above }
            return GeneralizedLinearModelResidualPart(atOrBelow: start, between: Array(values[start..<max(start, end)]))
        }
    }

    private func final(_ request: GeneralizedLinearModelFinalRequest, state: GeneralizedLinearModelChunkState,
                       context: JobContext) async throws -> GeneralizedLinearModelChunkFinal {
        var sample: [Double] = [], count = 0
        if request.residualSample > 0 {
            let sorted = try await sortedResiduals(request.beta, state: state, context: context)
            count = sorted.count
            if count > 0 {
                let step = max(1, (count + request.residualSample - 1) / request.residualSample)
                sample = Array(stride(from: 0, to: count, by: step).map { sorted[$0] }) + (((count - 1) % step == 0) ? [] : [sorted[count - 1]])
            }
        }
        var sums = try await finalSums(request, state: state)
        (sums.residualCount, sums.residualSample) = (count, sample)
        return sums
    }

    private func finalSums(_ request: GeneralizedLinearModelFinalRequest, state: GeneralizedLinearModelChunkState) async throws -> GeneralizedLinearModelChunkFinal {
        try await RRuntime.shared().withSession { session in
            let summed = try Self.withInput(state, columns: request.columns, session: session) { input -> (NativeFinalSums, Int, SEXP)? in
                guard let input else { return nil }
                let environment = try Self.rEnvironment(state, session: session)
                // The last solve's weights: at its coefficients, or at the starting linear predictor.
                let weightsEta: [Double]
                if let beta = request.weightsBeta {
                    weightsEta = state.family.linearPredictor(input, beta: beta)
                } else {
                    let start = try session.protect(try GeneralizedLinearModel.call("start_eta", [
                        environment, try request.weightsFitted.map { try session.make(.double($0)) } ?? session.null], in: session))
                    guard let values = try session.readOnlyValues(of: start, as: Double.self) else { throw JobError(.failed, "no starting linear predictor") }
                    weightsEta = Array(UnsafeBufferPointer(start: values, count: input.rows))
                }
                return (state.family.finalSums(input, beta: request.beta, weightsEta: weightsEta, nullMean: request.weightedMean), input.rows, environment)
            }
            guard let (sums, rows, environment) = summed else {
                return GeneralizedLinearModelChunkFinal(pearson: 0, aic: 0, nullDeviance: 0, extremeProbabilities: false, zeroRates: false)
            }
            // The AIC needs R's density functions: R computes the chunk's part from the means.
            let means = try session.protect(try session.allocate(.double, length: rows))
            let target = try session.writableValues(of: means, as: Double.self)
            for (index, mu) in sums.means.enumerated() { target[index] = mu }
            let aic = try session.read(try GeneralizedLinearModel.call("chunk_aic", [
                environment, means, try session.make(.double([request.deviance])), try session.make(.double([request.weightSum])),
                try session.make(.logical([request.anyTrials]))], in: session))
            guard case .double(let parts) = aic.unstructured, let part = parts.first else { throw JobError(.failed, "no AIC part") }
            return GeneralizedLinearModelChunkFinal(pearson: sums.pearson, aic: part ?? .nan, nullDeviance: sums.nullDeviance,
                                                    extremeProbabilities: sums.extremeProbabilities, zeroRates: sums.zeroRates)
        }
    }
}

/// A chunk's IRLS state in its worker: R's environment of the chunk (model matrix, response,
/// weights, offset and starting linear predictor, as glm.fit sets them up) and its family in
/// Swift, which computes the rounds reading R's vectors in place. With `file`, the per-row
/// vectors are in that file instead, and the environment holds the rest.
final class GeneralizedLinearModelChunkState: Sendable {
    let environment: RPreservedObject
    let family: NativeFamily
    let file: ChunkStateFile?

    init(environment: RPreservedObject, family: NativeFamily, file: ChunkStateFile?) {
        self.environment = environment
        self.family = family
        self.file = file
    }
}

/// What a glm chunk job returns.
public enum GeneralizedLinearModelChunkOutput: Sendable, Codable, Equatable {
    /// The chunk's levels.
    case levels(ChunkLevels)
    /// The chunk's levels (when a guess was checked) and its prepared state's counts, or nil
    /// when its levels fall outside the guess.
    case prepared(levels: ChunkLevels?, GeneralizedLinearModelPrepared?)
    /// One round.
    case round(GeneralizedLinearModelRoundResult)
    /// The final sums.
    case final(GeneralizedLinearModelChunkFinal)
    /// Per bound pair of a residual round.
    case residuals([GeneralizedLinearModelResidualPart])
}

/// A residual round's request: the final coefficients, and pairs of bounds.
public struct GeneralizedLinearModelResidualRequest: Sendable, Codable, Equatable {
    /// The final coefficients (zeros for the aliased columns).
    public var beta: [Double]
    /// The lower bounds, each with its upper bound in `above`.
    public var below: [Double]
    /// The upper bounds, one for each lower bound.
    public var above: [Double]
}

/// One chunk's answer for a pair of bounds.
public struct GeneralizedLinearModelResidualPart: Sendable, Codable, Equatable {
    /// How many of the chunk's residuals are at or below the lower bound.
    public var atOrBelow: Int
    /// Its residuals above the lower bound and at or below the upper, sorted.
    public var between: [Double]
}

/// A chunk's counts once its IRLS state is built, and its first round at the starting means.
public struct GeneralizedLinearModelPrepared: Sendable, Codable, Equatable {
    /// The model matrix's columns.
    public var columns: [String]
    /// Rows kept (missing values dropped).
    public var rows: Int
    /// Rows of weight zero (after the family's initialize).
    public var zeroWeights: Int
    /// Σ weights · y, for the null model's mean.
    public var weightedResponse: Double
    /// Σ weights (after the family's initialize).
    public var weightSum: Double
    /// Whether the model has an intercept.
    public var intercept: Bool
    /// Whether the model has an offset (a column or `offset()`).
    public var offset: Bool
    /// Whether any row is of more than one binomial trial (the AIC counts trials then).
    public var anyTrials: Bool
    /// Rows dropped for missing values.
    public var dropped: Int
    /// R's warnings while the chunk was set up (non-integer successes, …).
    public var warnings: [String]
    /// The round at the family's starting means.
    public var first: GeneralizedLinearModelRoundResult
}

/// One IRLS round's request: the coefficients (nil: the starting means), of model columns
/// `columns` (nil: all), and whether the factor is wanted.
public struct GeneralizedLinearModelRound: Sendable, Codable, Equatable {
    /// The coefficients, one per column used; nil for the starting means.
    public var beta: [Double]?
    /// The model-matrix columns used, 0-based; nil for all.
    public var columns: [Int]?
    /// With `beta` nil: start from the means of the full model at these coefficients instead
    /// of the family's (glm's intercept-only fit for the null deviance).
    public var fitted: [Double]?
    /// Whether to return the factor of √W [X | z].
    public var factor: Bool
}

/// What one chunk returned for a round.
public struct GeneralizedLinearModelRoundResult: Sendable, Codable, Equatable {
    /// Σ dev.resids at the round's coefficients.
    public var deviance: Double
    /// Whether the family's valideta and validmu hold for the chunk.
    public var valid: Bool
    /// Rows glm.fit uses in the next solve (positive weight and d mu/d eta).
    public var good: Int
    /// The factor of √W [X | z], column-major, `factorRows` × (columns + 1).
    public var factor: PackedDoubles?
    /// Rows of `factor`.
    public var factorRows: Int
    /// R's error while taking the working weights (NAs in V(mu), …), raised only if the fit
    /// needs this factor.
    public var factorError: String?
}

/// The final step's request: the final coefficients, those whose weights the last solve
/// used, and the whole data's numbers the AIC and null deviance need.
public struct GeneralizedLinearModelFinalRequest: Sendable, Codable, Equatable {
    /// The final coefficients (zeros for the aliased columns).
    public var beta: [Double]
    /// The model-matrix columns they belong to, 0-based; nil for all.
    public var columns: [Int]?
    /// The coefficients of the last solve's weights; nil with `weightsFitted` nil for the
    /// family's starting means.
    public var weightsBeta: [Double]?
    /// With `weightsBeta` nil: the full model's coefficients the null fit started from.
    public var weightsFitted: [Double]?
    /// Σ w·y / Σ w when the model has an intercept; nil: the null model's means come from the offset.
    public var weightedMean: Double?
    /// The final deviance of the whole data.
    public var deviance: Double
    /// Σ weights (after the family's initialize), of the whole data.
    public var weightSum: Double
    /// Whether any row of the whole data is of more than one binomial trial.
    public var anyTrials: Bool
    /// With a positive count, the chunk also returns about that many of its sorted deviance
    /// residuals, evenly spaced, with the first and last (for exact quantiles).
    public var residualSample: Int = 0
}

/// A chunk's final sums.
public struct GeneralizedLinearModelChunkFinal: Sendable, Codable, Equatable {
    /// Σ w · r² over rows of positive working weight (Pearson's χ²).
    public var pearson: Double
    /// The chunk's part of the AIC.
    public var aic: Double
    /// Σ dev.resids at the null model's means.
    public var nullDeviance: Double
    /// Whether a fitted probability is within 10ε of 0 or 1, or a fitted rate of 0.
    public var extremeProbabilities: Bool
    /// Whether a fitted mean is within 10ε of 0 (a rate numerically 0).
    public var zeroRates: Bool
    /// The chunk's deviance residuals (not missing), and the sample the request asked for:
    /// the sorted residuals at positions 0, s, 2s, … and the last.
    public var residualCount: Int = 0
    /// The sample the request asked for.
    public var residualSample: [Double] = []
}

extension TriangularFactor {
    /// The factor of the rows of √w [X | z] whose weight is not zero: X's columns are read in
    /// place; rows are gathered in blocks small enough for the processor's first cache.
    static func weighted(columns: [UnsafePointer<Double>], rows: Int, weights: UnsafePointer<Double>,
                         response: UnsafePointer<Double>) -> (values: [Double], rows: Int) {
        let p = columns.count
        var factor = TriangularFactor(columns: p + 1)
        let blockRows = 128
        var block = [Double](repeating: 0, count: blockRows * (p + 1))
        var picked = [Int](repeating: 0, count: blockRows)
        var next = 0
        while next < rows {
            var count = 0
            while next < rows, count < blockRows {
                if weights[next] != 0 { picked[count] = next; count += 1 }
                next += 1
            }
            block.withUnsafeMutableBufferPointer { buffer in
                let b = buffer.baseAddress!
                for (j, column) in columns.enumerated() {
                    let target = b + j * blockRows
                    for k in 0..<count { target[k] = column[picked[k]] * weights[picked[k]] }
                }
                let target = b + p * blockRows
                for k in 0..<count { target[k] = response[picked[k]] * weights[picked[k]] }
                factor.absorb(block: b, rowCount: count, stride: blockRows)
            }
        }
        return factor.factor
    }
}
