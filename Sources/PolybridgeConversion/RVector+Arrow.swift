import Foundation
import PolybridgeArrow
import PolybridgeRuntime

/// R → Arrow: one column at a time, on the R thread, through the session's guarded accessors.
///
/// Double and integer vectors are shared, not copied: the Arrow array points at R's memory and
/// keeps the vector alive (released on the R thread when the consumer is done). Missing values
/// become a validity bitmap beside the shared values. Everything else is converted in bulk loops.
/// A value Arrow cannot hold (a factor code outside its levels, a date outside date32) is an
/// error naming the column and row, never clamped, wrapped or turned into a null.
extension RSession {
    /// Converts an R data.frame into an Arrow table with one chunk per column.
    public func arrowTable(fromDataFrame frame: SEXP) throws -> ArrowTable {
        let classes = try classes(of: frame)
        guard vectorType(of: frame) == .list, classes.contains("data.frame") else {
            let described = classes.isEmpty ? typeName(of: frame) : classes.joined(separator: "/")
            throw ConversionError.notADataFrame(found: described)
        }
        let count = try length(of: frame)
        let names = try columnNames(of: frame, count: count)
        // R expands compact row names on access; their length is the frame's row count.
        let rows = try attribute(frame, "row.names").map { try length(of: $0) }
        if rows == nil, count > 0 {
            throw ConversionError.malformedDataFrame("it has no row.names attribute, so R counts 0 rows")
        }
        // Names compare as bytes: "\u{e9}" and "e\u{301}" are different columns.
        var seen = Set<[UInt8]>()
        var columns: [(name: String, array: PolybridgeArrow.ArrowArray)] = []
        columns.reserveCapacity(count)
        for index in 0..<count {
            let name = names[index]
            guard seen.insert(Array(name.utf8)).inserted else { throw ConversionError.duplicateColumn(name) }
            let vector = try element(of: frame, at: index)
            let array = try arrowArray(fromVector: vector, column: name)
            if let rows, array.length != rows {
                throw ConversionError.invalidValue(column: name, row: nil,
                    detail: "has \(array.length) values but the data.frame has \(rows) rows (a malformed data.frame)")
            }
            columns.append((name, array))
        }
        if columns.isEmpty {
            do { return try ArrowTable(rowCountWithoutColumns: rows ?? 0) } catch { throw ConversionError.arrow(error) }
        }
        var metadata: [String: String] = [:]
        if let index = try rowNameIndex(of: frame), !seen.contains(Array(PandasIndex.unnamedColumn.utf8)) {
            columns.append((PandasIndex.unnamedColumn, index.array))
            metadata = PandasIndex.metadata(indexColumn: PandasIndex.unnamedColumn, pandasType: index.pandasType)
        }
        do { return try ArrowTable(columns: columns).withMetadata(metadata) } catch { throw ConversionError.arrow(error) }
    }

    /// Row names worth keeping as a pandas index: character row names, or integer ones other
    /// than the automatic 1..n (a subset's `c(3L, 7L)`); nil for automatic row names.
    private func rowNameIndex(of frame: SEXP) throws -> (array: PolybridgeArrow.ArrowArray, pandasType: String)? {
        guard let rowNames = try attribute(frame, "row.names") else { return nil }
        switch vectorType(of: rowNames) {
        case .character:
            // What R itself refuses in data.frame(): NA and duplicated row names.
            var seen = Set<[UInt8]>()
            for (row, name) in try readStrings(rowNames).enumerated() {
                guard let name else {
                    throw ConversionError.malformedDataFrame("row name \(row + 1) is NA, which R does not allow")
                }
                guard seen.insert(Array(name.utf8)).inserted else {
                    throw ConversionError.malformedDataFrame("row name \(row + 1) ('\(name)') appears more than once, which R does not allow")
                }
            }
            return (try arrowArray(fromVector: rowNames, column: "row names"), "unicode")
        case .integer:
            let values = try readOnlyValues(of: rowNames, as: Int32.self)
            let count = try length(of: rowNames)
            // getAttrib expands R's compact automatic row names to 1..n: those are not an index.
            if let values, !(0..<count).allSatisfy({ values[$0] == Int32($0 + 1) }) {
                return (try arrowArray(fromVector: rowNames, column: "row names"), "int32")
            }
            return nil
        default:
            return nil
        }
    }

