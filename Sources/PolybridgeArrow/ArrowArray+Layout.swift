extension ArrowArray {
    /// The number of buffers the C Data Interface prescribes for `type` (`nil` when it varies: utf8View needs at least 2).
    static func expectedBufferCount(_ type: ArrowDataType) -> Int? {
        switch type {
        case .null: 0
        case .utf8, .largeUtf8: 3
        case .utf8View: nil
        case .structType: 1
        default: 2
        }
    }

    /// Checks that a layout is structurally valid for `type`: buffer count, null count, children and dictionary.
    static func checkLayout(type: ArrowDataType, length: Int, offset: Int, nullCount: Int,
                            buffers: [UnsafeRawPointer?], children: [ArrowArray],
                            dictionary: ArrowArray?, column: String?) throws(ArrowError) {
        try type.checkSupported(column: column)
        func invalid(_ reason: String) -> ArrowError { .invalidArray(column: column, reason: reason) }
        guard length >= 0 else { throw invalid("length is negative (\(length))") }
        guard offset >= 0 else { throw invalid("offset is negative (\(offset))") }
        guard offset <= Int.max - length else { throw invalid("offset + length overflows") }
        guard nullCount >= -1, nullCount <= length else {
            throw invalid("null count \(nullCount) is not in -1...\(length)")
        }
        if let expected = expectedBufferCount(type) {
            guard buffers.count == expected else {
                throw invalid("\(type) arrays need \(expected) buffer(s), got \(buffers.count)")
            }
        } else if buffers.count < 2 {
            throw invalid("\(type) arrays need at least 2 buffers, got \(buffers.count)")
        }
        if type == .null {
            guard nullCount == length || nullCount == -1 else { throw invalid("a null array of \(length) element(s) has null count \(nullCount)") }
            return
        }
        if nullCount > 0 && buffers[0] == nil {
            throw invalid("null count is \(nullCount) but the validity buffer is NULL")
        }
        switch type {
        case let .structType(fields):
            guard children.count == fields.count else {
                throw invalid("struct has \(fields.count) field(s) but \(children.count) child array(s)")
            }
            for (field, child) in zip(fields, children) {
                guard child.type == field.type else {
                    throw ArrowError.typeMismatch(column: field.name, expected: "\(field.type)", actual: child.type)
                }
                guard child.length >= offset + length else {
                    throw ArrowError.invalidArray(
                        column: field.name,
                        reason: "child has \(child.length) element(s) but the struct needs \(offset + length)")
                }
            }
        case let .dictionary(_, value, _):
            guard let dictionary else { throw invalid("dictionary-encoded array has no dictionary") }
            guard dictionary.type == value else {
                throw invalid("dictionary values are \(dictionary.type) but the type says \(value)")
            }
            if length > 0 && buffers[1] == nil { throw invalid("the index buffer is NULL") }
        default:
            if length > 0 && buffers[1] == nil { throw invalid("the data buffer (buffer 1) is NULL") }
        }
    }

    /// Wraps memory owned elsewhere (zero-copy); `onRelease` runs exactly once, when the last owner lets go.
    ///
    /// The last owner is this object, a slice or child of it, or a C consumer
    /// that received it through ``export(to:)``. Ownership passes to this
    /// initializer even when it throws: `onRelease` is then called before the
    /// error propagates. `nullCount` may be -1 to have it counted.
    public convenience init(type: ArrowDataType, length: Int, nullCount: Int, offset: Int = 0,
                            buffers: [UnsafeRawPointer?], children: [ArrowArray] = [],
                            dictionary: ArrowArray? = nil,
                            onRelease: @escaping @Sendable () -> Void) throws(ArrowError) {
        let owner = ForeignMemoryOwner(onRelease: onRelease)
        try ArrowArray.checkLayout(type: type, length: length, offset: offset, nullCount: nullCount,
                                   buffers: buffers, children: children, dictionary: dictionary, column: nil)
        self.init(type: type, length: length, offset: offset, nullCount: nullCount, buffers: buffers,
                  children: children, dictionary: dictionary, anchor: .foreign(owner))
    }

    /// Builds an array from buffers filled by the caller, checking that the buffers are large enough for the type.
    ///
    /// `buffers` follow the C Data Interface order (validity first, NULL
    /// validity when there are no nulls). `nullCount` may be -1 to have it
    /// counted. utf8View arrays cannot be built this way.
    public convenience init(type: ArrowDataType, length: Int, nullCount: Int, offset: Int = 0,
                            buffers: [ArrowBuffer?], children: [ArrowArray] = [],
                            dictionary: ArrowArray? = nil) throws(ArrowError) {
        let raw = buffers.map { $0.map { UnsafeRawPointer($0.baseAddress) } }
        try ArrowArray.checkLayout(type: type, length: length, offset: offset, nullCount: nullCount,
                                   buffers: raw, children: children, dictionary: dictionary, column: nil)
        try ArrowArray.checkOwnedSizes(type: type, length: length, offset: offset, buffers: buffers)
        self.init(type: type, length: length, offset: offset, nullCount: nullCount, buffers: raw,
                  children: children, dictionary: dictionary, anchor: .owned(buffers.compactMap { $0 }))
    }

    private static func checkOwnedSizes(type: ArrowDataType, length: Int, offset: Int,
                                        buffers: [ArrowBuffer?]) throws(ArrowError) {
        func invalid(_ reason: String) -> ArrowError { .invalidArray(column: nil, reason: reason) }
        func need(_ buffer: ArrowBuffer?, _ bytes: Int?, _ what: String) throws(ArrowError) {
            guard let bytes else { throw invalid("\(what) size overflows") }
            let have = buffer?.byteCount ?? 0
            if bytes > 0 && have < bytes { throw invalid("\(what) has \(have) byte(s), needs \(bytes)") }
        }
        let end = offset + length
        if type == .null { return }
        if buffers[0] != nil { try need(buffers[0], ArrowBitmap.byteCount(forBits: end), "validity buffer") }
        switch type {
        case .bool:
            try need(buffers[1], ArrowBitmap.byteCount(forBits: end), "value bitmap")
        case .utf8:
            try checkOffsets(Int32.self, length: length, offset: offset, offsets: buffers[1], data: buffers[2])
        case .largeUtf8:
            try checkOffsets(Int64.self, length: length, offset: offset, offsets: buffers[1], data: buffers[2])
        case .utf8View:
            throw invalid("building utf8View arrays from buffers is not supported; use utf8 or largeUtf8")
        case .structType:
            break
        case let .dictionary(index, _, _):
            try need(buffers[1], multiply(end, index.fixedByteWidth ?? 8), "index buffer")
        default:
            try need(buffers[1], multiply(end, type.fixedByteWidth ?? 8), "data buffer")
        }
    }

    private static func multiply(_ a: Int, _ b: Int) -> Int? {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : product
    }

    private static func checkOffsets<O: FixedWidthInteger>(_: O.Type, length: Int, offset: Int,
                                                           offsets: ArrowBuffer?, data: ArrowBuffer?) throws(ArrowError) {
        func invalid(_ reason: String) -> ArrowError { .invalidArray(column: nil, reason: reason) }
        guard length > 0 else { return }
        guard let offsets, let bytes = multiply(offset + length + 1, MemoryLayout<O>.size),
              offsets.byteCount >= bytes else {
            throw invalid("the offsets buffer is missing or shorter than \(offset + length + 1) offsets")
        }
        let values = offsets.baseAddress.assumingMemoryBound(to: O.self)
        let dataSize = data?.byteCount ?? 0
        var previous = values[offset]
        guard previous >= 0 else { throw invalid("string offset \(previous) is negative") }
        for i in (offset + 1)...(offset + length) {
            let current = values[i]
            guard current >= previous else { throw invalid("string offsets decrease at index \(i - offset)") }
            previous = current
        }
        guard Int(previous) <= dataSize else {
            throw invalid("string offsets reach byte \(previous) but the data buffer has \(dataSize)")
        }
    }
}
