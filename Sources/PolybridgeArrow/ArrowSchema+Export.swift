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
    var childPointers: UnsafeMutablePointer<UnsafeMutablePointer<ArrowSchema>?>?
    var childStructs: UnsafeMutablePointer<ArrowSchema>?
    var childCount = 0
    var dictionary: UnsafeMutablePointer<ArrowSchema>?

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

    /// Releases the children and dictionary the consumer has not moved away (their `release` is still set).
    func releaseChildren() {
        if let childStructs {
            for i in 0..<childCount where childStructs[i].release != nil {
                childStructs[i].release?(childStructs + i)
            }
        }
        if let dictionary, dictionary.pointee.release != nil {
            dictionary.pointee.release?(dictionary)
        }
    }

    deinit {
        for s in strings { s.deallocate() }
        if let childStructs {
            childStructs.deinitialize(count: childCount)
            childStructs.deallocate()
        }
        childPointers?.deallocate()
        if let dictionary {
            dictionary.deinitialize(count: 1)
            dictionary.deallocate()
        }
    }
}

/// Builds C `ArrowSchema` trees from Swift types.
enum SchemaExporter {
    static func export(type: ArrowDataType, name: String, nullable: Bool, to out: UnsafeMutablePointer<ArrowSchema>) {
        let box = SchemaExportBox()
        var flags: Int64 = nullable ? CArrowFlagNullable : 0
        let format = box.cString(type.format)
        let cName = box.cString(name)
        switch type {
        case let .structType(fields) where !fields.isEmpty:
            let structs = UnsafeMutablePointer<ArrowSchema>.allocate(capacity: fields.count)
            let pointers = UnsafeMutablePointer<UnsafeMutablePointer<ArrowSchema>?>.allocate(capacity: fields.count)
            for (i, field) in fields.enumerated() {
                (structs + i).initialize(to: ArrowSchema())
                export(type: field.type, name: field.name, nullable: field.nullable, to: structs + i)
                pointers[i] = structs + i
            }
            box.childStructs = structs
            box.childPointers = pointers
            box.childCount = fields.count
        case let .dictionary(_, value, ordered):
            if ordered { flags |= CArrowFlagDictionaryOrdered }
            let dictionary = UnsafeMutablePointer<ArrowSchema>.allocate(capacity: 1)
            dictionary.initialize(to: ArrowSchema())
            export(type: value, name: "", nullable: true, to: dictionary)
            box.dictionary = dictionary
        default:
            break
        }
        out.pointee = ArrowSchema(
            format: format,
            name: cName,
            metadata: nil,
            flags: flags,
            n_children: Int64(box.childCount),
            children: box.childPointers,
            dictionary: box.dictionary,
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
    box.releaseChildren()
    schema.pointee.release = nil
    schema.pointee.private_data = nil
    withExtendedLifetime(box) {}
}