    /// A data.frame's column names: one non-NA name per column, else an error (never invented).
    private func columnNames(of frame: SEXP, count: Int) throws -> [String] {
        guard count > 0 else { return [] }
        guard let attribute = try attribute(frame, "names"), vectorType(of: attribute) == .character else {
            throw ConversionError.malformedDataFrame("its columns have no names")
        }
        let names = try readStrings(attribute)
        guard names.count == count else {
            throw ConversionError.malformedDataFrame("it has \(count) columns but \(names.count) names")
        }
        return try names.enumerated().map { index, name in
            guard let name else {
                throw ConversionError.invalidValue(column: "NA", row: nil, detail: "column \(index + 1) is named NA; name it in R first")
            }
            return name
        }
    }

    /// The classes whose meaning the conversion keeps; any other class (difftime, units, a
    /// package's own subclass of Date, ...) would be dropped silently, so it is refused.
    /// `AsIs` (from `I()`) only protects a column inside `data.frame()` and changes no value.
    private static let convertibleClasses: Set<Set<String>> = [
        [], ["factor"], ["ordered", "factor"], ["Date"], ["IDate", "Date"], ["POSIXct", "POSIXt"], ["POSIXct"], ["integer64"],
    ]

    /// Converts one atomic R vector (or factor, Date, POSIXct) into an Arrow array.
    public func arrowArray(fromVector vector: SEXP, column: String) throws -> PolybridgeArrow.ArrowArray {
        let classes = try classes(of: vector).filter { $0 != "AsIs" }
        let type = vectorType(of: vector)
        if let dimensions = try attribute(vector, "dim"), try length(of: dimensions) > 1 {
            throw ConversionError.unsupportedColumn(column: column, type: "R matrix (a column with dimensions)")
        }
        let described = classes.isEmpty ? typeName(of: vector) : "\(typeName(of: vector)) (class \(classes.joined(separator: "/")))"
        guard RSession.convertibleClasses.contains(Set(classes)) else {
            throw ConversionError.unsupportedColumn(column: column, type: "R \(described)")
        }
        if classes.contains("integer64") && type != .double {
            throw ConversionError.unsupportedColumn(column: column, type: "R \(described): bit64 keeps integer64 values in doubles")
        }
        if (classes.contains("Date") || classes.contains("POSIXct")) && type != .double && type != .integer {
            throw ConversionError.unsupportedColumn(column: column, type: "R \(described): dates and times must be stored as numbers")
        }
        do {
            switch type {
            case .double where classes.contains("Date"), .integer where classes.contains("Date"):
                return try dateArray(vector, column: column)
            case .double where classes.contains("POSIXct"), .integer where classes.contains("POSIXct"):
                return try timestampArray(vector, column: column)
            case .double where classes.contains("integer64"):
                // bit64::integer64 keeps int64 bits in a double vector; its NA is INT64_MIN.
                return try sharedValues(vector, as: Int64.self, type: .int64,
                                        mayBeMissing: { $0 == Int64.min }, isMissing: { $0 == Int64.min })
            case _ where classes.contains("factor"):
                guard type == .integer else {
                    throw ConversionError.invalidValue(column: column, row: nil,
                        detail: "a factor must hold integer codes, this one holds \(typeName(of: vector)) values")
                }
                return try dictionaryArray(vector, column: column, ordered: classes.contains("ordered"))
            case .double:
                // NA_real_ becomes null; any other NaN stays a NaN value.
                return try sharedValues(vector, as: Double.self, type: .float64,
                                        mayBeMissing: { $0 != $0 }, isMissing: RSession.isRNA)
            case .integer:
                let na = naInteger
                return try sharedValues(vector, as: Int32.self, type: .int32,
                                        mayBeMissing: { $0 == na }, isMissing: { $0 == na })
            case .logical:
                return try booleanArray(vector)
            case .character:
                return try stringArray(vector, column: column)
            default:
                throw ConversionError.unsupportedColumn(column: column, type: "R \(described)")
            }
        } catch let error as ArrowError {
            throw ConversionError.arrow(error.inColumn(column))
        } catch RError.invalidString(let row) {
            throw ConversionError.invalidString(column: column, row: row)
        }
    }

    /// R's `NA_real_` is one NaN payload (low word 1954); other NaNs are real NaN values.
    @inline(__always)
    static func isRNA(_ value: Double) -> Bool {
        value.isNaN && (value.bitPattern & 0xFFFF_FFFF) == 1954
    }

