import Foundation
import PolybridgeArrow
import PolybridgeRuntime

/// One group's lm or glm numbers computed in Swift: what `summary.lm` or `summary.glm` gives,
/// but the p-values (which R computes from the statistics and df for a whole batch at once).
struct NativeGroupResult: Sendable {
    var terms: [String]
    var estimate: [Double]
    var standardError: [Double]
    var statistic: [Double]
    var rows: Int
    var used: Int
    var residualDF: Int
    var rSquared: Double
    var adjustedRSquared: Double
    var sigma: Double
    var fStatistic: Double
    var seconds: Double
    /// For a glm: the deviances, AIC (NaN for a quasi family), dispersion and iterations;
    /// `zStatistic` says the p-values are normal (a fixed dispersion), else t with the residual df.
    var glm: GLMNumbers? = nil

    struct GLMNumbers: Sendable {
        var deviance: Double
        var nullDeviance: Double
        var aic: Double
        var dispersion: Double
        var iterations: Int
        var zStatistic: Bool
    }
}

/// One lm per group for a formula of bare columns, built and solved in Swift with no R call
/// per group: the model matrix comes from the Arrow columns, the solve is `lm.fit`'s (Householder
/// with `dqrdc2`'s limited pivoting, ``LimitedPivotQR``) and the statistics are `summary.lm`'s.
///
/// A group's model matrix is the whole data's restricted to the group's columns: R drops the
/// levels a group lacks, and under treatment contrasts each remaining column is the same
/// indicator. Each group's layout comes from R (cached by its levels), and its contrasts are
/// checked against the whole data's. A group this path does not cover (no rows, a factor of one
/// level, a value that is not finite, a negative or all-zero weight, a contrast that differs)
/// returns nil, and R's own lm fits it, with R's result or message.
struct NativeGroupedLM {
    let data: NativeChunkData
    let formula: String
    let ordered: [String]
    let globalLevels: [String: [String]]
    let globalLayout: NativeLayout
    let builder: ColumnBuilder
    /// For each factor variable: the data's level index → the whole data's level index.
    let toGlobal: [String: [Int]]
    /// The factor variables, in a fixed order.
    let factorNames: [String]
    /// Whether this R's `summary.lm` takes the offset out of the fitted values for R² and F
    /// (R 4.3 and later do; R 4.2 counts it in).
    let offsetLeftOutOfRSquared: Bool
    /// Each set of present levels seen so far (by the whole data's level indices) → the
    /// group's layout and its columns among the whole data's (nil: R fits such groups).
    private let layouts = LayoutCache()

    private final class LayoutCache: @unchecked Sendable {
        // Used by one fit at a time, from one task.
        var entries: [[Int]: (layout: NativeLayout, columns: [Int])?] = [:]
    }

    /// The native path for `specification` on `table`, or nil when the formula or the columns
    /// need R (anything but main effects of bare columns).
    static func make(_ table: ArrowTable, _ specification: LinearModelSpecification) async throws -> NativeGroupedLM? {
        guard let plan = try await LinearModelChunkWork.nativePlan(specification), let data = NativeChunkData(table, plan: plan) else { return nil }
        let levels = try await LinearModel.mergeLevels([data.levels()])
        guard !levels.keys.contains(where: { $0.contains("\u{1f}") }) else { return nil }
        // R refuses the whole data's layout when a factor has one level overall: each group
        // then goes to R's lm, which says why.
        guard let layout = try? await LinearModelChunkWork.nativeLayout(specification.formula, levels: levels, ordered: data.orderedVariables),
              layout.columns.allSatisfy({ $0.count <= 1 }) else { return nil }
        let toGlobal = data.levelPositions(in: levels)
        let leftOut = try await RRuntime.shared().eval("any(grepl('z$offset', deparse(stats::summary.lm), fixed = TRUE))", as: Bool.self)
        return NativeGroupedLM(data: data, formula: specification.formula, ordered: data.orderedVariables, globalLevels: levels,
                               globalLayout: layout, builder: try ColumnBuilder(data, layout: layout, levels: levels), toGlobal: toGlobal,
                               factorNames: toGlobal.keys.sorted(), offsetLeftOutOfRSquared: leftOut)
    }

    /// One group's model: its kept rows (0-based rows of the table), its layout, its model
    /// matrix (column-major, `rows` × `columns`, the whole data's columns that the group has),
    /// and its response, weights and offset.
    struct Design {
        var kept: [Int]
        var layout: NativeLayout
        var full: [Double]
        var response: [Double]
        var weights: [Double]?
        var offset: [Double]?
        var n: Int { kept.count }
        var p: Int { layout.names.count }
    }

