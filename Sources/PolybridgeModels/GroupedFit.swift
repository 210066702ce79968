import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeFiles
import PolybridgeRuntime

/// One fit per group of rows (`polybridge fit --by`): R's `lm` or `glm` on each group's rows,
/// equal to `lapply(split(d, keys), function(x) lm(...))`, in the two tables broom names.
public struct GroupedFit: Sendable {
    /// One row per coefficient of each fitted group: the key columns, then `term`, `estimate`,
    /// `std_error`, `statistic` and `p_value` (missing for an aliased coefficient, as broom's
    /// `tidy` has them). A group that failed has no rows here.
    public var coefficients: ArrowTable
    /// One row per group: the key columns, `rows_used`, `rows_dropped` (missing values), then
    /// for lm `r_squared`, `adj_r_squared`, `sigma`, `df_residual`, `f_statistic`, and for glm
    /// `df_residual`, `deviance`, `null_deviance`, `aic`, `dispersion`, `iterations`,
    /// `converged`; last `error` (R's message, for a group that could not be fitted) and
    /// `warning` (R's warnings, joined by "; ").
    public var groups: ArrowTable
    /// Each group, in the tables' order.
    public var results: [GroupResult]
    /// Rows left out because a key column is missing there (as `split()` leaves them out).
    public var missingKeyRows: Int
    /// The group that took longest to fit, and its seconds.
    public var slowest: GroupResult?
    /// How many groups were fitted in Swift without an R call (an lm of bare columns); R's own
    /// lm or glm fitted the others.
    public var nativeGroupCount = 0

    /// The groups that could not be fitted.
    public var failed: [GroupResult] { results.filter { $0.error != nil } }

    /// The coefficients of group `index` (in ``results``'s order), read from ``coefficients``.
    public func coefficients(ofGroup index: Int) throws -> [GeneralizedLinearModelFit.Coefficient] {
        let start = results[..<index].map(\.terms).reduce(0, +)
        let rows = start..<(start + results[index].terms)
        func doubles(_ name: String) throws -> [Double] {
            guard let column = coefficients.column(named: name) else { throw RError.conversion("no column \(name)") }
            return try column.float64Values()[rows].map { $0 ?? .nan }
        }
        guard let terms = coefficients.column(named: "term") else { throw RError.conversion("no column term") }
        let names = try terms.stringValues()[rows]
        let (estimate, se, statistic, p) = (try doubles("estimate"), try doubles("std_error"), try doubles("statistic"), try doubles("p_value"))
        return zip(names, rows.indices).map { name, offset in
            let i = offset - rows.lowerBound
            return .init(name: name ?? "", estimate: estimate[i], standardError: se[i], statistic: statistic[i], pValue: p[i])
        }
    }
}

/// One group of a ``GroupedFit``.
public struct GroupResult: Sendable, Equatable {
    /// The group's key, as `column=value` pairs joined by ", ".
    public var label: String
    /// R's error, when the group could not be fitted.
    public var error: String?
    /// How many coefficients the group has in ``GroupedFit/coefficients`` (0 when it failed).
    public var terms: Int
    /// Seconds its fit took.
    public var seconds: Double
}

/// The model a fit per group fits on each group: lm (no family) or glm, as jobs carry it.
public struct GroupedModel: Sendable, Codable, Equatable {
    /// The formula.
    public var formula: String
    /// The glm family (R's spelling), or nil for lm.
    public var family: String?
    /// The glm link, or nil for the family's default.
    public var link: String?
    /// The weights column.
    public var weights: String?
    /// The offset column.
    public var offset: String?
    /// glm's convergence tolerance.
    public var epsilon: Double
    /// glm's iteration limit.
    public var maxit: Int

    /// An lm of `specification`.
    public init(_ specification: LinearModelSpecification) {
        self.init(formula: specification.formula, family: nil, link: nil, weights: specification.weights, offset: specification.offset,
                  epsilon: 1e-8, maxit: 25)
    }

    /// A glm of `specification`.
    public init(_ specification: GeneralizedLinearModelSpecification) {
        self.init(formula: specification.formula, family: specification.family, link: specification.link, weights: specification.weights,
                  offset: specification.offset, epsilon: specification.epsilon, maxit: specification.maxit)
    }

    init(formula: String, family: String?, link: String?, weights: String?, offset: String?, epsilon: Double, maxit: Int) {
        (self.formula, self.family, self.link, self.weights, self.offset, self.epsilon, self.maxit) = (formula, family, link, weights, offset, epsilon, maxit)
    }