    /// A validity bitmap with bit i cleared where `isMissing(i)`; nil when nothing is missing.
    ///
    /// `mayBeMissing` is a cheap superset test (e.g. "is NaN" for R's NA_real_) run first over the
    /// whole vector in one branch-free pass; the bitmap is only built when it finds a candidate.
    @inline(__always)
    private func validity<T>(_ data: UnsafePointer<T>?, length: Int, mayBeMissing: (T) -> Bool,
                             isMissing: (T) -> Bool) -> (ArrowBuffer?, Int) {
        guard let data, length > 0 else { return (nil, 0) }
        var candidates = 0
        for index in 0..<length { candidates &+= mayBeMissing(data[index]) ? 1 : 0 }
        guard candidates > 0 else { return (nil, 0) }
        var nulls = 0
        let bitmap = ArrowBuffer(byteCount: (length + 7) / 8)
        let bits = bitmap.mutableElements(of: UInt8.self)
        for byteIndex in 0..<bits.count {
            var byte: UInt8 = 0
            let first = byteIndex * 8
            let count = min(8, length - first)
            for bit in 0..<count where !isMissing(data[first + bit]) {
                byte |= 1 << UInt8(bit)
            }
            nulls += count - byte.nonzeroBitCount
            bits[byteIndex] = byte
        }
        return nulls == 0 ? (nil, 0) : (bitmap, nulls)
    }

    /// Shares an R vector's values as an Arrow array without copying them; the vector stays
    /// preserved until the Arrow consumer releases the array. `isMissing` marks R's NA.
    @inline(__always)
    private func sharedValues<T>(_ vector: SEXP, as _: T.Type, type: ArrowDataType,
                                 mayBeMissing: (T) -> Bool, isMissing: (T) -> Bool) throws -> PolybridgeArrow.ArrowArray {
        let length = try length(of: vector)
        guard length > 0, let data = try readOnlyValues(of: vector, as: T.self) else {
            return try PolybridgeArrow.ArrowArray(type: type, length: 0, nullCount: 0, buffers: [nil, nil], onRelease: {})
        }
        let (bitmap, nulls) = validity(data, length: length, mayBeMissing: mayBeMissing, isMissing: isMissing)
        let keepAlive = try preserve(vector)
        return try PolybridgeArrow.ArrowArray(
            type: type, length: length, nullCount: nulls,
            buffers: [bitmap.map { UnsafeRawPointer($0.baseAddress) }, UnsafeRawPointer(data)],
            onRelease: { _ = (keepAlive, bitmap) })
    }

    private func booleanArray(_ vector: SEXP) throws -> PolybridgeArrow.ArrowArray {
        let length = try length(of: vector)
        let data = try readOnlyValues(of: vector, as: Int32.self)
        let na = naInteger
        let byteCount = (length + 7) / 8
        let values = ArrowBuffer(byteCount: byteCount)
        let validity = ArrowBuffer(byteCount: byteCount)
        var nulls = 0
        if let data, length > 0 {
            // Eight values a byte, values and validity in one pass, without a branch per value.
            let valueBits = values.mutableElements(of: UInt8.self)
            let validBits = validity.mutableElements(of: UInt8.self)
            for byteIndex in 0..<byteCount {
                let first = byteIndex * 8
                var valueByte: UInt8 = 0, validByte: UInt8 = 0
                for bit in 0..<min(8, length - first) {
                    let value = data[first + bit]
                    let missing: UInt8 = value == na ? 1 : 0
                    let isTrue: UInt8 = value != 0 ? 1 : 0
                    valueByte |= (isTrue & (missing ^ 1)) << UInt8(bit)
                    validByte |= (missing ^ 1) << UInt8(bit)
                }
                valueBits[byteIndex] = valueByte
                validBits[byteIndex] = validByte
                nulls += min(8, length - first) - validByte.nonzeroBitCount
            }
        }
        return try PolybridgeArrow.ArrowArray(type: .bool, length: length, nullCount: nulls,
                                              buffers: [nulls > 0 ? validity : nil, values])
    }

    /// Calls `body` with a Date or POSIXct vector's values as doubles (either may be stored as
    /// integers, which are widened into a temporary buffer; doubles are read in place).
    private func withTemporalValues<Result>(_ vector: SEXP, _ body: (UnsafeBufferPointer<Double>) throws -> Result) throws -> Result {
        let length = try length(of: vector)
        if vectorType(of: vector) == .integer {
            guard length > 0, let data = try readOnlyValues(of: vector, as: Int32.self) else {
                return try body(UnsafeBufferPointer(start: nil, count: 0))
            }
            let na = naInteger, naDouble = naReal
            let widened = (0..<length).map { data[$0] == na ? naDouble : Double(data[$0]) }
            return try widened.withUnsafeBufferPointer(body)
        }
        let data = try readOnlyValues(of: vector, as: Double.self)
        return try body(UnsafeBufferPointer(start: length == 0 ? nil : data, count: length))
    }

