import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeFiles
import PolybridgeRuntime

/// A fit saved by `polybridge fit --save`: what predicting from it needs, with no data. It is
/// written as an RDS file holding an R list of class `polybridge_fit` (described in
/// docs/fitting.md), so R reads it with `readRDS`; Polybridge predicts from it in Swift.
///
/// It covers lm and glm fits of formulas that Polybridge builds natively (main effects and
/// products of bare numeric, factor and text columns), whole, in chunks or per group.
public struct SavedFit: Sendable, Equatable {
    /// `lm` or `glm`.
    public var model: String
    /// The formula, as given.
    public var formula: String
    /// The glm's family and link (R's names), nil for lm.
    public var family: String?
    public var link: String?
    /// The offset column, if the fit had one (added to the linear predictor).
    public var offset: String?
    /// Every coefficient's name, in `coef()` order.
    public var terms: [String]
    /// The coefficients in `terms` order; NaN for an aliased one.
    public var coefficients: [Double]
    /// Each factor variable's levels, as R's `xlevels` holds them.
    public var levels: [String: [String]]
    /// The ordered factors among them.
    public var ordered: [String]
    /// The scaled covariance of the estimable coefficients (R's `vcov`), row-major, in `terms`
    /// order without the aliased ones.
    public var covariance: [Double]
    /// The residual degrees of freedom.
    public var residualDF: Int
    /// σ² for lm, the dispersion for glm.
    public var dispersion: Double
    /// The key columns of a fit per group (`fit --by`); empty for one fit.
    public var by: [String] = []
    /// Each key column's kind: `number`, `text` or `logical`.
    public var keyTypes: [String] = []
    /// Each group's fit, in key order, for a fit per group (the fields above that describe one
    /// fit's coefficients are then empty, and ``levels`` holds the whole data's levels).
    public var groups: [SavedGroupFit] = []

    /// What `predict` returns.
    public enum PredictionType: String, Sendable, CaseIterable {
        /// The linear predictor.
        case link
        /// The mean (the same as `link` for lm).
        case response
    }
}

extension SavedFit {
    /// The fit to save from an lm of the data file at `path`: its levels are read from the
    /// file's model columns (only those). Nil when the formula is not one Polybridge builds
    /// natively.
    public static func from(_ fit: LinearModelFit, file path: String, _ specification: LinearModelSpecification) async throws -> SavedFit? {
        guard let levels = try await levels(file: path, formula: specification.formula, weights: specification.weights,
                                            offset: specification.offset) else { return nil }
        let estimates = Dictionary(fit.coefficients.map { ($0.name, $0.estimate) }, uniquingKeysWith: { first, _ in first })
        return SavedFit(model: "lm", formula: specification.formula, family: nil, link: nil, offset: specification.offset, terms: fit.terms,
                        coefficients: fit.terms.map { estimates[$0] ?? .nan }, levels: levels.levels, ordered: levels.ordered,
                        covariance: fit.covariance.flatMap { $0 }, residualDF: fit.residualDF,
                        dispersion: fit.residualStandardError * fit.residualStandardError)
    }

    /// The fit to save from a glm of the data file at `path` (see ``from(_:file:_:)-(LinearModelFit,_,_)``).
    public static func from(_ fit: GeneralizedLinearModelFit, file path: String,
                            _ specification: GeneralizedLinearModelSpecification) async throws -> SavedFit? {
        guard let levels = try await levels(file: path, formula: specification.formula, weights: specification.weights,
                                            offset: specification.offset) else { return nil }
        let estimates = Dictionary(fit.coefficients.map { ($0.name, $0.estimate) }, uniquingKeysWith: { first, _ in first })
        let se = fit.coefficients.map(\.standardError)
        // summary.glm's covariance is not kept whole by the fit: its diagonal is (se²); the
        // off-diagonal entries are not needed for `type = link|response` predictions.
        var covariance = [Double](repeating: 0, count: se.count * se.count)
        for (index, value) in se.enumerated() { covariance[index * se.count + index] = value * value }
        return SavedFit(model: "glm", formula: specification.formula, family: fit.family, link: fit.link, offset: specification.offset,
                        terms: fit.terms, coefficients: fit.terms.map { estimates[$0] ?? .nan }, levels: levels.levels, ordered: levels.ordered,
                        covariance: covariance, residualDF: fit.residualDF, dispersion: fit.dispersion)
    }

