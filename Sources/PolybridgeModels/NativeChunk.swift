import Foundation
import PolybridgeArrow

/// The model-frame variables of a formula whose variables are all bare column names, as R's
/// `terms` lists them: the chunk work can then build the model matrix from Arrow buffers in
/// Swift instead of through R's `model.frame` and `model.matrix`.
struct NativeModelPlan: Sendable, Equatable {
    /// The response column.
    var response: String
    /// The predictor columns, in `terms` order.
    var predictors: [String]
    /// The weights column, if any.
    var weights: String?
    /// The offset column, if any.
    var offset: String?

    /// Every column the model reads, each once.
    var columns: [String] {
        var seen = Set<String>()
        return ([response] + predictors + [weights, offset].compactMap { $0 }).filter { seen.insert($0).inserted }
    }
}

/// How each model-matrix column is made: the product of its components, each a numeric
/// variable's value or a factor's contrast column indexed by level. R's `model.matrix` on a
/// zero-row frame with the global levels gives the names and contrasts.
struct NativeLayout: Sendable {
    /// One factor of a column's product.
    struct Component: Sendable {
        /// The model-frame variable.
        var variable: String
        /// The contrast column by global level (empty for a numeric variable).
        var contrast: [Double]
    }

    /// The model-matrix column names.
    var names: [String]
    /// Each column's components (none for the intercept).
    var columns: [[Component]]
    /// Whether the model has an intercept.
    var intercept: Bool
}

/// A failure of the native chunk work, with a message in R's words.
struct NativeChunkError: Error, CustomStringConvertible {
    /// What went wrong.
    var description: String
}

/// One chunk's model variables read from Arrow columns: numeric variables as doubles (a null
/// or NaN is NA), factor and character variables as codes into the chunk's levels, and which
/// rows `lm` keeps (no variable missing, as `na.omit` decides).
struct NativeChunkData {
    /// A factor or character variable.
    struct Categorical {
        /// Each row's level in `levels`, or -1 for a missing value.
        var codes: [Int32]
        /// The chunk's levels as bytes: the dictionary order for a dictionary column (united
        /// over its batches), first appearance for a string column.
        var levels: [[UInt8]]
        /// Whether the column declares its levels (a dictionary column, an R factor).
        var declared: Bool
        /// Whether the column is an ordered factor.
        var ordered: Bool
    }

    /// A numeric variable's values (NaN where missing): a view of the Arrow buffer itself for
    /// a float64 column in one piece without nulls, else a converted copy.
    struct Numeric {
        /// The values, valid while `owner` lives.
        let values: UnsafeBufferPointer<Double>
        /// What keeps `values` alive: the Arrow array, or the copy.
        let owner: AnyObject

        subscript(row: Int) -> Double { values[row] }
    }

    let plan: NativeModelPlan
    let rowCount: Int
    private(set) var numeric: [String: Numeric] = [:]
    private(set) var categorical: [String: Categorical] = [:]
    private(set) var kept: [Bool]

    /// Reads the plan's columns from `table`; nil when a column is absent or of a type the
    /// native path does not build (R's own path then runs and decides).
    init?(_ table: ArrowTable, plan: NativeModelPlan) {
        self.plan = plan
        self.rowCount = table.rowCount
        var keep = [Bool](repeating: true, count: table.rowCount)
        let numericOnly = Set([plan.response] + [plan.weights, plan.offset].compactMap { $0 })
        for name in plan.columns {
            guard let column = table.column(named: name) else { return nil }
            if let values = Self.numeric(column) {
                for index in 0..<values.values.count where values.values[index].isNaN { keep[index] = false }
                numeric[name] = values
            } else if !numericOnly.contains(name), let levels = Self.categorical(column) {
                for index in levels.codes.indices where levels.codes[index] < 0 { keep[index] = false }
                categorical[name] = levels
            } else {
                return nil
            }
        }
        self.kept = keep
    }

    /// For each factor variable that `levels` names: each of this data's levels → its index
    /// in `levels` (-1 for a level `levels` lacks).
    func levelPositions(in levels: [String: [String]]) -> [String: [Int]] {
        var positions: [String: [Int]] = [:]
        for (name, variable) in categorical {
            guard let known = levels[name] else { continue }
            let position = Dictionary(uniqueKeysWithValues: known.enumerated().map { (Array($0.element.utf8), $0.offset) })
            positions[name] = variable.levels.map { position[$0] ?? -1 }
        }
        return positions
    }

