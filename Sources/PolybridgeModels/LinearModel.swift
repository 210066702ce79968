import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeFiles
import PolybridgeRuntime

/// R's `lm` from Swift: on a whole table or R data frame in one call, or on chunks whose
/// results merge exactly into the answer `lm` gives on all rows.
///
/// Cancelling the calling task interrupts the running R job and throws `CancellationError`.
public enum LinearModel {
    /// Checks that `formula` is exactly one R formula (`y ~ x1; system("…")` is refused before
    /// anything runs) and returns it as R deparses it.
    public static func checkFormula(_ formula: String) async throws -> String {
        do {
            return try await RRuntime.shared().withSession { session in
                let value = try session.read(try LinearModelR.call("check_formula", [try session.makeStrings([formula])],
                                                                  in: session, purpose: "checking the formula"))
                guard case .character(let text) = value.unstructured, let first = text.first, let first else {
                    throw RError.conversion("the formula check returned \(value.typeName)")
                }
                return first
            }
        } catch let error as RError {
            throw LinearModelError.invalidFormula(formula: formula, reason: error.userMessage)
        }
    }

    /// `lm` on all rows of `table` in this process's R, with `summary.lm`'s numbers.
    /// `label` names the data in the printed call.
    public static func fit(_ table: ArrowTable, _ specification: LinearModelSpecification,
                           label: String = "data") async throws -> LinearModelFit {
        _ = try await checkFormula(specification.formula)
        return try await wholeFit(specification, label: label) { session in try session.dataFrame(from: table) }
    }

    /// `lm` on the R data frame `rExpression` evaluates to (e.g. `"mtcars"`).
    public static func fit(rData rExpression: String, _ specification: LinearModelSpecification) async throws -> LinearModelFit {
        _ = try await checkFormula(specification.formula)
        return try await wholeFit(specification, label: rExpression) { session in
            try session.evaluateText(rExpression, purpose: "evaluating \(rExpression)")
        }
    }

    private static func wholeFit(_ specification: LinearModelSpecification, label: String,
                                 data: @escaping @Sendable (RSession) throws -> SEXP) async throws -> LinearModelFit {
        do {
            return try await RRuntime.shared().withSession { session in
                let frame = try data(session)
                try checkSize(frame, formula: specification.formula, session: session)
                let value = try session.read(try LinearModelR.call("fit_whole", [
                    frame, try session.makeStrings([specification.formula]),
                    try LinearModelChunkWork.optionalString(specification.weights, session),
                    try LinearModelChunkWork.optionalString(specification.offset, session),
                    try session.makeStrings([label])], in: session, purpose: "fitting lm"))
                return try LinearModelFit(decoding: value, formula: specification.formula, combine: nil, chunks: 1,
                                          summary: try RFields(value).strings("text").first ?? "")
            }
        } catch let error as RError {
            throw LinearModelError.fitFailed(message: error.userMessage)
        }
    }

    /// Refuses a whole fit whose model matrix would not fit in memory: `lm` holds the matrix
    /// and its QR (about 2.5 × rows × columns × 8 bytes at its peak), and a `~ .` over a text
    /// column of thousands of values would otherwise grow for minutes until the kernel ends it.
    /// The limit is the memory available now (`MemAvailable`), or `POLYBRIDGE_MEMORY_LIMIT`
    /// (bytes, or with a K, M or G suffix).
    static func checkSize(_ frame: SEXP, formula: String, session: RSession) throws {
        let size = try RFields(session.read(try LinearModelR.call("model_size", [frame, try session.makeStrings([formula])],
                                                                   in: session, purpose: "sizing the model matrix")))
        let rows = try size.double("rows"), columns = try size.double("columns")
        guard columns.isFinite, let limit = MemoryLimit.bytes() else { return }
        let needed = 2.5 * rows * columns * 8
        guard needed > Double(limit) else { return }
        let biggest = try size.strings("biggest").first ?? ""
        throw LinearModelError.modelTooLarge(rows: Int(rows), columns: Int(columns), bytes: needed, limit: limit,
                                             column: biggest, levels: Int(try size.double("levels")))
    }

