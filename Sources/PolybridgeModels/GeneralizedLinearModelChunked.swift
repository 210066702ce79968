import Foundation
import PolybridgeJobs
import PolybridgeRuntime

extension GeneralizedLinearModel {
    /// Fits `specification` on the rows of the data file at `path`, split into `chunks`, with
    /// the jobs run by `executor` (a pool of worker processes, Ray or Dask, or this process):
    /// R's `glm.fit` iterated over the chunks, with the answer `glm` gives on all rows.
    ///
    /// Each chunk is read once and kept where it was read (its model matrix, response,
    /// weights and offset after the family's initialize). Each iteration sends the
    /// coefficients to every chunk, which returns its deviance and the triangular factor of
    /// √W [X | z]; the factors are stacked and solved as `glm.fit` solves (`Cdqrls`, with its
    /// tolerance), so rank and aliasing are R's. Step-halving, convergence, the warnings, the
    /// null deviance (by a second IRLS of the intercept alone when there is an offset), the
    /// AIC and the dispersion follow `glm` and `summary.glm`; the printed summary has the
    /// deviance residuals' exact quantiles (when R prints every residual instead, at 5 residual
    /// df or fewer, a note stands there). `chunkState` says where the chunks keep their
    /// state between rounds. `progress` is called after each round of chunk jobs.
    public static func fitChunked(file path: String, identity: FileIdentity? = nil, rowCount: Int, chunks: [Range<Int>],
                                  _ specification: GeneralizedLinearModelSpecification, executor: any JobExecutor,
                                  chunkState: ChunkStatePlacement = .automatic,
                                  label: String = "data", progress: (@Sendable (LinearModelProgress) -> Void)? = nil) async throws
        -> GeneralizedLinearModelFit {
        try checkControl(specification)
        try await checkFormula(specification.formula)
        try await checkFamily(specification.family, link: specification.link)
        guard !chunks.isEmpty else { throw LinearModelError.nothingToFit("no chunks to fit") }
        // cbind(successes, failures) binds each row's two counts.
        let function = try await LinearModel.notRowWise(specification.formula, alsoAllowed: specification.rowWiseFunctions + ["cbind"])
        if !function.isEmpty { throw LinearModelError.notRowWise(formula: specification.formula, function: function) }
        let identity = try identity ?? (path.contains("://") ? nil : FileIdentity.pin(path))
        var fit = ChunkedGLM(path: path, identity: identity, chunks: chunks, specification: specification, executor: executor,
                             rowCount: rowCount, placement: chunkState, progress: progress)
        return try await fit.run(label: label)
    }

    /// Checks that `formula` is exactly one R formula, `response ~ terms` (the response may be
    /// `cbind(successes, failures)`), before anything runs.
    static func checkFormula(_ formula: String) async throws {
        do {
            try await RRuntime.shared().withSession { session in
                _ = try call("check_formula", [try session.makeStrings([formula])], in: session)
            }
        } catch let error as RError {
            throw LinearModelError.invalidFormula(formula: formula, reason: error.userMessage)
        }
    }

    static func checkControl(_ specification: GeneralizedLinearModelSpecification) throws {
        guard specification.epsilon > 0, specification.epsilon.isFinite else {
            throw LinearModelError.glmFailed(message: "epsilon must be a positive number (got \(specification.epsilon))")
        }
        guard specification.maxit >= 1 else {
            throw LinearModelError.glmFailed(message: "maxit must be at least 1 (got \(specification.maxit))")
        }
    }
}

/// One chunked glm: the coordinator's side of the IRLS rounds.
private struct ChunkedGLM {
    let path: String
    let identity: FileIdentity?
    let chunks: [Range<Int>]
    let specification: GeneralizedLinearModelSpecification
    let executor: any JobExecutor
    let rowCount: Int
    let placement: ChunkStatePlacement
    let progress: (@Sendable (LinearModelProgress) -> Void)?
    let fitID = UUID().uuidString
    private var roundsRun = 0
    private var warnings: [String] = []
    /// Whether the chunks keep their state on disk (decided once the first chunk's levels are known).
    private var onDisk = false

    init(path: String, identity: FileIdentity?, chunks: [Range<Int>], specification: GeneralizedLinearModelSpecification,
         executor: any JobExecutor, rowCount: Int, placement: ChunkStatePlacement, progress: (@Sendable (LinearModelProgress) -> Void)?) {
        (self.path, self.identity, self.chunks, self.specification) = (path, identity, chunks, specification)
        (self.executor, self.rowCount, self.placement, self.progress) = (executor, rowCount, placement, progress)
    }

