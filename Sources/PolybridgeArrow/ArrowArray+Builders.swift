extension ArrowArray {
    /// Builds a float64 array; nil elements become nulls (no validity buffer when there are none).
    public convenience init(float64 values: [Double?]) {
        let parts = ArrowArray.fixedWidthParts(values)
        self.init(built: .float64, parts)
    }

    /// Builds an int32 array; nil elements become nulls.
    public convenience init(int32 values: [Int32?]) {
        self.init(built: .int32, ArrowArray.fixedWidthParts(values))
    }

    /// Builds an int64 array; nil elements become nulls.
    public convenience init(int64 values: [Int64?]) {
        self.init(built: .int64, ArrowArray.fixedWidthParts(values))
    }

    /// Builds a date32 array from days since 1970-01-01; nil elements become nulls.
    public convenience init(date32Days values: [Int32?]) {
        self.init(built: .date32, ArrowArray.fixedWidthParts(values))
    }

    /// Builds a timestamp array from counts of `unit` since the epoch; a nil `timezone` makes a naive timestamp.
    public convenience init(timestamps values: [Int64?], unit: ArrowTimeUnit, timezone: String?) {
        self.init(built: .timestamp(unit: unit, timezone: timezone), ArrowArray.fixedWidthParts(values))
    }

    /// Builds a bit-packed boolean array; nil elements become nulls.
    public convenience init(bool values: [Bool?]) {
        let n = values.count
        let bytes = ArrowBitmap.byteCount(forBits: n)
        let data = ArrowBuffer(uninitializedByteCount: bytes)
        let validity = ArrowBuffer(uninitializedByteCount: bytes)
        let dataBits = data.baseAddress.assumingMemoryBound(to: UInt8.self)
        let validBits = validity.baseAddress.assumingMemoryBound(to: UInt8.self)
        var nulls = 0
        values.withUnsafeBufferPointer { source in
            var valueByte: UInt8 = 0
            var validByte: UInt8 = 0
            for i in 0..<n {
                let mask: UInt8 = 1 &<< UInt8(i & 7)
                if let value = source[i] {
                    validByte |= mask
                    if value { valueByte |= mask }
                } else {
                    nulls += 1
                }
                if i & 7 == 7 {
                    dataBits[i &>> 3] = valueByte
                    validBits[i &>> 3] = validByte
                    valueByte = 0
                    validByte = 0
                }
            }
            if n & 7 != 0 {
                dataBits[n &>> 3] = valueByte
                validBits[n &>> 3] = validByte
            }
        }
        self.init(built: .bool, BuiltParts(length: n, nullCount: nulls, validity: nulls > 0 ? validity : nil,
                                           data: [data]))
    }

    /// Builds a utf8 array (32-bit offsets); throws when the total text exceeds 2 GiB (use ``init(largeUtf8:)``).
    public convenience init(utf8 values: [String?]) throws(ArrowError) {
        let total = ArrowArray.totalUTF8Count(values)
        guard total <= Int(Int32.max) else {
            throw .invalidArray(column: nil,
                                reason: "\(total) bytes of text exceed the 2 GiB limit of utf8 (32-bit offsets); use large_utf8")
        }
        self.init(built: .utf8, ArrowArray.stringParts(values, totalBytes: total, offsetType: Int32.self))
    }

    /// Builds a large_utf8 array (64-bit offsets); nil elements become nulls.
    public convenience init(largeUtf8 values: [String?]) {
        let total = ArrowArray.totalUTF8Count(values)
        self.init(built: .largeUtf8, ArrowArray.stringParts(values, totalBytes: total, offsetType: Int64.self))
    }

    /// Builds a dictionary array of 0-based int32 `codes` into utf8 `levels` (an R factor or pandas categorical).
    ///
    /// Throws ``ArrowError/indexOutOfRange(what:index:count:)`` for a code outside `0..<levels.count`.
    public convenience init(dictionaryCodes codes: [Int32?], levels: [String], ordered: Bool) throws(ArrowError) {
        let count = levels.count
        var bad: Int32?
        codes.withUnsafeBufferPointer { source in
            for code in source {
                if let code, code < 0 || Int(code) >= count {
                    bad = code
                    break
                }
            }
        }
        if let bad { throw .indexOutOfRange(what: "dictionary code", index: Int(bad), count: count) }
        let dictionary = try ArrowArray(utf8: levels.map { Optional($0) })
        let parts = ArrowArray.fixedWidthParts(codes)
        self.init(built: .dictionary(index: .int32, value: .utf8, ordered: ordered), parts, dictionary: dictionary)
    }

    /// Builds a float64 array from plain values and an optional validity mask (`false` = null) of the same length.
    public convenience init(float64Buffer values: [Double], validity: [Bool]? = nil) throws(ArrowError) {
        self.init(built: .float64, try ArrowArray.plainParts(values, validity: validity))
    }

    /// Builds an int32 array from plain values and an optional validity mask (`false` = null) of the same length.
    public convenience init(int32Buffer values: [Int32], validity: [Bool]? = nil) throws(ArrowError) {
        self.init(built: .int32, try ArrowArray.plainParts(values, validity: validity))
    }

    /// Builds an int64 array from plain values and an optional validity mask (`false` = null) of the same length.
    public convenience init(int64Buffer values: [Int64], validity: [Bool]? = nil) throws(ArrowError) {
        self.init(built: .int64, try ArrowArray.plainParts(values, validity: validity))
    }

    // MARK: - Internals

    /// The buffers of a freshly built array.
    struct BuiltParts {
        var length: Int
        var nullCount: Int
        var validity: ArrowBuffer?
        var data: [ArrowBuffer]
    }

    convenience init(built type: ArrowDataType, _ parts: BuiltParts, dictionary: ArrowArray? = nil) {
        var owned = parts.data
        if let validity = parts.validity { owned.append(validity) }
        let raw: [UnsafeRawPointer?] = [parts.validity.map { UnsafeRawPointer($0.baseAddress) }]
            + parts.data.map { UnsafeRawPointer($0.baseAddress) }
        self.init(type: type, length: parts.length, offset: 0, nullCount: parts.nullCount, buffers: raw,
                  children: [], dictionary: dictionary, anchor: .owned(owned))
    }

    static func fixedWidthParts<T: BitwiseCopyable>(_ values: [T?]) -> BuiltParts {
        let n = values.count
        let stride = MemoryLayout<T>.stride
        let data = ArrowBuffer(uninitializedByteCount: n * stride)
        let validity = ArrowBuffer(uninitializedByteCount: ArrowBitmap.byteCount(forBits: n))
        let target = data.baseAddress.bindMemory(to: T.self, capacity: n)
        let bits = validity.baseAddress.assumingMemoryBound(to: UInt8.self)
        var nulls = 0
        values.withUnsafeBufferPointer { source in
            var byte: UInt8 = 0
            for i in 0..<n {
                if let value = source[i] {
                    (target + i).initialize(to: value)
                    byte |= 1 &<< UInt8(i & 7)
                } else {
                    (data.baseAddress + i * stride).initializeMemory(as: UInt8.self, repeating: 0, count: stride)
                    nulls += 1
                }
                if i & 7 == 7 {
                    bits[i &>> 3] = byte
                    byte = 0
                }
            }
            if n & 7 != 0 { bits[n &>> 3] = byte }
        }
        return BuiltParts(length: n, nullCount: nulls, validity: nulls > 0 ? validity : nil, data: [data])
    }

    static func plainParts<T: BitwiseCopyable>(_ values: [T], validity mask: [Bool]?) throws(ArrowError) -> BuiltParts {
        let data = ArrowBuffer(copyingElements: values)
        guard let mask else { return BuiltParts(length: values.count, nullCount: 0, validity: nil, data: [data]) }
        guard mask.count == values.count else {
            throw .invalidArray(column: nil, reason: "validity mask has \(mask.count) element(s) but there are \(values.count) value(s)")
        }
        let (bitmap, nulls) = packValidity(mask)
        return BuiltParts(length: values.count, nullCount: nulls, validity: nulls > 0 ? bitmap : nil, data: [data])
    }

    /// Packs a Bool mask (`true` = valid) into an LSB-first bitmap, returning it and the number of `false`s.
    static func packValidity(_ mask: [Bool]) -> (ArrowBuffer, Int) {
        let n = mask.count
        let buffer = ArrowBuffer(uninitializedByteCount: ArrowBitmap.byteCount(forBits: n))
        let bits = buffer.baseAddress.assumingMemoryBound(to: UInt8.self)
        var valid = 0
        mask.withUnsafeBufferPointer { source in
            var byte: UInt8 = 0
            for i in 0..<n {
                if source[i] {
                    byte |= 1 &<< UInt8(i & 7)
                    valid += 1
                }
                if i & 7 == 7 {
                    bits[i &>> 3] = byte
                    byte = 0
                }
            }
            if n & 7 != 0 { bits[n &>> 3] = byte }
        }
        return (buffer, n - valid)
    }

    static func totalUTF8Count(_ values: [String?]) -> Int {
        var total = 0
        for value in values {
            if let value { total += value.utf8.count }
        }
        return total
    }

    /// Copies strings into offsets + data buffers; `total` must be the sum of the UTF-8 counts.
    static func stringParts<O: FixedWidthInteger>(_ values: [String?], totalBytes total: Int,
                                                  offsetType: O.Type) -> BuiltParts {
        let n = values.count
        let offsets = ArrowBuffer(uninitializedByteCount: (n + 1) * MemoryLayout<O>.size)
        let data = ArrowBuffer(uninitializedByteCount: total)
        let validity = ArrowBuffer(uninitializedByteCount: ArrowBitmap.byteCount(forBits: n))
        let offsetValues = offsets.baseAddress.bindMemory(to: O.self, capacity: n + 1)
        let bytes = data.baseAddress.assumingMemoryBound(to: UInt8.self)
        let bits = validity.baseAddress.assumingMemoryBound(to: UInt8.self)
        var nulls = 0
        var position = 0
        var byte: UInt8 = 0
        offsetValues[0] = 0
        for i in 0..<n {
            if let value = values[i] {
                byte |= 1 &<< UInt8(i & 7)
                let copied = value.utf8.withContiguousStorageIfAvailable { source -> Int in
                    if let start = source.baseAddress, source.count > 0 {
                        (bytes + position).update(from: start, count: source.count)
                    }
                    return source.count
                }
                if let copied {
                    position += copied
                } else {
                    for unit in value.utf8 {
                        bytes[position] = unit
                        position += 1
                    }
                }
            } else {
                nulls += 1
            }
            offsetValues[i + 1] = O(truncatingIfNeeded: position)
            if i & 7 == 7 {
                bits[i &>> 3] = byte
                byte = 0
            }
        }
        if n & 7 != 0 { bits[n &>> 3] = byte }
        return BuiltParts(length: n, nullCount: nulls, validity: nulls > 0 ? validity : nil, data: [offsets, data])
    }
}