    /// The factor levels of the model's variables in the rows the fit keeps (as R's `xlevels`),
    /// read from the data file; nil for a formula Polybridge does not build natively.
    private static func levels(file path: String, formula: String, weights: String?,
                               offset: String?) async throws -> (levels: [String: [String]], ordered: [String])? {
        let specification = LinearModelSpecification(formula: formula, weights: weights, offset: offset)
        guard let plan = try await LinearModelChunkWork.nativePlan(specification) else { return nil }
        let table = try await DataFiles.readTable(path, columns: plan.columns)
        guard let data = NativeChunkData(table, plan: plan) else { return nil }
        let levels = try await LinearModel.mergeLevels([data.levels()])
        guard !levels.keys.contains(where: { $0.contains("\u{1f}") }) else { return nil }
        return (levels, data.orderedVariables)
    }

    /// Writes the fit to `path` as an RDS file of an R list of class `polybridge_fit`, by the
    /// policy of every output file (``OutputFile``).
    public func write(to path: String) async throws {
        func levelList(_ levels: [String: [String]]) -> RValue {
            .list(levels.keys.sorted().map { .character(levels[$0]!) }, names: levels.keys.sorted())
        }
        let groupList: RValue = .list(groups.map { group in
            .list([.character(group.key), .character(group.terms), .double(group.coefficients.map { $0.isNaN ? nil : $0 }),
                   levelList(group.levels), .integer([Int32(clamping: group.residualDF)]),
                   .double([group.dispersion.isNaN ? nil : group.dispersion]), .character([group.error])],
                  names: ["key", "terms", "coefficients", "xlevels", "df_residual", "dispersion", "error"])
        })
        let list: RValue = .list([
            .character(["polybridge_fit"]), .integer([1]), .character([model]), .character([formula]), .character([family]),
            .character([link]), .character([offset]), .character(terms), .double(coefficients.map { $0.isNaN ? nil : $0 }),
            levelList(levels), .character(ordered), .double(covariance), .integer([Int32(clamping: residualDF)]),
            .double([dispersion.isNaN ? nil : dispersion]), .character(by), .character(keyTypes), groupList,
        ], names: ["format", "version", "model", "formula", "family", "link", "offset", "terms", "coefficients", "xlevels", "ordered",
                   "vcov", "df_residual", "dispersion", "by", "key_types", "groups"])
        // By the output policy: whole or not at all, through a symlink, never over a device.
        try await OutputFile.make(path) { temporary in
            try await RRuntime.shared().withSession { session in
                let value = try session.protect(try session.make(list))
                try session.setAttribute(value, "class", try session.makeStrings(["polybridge_fit"]))
                let save = try session.lang(try session.symbol("saveRDS"), [value, try session.makeStrings([temporary])])
                _ = try session.evaluate(save, purpose: "writing \(path)")
            }
        }
    }

    /// Reads a fit that `write(to:)` wrote; an RDS file that holds anything else is an error
    /// naming it.
    public static func read(_ path: String) async throws -> SavedFit {
        guard let fit = try await readIfSaved(path) else {
            throw LinearModelError.fitFailed(message: "\(path) is not a fit saved by polybridge fit --save")
        }
        return fit
    }

