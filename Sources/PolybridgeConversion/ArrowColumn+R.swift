import Foundation
import PolybridgeArrow
import PolybridgeRuntime

/// Arrow → R: one column at a time, on the R thread, through the session's guarded accessors.
///
/// A single-chunk float64 or int32 column without nulls becomes an ALTREP vector over the Arrow
/// buffer (no copy; the Arrow array is released when R collects the vector). Everything else is
/// copied in bulk: memcpy for values, then R's NA written where the validity bitmap says null.
extension RSession {
    /// Converts an Arrow table into an R data.frame (UTF-8 strings). A pandas index (named by
    /// the table's `pandas` metadata) of unique, non-missing strings or integers becomes the row
    /// names; otherwise the row names are automatic (compact) and an index column becomes the
    /// first column, an unnamed one (`__index_level_0__`) named "" as its CSV header is.
    public func dataFrame(from table: ArrowTable) throws -> SEXP {
        guard let rowCount = Int32(exactly: table.rowCount) else { throw ConversionError.tooManyRows(table.rowCount) }
        var columns = table.columns
        var names = columns.map(\.name)
        var indexRowNames: SEXP?
        switch PandasIndex.location(in: table) {
        case .column(let position)?:
            indexRowNames = try rowNames(from: table.columns[position])
            if indexRowNames != nil {
                columns.remove(at: position)
                names.remove(at: position)
            } else {
                // An index R cannot hold as row names (a duplicate, an NA) becomes the first
                // column, where pandas' reset_index() and to_csv() put it, and an unnamed one
                // takes the empty name it has in CSV text (to_csv and R's write.csv head it ""),
                // as any other empty CSV header converts.
                let name = PandasIndex.isUnnamed(names[position]) && !names.contains("") ? "" : names[position]
                columns.insert(columns.remove(at: position), at: 0)
                names.remove(at: position)
                names.insert(name, at: 0)
            }
        case .range(let start, let step)?:
            indexRowNames = try rowNames(start: start, step: step, count: table.rowCount)
        case nil:
            break
        }
        let frame = try allocate(.list, length: columns.count, purpose: "allocating a data.frame")
        for (position, column) in columns.enumerated() {
            try setElement(of: frame, at: position, to: try vector(from: column))
        }
        try setNames(frame, names)
        if let indexRowNames {
            try setAttribute(frame, "row.names", indexRowNames)
        } else {
            // Compact row names: c(NA_integer_, -n).
            let compact = try allocate(.integer, length: 2)
            let values = try writableValues(of: compact, as: Int32.self)
            values[0] = naInteger
            values[1] = -rowCount
            try setAttribute(frame, "row.names", compact)
        }
        try setAttribute(frame, "class", try makeStrings(["data.frame"]))
        return frame
    }

    /// Integer row names `start, start + step, …`, or nil when one falls outside R's integers.
    private func rowNames(start: Int, step: Int, count: Int) throws -> SEXP? {
        guard count > 0, Int32(exactly: start) != nil, Int32(exactly: start + (count - 1) * step) != nil,
              start + (count - 1) * step != Int(Int32.min) else { return nil }
        let vector = try allocate(.integer, length: count, purpose: "row names")
        let out = try writableValues(of: vector, as: Int32.self)
        for position in 0..<count { out[position] = Int32(start + position * step) }
        return vector
    }

    /// R row names from a pandas index column, or nil when R could not hold them as row names
    /// (a null, a duplicate, an integer beyond R's range, another type).
    private func rowNames(from column: ArrowColumn) throws -> SEXP? {
        guard column.chunks.allSatisfy({ $0.nullCount == 0 }) else { return nil }
        if column.type.isString {
            var seen = Set<[UInt8]>()
            var unique = true
            for array in column.chunks where unique {
                try array.forEachStringBytes { _, bytes throws(ArrowError) in
                    if unique, let bytes, !seen.insert(Array(bytes)).inserted { unique = false }
                }
            }
            return unique ? try vector(from: column) : nil
        }
        guard column.type.isInteger else { return nil }
        var seen = Set<Int32>()
        var values: [Int32] = []
        values.reserveCapacity(column.length)
        for array in column.chunks {
            for index in 0..<array.length {
                guard let value = try integerValue(array, index), let narrow = Int32(exactly: value), narrow != Int32.min,
                      seen.insert(narrow).inserted else { return nil }
                values.append(narrow)
            }
        }
        let vector = try allocate(.integer, length: values.count, purpose: "row names")
        let out = try writableValues(of: vector, as: Int32.self)
        for (position, value) in values.enumerated() { out[position] = value }
        return vector
    }