    /// Whether the chunks' state goes on disk: as asked, or, automatically, when all chunks'
    /// state (the model matrix's columns and six more vectors, 8 bytes each a row) would take
    /// more than half the memory limit. The columns are counted from the first chunk's levels.
    private func keepsStateOnDisk(first: ChunkLevels, levels: [String: [String]]) async throws -> Bool {
        switch placement {
        case .memory: return false
        case .disk: return true
        case .automatic:
            // Levels found in Swift come without R's shape: every variable is then a bare
            // column, one model-matrix column unless a factor.
            let shape = first.shape ?? ModelShape(formula: specification.formula, widths: [:])
            guard let limit = MemoryLimit.bytes(), let columns = try await LinearModel.modelColumnCount(shape, levels: levels) else { return false }
            let rows = chunks.map(\.count).reduce(0, +)
            return Double(rows) * Double(columns + 6) * 8 > Double(limit) / 2
        }
    }

    /// Runs `step` on each of `indices`' chunks at once; the outputs in chunk order.
    private mutating func each(_ indices: [Int], step: String, _ make: @escaping @Sendable (Int) -> GeneralizedLinearModelChunkJob.Step)
        async throws -> [GeneralizedLinearModelChunkOutput] {
        roundsRun += 1
        let (chunks, path, identity, specification, fitID, executor) = (chunks, path, identity, specification, fitID, executor)
        let (pass, progress, rowCount) = (roundsRun, progress, rowCount)
        return try await withThrowingTaskGroup(of: (Int, GeneralizedLinearModelChunkOutput).self) { group in
            for index in indices {
                group.addTask {
                    let job = GeneralizedLinearModelChunkJob(chunk: index + 1, rows: chunks[index], path: path, identity: identity,
                                                             specification: specification, fit: fitID, step: make(index))
                    do {
                        return (index, try await executor.run(job))
                    } catch let error as JobError {
                        throw LinearModelError.chunkFailed(chunk: index + 1, firstRow: chunks[index].lowerBound + 1,
                                                           lastRow: chunks[index].upperBound, message: error.message)
                    }
                }
            }
            var outputs = [GeneralizedLinearModelChunkOutput?](repeating: nil, count: chunks.count)
            var done = 0, rows = 0
            for try await (index, output) in group {
                outputs[index] = output
                done += 1
                rows += chunks[index].count
                progress?(LinearModelProgress(pass: pass, passCount: 0, step: step, chunksDone: done, chunkCount: indices.count,
                                              rowsDone: rows, rowCount: rowCount))
            }
            return indices.map { outputs[$0]! }
        }
    }

    /// The chunks' IRLS state, built with the whole data's levels: the first chunk's levels
    /// are a guess that each chunk checks as it is read once; when the merged levels differ
    /// (a level the first chunk lacks), every chunk is built again with them.
    private mutating func prepare() async throws -> [GeneralizedLinearModelPrepared] {
        let all = Array(chunks.indices)
        guard case .levels(let first) = try await each([0], step: "levels", { _ in .levels })[0] else {
            throw LinearModelError.inconsistentChunks("the first chunk returned no levels")
        }
        let guess = try await LinearModel.mergeLevels([first])
        let onDisk = try await keepsStateOnDisk(first: first, levels: guess)
        self.onDisk = onDisk
        var levels: [ChunkLevels] = [], prepared: [GeneralizedLinearModelPrepared?] = []
        for output in try await each(all, step: "read", { _ in .prepare(levels: guess, guess: true, onDisk: onDisk) }) {
            guard case .prepared(let chunkLevels?, let chunkPrepared) = output else {
                throw LinearModelError.inconsistentChunks("a chunk returned \(output) for its levels")
            }
            levels.append(chunkLevels)
            prepared.append(chunkPrepared)
        }
        let global = try await LinearModel.mergeLevels(levels)
        if LinearModel.sameLevels(global, guess), prepared.allSatisfy({ $0 != nil }) { return prepared.map { $0! } }
        return try await each(all, step: "read", { _ in .prepare(levels: global, guess: false, onDisk: onDisk) }).map { output in
            guard case .prepared(_, let chunkPrepared?) = output else {
                throw LinearModelError.inconsistentChunks("a chunk returned \(output) when it was built")
            }
            return chunkPrepared
        }
    }