    /// The model of the group of `rows` (0-based rows of the table), or nil for R to fit it.
    func design(rows: [Int]) async throws -> Design? {
        let kept = rows.filter { data.kept[$0] }
        guard !kept.isEmpty else { return nil }
        // The levels the group's kept rows have, in the whole data's order.
        var signature: [Int] = []
        for name in factorNames {
            let variable = data.categorical[name]!, map = toGlobal[name]!
            var present = [Bool](repeating: false, count: globalLevels[name]!.count)
            for row in kept {
                let code = Int(variable.codes[row])
                guard code >= 0, map[code] >= 0 else { return nil }
                present[map[code]] = true
            }
            let own = present.indices.filter { present[$0] }
            guard own.count >= 2 else { return nil }
            signature += own + [-1]
        }
        if layouts.entries[signature] == nil {
            var levels: [String: [String]] = [:], at = 0
            for name in factorNames {
                let global = globalLevels[name]!
                var own: [String] = []
                while signature[at] >= 0 { own.append(global[signature[at]]); at += 1 }
                at += 1
                levels[name] = own
            }
            let layout = try? await LinearModelChunkWork.nativeLayout(formula, levels: levels, ordered: ordered)
            layouts.entries[signature] = layout.flatMap { layout in groupColumns(layout, levels: levels).map { (layout, $0) } } ?? .some(nil)
        }
        guard case .some(.some(let entry)) = layouts.entries[signature] else { return nil }
        let (layout, columns) = entry
        // The group's columns of the whole data's model matrix, for the kept rows.
        let n = kept.count, p = columns.count
        var full = [Double](repeating: 0, count: max(n * p, 1))
        full.withUnsafeMutableBufferPointer { builder.fill(rows: kept, columns: columns, into: $0.baseAddress!, stride: n) }
        guard full.allSatisfy(\.isFinite) else { return nil }
        func values(_ name: String) -> [Double] {
            let column = data.numeric[name]!
            return withExtendedLifetime(column.owner) { kept.map { column.values[$0] } }
        }
        let response = values(data.plan.response)
        let weights = data.plan.weights.map(values)
        let offset = data.plan.offset.map(values)
        guard response.allSatisfy(\.isFinite), weights?.allSatisfy({ $0.isFinite && $0 >= 0 }) ?? true,
              offset?.allSatisfy(\.isFinite) ?? true else { return nil }
        return Design(kept: kept, layout: layout, full: full, response: response, weights: weights, offset: offset)
    }

    /// The lm of the group of `rows` (0-based rows of the table), or nil for R to fit.
    func fit(rows: [Int]) async throws -> NativeGroupResult? {
        let started = ContinuousClock.now
        guard let design = try await design(rows: rows) else { return nil }
        let (layout, full, response, weights, offset, n, p) = (design.layout, design.full, design.response, design.weights, design.offset,
                                                               design.n, design.p)
        // lm.wfit: rows of weight zero are left out of the solve; the rest scaled by √w.
        let solved = (0..<n).filter { (weights?[$0] ?? 1) != 0 }
        guard !solved.isEmpty else { return nil }
        let m = solved.count
        var x = [Double](repeating: 0, count: m * p), z = [Double](repeating: 0, count: m)
        for (k, row) in solved.enumerated() {
            let root = (weights?[row] ?? 1).squareRoot()
            for j in 0..<p { x[j * m + k] = full[j * n + row] * root }
            z[k] = (response[row] - (offset?[row] ?? 0)) * root
        }
        let qr = LimitedPivotQR(consume x, rows: m, columns: p)
        guard qr.rank > 0 else { return nil }
        let (coefficients, rss) = qr.solve(z)
        let rank = qr.rank, rdf = m - rank
        let resvar = rss / Double(rdf)
        let variances = qr.unscaledVariances()
        let se = variances.map { ($0 * resvar).squareRoot() }
        // summary.lm's R², adjusted R² and F from the fitted values (with or without the offset,
        // as this R's summary.lm takes them).
        var fitted = offsetLeftOutOfRSquared ? [Double](repeating: 0, count: n) : offset ?? [Double](repeating: 0, count: n)
        for j in 0..<p where !coefficients[j].isNaN {
            for row in 0..<n { fitted[row] += full[j * n + row] * coefficients[j] }
        }
        let w = weights ?? [Double](repeating: 1, count: n)
        let weightSum = w.reduce(0, +)
        let intercept = layout.intercept
        let mean = intercept ? zip(w, fitted).map { $0 * $1 / weightSum }.reduce(0, +) : 0
        let mss = zip(w, fitted).map { $0 * ($1 - mean) * ($1 - mean) }.reduce(0, +)
        let dfIntercept = intercept ? 1 : 0
        var rSquared = 0.0, adjusted = 0.0, f = Double.nan
        if rank != dfIntercept {
            rSquared = mss / (mss + rss)
            adjusted = 1 - (1 - rSquared) * (Double(m - dfIntercept) / Double(rdf))
            f = (mss / Double(rank - dfIntercept)) / resvar
        }
        return NativeGroupResult(terms: layout.names, estimate: coefficients, standardError: se,
                                 statistic: zip(coefficients, se).map { $0 / $1 }, rows: rows.count, used: n, residualDF: rdf,
                                 rSquared: rSquared, adjustedRSquared: adjusted, sigma: resvar.squareRoot(), fStatistic: f,
                                 seconds: (ContinuousClock.now - started).seconds)
    }

    /// For each of the group layout's columns, the whole data's column that it equals: the same
    /// name, variable and contrast values on the group's levels; nil when one has none.
    private func groupColumns(_ layout: NativeLayout, levels: [String: [String]]) -> [Int]? {
        var columns: [Int] = []
        for (name, components) in zip(layout.names, layout.columns) {
            guard let index = globalLayout.names.firstIndex(of: name) else { return nil }
            let global = globalLayout.columns[index]
            guard global.count == components.count else { return nil }
            for (own, whole) in zip(components, global) {
                guard own.variable == whole.variable, own.contrast.isEmpty == whole.contrast.isEmpty else { return nil }
                guard !own.contrast.isEmpty else { continue }
                guard let groupLevels = levels[own.variable], let allLevels = globalLevels[own.variable],
                      own.contrast.count == groupLevels.count else { return nil }
                for (position, level) in groupLevels.enumerated() {
                    guard let at = allLevels.firstIndex(of: level), whole.contrast[at] == own.contrast[position] else { return nil }
                }
            }
            columns.append(index)
        }
        return columns
    }
}