    /// Converts one (possibly chunked) Arrow column into an R vector.
    public func vector(from column: ArrowColumn) throws -> SEXP {
        let name = column.name
        do {
            switch column.type {
            case .float64:
                if let shared = try sharedVector(column, doubles: true) { return shared }
                return try fixedWidth(column, type: .double, as: Double.self, missing: naReal)
            case .int32:
                // INT_MIN is R's NA_integer_, so a column holding it as a value widens to double.
                if holdsInt32Minimum(column) { return try exactDoubles(column) }
                if let shared = try sharedVector(column, doubles: false) { return shared }
                return try fixedWidth(column, type: .integer, as: Int32.self, missing: naInteger)
            case .int8, .int16, .uint8, .uint16:
                return try widenedIntegers(column)
            case .int64:
                // As R's arrow package does (arrow.int64_downcast): values that all fit R's
                // integer, -2^31 (NA_integer_) excluded, make an integer vector.
                if fitsRInteger(column) { return try widenedIntegers(column) }
                return try exactDoubles(column)
            case .uint32, .uint64:
                return try exactDoubles(column)
            case .bool:
                return try logicals(column)
            case .utf8, .largeUtf8, .utf8View:
                return try strings(column.chunks, total: column.length, column: name)
            case .dictionary(_, let value, let ordered) where value.isString:
                return try factor(column, ordered: ordered)
            case .null:
                // What read.csv gives an empty column: logical, all NA.
                let vector = try allocate(.logical, length: column.length, purpose: "column \(name)")
                let out = try writableValues(of: vector, as: Int32.self)
                for index in 0..<column.length { out[index] = naInteger }
                return vector
            case .float32:
                return try convertedDoubles(column) { array, index in
                    Double(array.buffers[1]!.assumingMemoryBound(to: Float.self)[array.offset + index])
                }
            case .float16:
                return try convertedDoubles(column) { array, index in
                    Double(array.buffers[1]!.assumingMemoryBound(to: Float16.self)[array.offset + index])
                }
            case .decimal(let precision, let scale, let bitWidth):
                return try decimals(column, precision: precision, scale: scale, bitWidth: bitWidth)
            case .date32:
                let days = try scaledDoubles(column, as: Int32.self, divisor: 1)
                try setAttribute(days, "class", try makeStrings(["Date"]))
                return days
            case .date64:
                let days = try date64Days(column)
                try setAttribute(days, "class", try makeStrings(["Date"]))
                return days
            case .timestamp(let unit, let timezone):
                let seconds = try scaledDoubles(column, as: Int64.self, divisor: Double(unit.perSecond))
                try setAttribute(seconds, "class", try makeStrings(["POSIXct", "POSIXt"]))
                // Naive timestamps become POSIXct with tzone "" (local wall-clock time), as in R itself.
                try setAttribute(seconds, "tzone", try makeStrings([timezone ?? ""]))
                return seconds
            default:
                throw ConversionError.unsupportedColumn(column: name, type: "Arrow \(column.type)")
            }
        } catch let error as ArrowError {
            throw ConversionError.arrow(error.inColumn(name))
        } catch RError.invalidString(let row) {
            throw ConversionError.invalidString(column: name, row: row)
        }
    }