    /// The fit in the RDS file at `path` if it holds one that `write(to:)` wrote, else nil: the
    /// file is read once, and another object (an R model) is not converted.
    public static func readIfSaved(_ path: String) async throws -> SavedFit? {
        try await RRuntime.shared().withSession { session in
            let read = try session.lang(try session.symbol("readRDS"), [try session.makeStrings([path])])
            let object = try session.protect(try session.evaluate(read, purpose: "reading \(path)"))
            guard try session.classes(of: object).contains("polybridge_fit") else { return nil }
            guard let fields = try? RFields(try session.read(object)), (try? fields.strings("format")) == ["polybridge_fit"] else {
                throw LinearModelError.fitFailed(message: "\(path) is not a fit saved by polybridge fit --save")
            }
            func levelMap(_ value: RValue) -> [String: [String]] {
                var levels: [String: [String]] = [:]
                if case .list(let items, let names?) = value.unstructured {
                    for (item, name) in zip(items, names) {
                        if case .character(let values) = item.unstructured, let name { levels[name] = values.map { $0 ?? "" } }
                    }
                }
                return levels
            }
            let levels = levelMap(try fields.value("xlevels"))
            func optional(_ name: String) throws -> String? { try fields.optionalStrings(name).first ?? nil }
            var groups: [SavedGroupFit] = []
            if case .list(let items, _)? = try? fields.value("groups") {
                for item in items {
                    let group = try RFields(item)
                    groups.append(SavedGroupFit(key: try group.strings("key"), terms: try group.strings("terms"),
                                                coefficients: try group.doubles("coefficients"), levels: levelMap(try group.value("xlevels")),
                                                residualDF: Int(try group.double("df_residual")), dispersion: try group.double("dispersion"),
                                                error: try group.optionalStrings("error").first ?? nil))
                }
            }
            return SavedFit(model: try fields.strings("model").first ?? "", formula: try fields.strings("formula").first ?? "",
                            family: try optional("family"), link: try optional("link"), offset: try optional("offset"),
                            terms: try fields.strings("terms"), coefficients: try fields.doubles("coefficients"), levels: levels,
                            ordered: try fields.strings("ordered"), covariance: try fields.doubles("vcov"),
                            residualDF: Int(try fields.double("df_residual")), dispersion: try fields.double("dispersion"),
                            by: (try? fields.strings("by")) ?? [], keyTypes: (try? fields.strings("key_types")) ?? [], groups: groups)
        }
    }

    /// Predictions for the rows of `table` (which need the model's predictor columns, and the
    /// offset column when the fit had one), as R's `predict` gives them: `type = "link"` or
    /// `"response"`. A factor level the fit did not see is an error with R's message ("factor g
    /// has new level z"); a row with a missing predictor predicts NaN (R's NA).
    public func predict(_ table: ArrowTable, type: PredictionType = .response) async throws -> [Double] {
        try await predictor().predict(table, type: type)
    }

