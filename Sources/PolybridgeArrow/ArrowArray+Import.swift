import CArrow

extension ArrowArray {
    /// Imports (moves) a C `ArrowArray` of the given type: the struct is copied and the source's `release` set to NULL.
    ///
    /// Ownership passes to this initializer even when it throws (the array is
    /// then released before the error propagates). Buffer and child counts are
    /// checked against `type`; unsupported types throw
    /// ``ArrowError/unsupportedType(column:format:)``.
    public convenience init(consuming raw: UnsafeMutablePointer<CArrow.ArrowArray>, type: ArrowDataType) throws(ArrowError) {
        try self.init(consuming: raw, type: type, column: nil)
    }

    /// Imports (moves) a C array together with its C schema, as returned by `__arrow_c_array__`; both are consumed, even on error.
    public convenience init(consuming raw: UnsafeMutablePointer<CArrow.ArrowArray>,
                            schema: UnsafeMutablePointer<ArrowSchema>) throws(ArrowError) {
        let field: ArrowField
        do {
            field = try ArrowField(consuming: schema)
        } catch {
            ArrowArray.releaseUnimported(raw)
            throw error
        }
        try self.init(consuming: raw, type: field.type, column: field.name.isEmpty ? nil : field.name)
    }

    /// Imports a C array, naming `column` in errors.
    convenience init(consuming raw: UnsafeMutablePointer<CArrow.ArrowArray>, type: ArrowDataType,
                     column: String?) throws(ArrowError) {
        guard raw.pointee.release != nil else {
            throw .invalidArray(column: column, reason: "the C array has already been released")
        }
        let owner = ImportedArrayOwner(moving: raw)
        let parts = try ArrowArray.importParts(UnsafePointer(owner.pointer), type: type, owner: owner,
                                               column: column, depth: 0)
        self.init(type: type, length: parts.length, offset: parts.offset, nullCount: parts.nullCount,
                  buffers: parts.buffers, children: parts.children, dictionary: parts.dictionary,
                  anchor: .imported(owner))
    }

    /// Releases a C array this library was handed but could not import.
    static func releaseUnimported(_ raw: UnsafeMutablePointer<CArrow.ArrowArray>) {
        if let release = raw.pointee.release {
            release(raw)
            raw.pointee.release = nil
        }
    }

    /// The Swift-side description of one (sub-)array of an imported C array.
    struct ImportedParts {
        var length: Int
        var offset: Int
        var nullCount: Int
        var buffers: [UnsafeRawPointer?]
        var children: [ArrowArray]
        var dictionary: ArrowArray?
    }

    /// Reads and validates one C array level; children and dictionary become views anchored on `owner`.
    static func importParts(_ pointer: UnsafePointer<CArrow.ArrowArray>, type: ArrowDataType,
                            owner: ImportedArrayOwner, column: String?, depth: Int) throws(ArrowError) -> ImportedParts {
        func invalid(_ reason: String) -> ArrowError { .invalidArray(column: column, reason: reason) }
        try type.checkSupported(column: column)
        guard depth <= ArrowDataType.maximumNestingDepth else { throw invalid("arrays are nested too deeply") }
        let c = pointer.pointee
        guard c.n_buffers >= 0, c.n_buffers <= 1 << 20 else { throw invalid("n_buffers is \(c.n_buffers)") }
        guard c.n_children >= 0, c.n_children <= 1 << 20 else { throw invalid("n_children is \(c.n_children)") }
        var buffers: [UnsafeRawPointer?] = []
        if c.n_buffers > 0 {
            guard let raw = c.buffers else { throw invalid("n_buffers is \(c.n_buffers) but buffers is NULL") }
            buffers = (0..<Int(c.n_buffers)).map { raw[$0] }
        }
        var children: [ArrowArray] = []
        if case let .structType(fields) = type {
            guard Int(c.n_children) == fields.count else {
                throw invalid("struct has \(fields.count) field(s) but the C array has \(c.n_children) children")
            }
            if !fields.isEmpty {
                guard let rawChildren = c.children else { throw invalid("the children pointer is NULL") }
                for (i, field) in fields.enumerated() {
                    guard let child = rawChildren[i] else {
                        throw ArrowError.invalidArray(column: field.name, reason: "child array pointer is NULL")
                    }
                    children.append(try importView(UnsafePointer(child), type: field.type, owner: owner,
                                                   column: field.name, depth: depth + 1))
                }
            }
        }
        var dictionary: ArrowArray?
        if case let .dictionary(_, value, _) = type {
            guard let rawDictionary = c.dictionary else { throw invalid("dictionary-encoded array has a NULL dictionary") }
            dictionary = try importView(UnsafePointer(rawDictionary), type: value, owner: owner,
                                        column: column, depth: depth + 1)
        }
        let parts = ImportedParts(length: Int(c.length), offset: Int(c.offset), nullCount: Int(c.null_count),
                                  buffers: buffers, children: children, dictionary: dictionary)
        try checkLayout(type: type, length: parts.length, offset: parts.offset, nullCount: parts.nullCount,
                        buffers: buffers, children: children, dictionary: dictionary, column: column)
        return parts
    }

    private static func importView(_ pointer: UnsafePointer<CArrow.ArrowArray>, type: ArrowDataType,
                                   owner: ImportedArrayOwner, column: String?, depth: Int) throws(ArrowError) -> ArrowArray {
        let parts = try importParts(pointer, type: type, owner: owner, column: column, depth: depth)
        return ArrowArray(type: type, length: parts.length, offset: parts.offset, nullCount: parts.nullCount,
                          buffers: parts.buffers, children: parts.children, dictionary: parts.dictionary,
                          anchor: .imported(owner))
    }
}