    /// The number of model-matrix columns of `shape` (from a chunk's levels step) with
    /// `levels`, as R's `model.matrix` counts them; nil when R cannot tell.
    static func modelColumnCount(_ shape: ModelShape, levels: [String: [String]]) async throws -> Int? {
        try await coordinatorStep { session -> Int? in
            let names = levels.keys.sorted()
            let widths = shape.widths.keys.sorted()
            let value = try session.read(try LinearModelR.call("model_columns", [
                try session.makeStrings([shape.formula]),
                try session.make(.list(names.map { .character(levels[$0]!) }, names: names)),
                try session.make(.list(widths.map { .integer([Int32(clamping: shape.widths[$0]!)]) }, names: widths))],
                in: session, purpose: "counting the model matrix's columns"))
            guard case .integer(let counts) = value.unstructured, let count = counts.first ?? nil else { return nil }
            return Int(count)
        }
    }

    /// Refuses a chunked fit whose chunks would not fit in memory, before any chunk builds its
    /// model matrix: `shape` (from the first chunk) and the global `levels` give the number of
    /// model-matrix columns p exactly as `lm` counts them (at least, when `levelsComplete` is
    /// false and `levels` are the first chunk's). A chunk through R holds its model
    /// matrix and QR (about 2.5 × rows × p × 8 bytes) and a native chunk 256-row blocks and
    /// its factor; as many chunks are built at once as there are processors, and the
    /// coordinator holds every chunk's (p+1)² factor as received and decoded. The limit is
    /// that of ``checkSize(_:formula:session:)``.
    static func checkChunkedSize(_ shape: ModelShape, levels: [String: [String]], _ specification: LinearModelSpecification,
                                 chunks: [Range<Int>], levelsComplete: Bool) async throws {
        guard let limit = MemoryLimit.bytes(), let columns = try await modelColumnCount(shape, levels: levels) else { return }
        let p = Double(columns), rows = Double(chunks.map(\.count).max() ?? 0)
        let factorBytes = (p + 1) * (p + 1) * 8
        let native = try await LinearModelChunkWork.nativePlan(specification) != nil
        let perChunk = native ? 256 * p * 8 + 2 * factorBytes : 2.5 * rows * p * 8 + factorBytes
        let atOnce = min(chunks.count, max(1, ProcessInfo.processInfo.activeProcessorCount))
        let needed = Double(atOnce) * perChunk + 2.5 * Double(chunks.count) * factorBytes
        guard needed > Double(limit) else { return }
        // The variable with the most levels (an interaction's parts are entries of their own).
        let biggest = levels.filter { !$0.key.contains("\u{1f}") }.max { $0.value.count < $1.value.count }
        throw LinearModelError.chunkedModelTooLarge(chunkRows: Int(rows), chunks: chunks.count, atOnce: atOnce, columns: columns,
                                                    columnsAtLeast: !levelsComplete, bytes: needed, limit: limit, column: biggest?.key ?? "",
                                                    levels: biggest?.value.count ?? 0)
    }

    /// The rows of each of `count` nearly equal chunks of `rowCount` rows.
    public static func chunkRanges(rowCount: Int, count: Int) -> [Range<Int>] {
        let chunks = max(1, min(count, max(rowCount, 1)))
        return (0..<chunks).map { index in (rowCount * index / chunks)..<(rowCount * (index + 1) / chunks) }
    }

    /// Consecutive chunks of `rowsPerChunk` rows (the last may be shorter).
    public static func chunkRanges(rowCount: Int, rowsPerChunk: Int) -> [Range<Int>] {
        let size = max(1, rowsPerChunk)
        guard rowCount > 0 else { return [0..<0] }
        return stride(from: 0, to: rowCount, by: size).map { $0..<min($0 + size, rowCount) }
    }

    /// One chunk per row group (or record batch) of the given sizes, skipping empty ones.
    public static func chunkRanges(rowGroups sizes: [Int]) -> [Range<Int>] {
        var start = 0
        let ranges = sizes.compactMap { size -> Range<Int>? in
            defer { start += size }
            return size > 0 ? start..<(start + size) : nil
        }
        return ranges.isEmpty ? [0..<0] : ranges
    }