    /// A round at `beta` on every chunk.
    private mutating func round(_ beta: [Double]?, columns: [Int]?, fitted: [Double]? = nil, factor: Bool) async throws
        -> [GeneralizedLinearModelRoundResult] {
        let request = GeneralizedLinearModelRound(beta: beta, columns: columns, fitted: fitted, factor: factor)
        return try await each(Array(chunks.indices), step: "iteration", { _ in .round(request) }).map { output in
            guard case .round(let result) = output else { throw LinearModelError.inconsistentChunks("a chunk returned \(output) for a round") }
            return result
        }
    }

    /// What an IRLS run ends with.
    struct IRLS {
        var beta: [Double]
        var deviance: Double
        var iterations: Int
        var converged: Bool
        var boundary: Bool
        /// The last solve: its rank, pivot, R, and the coefficients its weights came from.
        var solve: Solve?
        var weightsBeta: [Double]?
    }

    struct Solve {
        var beta: [Double]
        var rank: Int
        var pivot: [Int]
        var qr: [Double]
        var qrRows: Int
    }

    /// glm.fit's loop on model columns `columns` (nil: all `p`), from the first round `first`
    /// (at the starting means; `fitted` says which).
    private mutating func irls(p: Int, columns: [Int]?, fitted: [Double]?, first: [GeneralizedLinearModelRoundResult],
                               rows: Int) async throws -> IRLS {
        let epsilon = specification.epsilon, maxit = specification.maxit
        guard first.allSatisfy(\.valid) else { throw LinearModelError.glmFailed(message: "cannot find valid starting values: please specify some") }
        var current = first
        var beta: [Double]? = nil
        var devold = current.map(\.deviance).reduce(0, +)
        var coefold: [Double]? = nil
        var result = IRLS(beta: [Double](repeating: 0, count: p), deviance: devold, iterations: 0, converged: false, boundary: false)
        let tolerance = min(1e-7, epsilon / 1000)
        for iteration in 1...maxit {
            result.iterations = iteration
            if let failed = current.first(where: { $0.factorError != nil })?.factorError { throw LinearModelError.glmFailed(message: failed) }
            if current.contains(where: { $0.factor == nil }) {
                current = try await round(beta, columns: columns, fitted: beta == nil ? fitted : nil, factor: true)
                if let failed = current.first(where: { $0.factorError != nil })?.factorError { throw LinearModelError.glmFailed(message: failed) }
            }
            if current.allSatisfy({ $0.good == 0 }) {
                result.converged = false
                warnings.append("no observations informative at iteration \(iteration)")
                break
            }
            let solve = try await Self.solve(current, p: p, tolerance: tolerance)
            if solve.beta.contains(where: { !$0.isFinite }) {
                result.converged = false
                warnings.append("non-finite coefficients at iteration \(iteration)")
                break
            }
            if rows < solve.rank {
                throw LinearModelError.glmFailed(message: "X matrix has rank \(solve.rank), but only \(rows) observation" + (rows == 1 ? "" : "s"))
            }
            result.solve = solve
            result.weightsBeta = beta
            var start = solve.beta
            var next = try await round(start, columns: columns, factor: true)
            var dev = next.map(\.deviance).reduce(0, +)
            result.boundary = false
            if !dev.isFinite {
                guard let coefold else {
                    throw LinearModelError.glmFailed(message: "no valid set of coefficients has been found: please supply starting values")
                }
                warnings.append("step size truncated due to divergence")
                var ii = 1
                while !dev.isFinite {
                    if ii > maxit { throw LinearModelError.glmFailed(message: "inner loop 1; cannot correct step size") }
                    ii += 1
                    start = zip(start, coefold).map { ($0 + $1) / 2 }
                    next = try await round(start, columns: columns, factor: false)
                    dev = next.map(\.deviance).reduce(0, +)
                }
                result.boundary = true
            }
            if !next.allSatisfy(\.valid) {
                guard let coefold else {
                    throw LinearModelError.glmFailed(message: "no valid set of coefficients has been found: please supply starting values")
                }
                warnings.append("step size truncated: out of bounds")
                var ii = 1
                while !next.allSatisfy(\.valid) {
                    if ii > maxit { throw LinearModelError.glmFailed(message: "inner loop 2; cannot correct step size") }
                    ii += 1
                    start = zip(start, coefold).map { ($0 + $1) / 2 }
                    next = try await round(start, columns: columns, factor: false)
                }
                result.boundary = true
                dev = next.map(\.deviance).reduce(0, +)
            }
            current = next
            beta = start
            result.beta = start
            result.deviance = dev
            if abs(dev - devold) / (0.1 + abs(dev)) < epsilon {
                result.converged = true
                break
            }
            devold = dev
            coefold = start
        }
        return result
    }

