import CR
import Foundation
import PolybridgeArrow
import PolybridgeRuntime

/// R → Arrow: one column at a time, on the R thread.
///
/// Double and integer vectors are shared, not copied: the Arrow array points at R's memory and
/// keeps the vector alive (released on the R thread when the consumer is done). Missing values
/// become a validity bitmap beside the shared values. Everything else is converted in bulk loops.
extension RSession {
    /// Converts an R data.frame into an Arrow table with one chunk per column.
    public func arrowTable(fromDataFrame frame: SEXP) throws -> ArrowTable {
        let classes = try classes(of: frame)
        guard TYPEOF(frame) == VECSXP, classes.contains("data.frame") else {
            let described = classes.isEmpty ? String(cString: Rf_type2char(SEXPTYPE(TYPEOF(frame)))) : classes.joined(separator: "/")
            throw ConversionError.notADataFrame(found: described)
        }
        let names = try self.names(of: frame) ?? []
        var seen = Set<String>()
        var columns: [(name: String, array: PolybridgeArrow.ArrowArray)] = []
        let count = Int(XLENGTH(frame))
        for index in 0..<count {
            let name = index < names.count ? names[index] : "V\(index + 1)"
            guard seen.insert(name).inserted else { throw ConversionError.duplicateColumn(name) }
            columns.append((name, try arrowArray(fromVector: VECTOR_ELT(frame, R_xlen_t(index)), column: name)))
        }
        if columns.isEmpty {
            // A zero-column frame still has a row count (R expands compact row names on access).
            let rows = try attribute(frame, "row.names").map { Int(XLENGTH($0)) } ?? 0
            do { return try ArrowTable(rowCountWithoutColumns: rows) } catch { throw ConversionError.arrow(error) }
        }
        do { return try ArrowTable(columns: columns) } catch { throw ConversionError.arrow(error) }
    }