    /// Row ranges along row groups (or Arrow IPC record batches) of `sizes` rows, consecutive
    /// groups joined until a chunk holds `minimumRows` rows, or fewer when that leaves fewer than
    /// `atLeast` chunks (about a total / `atLeast` share each then): small row groups (a file
    /// written batch by batch) make no flood of tiny chunks, and no chunk reads a row group
    /// twice. A remainder under half a chunk joins the chunk before it.
    public static func chunkRanges(rowGroups sizes: [Int], minimumRows: Int, atLeast: Int) -> [Range<Int>] {
        let total = sizes.reduce(0, +)
        let target = max(1, min(minimumRows, total / max(1, atLeast)))
        var ranges: [Range<Int>] = []
        var start = 0, end = 0
        for size in sizes {
            end += size
            if end - start >= target {
                ranges.append(start..<end)
                start = end
            }
        }
        if end > start {
            if let last = ranges.last, (end - start) * 2 < target {
                ranges[ranges.count - 1] = last.lowerBound..<end
            } else {
                ranges.append(start..<end)
            }
        }
        return ranges.isEmpty ? [0..<0] : ranges
    }

    /// Fits `specification` on `data` split into the row ranges `chunks`, each chunk a task run
    /// by `executor`, merged by `combine`. The exact combine equals `lm` on all rows: factor
    /// levels are fixed for the whole data first (in the rows `lm` keeps, in the order `lm`
    /// would use), each chunk returns the R factor of a QR of its weighted model matrix and
    /// response, and the stacked factors are fitted by `lm.fit` (LINPACK `dqrdc2`, tol 1e-7),
    /// so the rank decision and aliased coefficients are `lm`'s. A chunk computes each term from
    /// its own rows, so the formula may call only functions known to be row-wise (arithmetic,
    /// comparisons, elementwise math, `I`, `factor`, `interaction`, `offset`, `pmin`/`pmax`,
    /// `ifelse`); any other (`min(y)`, `x[1]`, `poly()`) is refused by name. The average combine averages the
    /// chunks' own fits and is labelled approximate.
    /// `progress`, when given, is called after each chunk task completes (on one task at a
    /// time, in completion order).
    public static func fitChunked(_ data: ChunkData, rowCount: Int, chunks: [Range<Int>],
                                  _ specification: LinearModelSpecification, combine: LinearModelCombine = .exact,
                                  executor: any ChunkExecutor = InProcessExecutor(), label: String = "data",
                                  progress: (@Sendable (LinearModelProgress) -> Void)? = nil) async throws -> LinearModelFit {
        let formula = try await checkFormula(specification.formula)
        guard !chunks.isEmpty else { throw LinearModelError.nothingToFit("no chunks to fit") }
        // Workers read the file themselves, chunk by chunk: they check it is still the file it
        // was now (a URL is left to its store).
        let data: ChunkData = if case .file(let path, nil) = data, !path.contains("://") {
            .file(path: path, identity: try FileIdentity.pin(path))
        } else {
            data
        }
        let passes = combine == .exact ? 2 : 1
        // Rows a worker keeps for a third pass are this fit's; keeping them lets go of another fit's.
        let fitID = UUID().uuidString
        func tasks(_ step: LinearModelChunkTask.Step) -> [LinearModelChunkTask] {
            chunks.enumerated().map { LinearModelChunkTask(chunk: $0.offset + 1, rows: $0.element, step: step, specification: specification, fit: fitID) }
        }
        func runAll(_ tasks: [LinearModelChunkTask], pass: Int) async throws -> [LinearModelChunkResult] {
            try await LinearModel.runAll(tasks, data: data, executor: executor) { done, rows in
                progress?(LinearModelProgress(pass: pass, passCount: max(passes, pass), step: tasks[0].step.name, chunksDone: done,
                                              chunkCount: tasks.count, rowsDone: rows, rowCount: rowCount))
            }
        }
        let function = try await notRowWise(specification.formula, alsoAllowed: specification.rowWiseFunctions)
        if !function.isEmpty { throw LinearModelError.notRowWise(formula: specification.formula, function: function) }
        switch combine {
        case .average:
            let fits = try await runAll(tasks(.fit), pass: 1).map { result -> LinearModelFit in
                guard case .fit(let fit) = result else { throw LinearModelError.inconsistentChunks("a chunk returned \(result) for a fit") }
                return fit
            }
            return try average(fits, formula: formula, label: label)
        case .exact:
            // Pass 1 reads one chunk for a guess at the global levels; pass 2 reads every chunk
            // once for both its levels and its factor under the guess. The guess stands when the
            // merged levels equal it (the usual case: every chunk holds every level); otherwise
            // a third pass factors every chunk with the merged levels.
            let first = try await runAll([tasks(.levels)[0]], pass: 1).map { result -> ChunkLevels in
                guard case .levels(let levels) = result else { throw LinearModelError.inconsistentChunks("a chunk returned \(result) for its levels") }
                return levels
            }
            let guess = try await mergeLevels(first)
            let shape = first[0].shape ?? ModelShape(formula: specification.formula, widths: [:])
            try await checkChunkedSize(shape, levels: guess, specification, chunks: chunks, levelsComplete: false)
            var levels: [ChunkLevels] = []
            var guessed: [ChunkFactor?] = []
            for result in try await runAll(tasks(.levelsAndFactor(guess: guess)), pass: 2) {
                guard case .levelsAndFactor(let chunkLevels, let factor) = result else {
                    throw LinearModelError.inconsistentChunks("a chunk returned \(result) for its levels and factor")
                }
                levels.append(chunkLevels)
                guessed.append(factor)
            }
            let global = try await mergeLevels(levels)
            var factors = guessed.compactMap { $0 }
            if factors.count != guessed.count || !sameLevels(global, guess) {
                if !sameLevels(global, guess) { try await checkChunkedSize(shape, levels: global, specification, chunks: chunks, levelsComplete: true) }
                factors = try await runAll(tasks(.factor(levels: global)), pass: 3).map { result -> ChunkFactor in
                    guard case .factor(let factor) = result else { throw LinearModelError.inconsistentChunks("a chunk returned \(result) for its factor") }
                    return factor
                }
            }
            return try await combineExact(factors, specification: specification, label: label)
        }
    }