    /// Whether it is a glm.
    var isGLM: Bool { family != nil }
}

/// Fits one model per group, in this process.
enum GroupedFits {
    /// Groups fitted per R call: progress is reported after each batch.
    static let batchSize = 250

    /// Fits `model` on each group of `table` by the columns `by`. A group that cannot be
    /// fitted keeps R's message; the others go on.
    static func fit(_ table: ArrowTable, by: [String], model: GroupedModel,
                    progress: (@Sendable (LinearModelProgress) -> Void)?) async throws -> GroupedFit {
        let (state, native) = try await fitGroups(table, by: by, runs: nil, model: model, progress: progress)
        return try await collect(state, glm: model.isGLM, nativeCount: native)
    }

    /// Fits `model` on each group of `table` by the columns `by` (or, with `runs`, on each run
    /// of rows of `sizes` rows, whose keys are the rows of `keys`: the table is grouped
    /// already), returning the R state that holds the results and how many groups Swift fitted.
    static func fitGroups(_ table: ArrowTable, by: [String], runs: (keys: ArrowTable, sizes: [Int])?, model: GroupedModel,
                          progress: (@Sendable (LinearModelProgress) -> Void)?) async throws -> (state: RPreservedObject, native: Int) {
        guard !by.isEmpty else { throw LinearModelError.fitFailed(message: "a fit per group needs at least one key column") }
        let runtime = try RRuntime.shared()
        if let absent = by.first(where: { table.column(named: $0) == nil }) {
            throw LinearModelError.fitFailed(message: "no column '\(absent)' to group by (the columns are \(table.columnNames.joined(separator: ", ")))")
        }
        let keys = try runs?.keys ?? ArrowTable(columns: by.map { table.column(named: $0)! })
        let (state, count) = try await runtime.withSession { session -> (RPreservedObject, Int) in
            let frame = try session.dataFrame(from: keys)
            let value = try session.protect(try runs.map { runs in
                try call("prepare_runs", [frame, try session.make(.integer(runs.sizes.map { Int32(clamping: $0) }))], in: session)
            } ?? call("prepare", [frame], in: session))
            guard case .integer(let n) = try session.read(try call("group_count", [value], in: session)).unstructured, let count = n.first ?? nil else {
                throw RError.conversion("no group count")
            }
            return (try session.preserve(value), Int(count))
        }
        try await runtime.withSession { session in
            func optional(_ text: String?) throws -> SEXP { try text.map { try session.makeStrings([$0]) } ?? session.null }
            _ = try call("set_model", [state.object, try session.makeStrings([model.formula]), try optional(model.family), try optional(model.link),
                                       try optional(model.weights), try optional(model.offset), try session.make(.double([model.epsilon])),
                                       try session.make(.integer([Int32(clamping: model.maxit)]))],
                         in: session)
        }
        let report: @Sendable (Int) -> Void = { done in
            progress?(LinearModelProgress(pass: 1, passCount: 1, step: "groups", chunksDone: done, chunkCount: count,
                                          rowsDone: 0, rowCount: table.rowCount))
        }
        // Swift fits the groups of a bare-column model (an lm, or a glm of a family and link it
        // covers); R fits the rest.
        var glmOptions: NativeGroupedLM.GLMOptions?
        if model.family != nil {
            glmOptions = try await runtime.withSession { session -> NativeGroupedLM.GLMOptions? in
                let fields = try RFields(try session.read(try call("native_family", [state.object], in: session)))
                let names = try fields.strings("family")
                guard names.count == 2, let native = NativeFamily(family: names[0], link: names[1], probitThreshold: try fields.double("probit"),
                                                                  cauchitThreshold: try fields.double("cauchit")),
                      NativeGroupedLM.coversGLM(native) else { return nil }
                return .init(family: native, quasi: names[0].hasPrefix("quasi"), epsilon: model.epsilon, maxit: model.maxit)
            }
        }
        let native = model.isGLM && glmOptions == nil ? nil
            : try await NativeGroupedLM.make(table, LinearModelSpecification(formula: model.formula, weights: model.weights, offset: model.offset))
        var nativeCount = 0
        let giveData: @Sendable () async throws -> Void = {
            try await runtime.withSession { session in _ = try call("set_data", [state.object, try session.dataFrame(from: table)], in: session) }
        }
        if let native {
            nativeCount = try await fitNatively(native, glm: glmOptions, state: state, count: count, giveData: giveData, report: report)
        } else {
            try await giveData()
            var done = 0
            while done < count {
                try Task.checkCancellation()
                let (from, to) = (done + 1, min(count, done + batchSize))
                try await runtime.withSession { session in
                    _ = try call("fit_batch", [state.object, try session.make(.integer([Int32(from)])), try session.make(.integer([Int32(to)]))], in: session)
                }
                done = to
                report(done)
            }
        }
        return (state, nativeCount)
    }

