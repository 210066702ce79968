import CR
import Foundation
import PolybridgeArrow
import PolybridgeRuntime

/// Arrow → R: one column at a time, on the R thread.
///
/// A single-chunk float64 or int32 column without nulls becomes an ALTREP vector over the Arrow
/// buffer (no copy; the Arrow array is released when R collects the vector). Everything else is
/// copied in bulk: memcpy for values, then R's NA written where the validity bitmap says null.
extension RSession {
    /// Converts an Arrow table into an R data.frame (compact row names, UTF-8 strings).
    public func dataFrame(from table: ArrowTable) throws -> SEXP {
        let frame = try allocate(VECSXP, length: table.columns.count, purpose: "allocating a data.frame")
        for (index, column) in table.columns.enumerated() {
            SET_VECTOR_ELT(frame, R_xlen_t(index), try vector(from: column))
        }
        try setNames(frame, table.columns.map(\.name))
        let rowNames = try allocate(INTSXP, length: 2)
        INTEGER(rowNames)[0] = pb_r_na_int()
        INTEGER(rowNames)[1] = -Int32(clamping: table.rowCount)
        try setAttribute(frame, "row.names", rowNames)
        try setAttribute(frame, "class", try makeStrings(["data.frame"]))
        return frame
    }

    /// Converts one (possibly chunked) Arrow column into an R vector.
    public func vector(from column: ArrowColumn) throws -> SEXP {
        let name = column.name
        switch column.type {
        case .float64:
            if let shared = try sharedVector(column, type: REALSXP) { return shared }
            return try fixedWidth(column, type: REALSXP, as: Double.self, missing: pb_r_na_real())
        case .int32:
            // INT_MIN is R's NA_integer_, so a column holding it as a value widens to double.
            if holdsInt32Minimum(column) { return try exactDoubles(column) }
            if let shared = try sharedVector(column, type: INTSXP) { return shared }
            return try fixedWidth(column, type: INTSXP, as: Int32.self, missing: pb_r_na_int())
        case .int8, .int16, .uint8, .uint16:
            return try widenedIntegers(column)
        case .int64, .uint32, .uint64:
            return try exactDoubles(column)
        case .bool:
            return try logicals(column)
        case .utf8, .largeUtf8, .utf8View:
            return try strings(column.chunks, total: column.length, column: name)
        case .dictionary(_, let value, let ordered) where value.isString:
            return try factor(column, ordered: ordered)
        case .date32:
            let days = try scaledDoubles(column, as: Int32.self, divisor: 1)
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

    /// An ALTREP view of a single null-free chunk, or nil when the column needs converting.
    private func sharedVector(_ column: ArrowColumn, type: Int32) throws -> SEXP? {
        guard column.chunks.count == 1, let array = column.chunks.first, array.nullCount == 0,
              let values = array.buffers[1] else { return nil }
        let width = type == REALSXP ? 8 : 4
        let start = values + array.offset * width
        let owner = Unmanaged<AnyObject>.passRetained(array).toOpaque()
        var result: SEXP? = nil
        guard pb_r_foreign_vector(SEXPTYPE(type), start, R_xlen_t(array.length), owner, &result) != 0, let result else {
            Unmanaged<AnyObject>.fromOpaque(owner).release()
            throw RError.internalCall(operation: "sharing column \(column.name)", message: String(cString: pb_r_last_error()))
        }
        return protect(result)
    }

    /// Copies same-width values chunk by chunk, then writes `missing` at null positions.
    private func fixedWidth<T>(_ column: ArrowColumn, type: Int32, as: T.Type, missing: T) throws -> SEXP {
        let vector = try allocate(type, length: column.length, purpose: "column \(column.name)")
        let out = UnsafeMutableRawPointer(DATAPTR(vector)!).assumingMemoryBound(to: T.self)
        var position = 0
        for array in column.chunks {
            if let values = array.buffers[1], array.length > 0 {
                memcpy(out + position, values + array.offset * MemoryLayout<T>.stride, array.length * MemoryLayout<T>.stride)
            }
            if array.nullCount > 0 {
                for index in 0..<array.length where !array.isValid(index) { out[position + index] = missing }
            }
            position += array.length
        }
        return vector
    }

    /// Integer values divided by `divisor` into doubles (dates in days, timestamps in seconds);
    /// null elements become NA_real_.
    private func scaledDoubles<T: BinaryInteger>(_ column: ArrowColumn, as: T.Type, divisor: Double) throws -> SEXP {
        let vector = try allocate(REALSXP, length: column.length, purpose: "column \(column.name)")
        let out = REAL(vector)!
        let na = pb_r_na_real()
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
                                  _ value: (PolybridgeArrow.ArrowArray, Int) -> Double) throws -> SEXP {
        let vector = try allocate(REALSXP, length: column.length, purpose: "column \(column.name)")
        let out = REAL(vector)!
        var position = 0
        let na = pb_r_na_real()
        for array in column.chunks {
            for index in 0..<array.length {
                out[position + index] = array.isValid(index) ? value(array, index) : na
            }
            position += array.length
        }
        return vector
    }

    /// int64/uint32/uint64 become doubles when every value is exact (|v| ≤ 2^53), else an error.
    private func exactDoubles(_ column: ArrowColumn) throws -> SEXP {
        let limit: Int64 = 1 << 53
        var row = 0
        for array in column.chunks {
            for index in 0..<array.length where array.isValid(index) {
                let raw = try integerValue(array, index)
                guard let value = raw, value.magnitude <= limit else {
                    throw ConversionError.inexactInt64(column: column.name, row: row + index + 1, value: raw ?? Int64.max)
                }
            }
            row += array.length
        }
        return try convertedDoubles(column) { array, index in Double((try? integerValue(array, index)) ?? 0 ?? 0) }
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
        let vector = try allocate(INTSXP, length: column.length, purpose: "column \(column.name)")
        let out = INTEGER(vector)!
        var position = 0
        for array in column.chunks {
            for index in 0..<array.length {
                out[position + index] = array.isValid(index) ? Int32(try integerValue(array, index) ?? 0) : pb_r_na_int()
            }
            position += array.length
        }
        return vector
    }

    private func logicals(_ column: ArrowColumn) throws -> SEXP {
        let vector = try allocate(LGLSXP, length: column.length, purpose: "column \(column.name)")
        let out = LOGICAL(vector)!
        var position = 0
        for array in column.chunks {
            let bits = array.buffers[1]?.assumingMemoryBound(to: UInt8.self)
            for index in 0..<array.length {
                let bit = array.offset + index
                let value: Int32 = (bits.map { ($0[bit >> 3] >> UInt8(bit & 7)) & 1 } ?? 0) == 1 ? 1 : 0
                out[position + index] = array.isValid(index) ? value : pb_r_na_int()
            }
            position += array.length
        }
        return vector
    }

    /// A character vector from string chunks; each distinct value becomes one CHARSXP.
    func strings(_ chunks: [PolybridgeArrow.ArrowArray], total: Int, column: String) throws -> SEXP {
        if chunks.count == 1, let array = chunks.first, array.type != .utf8View {
            return try stringsFromOffsets(array, column: column)
        }
        let vector = try allocate(STRSXP, length: total, purpose: "column \(column)")
        var position = 0
        for array in chunks {
            let part: SEXP
            if array.type == .utf8View {
                part = try makeStrings(try array.stringValues())
            } else {
                part = try stringsFromOffsets(array, column: column)
            }
            for index in 0..<array.length {
                SET_STRING_ELT(vector, R_xlen_t(position + index), STRING_ELT(part, R_xlen_t(index)))
            }
            position += array.length
        }
        return vector
    }

    private func stringsFromOffsets(_ array: PolybridgeArrow.ArrowArray, column: String) throws -> SEXP {
        if array.type == .utf8View { return try makeStrings(try array.stringValues()) }
        let empty: UInt8 = 0
        var result: SEXP? = nil
        let status = withUnsafePointer(to: empty) { emptyByte in
            pb_r_strings_from_offsets(array.buffers[1], array.type == .largeUtf8 ? 1 : 0,
                                      array.buffers[2]?.assumingMemoryBound(to: UInt8.self) ?? emptyByte,
                                      array.nullCount > 0 ? array.validityBitmap : nil,
                                      Int64(array.offset), Int64(array.length), &result)
        }
        guard status != 0, let result else {
            throw ConversionError.invalidUTF8(column: column, detail: String(cString: pb_r_last_error()))
        }
        return protect(result)
    }

    /// A factor: 1-based codes, levels from the dictionary; chunks with different dictionaries are unified.
    private func factor(_ column: ArrowColumn, ordered: Bool) throws -> SEXP {
        var levels: [String] = []
        var levelIndex: [String: Int32] = [:]
        var chunkMaps: [[Int32]] = []
        for array in column.chunks {
            let dictionary = try array.dictionary?.stringValues() ?? []
            chunkMaps.append(dictionary.map { level in
                let key = level ?? ""
                if let existing = levelIndex[key] { return existing }
                levels.append(key)
                levelIndex[key] = Int32(levels.count)
                return Int32(levels.count)
            })
        }
        let vector = try allocate(INTSXP, length: column.length, purpose: "column \(column.name)")
        let out = INTEGER(vector)!
        var position = 0
        for (array, map) in zip(column.chunks, chunkMaps) {
            for index in 0..<array.length {
                guard array.isValid(index), let code = try integerValue(array, index),
                      code >= 0, code < map.count else {
                    out[position + index] = pb_r_na_int()
                    continue
                }
                out[position + index] = map[Int(code)]
            }
            position += array.length
        }
        try setAttribute(vector, "levels", try makeStrings(levels))
        try setAttribute(vector, "class", try makeStrings(ordered ? ["ordered", "factor"] : ["factor"]))
        return vector
    }
}