    /// The names of the ordered-factor variables.
    var orderedVariables: [String] { categorical.filter(\.value.ordered).map(\.key).sorted() }

    /// Pass 1: each factor variable's levels in this chunk, and those present in kept rows.
    func levels() -> ChunkLevels {
        var result = ChunkLevels(names: [], full: [], present: [], order: [])
        for name in plan.predictors where result.names.firstIndex(of: name) == nil {
            guard let variable = categorical[name] else { continue }
            var present = [Bool](repeating: false, count: variable.levels.count)
            for index in 0..<rowCount where kept[index] && variable.codes[index] >= 0 { present[Int(variable.codes[index])] = true }
            let strings = variable.levels.map { String(decoding: $0, as: UTF8.self) }
            result.names.append(name)
            result.full.append(strings)
            result.present.append(strings.indices.filter { present[$0] }.map { strings[$0] })
            result.order.append(variable.declared ? .declared : .text)
        }
        return result
    }

    /// The unweighted model matrix (column-major), response, weights and offset of the kept
    /// rows among `rows`: what R's `model.frame` and `model.matrix` give for those rows.
    func modelRows(_ rows: Range<Int>, layout: NativeLayout, levels: [String: [String]]) throws -> (x: [Double], y: [Double], w: [Double], offset: [Double]) {
        let chosen = rows.filter { kept[$0] }
        var x = [Double](repeating: 0, count: chosen.count * layout.columns.count)
        let (y, w, offset) = try x.withUnsafeMutableBufferPointer { try modelMatrix(chosen, layout: layout, levels: levels, into: $0.baseAddress!) }
        return (x, y, w, offset)
    }

    /// The rows `lm` and `glm` keep (no model variable missing).
    var keptRows: [Int] { (0..<rowCount).filter { kept[$0] } }

    /// The unweighted model matrix of `rows` (kept rows), written column-major into `x` with
    /// leading dimension `rows.count`, and their response, weights and offset (empty when the
    /// model has none).
    func modelMatrix(_ rows: [Int], layout: NativeLayout, levels: [String: [String]],
                     into x: UnsafeMutablePointer<Double>) throws -> (y: [Double], w: [Double], offset: [Double]) {
        let builder = try ColumnBuilder(self, layout: layout, levels: levels)
        builder.fill(rows: rows, into: x, stride: max(rows.count, 1))
        func values(_ name: String?) -> [Double] { name.map { name in rows.map { numeric[name]![$0] } } ?? [] }
        return (values(plan.response), values(plan.weights), values(plan.offset))
    }

    /// Pass 2: the R factor of a QR of the kept rows' [√w X | √w (y − offset)], built in blocks
    /// of rows straight from the columns, with the counts and offset sums the combine needs.
    func factor(layout: NativeLayout, levels: [String: [String]]) throws -> ChunkFactor {
        let builder = try ColumnBuilder(self, layout: layout, levels: levels)
        let p = layout.columns.count
        let blockRows = 256
        var triangle = TriangularFactor(columns: p + 1)
        var block = [Double](repeating: 0, count: blockRows * (p + 1))
        var rows: [Int] = []
        rows.reserveCapacity(blockRows)
        let response = numeric[plan.response]!
        let weights = plan.weights.map { numeric[$0]! }
        let offset = plan.offset.map { numeric[$0]! }
        var offsetSums = offset == nil ? [] : [Double](repeating: 0, count: 3 + 2 * p)
        var keptCount = 0, used = 0

        func flush() throws {
            guard !rows.isEmpty else { return }
            try block.withUnsafeMutableBufferPointer { buffer in
                let base = buffer.baseAddress!
                builder.fill(rows: rows, into: base, stride: blockRows)
                let y = base + p * blockRows
                for (k, row) in rows.enumerated() {
                    let w = weights?[row] ?? 1
                    if let offset {
                        let o = offset[row]
                        offsetSums[0] += w; offsetSums[1] += w * o; offsetSums[2] += w * o * o
                        for column in 0..<p {
                            let value = base[column * blockRows + k]
                            offsetSums[3 + column] += w * value
                            offsetSums[3 + p + column] += w * o * value
                        }
                        y[k] = response[row] - o
                    } else {
                        y[k] = response[row]
                    }
                    if weights != nil {
                        let s = w.squareRoot()
                        for column in 0...p { base[column * blockRows + k] *= s }
                    }
                }
                for column in 0...p {
                    for k in 0..<rows.count where !base[column * blockRows + k].isFinite {
                        throw NativeChunkError(description: "NA/NaN/Inf in '\(column == p ? "y" : "x")'")
                    }
                }
                triangle.absorb(block: base, rowCount: rows.count, stride: blockRows)
            }
            rows.removeAll(keepingCapacity: true)
        }

        for row in 0..<rowCount where kept[row] {
            keptCount += 1
            if let weights {
                if weights[row] < 0 { throw NativeChunkError(description: "negative weights are not allowed") }
                if weights[row] == 0 { continue }
            }
            used += 1
            rows.append(row)
            if rows.count == blockRows { try flush() }
        }
        try flush()
        let (values, factorRows) = triangle.factor
        return ChunkFactor(r: values, rows: factorRows, columns: layout.names, kept: keptCount, used: used,
                           dropped: rowCount - keptCount, intercept: layout.intercept, offsetSums: offsetSums)
    }