    /// `fitChunked` on a table split into `count` chunks.
    public static func fitChunked(_ table: ArrowTable, chunks count: Int, _ specification: LinearModelSpecification,
                                  combine: LinearModelCombine = .exact, executor: any ChunkExecutor = InProcessExecutor(),
                                  label: String = "data") async throws -> LinearModelFit {
        try await fitChunked(.table(table), rowCount: table.rowCount,
                             chunks: chunkRanges(rowCount: table.rowCount, count: count),
                             specification, combine: combine, executor: executor, label: label)
    }

    /// Runs every task, stopping at the first failure; returns the results in task order and
    /// calls `completed(chunks done, rows done)` as each finishes.
    private static func runAll(_ tasks: [LinearModelChunkTask], data: ChunkData, executor: any ChunkExecutor,
                               completed: (Int, Int) -> Void) async throws -> [LinearModelChunkResult] {
        try await withThrowingTaskGroup(of: (Int, LinearModelChunkResult).self) { group in
            for (index, task) in tasks.enumerated() {
                group.addTask { (index, try await executor.run(task, data: data)) }
            }
            var results = [LinearModelChunkResult?](repeating: nil, count: tasks.count)
            var done = 0, rows = 0
            for try await (index, result) in group {
                results[index] = result
                done += 1
                rows += tasks[index].rows.count
                completed(done, rows)
            }
            return results.map { $0! }
        }
    }

    /// The first function `formula` calls that is not known to be row-wise, or "".
    static func notRowWise(_ formula: String, alsoAllowed: [String]) async throws -> String {
        try await RRuntime.shared().withSession { session in
            let value = try session.read(try LinearModelR.call("not_rowwise", [try session.makeStrings([formula]),
                                                                               try session.makeStrings(alsoAllowed)],
                                                              in: session, purpose: "checking the formula's terms"))
            guard case .character(let names) = value.unstructured else { return "" }
            return names.first.flatMap { $0 } ?? ""
        }
    }

    /// Whether two level sets are the same, level for level, compared as bytes.
    static func sameLevels(_ a: [String: [String]], _ b: [String: [String]]) -> Bool {
        a.count == b.count && a.allSatisfy { name, levels in
            b[name].map { $0.map { Array($0.utf8) } == levels.map { Array($0.utf8) } } ?? false
        }
    }

