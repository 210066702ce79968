extension ArrowArray {
    /// An array of length 0 of any supported type (used for zero-row columns and batches).
    public static func empty(of type: ArrowDataType) throws(ArrowError) -> ArrowArray {
        try type.checkSupported(column: nil)
        var children: [ArrowArray] = []
        var dictionary: ArrowArray?
        var owned: [ArrowBuffer] = []
        var buffers: [UnsafeRawPointer?] = [nil]
        func add(_ buffer: ArrowBuffer) {
            owned.append(buffer)
            buffers.append(UnsafeRawPointer(buffer.baseAddress))
        }
        switch type {
        case .null:
            return ArrowArray(type: .null, length: 0, offset: 0, nullCount: 0, buffers: [], children: [],
                              dictionary: nil, anchor: .owned([]))
        case .utf8:
            add(ArrowBuffer(byteCount: 4))
            add(ArrowBuffer(byteCount: 0))
        case .largeUtf8:
            add(ArrowBuffer(byteCount: 8))
            add(ArrowBuffer(byteCount: 0))
        case .utf8View:
            add(ArrowBuffer(byteCount: 0))  // views
            add(ArrowBuffer(byteCount: 0))  // variadic sizes (no data buffers)
        case let .structType(fields):
            for field in fields {
                do throws(ArrowError) {
                    children.append(try empty(of: field.type))
                } catch {
                    throw error.inColumn(field.name)
                }
            }
        case let .dictionary(_, value, _):
            add(ArrowBuffer(byteCount: 0))
            dictionary = try empty(of: value)
        default:
            add(ArrowBuffer(byteCount: 0))
        }
        return ArrowArray(type: type, length: 0, offset: 0, nullCount: 0, buffers: buffers,
                          children: children, dictionary: dictionary, anchor: .owned(owned))
    }
}
