extension ArrowArray {
    /// The float64 values (offset applied, nulls as nil); throws ``ArrowError/typeMismatch(column:expected:actual:)`` for other types.
    public func float64Values() throws(ArrowError) -> [Double?] {
        try readFixed(Double.self, .float64)
    }

    /// The int32 values (offset applied, nulls as nil); throws for any other type, including date32.
    public func int32Values() throws(ArrowError) -> [Int32?] {
        try readFixed(Int32.self, .int32)
    }

    /// The int64 values (offset applied, nulls as nil); throws for any other type, including timestamps.
    public func int64Values() throws(ArrowError) -> [Int64?] {
        try readFixed(Int64.self, .int64)
    }

    /// The date32 values as days since 1970-01-01 (offset applied, nulls as nil).
    public func date32Values() throws(ArrowError) -> [Int32?] {
        try readFixed(Int32.self, .date32)
    }

    /// The raw timestamp values as counts of the type's unit since the epoch (offset applied, nulls as nil).
    public func timestampValues() throws(ArrowError) -> [Int64?] {
        try readFixed(Int64.self, .timestamp)
    }

    /// The boolean values (bit-packed in memory; offset applied, nulls as nil).
    public func boolValues() throws(ArrowError) -> [Bool?] {
        guard type == .bool else { throw mismatch("bool") }
        return ArrowArray.makeArray(count: length) { writeBoolValues(into: $0) }
    }

    /// The codes of a dictionary-encoded array, widened or narrowed to Int32 (offset applied, nulls as nil).
    ///
    /// Throws when the array is not dictionary-encoded, or when a 64-bit or
    /// unsigned code does not fit in Int32.
    public func dictionaryCodes() throws(ArrowError) -> [Int32?] {
        guard case .dictionary = type else { throw mismatch("dictionary") }
        var failure: ArrowError?
        let codes = ArrowArray.makeArray(count: length) { failure = writeDictionaryCodes(into: $0) }
        if let failure { throw failure }
        return codes
    }

    /// The fixed-width values (buffer 1, offset applied) viewed as `T`, valid only while this array is alive.
    ///
    /// Works for every fixed-width type and for the indices of a dictionary
    /// array; throws when the type is not fixed-width or its width differs from
    /// `MemoryLayout<T>.size`. Null slots hold unspecified values: check
    /// ``validityBitmap`` (bit `offset + i`) or ``isValid(_:)``. Keep the array
    /// alive (e.g. with `withExtendedLifetime`) while using the pointer.
    public func values<T>(as _: T.Type) throws(ArrowError) -> UnsafeBufferPointer<T> {
        let width: Int?
        if case let .dictionary(index, _, _) = type { width = index.fixedByteWidth } else { width = type.fixedByteWidth }
        guard let width, width == MemoryLayout<T>.size else {
            throw .typeMismatch(column: nil, expected: "a fixed-width type of \(MemoryLayout<T>.size) byte(s)", actual: type)
        }
        guard length > 0, let data = buffers[1] else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: data.assumingMemoryBound(to: T.self) + offset, count: length)
    }

    // MARK: - Bulk writers (shared by the array and column readers)

    /// The fixed-width reader kinds, with the type name used in mismatch errors.
    enum FixedKind: String {
        case float64, int32, int64, date32, timestamp

        func matches(_ type: ArrowDataType) -> Bool {
            switch (self, type) {
            case (.float64, .float64), (.int32, .int32), (.int64, .int64), (.date32, .date32), (.timestamp, .timestamp):
                true
            default:
                false
            }
        }
    }

    func mismatch(_ expected: String) -> ArrowError {
        .typeMismatch(column: nil, expected: expected, actual: type)
    }

    private func readFixed<T: BitwiseCopyable>(_: T.Type, _ kind: FixedKind) throws(ArrowError) -> [T?] {
        guard kind.matches(type) else { throw mismatch(kind.rawValue) }
        return ArrowArray.makeArray(count: length) { writeFixed(T.self, into: $0) }
    }

    /// Creates an array of `count` elements that `fill` initializes in place (all of them).
    static func makeArray<T>(count: Int, _ fill: (UnsafeMutablePointer<T>) -> Void) -> [T] {
        guard count > 0 else { return [] }
        return Array(unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress {
                fill(base)
                initialized = count
            }
        }
    }

    /// Initializes `length` values at `target` from buffer 1; the type must already be checked.
    func writeFixed<T: BitwiseCopyable>(_: T.Type, into target: UnsafeMutablePointer<T?>) {
        guard length > 0 else { return }
        guard let data = buffers[1] else {
            target.initialize(repeating: nil, count: length)
            return
        }
        let values = data.assumingMemoryBound(to: T.self) + offset
        if let bitmap = validityBitmap {
            let start = offset
            for i in 0..<length {
                (target + i).initialize(to: ArrowBitmap.bit(bitmap, start &+ i) ? values[i] : nil)
            }
        } else {
            for i in 0..<length { (target + i).initialize(to: values[i]) }
        }
    }

    /// Initializes `length` booleans at `target`; the type must already be checked.
    func writeBoolValues(into target: UnsafeMutablePointer<Bool?>) {
        guard length > 0 else { return }
        guard let data = buffers[1] else {
            target.initialize(repeating: nil, count: length)
            return
        }
        let bits = data.assumingMemoryBound(to: UInt8.self)
        let start = offset
        if let bitmap = validityBitmap {
            for i in 0..<length {
                let slot = start &+ i
                (target + i).initialize(to: ArrowBitmap.bit(bitmap, slot) ? ArrowBitmap.bit(bits, slot) : nil)
            }
        } else {
            for i in 0..<length { (target + i).initialize(to: ArrowBitmap.bit(bits, start &+ i)) }
        }
    }

    /// Initializes `length` Int32 codes at `target` (always all of them); returns an error for a code that does not fit.
    func writeDictionaryCodes(into target: UnsafeMutablePointer<Int32?>) -> ArrowError? {
        guard case let .dictionary(index, _, _) = type else {
            target.initialize(repeating: nil, count: length)
            return mismatch("dictionary")
        }
        switch index {
        case .int8: return writeCodes(Int8.self, into: target)
        case .int16: return writeCodes(Int16.self, into: target)
        case .int32: return writeCodes(Int32.self, into: target)
        case .int64: return writeCodes(Int64.self, into: target)
        case .uint8: return writeCodes(UInt8.self, into: target)
        case .uint16: return writeCodes(UInt16.self, into: target)
        case .uint32: return writeCodes(UInt32.self, into: target)
        case .uint64: return writeCodes(UInt64.self, into: target)
        default:
            target.initialize(repeating: nil, count: length)
            return .invalidSchema("dictionary indices must be an integer type, not \(index)")
        }
    }

    private func writeCodes<I: FixedWidthInteger & BitwiseCopyable>(_: I.Type, into target: UnsafeMutablePointer<Int32?>) -> ArrowError? {
        guard length > 0 else { return nil }
        guard let data = buffers[1] else {
            target.initialize(repeating: nil, count: length)
            return nil
        }
        let values = data.assumingMemoryBound(to: I.self) + offset
        let bitmap = validityBitmap
        var failure: ArrowError?
        for i in 0..<length {
            var code: Int32?
            if bitmap.map({ ArrowBitmap.bit($0, offset &+ i) }) ?? true {
                code = Int32(exactly: values[i])
                if code == nil && failure == nil {
                    failure = .invalidArray(column: nil,
                                            reason: "dictionary code \(values[i]) at index \(i) does not fit in int32")
                }
            }
            (target + i).initialize(to: code)
        }
        return failure
    }
}