    static func mergeLevels(_ levels: [ChunkLevels]) async throws -> [String: [String]] {
        try await coordinatorStep { session in
            let parts = try session.make(.list(levels.map { chunk in
                .list([.character(chunk.names), .list(chunk.full.map { .character($0) }),
                       .list(chunk.present.map { .character($0) }), .character(chunk.order.map(\.rawValue))],
                      names: ["names", "full", "present", "order"])
            }))
            let value = try session.read(try LinearModelR.call("merge_levels", [parts], in: session, purpose: "merging levels"))
            guard case .list(let items, let names) = value.unstructured else { return [:] }
            var merged: [String: [String]] = [:]
            for (item, name) in zip(items, names ?? []) {
                if let name { merged[name] = try LinearModelChunkWork.strings(item) }
            }
            return merged
        }
    }

    private static func combineExact(_ factors: [ChunkFactor], specification: LinearModelSpecification,
                                     label: String) async throws -> LinearModelFit {
        guard let first = factors.first, factors.allSatisfy({ $0.columns == first.columns }) else {
            throw LinearModelError.inconsistentChunks("the chunks' model matrices have different columns")
        }
        let chunkCount = factors.count
        let factors = [merged(first, Array(factors.dropFirst()))]
        return try await coordinatorStep { session in
            let parts = try session.make(.list(factors.map { factor in
                .list([.double(factor.r), .double([Double(factor.rows)]), .character(factor.columns),
                       .double([Double(factor.kept)]), .double([Double(factor.used)]), .double([Double(factor.dropped)]),
                       .logical([factor.intercept]), .double(factor.offsetSums)],
                      names: ["r", "rows", "columns", "kept", "used", "dropped", "intercept", "offset_sums"])
            }))
            let statistics = try LinearModelR.call("combine_exact", [parts], in: session, purpose: "combining the chunks")
            let note = "not kept by a chunked fit (\(chunkCount) chunk\(chunkCount == 1 ? "" : "s"), exact combine: the numbers below are lm's)"
            let text = try session.read(try LinearModelR.call("chunked_text", [
                statistics, try session.makeStrings([specification.formula]), try session.makeStrings([label]),
                try session.makeStrings([note])], in: session, purpose: "printing the summary"))
            guard case .character(let lines) = text.unstructured else { throw RError.conversion("the summary is not text") }
            return try LinearModelFit(decoding: try session.read(statistics), formula: specification.formula,
                                      combine: .exact, chunks: chunkCount, summary: lines.first.flatMap { $0 } ?? "")
        }
    }

    /// The chunks' factors as one: each absorbed into a single triangular factor, whose Gram
    /// matrix is theirs stacked (and so the data's), with the counts and offset sums added up.
    /// The combine then fits p + 1 rows, not p + 1 per chunk: a model of 1,000 coefficients over
    /// 100 row groups would otherwise stack 100,000 rows of 1,000 columns.
    static func merged(_ first: ChunkFactor, _ rest: [ChunkFactor]) -> ChunkFactor {
        guard !rest.isEmpty else { return first }
        var result = first
        let factors = [first] + rest
        var triangle = TriangularFactor(columns: result.columns.count + 1)
        for factor in factors where factor.rows > 0 {
            var block = factor.r
            block.withUnsafeMutableBufferPointer { triangle.absorb(block: $0.baseAddress!, rowCount: factor.rows, stride: factor.rows) }
        }
        (result.r, result.rows) = triangle.factor
        result.kept = factors.reduce(0) { $0 + $1.kept }
        result.used = factors.reduce(0) { $0 + $1.used }
        result.dropped = factors.reduce(0) { $0 + $1.dropped }
        if !result.offsetSums.isEmpty {
            result.offsetSums = factors.dropFirst().reduce(result.offsetSums) { sums, factor in zip(sums, factor.offsetSums).map(+) }
        }
        return result
    }