    /// The stacked factors solved as glm.fit solves, in the coordinator's R.
    private static func solve(_ parts: [GeneralizedLinearModelRoundResult], p: Int, tolerance: Double) async throws -> Solve {
        try await LinearModel.coordinatorStep { session in
            let list = try session.make(.list(parts.map { part in
                .list([.double(part.factor?.values ?? []), .integer([Int32(part.factorRows)])], names: ["r", "rows"])
            }))
            let value = try session.read(try GeneralizedLinearModel.call("solve_stacked", [
                list, try session.make(.integer([Int32(p)])), try session.make(.double([tolerance]))], in: session))
            let fields = try RFields(value)
            return Solve(beta: try fields.doubles("beta"), rank: Int(try fields.double("rank")),
                         pivot: try fields.doubles("pivot").map { Int($0) }, qr: try fields.doubles("qr"),
                         qrRows: Int(try fields.double("qr_rows")))
        }
    }

    /// The final sums on every chunk.
    private mutating func final(_ request: GeneralizedLinearModelFinalRequest) async throws -> [GeneralizedLinearModelChunkFinal] {
        try await each(Array(chunks.indices), step: "summary", { _ in .final(request) }).map { output in
            guard case .final(let result) = output else { throw LinearModelError.inconsistentChunks("a chunk returned \(output) for its sums") }
            return result
        }
    }

    mutating func run(label: String) async throws -> GeneralizedLinearModelFit {
        let prepared = try await prepare()
        let columns = prepared[0].columns
        guard prepared.allSatisfy({ $0.columns == columns }) else {
            throw LinearModelError.inconsistentChunks("the chunks' model matrices have different columns")
        }
        for warning in prepared.flatMap(\.warnings) where !warnings.contains(warning) { warnings.append(warning) }
        let p = columns.count
        let rows = prepared.map(\.rows).reduce(0, +)
        let zero = prepared.map(\.zeroWeights).reduce(0, +)
        let weightSum = prepared.map(\.weightSum).reduce(0, +)
        let intercept = prepared[0].intercept, hasOffset = prepared.contains(where: \.offset)
        let anyTrials = prepared.contains(where: \.anyTrials)
        let family = try await familyNames()

        var main: IRLS
        if p == 0 {
            // glm.fit's empty model: the linear predictor is the offset, nothing iterates.
            let at = try await round([], columns: nil, factor: false)
            main = IRLS(beta: [], deviance: at.map(\.deviance).reduce(0, +), iterations: 0, converged: true, boundary: true,
                        weightsBeta: [])
        } else {
            main = try await irls(p: p, columns: nil, fitted: nil, first: prepared.map(\.first), rows: rows)
        }
        let rank = main.solve?.rank ?? 0
        let sums = try await final(GeneralizedLinearModelFinalRequest(
            beta: main.beta, columns: nil, weightsBeta: main.weightsBeta, weightsFitted: nil,
            weightedMean: intercept ? prepared.map(\.weightedResponse).reduce(0, +) / weightSum : nil,
            deviance: main.deviance, weightSum: weightSum, anyTrials: anyTrials, residualSample: Self.residualSample))
        if p > 0 { appendEndWarnings(main, sums: sums, family: family.name) }
        var nullDeviance = sums.map(\.nullDeviance).reduce(0, +)
        if hasOffset && intercept, let interceptColumn = columns.firstIndex(of: "(Intercept)") {
            // glm fits the intercept alone by IRLS too, from the full model's means.
            let first = try await round(nil, columns: [interceptColumn], fitted: main.beta, factor: true)
            let null = try await irls(p: 1, columns: [interceptColumn], fitted: main.beta, first: first, rows: rows)
            let nullSums = try await final(GeneralizedLinearModelFinalRequest(
                beta: null.beta, columns: [interceptColumn], weightsBeta: null.weightsBeta, weightsFitted: null.weightsBeta == nil ? main.beta : nil,
                weightedMean: nil, deviance: null.deviance, weightSum: weightSum, anyTrials: anyTrials))
            appendEndWarnings(null, sums: nullSums, family: family.name)
            if !null.converged { warnings.append("fitting to calculate the null deviance did not converge -- increase 'maxit'?") }
            nullDeviance = null.deviance
        }
        let nOK = rows - zero
        let dfNull = nOK - (intercept ? 1 : 0), dfResidual = nOK - rank
        let pearson = sums.map(\.pearson).reduce(0, +)
        let aicPart = sums.map(\.aic).reduce(0, +)
        let dropped = prepared.map(\.dropped).reduce(0, +)
        // summary.glm prints the deviance residuals' quantiles when the residual df exceed 5
        // (else every residual, by row name, which a chunked fit leaves out).
        let quantiles = dfResidual > 5 ? try await residualQuantiles(beta: main.beta, sums: sums) : []
        return try await summary(quantiles: quantiles, label: label, columns: columns, main: main, rank: rank, pearson: pearson, aicPart: aicPart,
                                 nullDeviance: nullDeviance, dfResidual: dfResidual, dfNull: dfNull, rows: rows, weightSum: weightSum,
                                 dropped: dropped)
    }