    /// Whether a valid element of an int32 column equals Int32.min (which R would read as NA).
    private func holdsInt32Minimum(_ column: ArrowColumn) -> Bool {
        for array in column.chunks where array.length > 0 {
            guard let raw = array.buffers[1] else { continue }
            let values = UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Int32.self) + array.offset, count: array.length)
            // A branch-free minimum first: the common case (no INT_MIN at all) is one fast pass.
            guard values.min() == Int32.min else { continue }
            for index in 0..<array.length where values[index] == Int32.min && array.isValid(index) { return true }
        }
        return false
    }

    /// Whether every valid value of an int64 column lies in (-2^31, 2^31), so an R integer
    /// vector holds it (-2^31 is R's NA_integer_).
    private func fitsRInteger(_ column: ArrowColumn) -> Bool {
        for array in column.chunks where array.length > 0 {
            guard let raw = array.buffers[1] else { continue }
            let values = UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Int64.self) + array.offset, count: array.length)
            // Branch-free bounds first: a null's slot may hold anything, so only a miss looks closer.
            guard let low = values.min(), let high = values.max(), low <= Int64(Int32.min) || high > Int64(Int32.max) else { continue }
            for index in 0..<array.length where array.isValid(index) {
                if values[index] <= Int64(Int32.min) || values[index] > Int64(Int32.max) { return false }
            }
        }
        return true
    }

    /// An ALTREP view of a single null-free chunk, or nil when the column needs converting.
    private func sharedVector(_ column: ArrowColumn, doubles: Bool) throws -> SEXP? {
        // A short slice of a long buffer (the first rows of a chunk) is copied: R's garbage
        // collector sees only the small wrapper of a shared vector, not the Arrow memory it keeps
        // alive, so the whole buffer would stay until R happens to collect.
        guard column.chunks.count == 1, let array = column.chunks.first, array.nullCount == 0,
              let values = array.buffers[1],
              column.length >= Self.smallestSharedSlice || column.length * 2 >= array.underlyingLength else { return nil }
        let width = doubles ? 8 : 4
        return try sharedVector(doubles: doubles, values: values + array.offset * width, count: array.length, owner: array)
    }

    /// A column at least this long is shared even when it is a small part of its buffer.
    static let smallestSharedSlice = 4096

    /// Copies same-width values chunk by chunk, then writes `missing` at null positions.
    private func fixedWidth<T>(_ column: ArrowColumn, type: RVectorType, as: T.Type, missing: T) throws -> SEXP {
        let vector = try allocate(type, length: column.length, purpose: "column \(column.name)")
        let out = try writableValues(of: vector, as: T.self)
        var position = 0
        for array in column.chunks {
            if let values = array.buffers[1], array.length > 0 {
                memcpy(out + position, values + array.offset * MemoryLayout<T>.stride, array.length * MemoryLayout<T>.stride)
            }
            if array.nullCount != 0 {
                for index in 0..<array.length where !array.isValid(index) { out[position + index] = missing }
            }
            position += array.length
        }
        return vector
    }

    /// Integer values divided by `divisor` into doubles (dates in days, timestamps in seconds);
    /// null elements become NA_real_.
    private func scaledDoubles<T: BinaryInteger>(_ column: ArrowColumn, as: T.Type, divisor: Double) throws -> SEXP {
        let vector = try allocate(.double, length: column.length, purpose: "column \(column.name)")
        let out = try writableValues(of: vector, as: Double.self)
        let na = naReal
        var position = 0
        for array in column.chunks where array.length > 0 {
            guard let raw = array.buffers[1] else {
                throw ConversionError.arrow(.invalidArray(column: column.name, reason: "the data buffer (buffer 1) is NULL"))
            }
            let values = raw.assumingMemoryBound(to: T.self) + array.offset
            for index in 0..<array.length { out[position + index] = Double(values[index]) / divisor }
            if array.nullCount != 0 {
                for index in 0..<array.length where !array.isValid(index) { out[position + index] = na }
            }
            position += array.length
        }
        return vector
    }

    /// Doubles computed per element by `value(array, index)`; null elements become NA_real_.
    private func convertedDoubles(_ column: ArrowColumn,
                                  _ value: (PolybridgeArrow.ArrowArray, Int) throws -> Double) throws -> SEXP {
        let vector = try allocate(.double, length: column.length, purpose: "column \(column.name)")
        let out = try writableValues(of: vector, as: Double.self)
        var position = 0
        let na = naReal
        for array in column.chunks {
            for index in 0..<array.length {
                out[position + index] = array.isValid(index) ? try value(array, index) : na
            }
            position += array.length
        }
        return vector
    }

    /// date64 (milliseconds) as whole days; a value that is not a whole day is an error naming
    /// the row (the format requires whole days, and R's Date would silently hold a fraction).
    private func date64Days(_ column: ArrowColumn) throws -> SEXP {
        let perDay: Int64 = 86_400_000
        var row = 0
        for array in column.chunks where array.length > 0 {
            let values = array.buffers[1]!.assumingMemoryBound(to: Int64.self) + array.offset
            for index in 0..<array.length where array.isValid(index) && values[index] % perDay != 0 {
                throw ConversionError.invalidValue(column: column.name, row: row + index + 1,
                    detail: "date64 value \(values[index]) ms is not a whole day, which R's Date cannot hold exactly")
            }
            row += array.length
        }
        return try scaledDoubles(column, as: Int64.self, divisor: Double(perDay))
    }

    /// Decimals become doubles when every value has at most 15 significant digits, so the
    /// double prints back as the same decimal; otherwise an error names the row.
    private func decimals(_ column: ArrowColumn, precision: Int, scale: Int, bitWidth: Int) throws -> SEXP {
        let limit: Int128 = 1_000_000_000_000_000  // 10^15
        func unscaled(_ array: PolybridgeArrow.ArrowArray, _ index: Int) -> Int128? {
            let raw = array.buffers[1]! + (array.offset + index) * (bitWidth / 8)
            switch bitWidth {
            case 32: return Int128(raw.loadUnaligned(as: Int32.self))
            case 64: return Int128(raw.loadUnaligned(as: Int64.self))
            case 128: return raw.loadUnaligned(as: Int128.self)
            default:
                // 256 bits: exact only when the upper half just extends the sign of the lower.
                let low = raw.loadUnaligned(as: Int128.self)
                let high = raw.loadUnaligned(fromByteOffset: 16, as: Int128.self)
                return high == (low < 0 ? -1 : 0) ? low : nil
            }
        }
        func power(_ exponent: Int) -> Double { (0..<exponent).reduce(1.0) { value, _ in value * 10 } }
        var row = 0
        for array in column.chunks {
            for index in 0..<array.length where array.isValid(index) {
                guard let value = unscaled(array, index), value.magnitude < limit.magnitude else {
                    throw ConversionError.invalidValue(column: column.name, row: row + index + 1,
                        detail: "decimal\(bitWidth)(\(precision), \(scale)) value has more than 15 significant digits, which a double cannot hold exactly; cast it to a string or round it first")
                }
            }
            row += array.length
        }
        // |unscaled| < 10^15 < 2^53 is exact as a double, and so is 10^|scale| up to 10^22, so the
        // division (or product) is correctly rounded; beyond that, parsing the decimal text is.
        let factor = power(Swift.min(abs(scale), 22))
        return try convertedDoubles(column) { array, index in
            let value = unscaled(array, index) ?? 0
            if abs(scale) > 22 { return Double("\(value)e\(-scale)") ?? .nan }
            return scale >= 0 ? Double(value) / factor : Double(value) * factor
        }
    }

    /// int64/uint32/uint64 become doubles when every value is exact (|v| ≤ 2^53), else an error.
    private func exactDoubles(_ column: ArrowColumn) throws -> SEXP {
        let limit: Int64 = 1 << 53
        var row = 0
        for array in column.chunks {
            for index in 0..<array.length where array.isValid(index) {
                guard let value = try integerValue(array, index), value.magnitude <= limit else {
                    throw ConversionError.inexactInteger(column: column.name, row: row + index + 1, type: "\(array.type)",
                                                         value: integerText(array, index), bit64: bit64Installed())
                }
            }
            row += array.length
        }
        return try convertedDoubles(column) { array, index in Double(try integerValue(array, index) ?? 0) }
    }

    /// Whether R's bit64 package is installed, for the advice of ``ConversionError/inexactInteger``.
    private func bit64Installed() -> Bool {
        guard let found = try? evaluateText("nzchar(system.file(package = 'bit64'))", purpose: "looking for bit64"),
              let flag = try? read(found) else { return false }
        return flag == .logical([true])
    }

    /// The decimal text of an integer element, a uint64 beyond Int64 included.
    private func integerText(_ array: PolybridgeArrow.ArrowArray, _ index: Int) -> String {
        guard let values = array.buffers[1] else { return "0" }
        if case .uint64 = array.type { return String(values.assumingMemoryBound(to: UInt64.self)[array.offset + index]) }
        return (try? integerValue(array, index)).flatMap { $0.map(String.init) } ?? "?"
    }

    /// An integer element widened to Int64 (nil when a uint64 does not fit).
    private func integerValue(_ array: PolybridgeArrow.ArrowArray, _ index: Int) throws -> Int64? {
        guard let values = array.buffers[1] else { return 0 }
        let i = array.offset + index
        var integerType = array.type
        if case .dictionary(let indexType, _, _) = array.type { integerType = indexType }
        switch integerType {
        case .int8: return Int64(values.assumingMemoryBound(to: Int8.self)[i])
        case .int16: return Int64(values.assumingMemoryBound(to: Int16.self)[i])
        case .int32: return Int64(values.assumingMemoryBound(to: Int32.self)[i])
        case .int64: return values.assumingMemoryBound(to: Int64.self)[i]
        case .uint8: return Int64(values.assumingMemoryBound(to: UInt8.self)[i])
        case .uint16: return Int64(values.assumingMemoryBound(to: UInt16.self)[i])
        case .uint32: return Int64(values.assumingMemoryBound(to: UInt32.self)[i])
        case .uint64: return Int64(exactly: values.assumingMemoryBound(to: UInt64.self)[i])
        default: throw ConversionError.unsupportedColumn(column: "", type: "Arrow \(array.type) as an integer")
        }
    }

    private func widenedIntegers(_ column: ArrowColumn) throws -> SEXP {
        let vector = try allocate(.integer, length: column.length, purpose: "column \(column.name)")
        let out = try writableValues(of: vector, as: Int32.self)
        let na = naInteger
        var position = 0
        for array in column.chunks {
            for index in 0..<array.length {
                // int8/int16/uint8/uint16 always fit in an R integer (none reaches INT_MIN), and
                // int64 columns come here only when they do (fitsRInteger).
                out[position + index] = array.isValid(index) ? Int32(try integerValue(array, index) ?? 0) : na
            }
            position += array.length
        }
        return vector
    }

    private func logicals(_ column: ArrowColumn) throws -> SEXP {
        let vector = try allocate(.logical, length: column.length, purpose: "column \(column.name)")
        let out = try writableValues(of: vector, as: Int32.self)
        let na = naInteger
        var position = 0
        for array in column.chunks {
            let validity = array.validityBitmap
            if let bits = array.buffers[1]?.assumingMemoryBound(to: UInt8.self) {
                for index in 0..<array.length {
                    let bit = array.offset + index
                    let value = Int32((bits[bit >> 3] >> UInt8(bit & 7)) & 1)
                    let valid = validity.map { ($0[bit >> 3] >> UInt8(bit & 7)) & 1 == 1 } ?? true
                    out[position + index] = valid ? value : na
                }
            } else {
                for index in 0..<array.length { out[position + index] = array.isValid(index) ? 0 : na }
            }
            position += array.length
        }
        return vector
    }

    /// A character vector from string chunks; each distinct value becomes one CHARSXP. Invalid
    /// UTF-8 is an error naming the row, in every layout (offsets, views, dictionaries).
    func strings(_ chunks: [PolybridgeArrow.ArrowArray], total: Int, column: String) throws -> SEXP {
        if chunks.count == 1, let array = chunks.first { return try stringChunk(array, rowOffset: 0, column: column) }
        let vector = try allocate(.character, length: total, purpose: "column \(column)")
        var position = 0
        for array in chunks {
            let part = try stringChunk(array, rowOffset: position, column: column)
            let elements = try stringElements(of: part)
            for index in 0..<array.length {
                guard let element = elements[index] else { throw RError.conversion("a character vector holds a NULL element") }
                try setString(of: vector, at: position + index, to: element)
            }
            position += array.length
        }
        return vector
    }

    /// One chunk of strings; `rowOffset` turns a row within the chunk into a row of the column.
    private func stringChunk(_ array: PolybridgeArrow.ArrowArray, rowOffset: Int, column: String) throws -> SEXP {
        do {
            if array.type == .utf8View { return try stringsFromViews(array) }
            let empty: UInt8 = 0
            return try withUnsafePointer(to: empty) { emptyByte in
                try makeStrings(offsets: array.buffers[1], wide: array.type == .largeUtf8,
                                data: array.buffers[2]?.assumingMemoryBound(to: UInt8.self) ?? emptyByte,
                                validity: array.nullCount != 0 ? array.validityBitmap : nil,
                                first: array.offset, count: array.length)
            }
        } catch RError.invalidString(let row) {
            throw ConversionError.invalidString(column: column, row: rowOffset + row)
        }
    }

    /// Strings from a utf8_view chunk (polars' layout): pointers into the views and data buffers.
    private func stringsFromViews(_ array: PolybridgeArrow.ArrowArray) throws -> SEXP {
        var pointers: [UnsafePointer<CChar>?] = []
        var lengths: [Int32] = []
        pointers.reserveCapacity(array.length)
        lengths.reserveCapacity(array.length)
        try array.forEachStringBytes { _, bytes throws(ArrowError) in
            guard let bytes else { pointers.append(nil); lengths.append(-1); return }
            pointers.append(bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) })
            lengths.append(Int32(bytes.count))  // a view's length is an int32 already
        }
        return try withExtendedLifetime(array) { try makeStrings(pointers: pointers, lengths: lengths) }
    }

    /// A factor: 1-based codes, levels from the dictionary; chunks with different dictionaries are
    /// unified. Levels compare as bytes ("\u{e9}" and "e\u{301}" stay two levels); a code outside
    /// its dictionary is an error naming the row; a null dictionary entry makes its rows NA.
    private func factor(_ column: ArrowColumn, ordered: Bool) throws -> SEXP {
        var levelIndex: [[UInt8]: Int32] = [:]
        var levelPointers: [UnsafePointer<CChar>?] = []
        var levelLengths: [Int32] = []
        var chunkMaps: [[Int32]] = []
        let na = naInteger
        for array in column.chunks {
            guard let dictionary = array.dictionary else {
                throw ConversionError.arrow(.invalidArray(column: column.name, reason: "dictionary-encoded array has no dictionary"))
            }
            var map: [Int32] = []
            map.reserveCapacity(dictionary.length)
            try dictionary.forEachStringBytes { _, bytes throws(ArrowError) in
                guard let bytes else { map.append(na); return }
                let key = Array(bytes)
                if let existing = levelIndex[key] { map.append(existing); return }
                levelPointers.append(bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) })
                guard let length = Int32(exactly: bytes.count) else {
                    throw .invalidArray(column: column.name, reason: "a factor level is longer than R's 2^31 − 1 byte limit")
                }
                levelLengths.append(length)
                levelIndex[key] = Int32(levelLengths.count)
                map.append(Int32(levelLengths.count))
            }
            chunkMaps.append(map)
        }
        let vector = try allocate(.integer, length: column.length, purpose: "column \(column.name)")
        let out = try writableValues(of: vector, as: Int32.self)
        var position = 0
        for (array, map) in zip(column.chunks, chunkMaps) {
            func outside(_ index: Int) -> ConversionError {
                .invalidValue(column: column.name, row: position + index + 1,
                    detail: "dictionary code \((try? integerValue(array, index)).flatMap { $0 }.map(String.init) ?? "beyond int64") is outside its \(map.count)-entry dictionary")
            }
            // The common index types read straight from the buffer; others one by one.
            if case .dictionary(let indexType, _, _) = array.type, indexType == .int32 || indexType == .int8 || indexType == .int16,
               let values = array.buffers[1], array.length > 0 {
                let bitmap = array.validityBitmap
                let count = map.count
                try map.withUnsafeBufferPointer { map in
                    func copy<Code: BinaryInteger>(_ codes: UnsafePointer<Code>) throws {
                        for index in 0..<array.length {
                            let bit = array.offset + index
                            if let bitmap, (bitmap[bit >> 3] >> UInt8(bit & 7)) & 1 == 0 { out[position + index] = na; continue }
                            let code = Int(codes[bit])
                            guard code >= 0, code < count else { throw outside(index) }
                            out[position + index] = map[code]
                        }
                    }
                    switch indexType {
                    case .int8: try copy(values.assumingMemoryBound(to: Int8.self))
                    case .int16: try copy(values.assumingMemoryBound(to: Int16.self))
                    default: try copy(values.assumingMemoryBound(to: Int32.self))
                    }
                }
            } else {
                for index in 0..<array.length {
                    guard array.isValid(index) else { out[position + index] = na; continue }
                    guard let code = try integerValue(array, index), code >= 0, code < map.count else { throw outside(index) }
                    out[position + index] = map[Int(code)]
                }
            }
            position += array.length
        }
        let levels: SEXP
        do {
            // The level bytes point into the dictionaries, which the column keeps alive.
            levels = try withExtendedLifetime(column) { try makeStrings(pointers: levelPointers, lengths: levelLengths) }
        } catch RError.invalidString(let row) {
            throw ConversionError.invalidUTF8(column: column.name,
                detail: "factor level \(row) is not valid UTF-8 (or contains a NUL byte)")
        }
        try setAttribute(vector, "levels", levels)
        try setAttribute(vector, "class", try makeStrings(ordered ? ["ordered", "factor"] : ["factor"]))
        return vector
    }
}