    // MARK: - Reading columns

    /// A numeric column's values, or nil for other types.
    private static func numeric(_ column: ArrowColumn) -> Numeric? {
        if column.chunks.count == 1, let array = column.chunks.first, array.type == .float64, array.nullCount == 0,
           let values = try? array.values(as: Double.self), values.count == column.length {
            return Numeric(values: values, owner: array)
        }
        guard let copy = doubles(column) else { return nil }
        let owner = DoubleStorage(copy)
        return Numeric(values: owner.buffer, owner: owner)
    }

    /// A numeric column as doubles with NaN for null, or nil for other types (and for 64-bit
    /// integers beyond 2^53, which a double cannot hold exactly).
    static func doubles(_ column: ArrowColumn) -> [Double]? {
        var out = [Double]()
        out.reserveCapacity(column.length)
        for array in column.chunks {
            func append<T>(_ type: T.Type, _ convert: (T) -> Double?) -> Bool {
                guard let values = try? array.values(as: T.self) else { return false }
                for index in 0..<array.length {
                    guard array.isValid(index) else { out.append(.nan); continue }
                    guard let value = convert(values[index]) else { return false }
                    out.append(value)
                }
                return true
            }
            let ok: Bool
            switch array.type {
            case .float64:
                if array.nullCount == 0, let values = try? array.values(as: Double.self) {
                    out.append(contentsOf: values)
                    ok = true
                } else {
                    ok = append(Double.self) { $0 }
                }
            case .float32: ok = append(Float.self) { Double($0) }
            case .int8: ok = append(Int8.self) { Double($0) }
            case .int16: ok = append(Int16.self) { Double($0) }
            case .int32: ok = append(Int32.self) { Double($0) }
            case .uint8: ok = append(UInt8.self) { Double($0) }
            case .uint16: ok = append(UInt16.self) { Double($0) }
            case .uint32: ok = append(UInt32.self) { Double($0) }
            case .int64: ok = append(Int64.self) { $0.magnitude <= 1 << 53 ? Double($0) : nil }  // abs(Int64.min) traps
            default: return nil
            }
            if !ok { return nil }
        }
        return out
    }

    /// A string or dictionary-of-strings column as level codes, or nil for other types.
    private static func categorical(_ column: ArrowColumn) -> Categorical? {
        var index: [[UInt8]: Int32] = [:]
        var result = Categorical(codes: [], levels: [], declared: false, ordered: false)
        result.codes.reserveCapacity(column.length)
        func code(_ bytes: UnsafeBufferPointer<UInt8>?) -> Int32 {
            guard let bytes else { return -1 }
            let key = Array(bytes)
            if let existing = index[key] { return existing }
            let next = Int32(result.levels.count)
            index[key] = next
            result.levels.append(key)
            return next
        }
        for array in column.chunks {
            switch array.type {
            case .utf8, .largeUtf8, .utf8View:
                guard (try? array.forEachStringBytes { _, bytes in result.codes.append(code(bytes)) }) != nil else { return nil }
            case .dictionary(_, let value, let ordered) where value == .utf8 || value == .largeUtf8 || value == .utf8View:
                result.declared = true
                result.ordered = ordered
                guard let dictionary = array.dictionary, let codes = try? array.dictionaryCodes() else { return nil }
                var map: [Int32] = []
                guard (try? dictionary.forEachStringBytes { _, bytes in map.append(code(bytes)) }) != nil else { return nil }
                for value in codes {
                    guard let value else { result.codes.append(-1); continue }
                    guard value >= 0, Int(value) < map.count else { return nil }
                    result.codes.append(map[Int(value)])
                }
            default:
                return nil
            }
        }
        return result
    }
}

