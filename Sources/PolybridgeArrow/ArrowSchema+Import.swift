import CArrow

extension ArrowDataType {
    /// Reads the type described by a C `ArrowSchema` (format, flags, dictionary and children) without taking ownership.
    ///
    /// Unsupported formats are returned as ``unsupported(format:)``; only a
    /// structurally broken schema (released, NULL format, missing children) throws.
    public init(schema: UnsafePointer<ArrowSchema>) throws(ArrowError) {
        self = try ArrowDataType.parse(schema, depth: 0)
    }

    /// The deepest nesting accepted, so a malicious schema cannot exhaust the stack.
    static let maximumNestingDepth = 64

    static func parse(_ schema: UnsafePointer<ArrowSchema>, depth: Int) throws(ArrowError) -> ArrowDataType {
        guard depth <= maximumNestingDepth else {
            throw .invalidSchema("types are nested more than \(maximumNestingDepth) levels deep")
        }
        let s = schema.pointee
        guard s.release != nil else { throw .invalidSchema("the schema has already been released") }
        guard let formatPointer = s.format else { throw .invalidSchema("the format string is NULL") }
        let format = String(cString: formatPointer)
        if let dictionary = s.dictionary {
            let index = ArrowDataType(format: format)
            guard index.isInteger else {
                throw .invalidSchema("dictionary indices must be an integer type, not '\(format)'")
            }
            let value = try parse(UnsafePointer(dictionary), depth: depth + 1)
            let ordered = s.flags & CArrowFlagDictionaryOrdered != 0
            return .dictionary(index: index, value: value, ordered: ordered)
        }
        if format == "+s" {
            return .structType(try parseChildren(s, depth: depth))
        }
        return ArrowDataType(format: format)
    }

    private static func parseChildren(_ s: ArrowSchema, depth: Int) throws(ArrowError) -> [ArrowField] {
        guard s.n_children >= 0 else { throw .invalidSchema("n_children is negative (\(s.n_children))") }
        guard s.n_children > 0 else { return [] }
        guard let children = s.children else {
            throw .invalidSchema("n_children is \(s.n_children) but the children pointer is NULL")
        }
        var fields: [ArrowField] = []
        fields.reserveCapacity(Int(s.n_children))
        for i in 0..<Int(s.n_children) {
            guard let child = children[i] else { throw .invalidSchema("child schema \(i) is NULL") }
            fields.append(try ArrowField.parse(UnsafePointer(child), depth: depth + 1))
        }
        return fields
    }
}

extension ArrowField {
    /// Reads a field (name, nullability flag, type) from a C `ArrowSchema` without taking ownership.
    public init(schema: UnsafePointer<ArrowSchema>) throws(ArrowError) {
        self = try ArrowField.parse(schema, depth: 0)
    }

    /// Reads a field from a C `ArrowSchema` and then releases it; the source is always marked released, even on error.
    public init(consuming schema: UnsafeMutablePointer<ArrowSchema>) throws(ArrowError) {
        var moved = schema.pointee
        schema.pointee.release = nil
        defer { moved.release?(&moved) }
        guard moved.release != nil else { throw .invalidSchema("the schema has already been released") }
        self = try withUnsafePointer(to: &moved) { (p) throws(ArrowError) -> ArrowField in
            try ArrowField.parse(p, depth: 0)
        }
    }

    static func parse(_ schema: UnsafePointer<ArrowSchema>, depth: Int) throws(ArrowError) -> ArrowField {
        let type = try ArrowDataType.parse(schema, depth: depth)
        let s = schema.pointee
        var name = ""
        if let raw = s.name {
            // A column name that is not UTF-8 is an error, never repaired into U+FFFD.
            let start = UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self)
            var count = 0
            while start[count] != 0 { count += 1 }
            let bytes = UnsafeBufferPointer(start: start, count: count)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw .invalidSchema("a field name is not valid UTF-8 (bytes \(bytes.prefix(40).map { String($0, radix: 16) }.joined(separator: " ")))")
            }
            name = text
        }
        return ArrowField(name: name, type: type, nullable: s.flags & CArrowFlagNullable != 0)
    }
}