    /// The common recipe: the mean of the chunks' estimates, standard errors and R², labelled
    /// approximate. It is not the least-squares answer. Each coefficient is averaged over the
    /// chunks that estimate it (sorted data leaves factor levels out of whole chunks), and the
    /// text says how many did.
    private static func average(_ fits: [LinearModelFit], formula: String, label: String) throws -> LinearModelFit {
        guard let first = fits.first else { throw LinearModelError.nothingToFit("no chunk fits to average") }
        var names: [String] = []
        var estimates: [String: [(estimate: Double, standardError: Double)]] = [:]
        for fit in fits {
            for coefficient in fit.coefficients where coefficient.estimate.isFinite {
                if estimates[coefficient.name] == nil { names.append(coefficient.name) }
                estimates[coefficient.name, default: []].append((coefficient.estimate, coefficient.standardError))
            }
        }
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        var averaged = first
        averaged.coefficients = names.map { name in
            let values = estimates[name]!
            let estimate = mean(values.map(\.estimate)), se = mean(values.map(\.standardError))
            return LinearModelFit.Coefficient(name: name, estimate: estimate, standardError: se,
                                              tValue: estimate / se, pValue: .nan, chunks: values.count)
        }
        averaged.aliased = Array(Set(fits.flatMap(\.aliased)).subtracting(names)).sorted()
        averaged.rSquared = mean(fits.map(\.rSquared))
        averaged.adjustedRSquared = mean(fits.map(\.adjustedRSquared))
        averaged.residualStandardError = mean(fits.map(\.residualStandardError))
        averaged.rowsUsed = fits.reduce(0) { $0 + $1.rowsUsed }
        averaged.rowsDroppedForNA = fits.reduce(0) { $0 + $1.rowsDroppedForNA }
        averaged.residualDF = fits.reduce(0) { $0 + $1.residualDF }
        averaged.rank = names.count
        averaged.fStatistic = nil
        averaged.covariance = []
        averaged.combine = .average
        averaged.chunks = fits.count
        var text = "APPROXIMATE: the average of \(fits.count) chunk fits (lm(formula = \(formula), data = \(label)) per chunk); not the least-squares answer\n\n"
        text += "Coefficients (mean estimate, mean standard error, chunks that estimate it):\n"
        let width = max(names.map(\.count).max() ?? 0, 11)
        for coefficient in averaged.coefficients {
            text += coefficient.name.padding(toLength: width, withPad: " ", startingAt: 0)
                + String(format: "  %12.6g  %12.6g  %d of %d\n", coefficient.estimate, coefficient.standardError, coefficient.chunks ?? 0, fits.count)
        }
        text += String(format: "\nMean residual standard error: %.4g; mean R-squared: %.4g (APPROXIMATE)", averaged.residualStandardError, averaged.rSquared)
        averaged.summary = text
        return averaged
    }

    /// Writes a PNG coefficient plot of `fit` to `path`: each estimate with its 95% confidence
    /// interval (t on the residual degrees of freedom), drawn by R's png device, which needs no
    /// display. An approximate (averaged) fit says so in the title. The file is written by
    /// ``OutputFile``'s policy, as every output is: it appears whole or not at all (R draws into
    /// a temporary file beside it), a symlink is written through, and a device, pipe or socket
    /// is refused (``DataFileError/unwritable(file:detail:)`` naming `path`).
    public static func plotCoefficients(_ fit: LinearModelFit, to path: String) async throws {
        let title = (fit.isApproximate ? "APPROXIMATE (average of \(fit.chunks) chunk fits): " : "") + "lm(\(fit.formula))"
        try await plotCoefficients(names: fit.coefficients.map(\.name), estimates: fit.coefficients.map(\.estimate),
                                   standardErrors: fit.coefficients.map(\.standardError), df: Double(fit.residualDF),
                                   title: title, to: path)
    }

    /// The coefficient plot of any fit: 95% intervals from t with `df` degrees of freedom, or
    /// from the normal distribution when `df` is infinite.
    static func plotCoefficients(names: [String], estimates: [Double], standardErrors: [Double], df: Double,
                                 title: String, to path: String) async throws {
        do {
            try await OutputFile.make(path) { temporary in
                try await coordinatorStep { session in
                    _ = try LinearModelR.call("plot_coefficients", [
                        try session.makeStrings([temporary]), try session.makeStrings(names),
                        try session.make(.double(estimates)), try session.make(.double(standardErrors)),
                        try session.make(.double([df])), try session.makeStrings([title])],
                        in: session, purpose: "plotting the coefficients")
                }
            }
        } catch LinearModelError.fitFailed(let message) {
            throw LinearModelError.plotUnwritable(path: path, detail: message)
        }
    }

    /// Runs a coordinator step on this process's R, mapping R errors to fit errors.
    static func coordinatorStep<T: Sendable>(_ body: @escaping @Sendable (RSession) throws -> T) async throws -> T {
        do {
            return try await RRuntime.shared().withSession(body)
        } catch let error as RError {
            throw LinearModelError.fitFailed(message: error.userMessage)
        }
    }
}