/// Converted values that a ``NativeChunkData/Numeric`` points into.
private final class DoubleStorage {
    let pointer: UnsafeMutableBufferPointer<Double>

    init(_ values: [Double]) {
        pointer = UnsafeMutableBufferPointer<Double>.allocate(capacity: values.count)
        _ = pointer.initialize(from: values)
    }

    var buffer: UnsafeBufferPointer<Double> { UnsafeBufferPointer(pointer) }

    deinit { pointer.deallocate() }
}

/// Fills model-matrix columns for chosen rows from a chunk's variables and a layout.
/// The model matrix's columns for a layout, from a chunk's variables: `fill` writes any rows.
struct ColumnBuilder {
    private enum Part {
        case value(NativeChunkData.Numeric)
        case contrast([Double], codes: [Int32])
    }

    private let columns: [[Part]]

    /// The columns of `layout` over `data`, whose factor variables take `levels`; with `rows`,
    /// only those rows are read (and only those may be filled).
    init(_ data: NativeChunkData, layout: NativeLayout, levels: [String: [String]], rows: [Int]? = nil) throws {
        var globalCodes: [String: [Int32]] = [:]
        for (name, variable) in data.categorical {
            guard let global = levels[name] else { continue }
            var position: [[UInt8]: Int32] = [:]
            for (index, level) in global.enumerated() { position[Array(level.utf8)] = Int32(index) }
            let map = variable.levels.map { position[$0] ?? -1 }
            var codes = [Int32](repeating: -1, count: data.rowCount)
            func read(_ row: Int) throws {
                guard variable.codes[row] >= 0 else { return }
                let code = map[Int(variable.codes[row])]
                if code < 0 && data.kept[row] {
                    let level = String(decoding: variable.levels[Int(variable.codes[row])], as: UTF8.self)
                    throw NativeChunkError(description: "factor \(name) has new levels \(level)")
                }
                codes[row] = code
            }
            if let rows {
                for row in rows { try read(row) }
            } else {
                for row in 0..<data.rowCount { try read(row) }
            }
            globalCodes[name] = codes
        }
        columns = try layout.columns.map { components in
            try components.map { component in
                if component.contrast.isEmpty {
                    guard let values = data.numeric[component.variable] else {
                        throw NativeChunkError(description: "variable \(component.variable) is not numeric in this chunk")
                    }
                    return .value(values)
                }
                guard let codes = globalCodes[component.variable] else {
                    throw NativeChunkError(description: "variable \(component.variable) is not a factor in this chunk")
                }
                return .contrast(component.contrast, codes: codes)
            }
        }
    }

    /// Writes column j of the model matrix for `rows` at `base + j * stride`.
    func fill(rows: [Int], into base: UnsafeMutablePointer<Double>, stride: Int) {
        fill(rows: rows, columns: Array(columns.indices), into: base, stride: stride)
    }

    /// Writes the model matrix's column `columns[j]` for `rows` at `base + j * stride`.
    func fill(rows: [Int], columns chosen: [Int], into base: UnsafeMutablePointer<Double>, stride: Int) {
        for (j, column) in chosen.enumerated() {
            let parts = columns[column]
            let out = base + j * stride
            for k in rows.indices { out[k] = 1 }
            for part in parts {
                switch part {
                case .value(let numeric):
                    withExtendedLifetime(numeric.owner) {
                        let values = numeric.values
                        for (k, row) in rows.enumerated() { out[k] *= values[row] }
                    }
                case .contrast(let contrast, let codes):
                    contrast.withUnsafeBufferPointer { contrast in
                        codes.withUnsafeBufferPointer { codes in
                            for (k, row) in rows.enumerated() { out[k] *= contrast[Int(codes[row])] }
                        }
                    }
                }
            }
        }
    }
}