    /// Dates (days since 1970) as date32. NA and NaN (which R reads as NA) become null; an
    /// infinite, fractional or out-of-range day is an error naming the row.
    private func dateArray(_ vector: SEXP, column: String) throws -> PolybridgeArrow.ArrowArray {
        try withTemporalValues(vector) { values in
            let length = values.count
            let (bitmap, nulls) = validity(values.baseAddress, length: length, mayBeMissing: { $0 != $0 }, isMissing: { $0.isNaN })
            let days = ArrowBuffer(uninitializedByteCount: length * 4)
            let out = days.mutableElements(of: Int32.self)
            for index in 0..<length {
                let value = values[index]
                // Whole days within int32 convert exactly; NaN (NA) is masked by the bitmap.
                if value.rounded(.towardZero) == value, value >= -2_147_483_648, value <= 2_147_483_647 {
                    out[index] = Int32(value)
                    continue
                }
                if value.isNaN { out[index] = 0; continue }
                let reason = !value.isFinite ? "is \(value > 0 ? "Inf" : "-Inf"), which Arrow's date32 cannot hold"
                    : value.rounded(.down) != value ? "is \(value) days, not a whole day; date32 holds whole days (use floor() or as.POSIXct() in R first)"
                    : "is \(value) days from 1970-01-01, outside Arrow's date32 range (±2147483647 days)"
                throw ConversionError.invalidValue(column: column, row: index + 1, detail: "the Date " + reason)
            }
            return try PolybridgeArrow.ArrowArray(type: .date32, length: length, nullCount: nulls, buffers: [bitmap, days])
        }
    }

    /// POSIXct seconds as timestamp[us, tz]. NA and NaN become null; an infinite value or one
    /// whose microseconds do not fit in int64 (about ±292,000 years) is an error naming the row.
    private func timestampArray(_ vector: SEXP, column: String) throws -> PolybridgeArrow.ArrowArray {
        // R reads the first element of `tzone` (later ones name the standard and summer zones).
        var zone: String?
        if let tzone = try attribute(vector, "tzone") {
            let zones = vectorType(of: tzone) == .character ? try readStrings(tzone) : []
            guard let first = zones.first, let name = first else {
                throw ConversionError.invalidValue(column: column, row: nil,
                    detail: "the POSIXct tzone attribute is not a time zone name (a \(typeName(of: tzone)) of length \(try length(of: tzone)))")
            }
            zone = name
        }
        // A POSIXct without a time zone (or with "") is local wall-clock time: a naive timestamp.
        let timezone = (zone?.isEmpty ?? true) ? nil : zone
        return try withTemporalValues(vector) { values in
            let length = values.count
            let (bitmap, nulls) = validity(values.baseAddress, length: length, mayBeMissing: { $0 != $0 }, isMissing: { $0.isNaN })
            let micros = ArrowBuffer(uninitializedByteCount: length * 8)
            let out = micros.mutableElements(of: Int64.self)
            // Below 2^63 µs in magnitude a rounded double converts exactly; NaN fails both tests.
            let limit = 9_223_372_036_854_775_808.0
            for index in 0..<length {
                let scaled = (values[index] * 1e6).rounded()
                if scaled < limit, scaled >= -limit {
                    out[index] = Int64(scaled)
                    continue
                }
                let value = values[index]
                if value.isNaN { out[index] = 0; continue }
                let reason = !value.isFinite ? "is \(value > 0 ? "Inf" : "-Inf"), which Arrow's timestamp cannot hold"
                    : "is \(value) seconds from 1970, outside what timestamp[us] holds (about ±292,000 years)"
                throw ConversionError.invalidValue(column: column, row: index + 1, detail: "the POSIXct time " + reason)
            }
            return try PolybridgeArrow.ArrowArray(type: .timestamp(unit: .microsecond, timezone: timezone),
                                                  length: length, nullCount: nulls, buffers: [bitmap, micros])
        }
    }