    /// What predicting needs from R (the model's plan, its columns' layout, or each group's, the
    /// family's thresholds), asked once: the predictor then predicts in Swift alone.
    public func predictor() async throws -> SavedFitPredictor {
        let specification = LinearModelSpecification(formula: formula, weights: nil, offset: offset)
        guard let plan = try await LinearModelChunkWork.nativePlan(specification) else {
            throw LinearModelError.fitFailed(message: "the saved formula \(formula) is not one Polybridge predicts from")
        }
        var layout: NativeLayout?
        var groupLayouts: [NativeLayout?] = []
        // A file whose coefficients do not match its terms one for one is not one this wrote.
        guard coefficients.count == terms.count, groups.allSatisfy({ $0.coefficients.count == $0.terms.count && $0.key.count == by.count }),
              keyTypes.isEmpty || keyTypes.count == by.count else {
            throw LinearModelError.fitFailed(message: "the saved fit's coefficients, terms and keys do not match")
        }
        if by.isEmpty {
            let single = try await LinearModelChunkWork.nativeLayout(formula, levels: levels, ordered: ordered)
            guard single.names == terms else {
                throw LinearModelError.fitFailed(message: "the saved fit's terms (\(terms.joined(separator: ", "))) are not its formula's (\(single.names.joined(separator: ", ")))")
            }
            layout = single
        } else {
            // One layout per set of levels the groups have (R lays out each set once).
            for group in groups {
                guard group.error == nil else {
                    groupLayouts.append(nil)
                    continue
                }
                let own = try await LinearModelChunkWork.nativeLayout(formula, levels: group.levels, ordered: ordered)
                guard own.names == group.terms else {
                    throw LinearModelError.fitFailed(message: "group \(SavedFitPredictor.label(by, group.key))'s saved terms (\(group.terms.joined(separator: ", "))) are not its formula's (\(own.names.joined(separator: ", ")))")
                }
                groupLayouts.append(own)
            }
        }
        var family: NativeFamily?
        if model == "glm" {
            // R's thresholds for the probit and cauchit inverse links.
            let thresholds = try await RRuntime.shared().eval("c(-qnorm(.Machine$double.eps), -qcauchy(.Machine$double.eps))", as: [Double].self)
            family = NativeFamily(family: self.family ?? "", link: link ?? "", probitThreshold: thresholds[0], cauchitThreshold: thresholds[1])
            guard family != nil else { throw LinearModelError.fitFailed(message: "no inverse link for \(self.family ?? "") (\(link ?? ""))") }
        }
        // An lm's intervals use Student's t quantile at 0.975 with the residual df, as predict.lm does.
        let quantile = model == "lm" && by.isEmpty && residualDF > 0
            ? try await RRuntime.shared().eval("qt(0.975, \(residualDF))", as: Double.self) : nil
        let index = Dictionary(groups.indices.map { (groups[$0].key, $0) }, uniquingKeysWith: { first, _ in first })
        return SavedFitPredictor(fit: self, plan: plan, layout: layout, groupLayouts: groupLayouts, groupIndex: index, family: family,
                                 tQuantile: quantile)
    }
}

/// Predictions from a ``SavedFit`` in Swift, with no R call (``SavedFit/predictor()``).
public struct SavedFitPredictor: Sendable {
    /// The fit.
    public let fit: SavedFit
    let plan: NativeModelPlan
    /// The model matrix's layout of one fit (nil for a fit per group).
    let layout: NativeLayout?
    /// Each group's layout, in ``SavedFit/groups``'s order (nil for a group that failed).
    let groupLayouts: [NativeLayout?]
    /// A group's key → its index in ``SavedFit/groups``.
    let groupIndex: [[String]: Int]
    let family: NativeFamily?
    /// qt(0.975, df) for an lm's 95% intervals; nil for a glm or a fit per group.
    let tQuantile: Double?

    /// What an lm's interval is for: the mean at the rows, or a new observation there.
    public enum Interval: String, Sendable, CaseIterable {
        /// `interval = "confidence"`.
        case confidence
        /// `interval = "prediction"`.
        case prediction
    }

    /// The columns the rows need: a fit per group's key columns, then the predictors (and the
    /// offset column, when the fit has one).
    public var columns: [String] { fit.by + plan.columns.filter { $0 != plan.response && !fit.by.contains($0) } }

    /// The columns among ``columns`` that hold text: factor and text variables, and text key
    /// columns.
    public var textColumns: Set<String> {
        var text = Set(fit.levels.keys)
        for (position, name) in fit.by.enumerated() {
            let isText = position < fit.keyTypes.count ? fit.keyTypes[position] == "text"
                : fit.groups.contains { Double($0.key[position]) == nil }
            if isText { text.insert(name) }
        }
        return text
    }

    /// The factor (or text) variables among the predictors.
    public var factors: Set<String> { Set(fit.levels.keys) }

    /// A group's label, `column=value` pairs joined by ", " (as ``GroupResult/label``).
    static func label(_ by: [String], _ key: [String]) -> String {
        zip(by, key).map { "\($0)=\($1)" }.joined(separator: ", ")
    }

