import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeFiles
import PolybridgeRuntime

/// One group's fit in a fit per group saved by `polybridge fit --by … --save`.
public struct SavedGroupFit: Sendable, Equatable {
    /// The group's key: one value per key column, as text (numbers in their shortest form,
    /// logicals as `TRUE`/`FALSE`).
    public var key: [String]
    /// Every coefficient's name, in the group's `coef()` order (empty for a group that failed).
    public var terms: [String]
    /// The coefficients in `terms` order; NaN for an aliased one.
    public var coefficients: [Double]
    /// Each factor variable's levels in the group's rows, as the group's own `xlevels`.
    public var levels: [String: [String]]
    /// The group's residual degrees of freedom.
    public var residualDF: Int
    /// σ² for lm, the dispersion for glm.
    public var dispersion: Double
    /// R's message for a group that could not be fitted; nil for a fitted one.
    public var error: String?
}

/// Why a saved fit cannot predict some rows, besides bad input.
public enum SavedFitPredictionError: Error, Equatable, CustomStringConvertible {
    /// Rows of a group whose fit failed: there is no model to predict them with.
    case groupNotFitted(group: String, error: String)

    /// What went wrong, naming the group.
    public var description: String {
        switch self {
        case .groupNotFitted(let group, let error): "group \(group) has no fit to predict with: its fit failed (\(error))"
        }
    }
}

extension SavedFit {
    /// The fit per group to save from `grouped`, an lm per group of the data file at `path` by
    /// the columns `by`: each group's coefficients with the levels its rows have (read from the
    /// file's key and model columns). Nil when the formula is not one Polybridge builds natively.
    public static func from(_ grouped: GroupedFit, file path: String, by: [String],
                            _ specification: LinearModelSpecification) async throws -> SavedFit? {
        try await from(grouped, file: path, by: by, formula: specification.formula, family: nil, link: nil, weights: specification.weights,
                       offset: specification.offset)
    }

    /// The fit per group to save from `grouped`, a glm per group of the data file at `path` by
    /// the columns `by` (see ``from(_:file:by:_:)-(GroupedFit,_,_,LinearModelSpecification)``).
    public static func from(_ grouped: GroupedFit, file path: String, by: [String],
                            _ specification: GeneralizedLinearModelSpecification) async throws -> SavedFit? {
        let names = try await GeneralizedLinearModel.familyNames(specification.family, link: specification.link)
        return try await from(grouped, file: path, by: by, formula: specification.formula, family: names.family, link: names.link,
                              weights: specification.weights, offset: specification.offset)
    }

