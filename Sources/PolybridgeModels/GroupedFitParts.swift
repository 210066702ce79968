import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeFiles
import PolybridgeJobs
import PolybridgeRuntime
import Synchronization

/// A fit per group of a data file in parts, on an executor (worker processes, Ray, Dask, or
/// this process through the same jobs), so that no process holds every row:
///
/// 1. Each chunk of the file (whole row groups where the file has them) is read by a worker
///    and written group by group to a scratch file, with the groups' keys and sizes
///    (``GroupPartitionJob``). The data need not be sorted by group.
/// 2. This process merges the keys in R (a group may be in several chunks) and plans: groups
///    of at most a chunk's rows go, whole and in key order, into batches of about a chunk's
///    rows (thousands of small groups per job), each fitted by one worker (``GroupBatchJob``);
///    a larger group is gathered into a file of its own (``GroupGatherJob``) and fitted by the
///    chunked lm or glm on the same executor, whose exact combine merges its chunks' factors.
/// 3. The batches' tables and the large groups' fits are put together in R, in key order.
enum GroupedFitParts {
    /// Fits `model` per group of the file at `path` by `by`, reading it in `chunks`.
    static func fit(path: String, identity: FileIdentity?, chunks: [Range<Int>], by: [String], model: GroupedModel,
                    executor: any LinearModel.WorkerExecutor, chunkState: ChunkStatePlacement,
                    progress: (@Sendable (LinearModelProgress) -> Void)?) async throws -> GroupedFit {
        guard !by.isEmpty else { throw LinearModelError.fitFailed(message: "a fit per group needs at least one key column") }
        let columns = try await GroupedFit.columnsRead(by: by, formula: model.formula, weights: model.weights, offset: model.offset)
        // A key column the file lacks is named before any worker reads it (Parquet and Arrow
        // IPC files say from their schema; a text file's chunk says when it is read).
        if let format = try? DataFileFormat(path: path), format == .parquet || format == .feather {
            let schema = try await DataFiles.readRows(path, rows: 0..<0, columns: by)
            if let absent = by.first(where: { schema.column(named: $0) == nil }) {
                let all = try await DataFiles.inspect(path).columns.map(\.name)
                throw LinearModelError.fitFailed(message: "no column '\(absent)' to group by (the columns are \(all.joined(separator: ", ")))")
            }
        }
        let scratch = try ProcessFolders.makeOwn(in: ProcessFolders.temporaryBase, prefix: "polybridge-groups-")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let rowCount = chunks.reduce(0) { $0 + $1.count }
        let chunkRows = max(1, chunks.map(\.count).max() ?? 1)

        // Pass 1: every chunk written group by group.
        let report: @Sendable (Int, String, Int, Int) -> Void = { pass, step, done, count in
            progress?(LinearModelProgress(pass: pass, passCount: 2, step: step, chunksDone: done, chunkCount: count, rowsDone: 0, rowCount: rowCount))
        }
        report(1, "partition", 0, chunks.count)
        let partitions = try await withThrowingTaskGroup(of: (Int, GroupPartitionJob.Output).self) { group in
            for (index, rows) in chunks.enumerated() {
                let job = GroupPartitionJob(path: path, identity: identity, rows: rows, columns: columns, by: by,
                                            part: "\(scratch)/part-\(index + 1).arrow", keys: "\(scratch)/keys-\(index + 1).arrow")
                group.addTask {
                    do {
                        return (index, try await executor.run(job))
                    } catch let error as JobError {
                        throw LinearModelError.chunkFailed(chunk: index + 1, firstRow: rows.lowerBound + 1, lastRow: rows.upperBound, message: error.message)
                    }
                }
            }
            var outputs = [GroupPartitionJob.Output?](repeating: nil, count: chunks.count), done = 0
            for try await (index, output) in group {
                outputs[index] = output
                done += 1
                report(1, "partition", done, chunks.count)
            }
            return outputs.map { $0! }
        }

        // The groups, merged over the chunks, and where their rows are.
        let keyTables = try await (1...chunks.count).asyncMap { try await DataFiles.readTable("\(scratch)/keys-\($0).arrow") }
        let missing = partitions.map(\.leftOut).reduce(0, +)
        let (state, plan) = try await LinearModel.coordinatorStep { session -> (RPreservedObject, GroupPlan) in
            let list = try session.protect(try session.allocate(.list, length: keyTables.count))
            for (index, table) in keyTables.enumerated() { try session.setElement(of: list, at: index, to: try session.dataFrame(from: table)) }
            let value = try session.protect(try GroupedFits.call("prepare_parts", [list, try session.make(.double([Double(missing)]))], in: session))
            let pieces = try RFields(try session.read(try GroupedFits.call("pieces", [value], in: session)))
            return (try session.preserve(value), try GroupPlan(pieces: pieces, scratch: scratch))
        }
        let groupCount = plan.groups.count
        let batchRows = max(chunkRows / 2, min(chunkRows, rowCount / max(1, 4 * chunks.count)))
        let (batches, large) = plan.batches(rowsPerBatch: batchRows, largerThan: chunkRows)

        // Pass 2: the batches and the large groups, at once.
        report(2, "groups", 0, groupCount)
        let glm = model.isGLM
        let done = Counter()
        var native = 0
        // One batch of whole groups on one worker; its tables go to R's state. Returns how many
        // groups Swift fitted.
        let runBatch: @Sendable ([Int], String) async throws -> Int = { batch, name in
            let job = GroupBatchJob(pieces: batch.flatMap { plan.groups[$0].pieces }, sizes: batch.map { plan.groups[$0].rows }, by: by,
                                    model: model, output: "\(scratch)/\(name)")
            let output: GroupBatchJob.Output
            do {
                output = try await executor.run(job)
            } catch let error as JobError {
                throw LinearModelError.fitFailed(message: "\(name) (groups \(batch.first! + 1)-\(batch.last! + 1)): \(error.message)")
            }
            let groups = try await DataFiles.readTable(output.groups), coefficients = try await DataFiles.readTable(output.coefficients)
            try await LinearModel.coordinatorStep { session in
                _ = try GroupedFits.call("add_batch", [state.object, try session.make(.integer(batch.map { Int32($0 + 1) })),
                                                      try session.dataFrame(from: groups), try session.dataFrame(from: coefficients)], in: session)
            }
            for file in [output.groups, output.coefficients] { try? FileManager.default.removeItem(atPath: file) }
            report(2, "groups", done.add(batch.count), groupCount)
            return output.native
        }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for (number, batch) in batches.enumerated() {
                group.addTask { try await runBatch(batch, "batch \(number + 1)") }
            }
            // The large groups one after another (a worker keeps one chunked fit's state at a
            // time), each on every worker, beside the batches. One the chunked fit cannot make
            // (R's lm or glm may still fit it, or refuse it with its own message) is fitted
            // whole by R on one worker.
            group.addTask {
                var native = 0
                for index in large {
                    if let result = try await fitLarge(plan.groups[index], number: index + 1, scratch: scratch, model: model, chunkRows: chunkRows,
                                                       executor: executor, chunkState: chunkState) {
                        try await LinearModel.coordinatorStep { session in
                            _ = try GroupedFits.call("set_result", [state.object, try session.make(.integer([Int32(index + 1)])), try session.make(result)],
                                                     in: session)
                        }
                        report(2, "groups", done.add(1), groupCount)
                    } else {
                        native += try await runBatch([index], "group \(index + 1)")
                    }
                }
                return native
            }
            for try await count in group { native += count }
        }
        return try await GroupedFits.collect(state, glm: glm, nativeCount: native)
    }

    /// Fits one group larger than a chunk with the chunked lm or glm on its own gathered file;
    /// returns its result as the grouped helpers keep one, or nil when the chunked fit fails or
    /// a glm warned (R then fits the group whole on one worker).
    private static func fitLarge(_ group: GroupPlan.Group, number: Int, scratch: String, model: GroupedModel, chunkRows: Int,
                                 executor: any LinearModel.WorkerExecutor, chunkState: ChunkStatePlacement) async throws -> RValue? {
        let path = "\(scratch)/group-\(number).arrow"
        let started = ContinuousClock.now
        let batchSizes: [Int]
        do {
            batchSizes = try await executor.run(GroupGatherJob(pieces: group.pieces, path: path, batchRows: chunkRows))
        } catch let error as JobError {
            throw LinearModelError.fitFailed(message: "group \(number): gathering its rows: \(error.message)")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        var sizes: [Int] = [], pending = 0
        for size in batchSizes {
            pending += size
            if pending >= chunkRows { sizes.append(pending); pending = 0 }
        }
        if pending > 0 { sizes.append(pending) }
        let chunks = LinearModel.chunkRanges(rowGroups: sizes)
        let identity = try FileIdentity.pin(path)
        func seconds() -> Double { (ContinuousClock.now - started).seconds }
        func coefficients(_ terms: [String], _ names: [String], _ columns: [[Double]]) -> [RValue] {
            let position = Dictionary(names.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
            return columns.map { values in .double(terms.map { position[$0].map { values[$0] } }) }
        }
        if model.isGLM {
            let specification = GeneralizedLinearModelSpecification(formula: model.formula, family: model.family!, link: model.link, weights: model.weights,
                                                                     offset: model.offset, epsilon: model.epsilon, maxit: model.maxit)
            let fit: GeneralizedLinearModelFit
            do {
                fit = try await GeneralizedLinearModel.fitChunked(file: path, identity: identity, rowCount: group.rows, chunks: chunks, specification,
                                                                  executor: executor, chunkState: chunkState, label: "group")
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                return nil
            }
            // A fit that warned (separation, no convergence), ended on the boundary or fits
            // (almost) perfectly (quasi-separation, a saturated model) is ill-conditioned: its
            // last digits depend on the order of the sums, so R fits the group whole, for R's
            // own numbers.
            guard fit.converged, !fit.boundary, fit.warnings.isEmpty, !(fit.deviance <= 1e-6 * fit.nullDeviance) else { return nil }
            let names = fit.coefficients.map(\.name)
            let numbers = coefficients(fit.terms, names, [fit.coefficients.map(\.estimate), fit.coefficients.map(\.standardError),
                                                          fit.coefficients.map(\.statistic), fit.coefficients.map(\.pValue)])
            let warning = fit.warnings.isEmpty ? nil : Array(NSOrderedSet(array: fit.warnings)).map { "\($0)" }.joined(separator: "; ")
            return .list([.character([nil]), .character([warning]), .integer([Int32(clamping: group.rows)]), .double([seconds()]),
                          .integer([Int32(clamping: group.rows - fit.rowsDropped)]), .character(fit.terms)] + numbers +
                         [.integer([Int32(clamping: fit.residualDF)]), .double([fit.deviance]), .double([fit.nullDeviance]),
                          .double([fit.aic.isNaN ? nil : fit.aic]), .double([fit.dispersion]), .integer([Int32(clamping: fit.iterations)]),
                          .logical([fit.converged])],
                         names: ["error", "warning", "rows", "seconds", "used", "term", "estimate", "std_error", "statistic", "p_value", "df_residual",
                                 "deviance", "null_deviance", "aic", "dispersion", "iterations", "converged"])
        }
        let specification = LinearModelSpecification(formula: model.formula, weights: model.weights, offset: model.offset)
        let fit: LinearModelFit
        do {
            fit = try await LinearModel.fitChunked(.file(path: path, identity: identity), rowCount: group.rows, chunks: chunks, specification,
                                                   combine: .exact, executor: executor, label: "group")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return nil
        }
        let names = fit.coefficients.map(\.name)
        let numbers = coefficients(fit.terms, names, [fit.coefficients.map(\.estimate), fit.coefficients.map(\.standardError),
                                                      fit.coefficients.map(\.tValue), fit.coefficients.map(\.pValue)])
        return .list([.character([nil]), .character([nil]), .integer([Int32(clamping: group.rows)]), .double([seconds()]),
                      .integer([Int32(clamping: group.rows - fit.rowsDroppedForNA)]), .character(fit.terms)] + numbers +
                     [.integer([Int32(clamping: fit.residualDF)]), .double([fit.rSquared]), .double([fit.adjustedRSquared]),
                      .double([fit.residualStandardError]), .double([fit.fStatistic?.value])],
                     names: ["error", "warning", "rows", "seconds", "used", "term", "estimate", "std_error", "statistic", "p_value", "df_residual",
                             "r_squared", "adj_r_squared", "sigma", "f_statistic"])
    }

    /// Counts groups done across tasks.
    private final class Counter: Sendable {
        private let value = Mutex(0)
        func add(_ count: Int) -> Int { value.withLock { $0 += count; return $0 } }
    }
}

/// Where each group's rows are, from the merged keys: group after group in key order.
struct GroupPlan: Sendable {
    struct Group: Sendable {
        var pieces: [FilePiece]
        var rows: Int
    }

    var groups: [Group]

    /// From the grouped helpers' `pieces` (group, part, start, size; ordered by group).
    init(pieces: RFields, scratch: String) throws {
        let group = try pieces.doubles("group"), part = try pieces.doubles("part")
        let start = try pieces.doubles("start"), size = try pieces.doubles("size")
        var groups: [Group] = []
        for index in group.indices {
            let number = Int(group[index])
            if number > groups.count { groups.append(Group(pieces: [], rows: 0)) }
            guard number == groups.count else { throw RError.conversion("the pieces are not ordered by group") }
            let count = Int(size[index])
            groups[number - 1].pieces.append(FilePiece(path: "\(scratch)/part-\(Int(part[index])).arrow", start: Int(start[index]), count: count))
            groups[number - 1].rows += count
        }
        self.groups = groups
    }

    /// Consecutive groups of at most `largerThan` rows together, about `rowsPerBatch` rows a
    /// batch; the groups larger than `largerThan`, on their own.
    func batches(rowsPerBatch: Int, largerThan: Int) -> (batches: [[Int]], large: [Int]) {
        var batches: [[Int]] = [], large: [Int] = [], current: [Int] = [], rows = 0
        for (index, group) in groups.enumerated() {
            if group.rows > largerThan {
                large.append(index)
                continue
            }
            current.append(index)
            rows += group.rows
            if rows >= rowsPerBatch {
                batches.append(current)
                current = []
                rows = 0
            }
        }
        // A last batch of less than half the rows joins the one before it.
        if !current.isEmpty {
            if rows < rowsPerBatch / 2, !batches.isEmpty { batches[batches.count - 1] += current } else { batches.append(current) }
        }
        return (batches, large)
    }
}

extension Sequence {
    /// `map` with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}

extension GroupedFits {
    /// The job kinds a fit per group in parts runs, for an executor in this process.
    static let jobs: [any Job.Type] = [GroupPartitionJob.self, GroupBatchJob.self, GroupGatherJob.self, LinearModelChunkJob.self,
                                       GeneralizedLinearModelChunkJob.self]

    /// Fits `model` per group of the file at `path` as `options` say: whole in this process
    /// (the key and model columns read once), or in parts (``GroupedFitParts``) in this
    /// process, on a pool of worker processes or on Ray or Dask, started here and stopped
    /// before it returns. `check` runs the model's checks in this process first.
    static func fit(file path: String, by: [String], model: GroupedModel, options: FileFitOptions,
                    check: @escaping @Sendable () async throws -> Void) async throws -> (fit: GroupedFit, timing: FileFitTiming?) {
        guard options.combine == .exact else {
            throw LinearModelError.fitFailed(message: "a fit per group is exact: the average of chunk fits does not apply to it")
        }
        switch options.executor {
        case .inProcess:
            if options.chunks == nil && options.chunkRows == nil {
                try await check()
                let table = try await GroupedFit.read(file: path, by: by, formula: model.formula, weights: model.weights, offset: model.offset)
                return (try await fit(table, by: by, model: model, progress: options.progress), nil)
            }
            let (_, ranges, identity) = try await LinearModel.fileChunks(path, options: options, workers: 1)
            try await check()
            let executor = InProcessJobExecutor(registry: JobRegistry(jobs))
            return (try await GroupedFitParts.fit(path: path, identity: identity, chunks: ranges, by: by, model: model, executor: executor,
                                                  chunkState: options.chunkState, progress: options.progress), nil)
        case .pool, .engine:
            return try await LinearModel.onWorkers(path, options: options, check: check) { identity, _, ranges, executor in
                try await GroupedFitParts.fit(path: path, identity: identity, chunks: ranges, by: by, model: model, executor: executor,
                                              chunkState: options.chunkState, progress: options.progress)
            }
        }
    }
}

extension LinearModel {
    /// One `lm` per group of the data file at `path` by the columns `by`, as `options` say:
    /// whole in this process, or in parts (chunks of the file partitioned by key, then batches
    /// of whole groups; a group larger than a chunk fitted in chunks and merged exactly) in this
    /// process, on a pool of worker processes or on Ray or Dask. Each group's fit equals R's `lm`
    /// on that group's rows. Returns the fit and, on workers, its timing.
    public static func fitGrouped(file path: String, by: [String], _ specification: LinearModelSpecification,
                                  options: FileFitOptions) async throws -> (fit: GroupedFit, timing: FileFitTiming?) {
        try await GroupedFits.fit(file: path, by: by, model: GroupedModel(specification), options: options) {
            _ = try await checkFormula(specification.formula)
        }
    }
}

extension LinearModel {
    /// One `lm` per group of the data file at `path` by the columns `by`, in parts on
    /// `executor` (which runs the grouped jobs and the lm chunk jobs): the file is read in
    /// `chunks`, a group larger than the largest chunk is fitted in chunks of that size, and the
    /// others in batches of whole groups. `progress` is called after each chunk of the first
    /// pass and each batch of groups.
    public static func fitGrouped(file path: String, identity: FileIdentity? = nil, chunks: [Range<Int>], by: [String],
                                  _ specification: LinearModelSpecification, executor: some ChunkExecutor & JobExecutor,
                                  progress: (@Sendable (LinearModelProgress) -> Void)? = nil) async throws -> GroupedFit {
        _ = try await checkFormula(specification.formula)
        return try await GroupedFitParts.fit(path: path, identity: identity, chunks: chunks, by: by, model: GroupedModel(specification),
                                             executor: executor, chunkState: .automatic, progress: progress)
    }
}

extension GeneralizedLinearModel {
    /// One `glm` per group of the data file at `path` by the columns `by`, in parts on
    /// `executor` (see ``LinearModel/fitGrouped(file:identity:chunks:by:_:executor:progress:)``);
    /// a group larger than a chunk keeps its chunks' state as `chunkState` says.
    public static func fitGrouped(file path: String, identity: FileIdentity? = nil, chunks: [Range<Int>], by: [String],
                                  _ specification: GeneralizedLinearModelSpecification, executor: some ChunkExecutor & JobExecutor,
                                  chunkState: ChunkStatePlacement = .automatic,
                                  progress: (@Sendable (LinearModelProgress) -> Void)? = nil) async throws -> GroupedFit {
        try checkControl(specification)
        try await checkFormula(specification.formula)
        try await checkFamily(specification.family, link: specification.link)
        return try await GroupedFitParts.fit(path: path, identity: identity, chunks: chunks, by: by, model: GroupedModel(specification),
                                             executor: executor, chunkState: chunkState, progress: progress)
    }

    /// One `glm` per group of the data file at `path` by the columns `by`, as `options` say
    /// (see ``LinearModel/fitGrouped(file:by:_:options:)``). Each group's fit equals R's `glm`
    /// on that group's rows.
    public static func fitGrouped(file path: String, by: [String], _ specification: GeneralizedLinearModelSpecification,
                                  options: FileFitOptions) async throws -> (fit: GroupedFit, timing: FileFitTiming?) {
        try checkControl(specification)
        return try await GroupedFits.fit(file: path, by: by, model: GroupedModel(specification), options: options) {
            try await checkFormula(specification.formula)
            try await checkFamily(specification.family, link: specification.link)
        }
    }
}