    /// Predictions for the rows of `table`, as ``SavedFit/predict(_:type:)`` describes them. For
    /// a fit per group, each row is predicted with its group's fit: a row whose key is missing
    /// predicts NaN, a key the fit has no group for is an error naming it, and rows of a group
    /// whose fit failed are ``SavedFitPredictionError/groupNotFitted(group:error:)``.
    public func predict(_ table: ArrowTable, type: SavedFit.PredictionType = .response) throws -> [Double] {
        try predictions(table, type: type, interval: nil).fit
    }

    /// An lm's predictions with their 95% interval, as R's `predict(fit, newdata, interval =)`
    /// gives them: the fit ± qt(0.975, df) × its standard error (from the saved covariance), and
    /// for a new observation σ² added to the variance. A glm has none (R's predict.glm neither),
    /// nor does a fit per group (its covariances are not saved): those are errors.
    public func predict(_ table: ArrowTable, interval: Interval) throws -> (fit: [Double], lower: [Double], upper: [Double]) {
        guard fit.model == "lm", fit.by.isEmpty, tQuantile != nil else {
            throw LinearModelError.fitFailed(message: fit.by.isEmpty
                ? "intervals are for an lm: a \(fit.model) saved fit predicts values only"
                : "intervals are for one lm: a fit per group is saved without its covariances, and predicts values only")
        }
        let out = try predictions(table, type: .link, interval: interval)
        return (out.fit, out.lower, out.upper)
    }

    private func predictions(_ table: ArrowTable, type: SavedFit.PredictionType,
                             interval: Interval?) throws -> (fit: [Double], lower: [Double], upper: [Double]) {
        // The data to predict has no response: a column of zeros stands in for it.
        var table = table
        if table.column(named: plan.response) == nil {
            let zeros = ArrowColumn(name: plan.response, array: ArrowArray(float64: [Double?](repeating: 0, count: table.rowCount)))
            table = try ArrowTable(columns: table.columns + [zeros])
        }
        if let absent = (fit.by + plan.columns).first(where: { table.column(named: $0) == nil }) {
            throw LinearModelError.fitFailed(message: "object '\(absent)' not found: the data to predict has no column '\(absent)'")
        }
        guard let data = NativeChunkData(table, plan: plan) else {
            throw LinearModelError.fitFailed(message: "the columns of the data to predict are not of the fit's types (numbers, factors, text)")
        }
        let n = table.rowCount
        var out = Prediction(count: n, interval: interval != nil)
        guard !fit.by.isEmpty else {
            let rows = Array(0..<n)
            try Self.checkLevels(data, rows: rows, levels: fit.levels, group: nil)
            try fill(&out, data: data, rows: rows, layout: layout!, levels: fit.levels, coefficients: fit.coefficients, type: type, interval: interval)
            return (out.fit, out.lower, out.upper)
        }
        // Each row's group, by its key.
        let keys: [[String?]]
        do {
            keys = try fit.by.map { try SavedFit.keyText(table.column(named: $0)!) }
        } catch let error as ArrowError {
            throw LinearModelError.fitFailed(message: "a key column cannot be read: \(error)")
        }
        var rowsOf: [Int: [Int]] = [:]
        rows: for row in 0..<n {
            var key: [String] = []
            for column in keys {
                guard let value = column[row] else { continue rows }
                key.append(value)
            }
            guard let group = groupIndex[key] else {
                let known = fit.groups.prefix(5).map { Self.label(fit.by, $0.key) }.joined(separator: "; ")
                throw LinearModelError.fitFailed(message: "row \(row + 1): the saved fit has no group \(Self.label(fit.by, key)) (its \(fit.groups.count) groups: \(known)\(fit.groups.count > 5 ? "; …" : ""))")
            }
            rowsOf[group, default: []].append(row)
        }
        for group in rowsOf.keys.sorted() {
            let saved = fit.groups[group], rows = rowsOf[group]!, label = Self.label(fit.by, saved.key)
            guard let layout = groupLayouts[group], saved.error == nil else {
                throw SavedFitPredictionError.groupNotFitted(group: label, error: saved.error ?? "no layout")
            }
            try Self.checkLevels(data, rows: rows, levels: saved.levels, group: label)
            try fill(&out, data: data, rows: rows, layout: layout, levels: saved.levels, coefficients: saved.coefficients, type: type, interval: nil)
        }
        return (out.fit, out.lower, out.upper)
    }

