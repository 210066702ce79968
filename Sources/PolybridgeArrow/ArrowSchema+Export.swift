import CArrow

extension ArrowDataType {
    /// Fills a C `ArrowSchema` describing this type (empty name, nullable) whose `release` frees everything.
    ///
    /// `out` is overwritten without being released first; the consumer owns the
    /// result and must call its `release` exactly once.
    public func exportSchema(to out: UnsafeMutablePointer<ArrowSchema>) {
        SchemaExporter.export(type: self, name: "", nullable: true, to: out)
    }
}

extension ArrowField {
    /// Fills a C `ArrowSchema` with this field's name, nullability, type, children and dictionary.
    ///
    /// `out` is overwritten without being released first; the consumer owns the
    /// result and must call its `release` exactly once.
    public func exportSchema(to out: UnsafeMutablePointer<ArrowSchema>) {
        SchemaExporter.export(type: type, name: name, nullable: nullable, to: out)
    }
}

/// Owns the memory behind one exported `ArrowSchema` (strings, child structs, dictionary struct).
final class SchemaExportBox {
    var strings: [UnsafeMutablePointer<CChar>] = []
    let nested: ExportedChildren<ArrowSchema>

    /// Exports `fields` as the children and `dictionaryValues` (if any) as the dictionary.
    init(fields: [ArrowField], dictionaryValues: ArrowDataType?) {
        nested = ExportedChildren(fields, exportChild: { field, out in
            SchemaExporter.export(type: field.type, name: field.name, nullable: field.nullable, to: out)
        }, exportDictionary: dictionaryValues.map { values in { out in
            SchemaExporter.export(type: values, name: "", nullable: true, to: out)
        } })
    }

    func cString(_ string: String) -> UnsafePointer<CChar> {
        let utf8 = Array(string.utf8)
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count + 1)
        utf8.withUnsafeBufferPointer { source in
            for i in 0..<source.count { pointer[i] = CChar(bitPattern: source[i]) }
        }
        pointer[utf8.count] = 0
        strings.append(pointer)
        return UnsafePointer(pointer)
    }

    /// A copy of `bytes` that lives as long as the schema.
    func bytes(_ bytes: [UInt8]) -> UnsafePointer<CChar> {
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
        for (i, byte) in bytes.enumerated() { pointer[i] = CChar(bitPattern: byte) }
        strings.append(pointer)
        return UnsafePointer(pointer)
    }

    deinit {
        for s in strings { s.deallocate() }
        nested.deallocate()
    }
}

/// Builds C `ArrowSchema` trees from Swift types.
enum SchemaExporter {
    static func export(type: ArrowDataType, name: String, nullable: Bool, metadata: [String: String] = [:],
                       to out: UnsafeMutablePointer<ArrowSchema>) {
        var flags: Int64 = nullable ? CArrowFlagNullable : 0
        var fields: [ArrowField] = []
        var dictionaryValues: ArrowDataType?
        switch type {
        case let .structType(structFields):
            fields = structFields
        case let .dictionary(_, values, ordered):
            if ordered { flags |= CArrowFlagDictionaryOrdered }
            dictionaryValues = values
        default:
            break
        }
        let box = SchemaExportBox(fields: fields, dictionaryValues: dictionaryValues)
        let format = box.cString(type.format)
        let cName = box.cString(name)
        let cMetadata = ArrowSchemaMetadata.encode(metadata).map { box.bytes($0) }
        out.pointee = ArrowSchema(
            format: format,
            name: cName,
            metadata: cMetadata,
            flags: flags,
            n_children: Int64(box.nested.count),
            children: box.nested.pointers,
            dictionary: box.nested.dictionary,
            release: releaseExportedSchema,
            private_data: Unmanaged.passRetained(box).toOpaque()
        )
    }
}

/// The `release` callback of every schema exported by this library; safe to call from any thread.
private func releaseExportedSchema(_ schema: UnsafeMutablePointer<ArrowSchema>?) {
    guard let schema, schema.pointee.release != nil else { return }
    guard let privateData = schema.pointee.private_data else {
        schema.pointee.release = nil
        return
    }
    let box = Unmanaged<SchemaExportBox>.fromOpaque(privateData).takeRetainedValue()
    box.nested.releaseUnmoved()
    schema.pointee.release = nil
    schema.pointee.private_data = nil
    withExtendedLifetime(box) {}
}