    private static func from(_ grouped: GroupedFit, file path: String, by: [String], formula: String, family: String?,
                             link: String?, weights: String?, offset: String?) async throws -> SavedFit? {
        let specification = LinearModelSpecification(formula: formula, weights: weights, offset: offset)
        guard let plan = try await LinearModelChunkWork.nativePlan(specification) else { return nil }
        let table = try await GroupedFit.read(file: path, by: by, formula: formula, weights: weights, offset: offset)
        guard let data = NativeChunkData(table, plan: plan) else { return nil }
        let global = try await LinearModel.mergeLevels([data.levels()])
        guard !global.keys.contains(where: { $0.contains("\u{1f}") }) else { return nil }
        // Each factor variable's levels as indices into the whole data's levels.
        let toGlobal = data.levelPositions(in: global)
        // The groups' rows, as the grouped fit makes them (R's `prepare`, in key order).
        let (rows, sizes) = try await RRuntime.shared().withSession { session -> ([Int32], [Int32]) in
            let keys = try session.dataFrame(from: try ArrowTable(columns: by.map { table.column(named: $0)! }))
            let state = try session.protect(try GroupedFits.call("prepare", [keys], in: session))
            let value = try session.read(try GroupedFits.call("group_rows", [state], in: session))
            guard case .list(let parts, _) = value.unstructured, parts.count == 2,
                  case .integer(let rows) = parts[0].unstructured, case .integer(let sizes) = parts[1].unstructured else {
                throw RError.conversion("the groups' rows are malformed")
            }
            return (rows.map { $0 ?? 0 }, sizes.map { $0 ?? 0 })
        }
        let keyColumns = try by.map { try Self.keyText(table.column(named: $0)!) }
        let resultKeys = try by.map { name -> [String?] in
            guard let column = grouped.groups.column(named: name) else { throw RError.conversion("the groups table has no key column \(name)") }
            return try Self.keyText(column)
        }
        let resultIndex = Dictionary((0..<grouped.results.count).map { row in (resultKeys.map { $0[row] ?? "" }, row) },
                                     uniquingKeysWith: { first, _ in first })
        // Each group's coefficients: a run of the coefficients table's rows, read once.
        guard let termColumn = grouped.coefficients.column(named: "term"), let estimateColumn = grouped.coefficients.column(named: "estimate") else {
            throw RError.conversion("the coefficients table has no term or estimate column")
        }
        let allTerms = try termColumn.stringValues(), allEstimates = try estimateColumn.float64Values()
        var firstRow = [Int](repeating: 0, count: grouped.results.count + 1)
        for (index, result) in grouped.results.enumerated() { firstRow[index + 1] = firstRow[index] + result.terms }
        guard firstRow.last == allTerms.count else { throw RError.conversion("the coefficients table does not hold every group's terms") }
        let glm = family != nil
        let dfColumn = grouped.groups.column(named: "df_residual").flatMap(NativeChunkData.doubles) ?? []
        let spread = grouped.groups.column(named: glm ? "dispersion" : "sigma").flatMap(NativeChunkData.doubles) ?? []
        var groups: [SavedGroupFit] = []
        var start = 0
        for size in sizes.map(Int.init) {
            let groupRows = rows[start..<(start + size)].map { Int($0) - 1 }
            start += size
            let key = keyColumns.map { $0[groupRows[0]] ?? "" }
            guard let index = resultIndex[key] else {
                throw RError.conversion("the group \(key.joined(separator: ", ")) is not in the grouped fit's results")
            }
            let result = grouped.results[index]
            if let error = result.error {
                groups.append(SavedGroupFit(key: key, terms: [], coefficients: [], levels: [:], residualDF: 0, dispersion: .nan, error: error))
                continue
            }
            // The levels the group's kept rows have, in the whole data's order (R drops the others).
            var levels: [String: [String]] = [:]
            for (name, map) in toGlobal {
                let codes = data.categorical[name]!.codes
                var present = [Bool](repeating: false, count: global[name]!.count)
                for row in groupRows where data.kept[row] && codes[row] >= 0 && map[Int(codes[row])] >= 0 { present[map[Int(codes[row])]] = true }
                levels[name] = present.indices.filter { present[$0] }.map { global[name]![$0] }
            }
            let rows = firstRow[index]..<firstRow[index + 1]
            let terms = allTerms[rows].map { $0 ?? "" }, estimates = allEstimates[rows].map { $0 ?? .nan }
            let layout = try await LinearModelChunkWork.nativeLayout(formula, levels: levels, ordered: data.orderedVariables)
            guard layout.names == terms else {
                throw LinearModelError.fitFailed(message: "group \(result.label): its terms (\(terms.joined(separator: ", "))) are not its formula's (\(layout.names.joined(separator: ", ")))")
            }
            let sd = index < spread.count ? spread[index] : .nan
            groups.append(SavedGroupFit(key: key, terms: layout.names, coefficients: estimates, levels: levels,
                                        residualDF: index < dfColumn.count ? Int(dfColumn[index].isFinite ? dfColumn[index] : 0) : 0,
                                        dispersion: glm ? sd : sd * sd, error: nil))
        }
        let keyTypes = by.map { name -> String in
            switch table.column(named: name)!.type {
            case .bool: "logical"
            case .utf8, .largeUtf8, .utf8View, .dictionary: "text"
            default: "number"
            }
        }
        return SavedFit(model: glm ? "glm" : "lm", formula: formula, family: family, link: link, offset: offset, terms: [], coefficients: [],
                        levels: global, ordered: data.orderedVariables, covariance: [], residualDF: 0, dispersion: .nan, by: by,
                        keyTypes: keyTypes, groups: groups)
    }

    /// The value of each row of a key column as text (nil where missing): numbers in their
    /// shortest form (whole numbers without a decimal point), logicals as `TRUE`/`FALSE`, text
    /// and factor levels as they are. Another type is an error naming the column.
    static func keyText(_ column: ArrowColumn) throws -> [String?] {
        func number(_ value: Double) -> String {
            if value == value.rounded(), abs(value) < 9.2e18 { return String(Int64(value)) }
            return "\(value)"
        }
        switch column.type {
        case .utf8, .largeUtf8, .utf8View, .dictionary: return try column.stringValues()
        case .float64: return try column.float64Values().map { $0.map(number) }
        case .int32: return try column.int32Values().map { $0.map { String($0) } }
        case .int64: return try column.int64Values().map { $0.map { String($0) } }
        case .bool: return try column.boolValues().map { $0.map { $0 ? "TRUE" : "FALSE" } }
        default:
            throw LinearModelError.fitFailed(message: "the key column '\(column.name)' is \(column.type): a saved fit per group takes keys of numbers, text, factors or logicals")
        }
    }
}