    /// Predictions being filled in: NaN until a row's model predicts it.
    private struct Prediction {
        var fit: [Double]
        var lower: [Double]
        var upper: [Double]

        init(count: Int, interval: Bool) {
            fit = [Double](repeating: .nan, count: count)
            lower = interval ? fit : []
            upper = lower
        }
    }

    /// R's model.frame on new data: a level of a factor variable, among `rows`, that the fit
    /// (or the group's fit) did not see stops the prediction with R's message ("factor g has new
    /// level z"; "levels" when the rows have more than one level, as R words it).
    private static func checkLevels(_ data: NativeChunkData, rows: [Int], levels: [String: [String]], group: String?) throws {
        for name in data.categorical.keys.sorted() {
            guard let variable = data.categorical[name], let known = levels[name] else { continue }
            var present = [Bool](repeating: false, count: variable.levels.count)
            for row in rows where variable.codes[row] >= 0 { present[Int(variable.codes[row])] = true }
            var all = variable.levels.indices.filter { present[$0] }.map { String(decoding: variable.levels[$0], as: UTF8.self) }
            if !variable.declared { all.sort() }
            let seen = Set(known)
            let new = all.filter { !seen.contains($0) }
            guard !new.isEmpty else { continue }
            let message = "factor \(name) has new level\(all.count == 1 ? "" : "s") \(new.joined(separator: ", "))"
            throw LinearModelError.fitFailed(message: group.map { "\(message) (in group \($0))" } ?? message)
        }
    }

    /// Predicts `rows` of `data` with one fit: its layout, levels and coefficients.
    private func fill(_ out: inout Prediction, data: NativeChunkData, rows: [Int], layout: NativeLayout, levels: [String: [String]],
                      coefficients: [Double], type: SavedFit.PredictionType, interval: Interval?) throws {
        let builder: ColumnBuilder
        do {
            builder = try ColumnBuilder(data, layout: layout, levels: levels, rows: rows)
        } catch let error as NativeChunkError {
            throw LinearModelError.fitFailed(message: error.description)
        }
        let m = rows.count, p = coefficients.count
        var x = [Double](repeating: 0, count: max(m * p, 1))
        x.withUnsafeMutableBufferPointer { builder.fill(rows: rows, into: $0.baseAddress!, stride: m) }
        let offsetValues = fit.offset.flatMap { data.numeric[$0] }
        // The estimable columns, in the saved covariance's order.
        let estimable = (0..<p).filter { !coefficients[$0].isNaN }
        let k = estimable.count
        for (i, row) in rows.enumerated() where data.kept[row] {
            var eta = 0.0
            for j in estimable { eta += x[j * m + i] * coefficients[j] }
            if let offsetValues { eta += withExtendedLifetime(offsetValues.owner) { offsetValues[row] } }
            out.fit[row] = type == .response ? family.map { $0.mean(eta) } ?? eta : eta
            if let interval, let tQuantile, fit.covariance.count == k * k {
                var variance = 0.0
                for (a, r) in estimable.enumerated() {
                    var sum = 0.0
                    for (b, c) in estimable.enumerated() { sum += fit.covariance[a * k + b] * x[c * m + i] }
                    variance += x[r * m + i] * sum
                }
                if interval == .prediction { variance += fit.dispersion }
                let half = tQuantile * variance.squareRoot()
                (out.lower[row], out.upper[row]) = (eta - half, eta + half)
            }
        }
    }
}