    /// How many sorted residuals each chunk samples for the quantiles' bounds.
    static let residualSample = 1024

    /// The deviance residuals' quantiles as R's `quantile` gives them (type 7, at 0, 1/4, 1/2,
    /// 3/4 and 1), exactly, from the chunks' samples and one more round: each order statistic
    /// needed lies between two bounds the samples give, and the chunks return their count at or
    /// below the lower bound and their residuals between the two.
    private mutating func residualQuantiles(beta: [Double], sums: [GeneralizedLinearModelChunkFinal]) async throws -> [Double] {
        let n = sums.map(\.residualCount).reduce(0, +)
        guard n > 0 else { return [] }
        let probabilities = [0, 0.25, 0.5, 0.75, 1]
        let positions = probabilities.map { 1 + Double(n - 1) * $0 }
        let ranks = Array(Set(positions.flatMap { [Int($0.rounded(.down)), Int($0.rounded(.up))] })).sorted()
        // Each chunk's sample: its sorted residuals at these 0-based positions.
        let samples = sums.map { sum -> [(position: Int, value: Double)] in
            guard sum.residualCount > 0 else { return [] }
            let step = max(1, (sum.residualCount + Self.residualSample - 1) / Self.residualSample)
            var at = Array(stride(from: 0, to: sum.residualCount, by: step))
            if (sum.residualCount - 1) % step != 0 { at.append(sum.residualCount - 1) }
            return Array(zip(at, sum.residualSample))
        }
        // At most (`high`) and at least (`low`) how many residuals are at or below `t`.
        func high(_ t: Double) -> Int {
            zip(samples, sums).map { sample, sum in sample.first { $0.value > t }?.position ?? sum.residualCount }.reduce(0, +)
        }
        func low(_ t: Double) -> Int {
            samples.map { sample in sample.last { $0.value <= t }.map { $0.position + 1 } ?? 0 }.reduce(0, +)
        }
        // Both counts grow with t: the bounds are found by bisection over the sampled values.
        let candidates = Array(Set(samples.flatMap { $0.map(\.value) })).sorted()
        let below = ranks.map { k -> Double in
            let end = candidates.partitioningIndex { high($0) >= k }
            return end > 0 ? candidates[end - 1] : -Double.greatestFiniteMagnitude
        }
        let above = ranks.map { k in candidates[Swift.min(candidates.partitioningIndex { low($0) >= k }, candidates.count - 1)] }
        let request = GeneralizedLinearModelResidualRequest(beta: beta, below: below, above: above)
        let parts = try await each(Array(chunks.indices), step: "summary", { _ in .residuals(request) }).map { output in
            guard case .residuals(let parts) = output else { throw LinearModelError.inconsistentChunks("a chunk returned \(output) for its residuals") }
            return parts
        }
        var order: [Int: Double] = [:]
        for (index, k) in ranks.enumerated() {
            let base = parts.map { $0[index].atOrBelow }.reduce(0, +)
            let between = parts.flatMap { $0[index].between }.sorted()
            guard k - base - 1 >= 0, k - base - 1 < between.count else {
                throw LinearModelError.inconsistentChunks("the residuals' order statistic \(k) is not between its bounds")
            }
            order[k] = between[k - base - 1]
        }
        // R's quantile, type 7.
        return positions.map { h in
            let lo = Int(h.rounded(.down)), hi = Int(h.rounded(.up))
            let (x, y) = (order[lo]!, order[hi]!)
            guard h > Double(lo), y != x else { return x }
            let fraction = h - Double(lo)
            return (1 - fraction) * x + fraction * y
        }
    }