    /// Converts one atomic R vector (or factor, Date, POSIXct) into an Arrow array.
    public func arrowArray(fromVector vector: SEXP, column: String) throws -> PolybridgeArrow.ArrowArray {
        let classes = try classes(of: vector)
        let length = Int(XLENGTH(vector))
        do {
            switch TYPEOF(vector) {
            case REALSXP where classes.contains("Date"):
                return try dateArray(vector, length: length)
            case REALSXP where classes.contains("POSIXct"):
                return try timestampArray(vector, length: length)
            case REALSXP where classes.contains("integer64"):
                // bit64::integer64 keeps int64 bits in a double vector; its NA is INT64_MIN.
                return try sharedValues(vector, as: Int64.self, type: .int64, length: length,
                                        mayBeMissing: { $0 == Int64.min }, isMissing: { $0 == Int64.min })
            case REALSXP:
                // NA_real_ becomes null; any other NaN stays a NaN value.
                return try sharedValues(vector, as: Double.self, type: .float64, length: length,
                                        mayBeMissing: { $0 != $0 }, isMissing: RSession.isRNA)
            case INTSXP where classes.contains("factor"):
                return try dictionaryArray(vector, length: length, ordered: classes.contains("ordered"))
            case INTSXP:
                let na = pb_r_na_int()
                return try sharedValues(vector, as: Int32.self, type: .int32, length: length,
                                        mayBeMissing: { $0 == na }, isMissing: { $0 == na })
            case LGLSXP:
                return try booleanArray(vector, length: length)
            case STRSXP:
                return try stringArray(vector, length: length, column: column)
            default:
                let type = String(cString: Rf_type2char(SEXPTYPE(TYPEOF(vector))))
                let described = classes.isEmpty ? type : "\(type) (class \(classes.joined(separator: "/")))"
                throw ConversionError.unsupportedColumn(column: column, type: "R \(described)")
            }
        } catch let error as ArrowError {
            throw ConversionError.arrow(error.inColumn(column))
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
    private func validity<T>(_ data: UnsafePointer<T>, length: Int, mayBeMissing: (T) -> Bool,
                             isMissing: (T) -> Bool) -> (ArrowBuffer?, Int) {
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
    private func sharedValues<T>(_ vector: SEXP, as _: T.Type, type: ArrowDataType, length: Int,
                                 mayBeMissing: (T) -> Bool, isMissing: (T) -> Bool) throws -> PolybridgeArrow.ArrowArray {
        guard let raw = DATAPTR_RO(vector) else {
            // Some ALTREP classes have no data pointer for an empty vector; Arrow needs none either.
            guard length == 0 else {
                throw RError.internalCall(operation: "reading a vector's data", message: "R returned no data pointer")
            }
            return try PolybridgeArrow.ArrowArray(type: type, length: 0, nullCount: 0, buffers: [nil, nil], onRelease: {})
        }
        let data = UnsafeRawPointer(raw).assumingMemoryBound(to: T.self)
        let (bitmap, nulls) = validity(data, length: length, mayBeMissing: mayBeMissing, isMissing: isMissing)
        let keepAlive = try preserve(vector)
        return try PolybridgeArrow.ArrowArray(
            type: type, length: length, nullCount: nulls,
            buffers: [bitmap.map { UnsafeRawPointer($0.baseAddress) }, UnsafeRawPointer(data)],
            onRelease: { _ = (keepAlive, bitmap) })
    }

    private func booleanArray(_ vector: SEXP, length: Int) throws -> PolybridgeArrow.ArrowArray {
        let data = UnsafePointer<Int32>(LOGICAL_RO(vector)!)
        let na = pb_r_na_int()
        let (bitmap, nulls) = validity(data, length: length, mayBeMissing: { $0 == na }, isMissing: { $0 == na })
        let values = ArrowBuffer(byteCount: (length + 7) / 8)
        let bits = values.mutableElements(of: UInt8.self)
        for index in 0..<length where data[index] != 0 && data[index] != na {
            bits[index >> 3] |= 1 << UInt8(index & 7)
        }
        return try PolybridgeArrow.ArrowArray(type: .bool, length: length, nullCount: nulls, buffers: [bitmap, values])
    }

    private func dateArray(_ vector: SEXP, length: Int) throws -> PolybridgeArrow.ArrowArray {
        let data = UnsafePointer<Double>(REAL_RO(vector)!)
        let (bitmap, nulls) = validity(data, length: length, mayBeMissing: { $0 != $0 }, isMissing: { $0.isNaN })
        let days = ArrowBuffer(uninitializedByteCount: length * 4)
        let out = days.mutableElements(of: Int32.self)
        for index in 0..<length {
            let value = data[index]
            out[index] = value.isFinite ? Int32(clamping: Int64(value.rounded(.down))) : 0
        }
        return try PolybridgeArrow.ArrowArray(type: .date32, length: length, nullCount: nulls, buffers: [bitmap, days])
    }

    private func timestampArray(_ vector: SEXP, length: Int) throws -> PolybridgeArrow.ArrowArray {
        let data = UnsafePointer<Double>(REAL_RO(vector)!)
        let zone = try attribute(vector, "tzone").flatMap { TYPEOF($0) == STRSXP ? try readStrings($0).first ?? nil : nil }
        let (bitmap, nulls) = validity(data, length: length, mayBeMissing: { !$0.isFinite }, isMissing: { !$0.isFinite })
        let micros = ArrowBuffer(uninitializedByteCount: length * 8)
        let out = micros.mutableElements(of: Int64.self)
        for index in 0..<length {
            let value = data[index]
            out[index] = value.isFinite ? Int64(clamping: Int64(exactly: (value * 1e6).rounded()) ?? 0) : 0
        }
        // A POSIXct without a time zone (or with "") is local wall-clock time: a naive timestamp.
        let timezone = (zone?.isEmpty ?? true) ? nil : zone
        return try PolybridgeArrow.ArrowArray(type: .timestamp(unit: .microsecond, timezone: timezone),
                                              length: length, nullCount: nulls, buffers: [bitmap, micros])
    }

    private func dictionaryArray(_ vector: SEXP, length: Int, ordered: Bool) throws -> PolybridgeArrow.ArrowArray {
        let data = UnsafePointer<Int32>(INTEGER_RO(vector)!)
        let na = pb_r_na_int()
        let (bitmap, nulls) = validity(data, length: length, mayBeMissing: { $0 == na }, isMissing: { $0 == na })
        let codes = ArrowBuffer(uninitializedByteCount: length * 4)
        let out = codes.mutableElements(of: Int32.self)
        for index in 0..<length { out[index] = data[index] == na ? 0 : data[index] - 1 }
        let levelsVector = try attribute(vector, "levels")
        let levels = try levelsVector.map { try stringArray($0, length: Int(XLENGTH($0)), column: "levels") }
            ?? PolybridgeArrow.ArrowArray(utf8: [])
        return try PolybridgeArrow.ArrowArray(type: .dictionary(index: .int32, value: .utf8, ordered: ordered),
                                              length: length, nullCount: nulls, buffers: [bitmap, codes],
                                              dictionary: levels)
    }

    /// Copies a character vector into Arrow utf8 (large_utf8 past 2 GiB), translating to UTF-8.
    private func stringArray(_ vector: SEXP, length: Int, column: String) throws -> PolybridgeArrow.ArrowArray {
        var utf8: SEXP? = nil
        guard pb_r_strings_as_utf8(vector, &utf8) != 0, let utf8 else {
            throw ConversionError.invalidUTF8(column: column, detail: String(cString: pb_r_last_error()))
        }
        protect(utf8)
        let naString = pb_r_na_string()
        guard length > 0 else { return try PolybridgeArrow.ArrowArray(utf8: []) }
        guard let elements = STRING_PTR_RO(utf8) else {
            throw RError.internalCall(operation: "reading column \(column)", message: "R returned no string pointer")
        }
        // LENGTH and R_CHAR are calls into libR; R caches CHARSXPs globally, so a column of few
        // distinct values repeats the same pointers and a small direct-mapped cache skips them.
        let cacheSize = 256
        let cache = UnsafeMutablePointer<(element: SEXP?, bytes: UnsafePointer<CChar>?, count: Int)>.allocate(capacity: cacheSize)
        cache.initialize(repeating: (nil, nil, 0), count: cacheSize)
        defer { cache.deallocate() }
        @inline(__always) func charBytes(_ element: SEXP) -> (bytes: UnsafePointer<CChar>, count: Int) {
            let slot = Int(bitPattern: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(element))) >> 4) & (cacheSize - 1)
            if cache[slot].element == element, let bytes = cache[slot].bytes { return (bytes, cache[slot].count) }
            let entry = (bytes: R_CHAR(element)!, count: Int(LENGTH(element)))
            cache[slot] = (element, entry.bytes, entry.count)
            return entry
        }
        // One pass for the byte count and the validity bitmap, one to copy the bytes.
        var totalBytes = 0
        var nulls = 0
        let bitmap = ArrowBuffer(byteCount: (length + 7) / 8)
        let bits = bitmap.mutableElements(of: UInt8.self)
        for index in 0..<length {
            let element = elements[index]
            if element == naString {
                nulls += 1
            } else {
                totalBytes += charBytes(element!).count
                bits[index >> 3] |= 1 << UInt8(index & 7)
            }
        }
        let large = totalBytes > Int(Int32.max)
        let offsets = ArrowBuffer(uninitializedByteCount: (length + 1) * (large ? 8 : 4))
        let bytes = ArrowBuffer(uninitializedByteCount: max(totalBytes, 1))
        var position = 0
        func fill<Offset: FixedWidthInteger>(_ out: UnsafeMutableBufferPointer<Offset>) {
            out[0] = 0
            for index in 0..<length {
                let element = elements[index]
                if element != naString {
                    let (source, count) = charBytes(element!)
                    memcpy(bytes.baseAddress + position, source, count)
                    position += count
                }
                out[index + 1] = Offset(position)
            }
        }
        if large { fill(offsets.mutableElements(of: Int64.self)) } else { fill(offsets.mutableElements(of: Int32.self)) }
        return try PolybridgeArrow.ArrowArray(type: large ? .largeUtf8 : .utf8, length: length, nullCount: nulls,
                                              buffers: [nulls == 0 ? nil : bitmap, offsets, bytes])
    }
}