    /// The two tables and the groups of `state`, once every group is fitted.
    static func collect(_ state: RPreservedObject, glm: Bool, nativeCount: Int) async throws -> GroupedFit {
        try await RRuntime.shared().withSession { session in
            let value = try session.protect(try call("collect", [state.object, try session.make(.logical([glm]))], in: session))
            let fields = try RFields(try session.read(try session.element(of: value, at: 2)))
            let coefficients = try session.arrowTable(fromDataFrame: try session.element(of: value, at: 0))
            let groups = try session.arrowTable(fromDataFrame: try session.element(of: value, at: 1))
            let labels = try fields.strings("labels"), errors = try fields.optionalStrings("errors")
            let terms = try fields.doubles("terms").map { Int($0) }, seconds = try fields.doubles("seconds")
            let results = labels.indices.map { GroupResult(label: labels[$0], error: errors[$0], terms: terms[$0], seconds: seconds[$0]) }
            return GroupedFit(coefficients: coefficients, groups: groups, results: results,
                              missingKeyRows: Int(try fields.double("missing_keys")),
                              slowest: results.max { $0.seconds < $1.seconds }, nativeGroupCount: nativeCount)
        }
    }

    /// Groups fitted in Swift per R call (their results go to R in one call).
    static let nativeBatchSize = 2000

    /// Fits each group of `state` with `native`, in batches: the groups it covers go to R as
    /// results, the others are fitted by R's lm.
    private static func fitNatively(_ native: NativeGroupedLM, glm: NativeGroupedLM.GLMOptions?, state: RPreservedObject, count: Int,
                                    giveData: @Sendable () async throws -> Void,
                                    report: @Sendable (Int) -> Void) async throws -> Int {
        let runtime = try RRuntime.shared()
        // The rows copied straight from R's integer vectors (no intermediate R value); for big
        // data, the heap pages freed by R's collection after grouping go back to the system.
        let (rows, sizes) = try await runtime.withSession { session -> ([Int32], [Int32]) in
            let value = try session.protect(try call("group_rows", [state.object], in: session))
            func integers(_ index: Int) throws -> [Int32] {
                let vector = try session.element(of: value, at: index)
                let count = try session.length(of: vector)
                guard count > 0 else { return [] }
                guard let values = try session.readOnlyValues(of: vector, as: Int32.self) else { throw RError.conversion("no group rows") }
                return Array(UnsafeBufferPointer(start: values, count: count))
            }
            return (try integers(0), try integers(1))
        }
        if rows.count >= 1_000_000 { ProcessMemory.trim() }
        var starts = [Int](repeating: 0, count: sizes.count + 1)
        for (index, size) in sizes.enumerated() { starts[index + 1] = starts[index] + Int(size) }
        var done = 0, fittedHere = 0, dataGiven = false
        while done < count {
            try Task.checkCancellation()
            let batch = done..<min(count, done + nativeBatchSize)
            var fitted: [(Int, NativeGroupResult)] = [], forR: [Int] = []
            for group in batch {
                let groupRows = rows[starts[group]..<starts[group + 1]].map { Int($0) - 1 }
                let result = if let glm { try await native.fitGLM(rows: groupRows, glm) } else { try await native.fit(rows: groupRows) }
                if let result { fitted.append((group, result)) } else { forR.append(group) }
            }
            // R gets the data (all of it, converted once) when it first fits a group.
            if !forR.isEmpty && !dataGiven {
                try await giveData()
                dataGiven = true
            }
            let (groups, results, byR) = (fitted.map(\.0), fitted.map(\.1), forR)
            try await runtime.withSession { session in
                func doubles(_ values: [Double]) throws -> SEXP { try session.make(.double(values.map { $0.isNaN ? nil : $0 })) }
                func integers(_ values: [Int]) throws -> SEXP { try session.make(.integer(values.map { Int32(clamping: $0) })) }
                let numbers = results.compactMap(\.glm)
                if !results.isEmpty {
                    // The groups, their terms and coefficients, and their rows and df; then the
                    // glm's or the lm's statistics.
                    let common = [
                        state.object, try integers(groups.map { $0 + 1 }), try integers(results.map(\.terms.count)),
                        try session.makeStrings(results.flatMap(\.terms)), try doubles(results.flatMap(\.estimate)),
                        try doubles(results.flatMap(\.standardError)), try doubles(results.flatMap(\.statistic)),
                        try integers(results.map(\.rows)), try integers(results.map(\.used)), try integers(results.map(\.residualDF))]
                    if numbers.count == results.count {
                        _ = try call("set_native_glm", common + [
                            try doubles(numbers.map(\.deviance)), try doubles(numbers.map(\.nullDeviance)), try doubles(numbers.map(\.aic)),
                            try doubles(numbers.map(\.dispersion)), try integers(numbers.map(\.iterations)),
                            try session.make(.logical([numbers[0].zStatistic])), try session.make(.double(results.map(\.seconds)))], in: session)
                    } else {
                        _ = try call("set_native", common + [
                            try doubles(results.map(\.rSquared)), try doubles(results.map(\.adjustedRSquared)), try doubles(results.map(\.sigma)),
                            try doubles(results.map(\.fStatistic)), try session.make(.double(results.map(\.seconds)))], in: session)
                    }
                }
                if !byR.isEmpty {
                    _ = try call("fit_indices", [state.object, try session.make(.integer(byR.map { Int32($0 + 1) }))], in: session)
                }
            }
            done = batch.upperBound
            fittedHere += groups.count
            report(done)
        }
        return fittedHere
    }