    /// glm.fit's warnings once its loop ends.
    private mutating func appendEndWarnings(_ fit: IRLS, sums: [GeneralizedLinearModelChunkFinal], family: String) {
        if !fit.converged { warnings.append("glm.fit: algorithm did not converge") }
        if fit.boundary { warnings.append("glm.fit: algorithm stopped at boundary value") }
        if family == "binomial", sums.contains(where: \.extremeProbabilities) {
            warnings.append("glm.fit: fitted probabilities numerically 0 or 1 occurred")
        }
        if family == "poisson", sums.contains(where: \.zeroRates) { warnings.append("glm.fit: fitted rates numerically 0 occurred") }
    }

    private func familyNames() async throws -> (name: String, link: String) {
        let specification = specification
        return try await LinearModel.coordinatorStep { session in
            let value = try session.read(try GeneralizedLinearModel.call("family_names", [
                try session.makeStrings([specification.family]),
                try LinearModelChunkWork.optionalString(specification.link, session)], in: session))
            guard case .character(let names) = value.unstructured, names.count == 2 else { throw RError.conversion("no family names") }
            return (names[0] ?? "", names[1] ?? "")
        }
    }

    private func summary(quantiles: [Double], label: String, columns: [String], main: IRLS, rank: Int, pearson: Double, aicPart: Double, nullDeviance: Double,
                         dfResidual: Int, dfNull: Int, rows: Int, weightSum: Double, dropped: Int) async throws -> GeneralizedLinearModelFit {
        let (specification, warnings, onDisk) = (specification, warnings, onDisk)
        let solve = main.solve ?? Solve(beta: [], rank: 0, pivot: [], qr: [], qrRows: 0)
        return try await LinearModel.coordinatorStep { session in
            func string(_ text: String) throws -> SEXP { try session.makeStrings([text]) }
            func number(_ value: Double) throws -> SEXP { try session.make(.double([value])) }
            let link = try LinearModelChunkWork.optionalString(specification.link, session)
            let aic = try session.read(try GeneralizedLinearModel.call("aic_total", [
                try string(specification.family), link, try number(aicPart), try number(main.deviance), try number(Double(rows)),
                try number(weightSum), try number(Double(rank))], in: session))
            // NA for the quasi families, as R prints it.
            guard case .double(let aicValues) = aic.unstructured, let aicValue = aicValues.first else { throw RError.conversion("no AIC") }
            let value = try session.read(try GeneralizedLinearModel.call("chunked_summary", [
                try string(specification.formula), try string(specification.family), link, try string(label),
                try session.makeStrings(columns), try session.make(.double(main.beta)), try number(Double(rank)),
                try session.make(.integer(solve.pivot.map { Int32($0) })), try session.make(.double(solve.qr)), try number(Double(solve.qrRows)),
                try number(pearson), try number(main.deviance), try number(nullDeviance), try number(Double(dfResidual)),
                try number(Double(dfNull)), try session.make(.double([aicValue])), try number(Double(main.iterations)), try number(Double(dropped)),
                try session.make(.double(quantiles)), try string("(not computed for a chunked fit)")], in: session))
            let fields = try RFields(value)
            let names = try fields.strings("names")
            let estimate = try fields.doubles("estimate"), se = try fields.doubles("se")
            let statistic = try fields.doubles("statistic"), p = try fields.doubles("p")
            return GeneralizedLinearModelFit(
                formula: specification.formula, family: try fields.strings("family").first ?? "", link: try fields.strings("link").first ?? "",
                coefficients: names.indices.map {
                    .init(name: names[$0], estimate: estimate[$0], standardError: se[$0], statistic: statistic[$0], pValue: p[$0])
                },
                statisticName: try fields.strings("statistic_name").first ?? "", aliased: try fields.strings("aliased"),
                terms: try fields.strings("terms"),
                deviance: main.deviance, nullDeviance: nullDeviance, residualDF: dfResidual, nullDF: dfNull,
                aic: aicValue ?? .nan, dispersion: try fields.double("dispersion"), iterations: main.iterations,
                converged: main.converged, boundary: main.boundary, warnings: warnings, rowsUsed: rows, rowsDropped: dropped, rank: rank,
                summary: try fields.strings("text").first ?? "", chunkStateOnDisk: onDisk)
        }
    }
}
