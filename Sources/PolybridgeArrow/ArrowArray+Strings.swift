extension ArrowArray {
    /// The string values of a utf8, large_utf8 or utf8_view array, or of a dictionary array with string values (decoded).
    ///
    /// Offsets are applied and nulls are nil. Invalid UTF-8 is an error naming the element, never
    /// repaired. Throws ``ArrowError/typeMismatch(column:expected:actual:)`` for other types and
    /// ``ArrowError/invalidArray(column:reason:)`` for corrupt offsets or views.
    public func stringValues() throws(ArrowError) -> [String?] {
        var out: [String?] = []
        try appendStringValues(to: &out)
        return out
    }

    func appendStringValues(to out: inout [String?]) throws(ArrowError) {
        out.reserveCapacity(out.count + length)
        if case let .dictionary(_, value, _) = type, value.isString {
            try appendDictionaryStrings(to: &out)
            return
        }
        try forEachStringBytes { index, bytes throws(ArrowError) in
            guard let bytes else { out.append(nil); return }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw invalid("string \(index) is not valid UTF-8")
            }
            out.append(text)
        }
    }

    /// Calls `body` with each element's index and bytes (nil for null) of a utf8, large_utf8 or
    /// utf8_view array, after checking offsets and views against the buffers. The bytes are
    /// valid while the array is alive and are not checked for UTF-8.
    public func forEachStringBytes(_ body: (Int, UnsafeBufferPointer<UInt8>?) throws(ArrowError) -> Void) throws(ArrowError) {
        switch type {
        case .utf8: try forEachOffsetString(Int32.self, body)
        case .largeUtf8: try forEachOffsetString(Int64.self, body)
        case .utf8View: try forEachViewString(body)
        default: throw mismatch("utf8, large_utf8 or utf8_view")
        }
    }

    private func invalid(_ reason: String) -> ArrowError {
        .invalidArray(column: nil, reason: reason)
    }

    private func forEachOffsetString<O: FixedWidthInteger>(_: O.Type, _ body: (Int, UnsafeBufferPointer<UInt8>?) throws(ArrowError) -> Void) throws(ArrowError) {
        guard length > 0 else { return }
        guard let offsetBuffer = buffers[1] else { throw invalid("the offsets buffer is NULL") }
        let offsets = offsetBuffer.assumingMemoryBound(to: O.self)
        let data = buffers[2]?.assumingMemoryBound(to: UInt8.self)
        let bitmap = validityBitmap
        for i in 0..<length {
            let slot = offset &+ i
            if let bitmap, !ArrowBitmap.bit(bitmap, slot) {
                try body(i, nil)
                continue
            }
            let start = Int(offsets[slot])
            let end = Int(offsets[slot &+ 1])
            guard start >= 0, end >= start else {
                throw invalid("string \(i) has invalid offsets \(start)..<\(end)")
            }
            if start == end {
                try body(i, UnsafeBufferPointer(start: nil, count: 0))
                continue
            }
            guard let data else { throw invalid("the string data buffer is NULL") }
            try body(i, UnsafeBufferPointer(start: data + start, count: end - start))
        }
    }

    private func forEachViewString(_ body: (Int, UnsafeBufferPointer<UInt8>?) throws(ArrowError) -> Void) throws(ArrowError) {
        guard length > 0 else { return }
        guard let viewBuffer = buffers[1] else { throw invalid("the views buffer is NULL") }
        // Layout: validity, views, variadic data buffers..., variadic sizes (int64 each).
        let variadicCount = buffers.count >= 3 ? buffers.count - 3 : 0
        let sizes = buffers.count >= 3 ? buffers[buffers.count - 1]?.assumingMemoryBound(to: Int64.self) : nil
        let bitmap = validityBitmap
        for i in 0..<length {
            let slot = offset &+ i
            if let bitmap, !ArrowBitmap.bit(bitmap, slot) {
                try body(i, nil)
                continue
            }
            let view = viewBuffer + slot &* 16
            let count = Int(view.loadUnaligned(as: Int32.self))
            guard count >= 0 else { throw invalid("string view \(i) has negative length \(count)") }
            if count <= 12 {
                try body(i, UnsafeBufferPointer(start: (view + 4).assumingMemoryBound(to: UInt8.self), count: count))
                continue
            }
            let bufferIndex = Int(view.loadUnaligned(fromByteOffset: 8, as: Int32.self))
            let start = Int(view.loadUnaligned(fromByteOffset: 12, as: Int32.self))
            guard bufferIndex >= 0, bufferIndex < variadicCount, start >= 0 else {
                throw invalid("string view \(i) points at data buffer \(bufferIndex) offset \(start); there are \(variadicCount) data buffer(s)")
            }
            if let sizes, Int64(start + count) > sizes[bufferIndex] {
                throw invalid("string view \(i) runs past the end of data buffer \(bufferIndex)")
            }
            guard let data = buffers[2 + bufferIndex] else {
                throw invalid("string view data buffer \(bufferIndex) is NULL")
            }
            try body(i, UnsafeBufferPointer(start: data.assumingMemoryBound(to: UInt8.self) + start, count: count))
        }
    }

    private func appendDictionaryStrings(to out: inout [String?]) throws(ArrowError) {
        guard let dictionary else { throw invalid("dictionary-encoded array has no dictionary") }
        let levels = try dictionary.stringValues()
        var failure: ArrowError?
        let codes = ArrowArray.makeArray(count: length) { failure = writeDictionaryCodes(into: $0) }
        if let failure { throw failure }
        let levelCount = levels.count
        for code in codes {
            guard let code else {
                out.append(nil)
                continue
            }
            guard code >= 0, Int(code) < levelCount else {
                throw ArrowError.indexOutOfRange(what: "dictionary code", index: Int(code), count: levelCount)
            }
            out.append(levels[Int(code)])
        }
    }
}