    static func call(_ name: String, _ arguments: [SEXP], in session: RSession) throws -> SEXP {
        try LinearModelR.install(in: session)
        try session.installHelpers(".polybridge_glm", from: EmbeddedScripts.glmR, what: "the glm helpers")
        return try session.callHelper(".polybridge_grouped", name, arguments, from: EmbeddedScripts.groupedR, what: "the grouped-fit helpers",
                                      purpose: "fitting each group")
    }
}

extension GroupedFit {
    /// Reads the data file at `path` for a fit per group: the key columns `by` and the model's
    /// columns alone (the formula's variables, the weights and the offset; every column when
    /// the formula has `.`), so the others never fill memory. A key column the file lacks is
    /// an error naming the file's columns.
    public static func read(file path: String, by: [String], formula: String, weights: String?, offset: String?) async throws -> ArrowTable {
        let columns = try await columnsRead(by: by, formula: formula, weights: weights, offset: offset)
        let table = try await DataFiles.readTable(path, columns: columns)
        if let absent = by.first(where: { table.column(named: $0) == nil }) {
            let all = try await DataFiles.inspect(path).columns.map(\.name)
            throw LinearModelError.fitFailed(message: "no column '\(absent)' to group by (the columns are \(all.joined(separator: ", ")))")
        }
        return table
    }
}

extension GroupedFit {
    /// The columns a fit per group reads: the keys, then the model's (nil when the formula's
    /// `.` needs every column).
    static func columnsRead(by: [String], formula: String, weights: String?, offset: String?) async throws -> [String]? {
        let model = try await LinearModel.coordinatorStep { session in
            try GeneralizedLinearModel.columnsRead(formula: formula, weights: weights, offset: offset, in: session)
        }
        return model.map { model in by + model.filter { !by.contains($0) } }
    }
}

extension LinearModel {
    /// One `lm` per group of `table` by the columns `by` (each equal to R's `lm` on that
    /// group's rows, as `split()` makes them), in this process. `progress` is called after each
    /// batch of groups.
    public static func fitGrouped(_ table: ArrowTable, by: [String], _ specification: LinearModelSpecification,
                                  progress: (@Sendable (LinearModelProgress) -> Void)? = nil) async throws -> GroupedFit {
        try await GroupedFits.fit(table, by: by, model: GroupedModel(specification), progress: progress)
    }
}

extension GeneralizedLinearModel {
    /// One `glm` per group of `table` by the columns `by` (each equal to R's `glm` on that
    /// group's rows), in this process. `progress` is called after each batch of groups.
    public static func fitGrouped(_ table: ArrowTable, by: [String], _ specification: GeneralizedLinearModelSpecification,
                                  progress: (@Sendable (LinearModelProgress) -> Void)? = nil) async throws -> GroupedFit {
        try checkControl(specification)
        try await checkFamily(specification.family, link: specification.link)
        return try await GroupedFits.fit(table, by: by, model: GroupedModel(specification), progress: progress)
    }
}