    /// A factor as dictionary<int32, utf8>. Every code must be NA or within 1...nlevels, and the
    /// levels must be distinct non-NA strings (compared as bytes), else an error naming the row.
    private func dictionaryArray(_ vector: SEXP, column: String, ordered: Bool) throws -> PolybridgeArrow.ArrowArray {
        let length = try length(of: vector)
        var levels = try PolybridgeArrow.ArrowArray(utf8: [])
        if let levelsVector = try attribute(vector, "levels") {
            guard vectorType(of: levelsVector) == .character else {
                throw ConversionError.invalidValue(column: column, row: nil,
                    detail: "the factor's levels are \(typeName(of: levelsVector)), not character")
            }
            levels = try stringArray(levelsVector, column: column)
            try checkDistinctLevels(levels, column: column)
        }
        let levelCount = Int32(clamping: levels.length)
        let data = try readOnlyValues(of: vector, as: Int32.self)
        let na = naInteger
        let (bitmap, nulls) = validity(data, length: length, mayBeMissing: { $0 == na }, isMissing: { $0 == na })
        let codes = ArrowBuffer(uninitializedByteCount: length * 4)
        let out = codes.mutableElements(of: Int32.self)
        if let data {
            for index in 0..<length {
                let code = data[index]
                if code == na { out[index] = 0; continue }
                guard code >= 1, code <= levelCount else {
                    throw ConversionError.invalidValue(column: column, row: index + 1,
                        detail: "factor code \(code) is outside its \(levelCount) level(s)")
                }
                out[index] = code - 1
            }
        }
        return try PolybridgeArrow.ArrowArray(type: .dictionary(index: .int32, value: .utf8, ordered: ordered),
                                              length: length, nullCount: nulls, buffers: [bitmap, codes],
                                              dictionary: levels)
    }

    private func checkDistinctLevels(_ levels: PolybridgeArrow.ArrowArray, column: String) throws {
        var seen = Set<[UInt8]>()
        try levels.forEachStringBytes { index, bytes throws(ArrowError) in
            guard let bytes else {
                throw .invalidArray(column: column, reason: "factor level \(index + 1) is NA; levels must be strings")
            }
            guard seen.insert(Array(bytes)).inserted else {
                throw .invalidArray(column: column, reason: "factor level '\(String(decoding: bytes, as: UTF8.self))' appears more than once; levels must be distinct")
            }
        }
    }

    /// Copies a character vector into Arrow utf8 (large_utf8 past 2 GiB), translating to UTF-8.
    private func stringArray(_ vector: SEXP, column: String) throws -> PolybridgeArrow.ArrowArray {
        let utf8 = try utf8Strings(vector)
        let length = try length(of: utf8)
        guard length > 0 else { return try PolybridgeArrow.ArrowArray(utf8: []) }
        let elements = try stringElements(of: utf8)
        let naString = naString
        // Reading a CHARSXP's bytes is a call into libR; R caches CHARSXPs globally, so a column of
        // few distinct values repeats the same pointers and a small direct-mapped cache skips them.
        let cacheSize = 256
        let cache = UnsafeMutablePointer<(element: SEXP?, bytes: UnsafeBufferPointer<UInt8>)>.allocate(capacity: cacheSize)
        cache.initialize(repeating: (nil, UnsafeBufferPointer(start: nil, count: 0)), count: cacheSize)
        defer { cache.deallocate() }
        @inline(__always) func charBytes(_ element: SEXP) -> UnsafeBufferPointer<UInt8> {
            let slot = Int(bitPattern: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(element))) >> 4) & (cacheSize - 1)
            if cache[slot].element == element { return cache[slot].bytes }
            let entry = self.bytes(ofString: element)
            cache[slot] = (element, entry)
            return entry
        }
        // One pass for the byte count and the validity bitmap, one to copy the bytes.
        var totalBytes = 0
        var nulls = 0
        let bitmap = ArrowBuffer(byteCount: (length + 7) / 8)
        let bits = bitmap.mutableElements(of: UInt8.self)
        for index in 0..<length {
            guard let element = elements[index], element != naString else { nulls += 1; continue }
            totalBytes += charBytes(element).count
            bits[index >> 3] |= 1 << UInt8(index & 7)
        }
        let large = totalBytes > Int(Int32.max)
        let offsets = ArrowBuffer(uninitializedByteCount: (length + 1) * (large ? 8 : 4))
        let bytes = ArrowBuffer(uninitializedByteCount: max(totalBytes, 1))
        var position = 0
        func fill<Offset: FixedWidthInteger>(_ out: UnsafeMutableBufferPointer<Offset>) {
            out[0] = 0
            for index in 0..<length {
                if let element = elements[index], element != naString {
                    let source = charBytes(element)
                    if let base = source.baseAddress { memcpy(bytes.baseAddress + position, base, source.count) }
                    position += source.count
                }
                out[index + 1] = Offset(position)
            }
        }
        if large { fill(offsets.mutableElements(of: Int64.self)) } else { fill(offsets.mutableElements(of: Int32.self)) }
        return try PolybridgeArrow.ArrowArray(type: large ? .largeUtf8 : .utf8, length: length, nullCount: nulls,
                                              buffers: [nulls == 0 ? nil : bitmap, offsets, bytes])
    }
}
