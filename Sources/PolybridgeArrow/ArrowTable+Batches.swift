import CArrow

extension ArrowTable {
    /// Record batch `index` as a struct ("+s") array whose children are zero-copy slices of the columns.
    public func recordBatch(at index: Int) throws(ArrowError) -> ArrowArray {
        guard index >= 0, index < batchLengths.count else {
            throw .indexOutOfRange(what: "record batch", index: index, count: batchLengths.count)
        }
        let start = batchStarts[index]
        let count = batchLengths[index]
        var children: [ArrowArray] = []
        children.reserveCapacity(columns.count)
        for column in columns {
            children.append(try column.window(start: start, count: count))
        }
        return ArrowArray(type: .structType(schema), length: count, offset: 0, nullCount: 0, buffers: [nil],
                          children: children, dictionary: nil, anchor: .owned([]))
    }

    /// Fills a C `ArrowSchema` describing the table as a struct ("+s") whose children are the columns.
    /// The table's ``metadata`` goes with it (pandas reads its index from there).
    public func exportSchema(to out: UnsafeMutablePointer<ArrowSchema>) {
        SchemaExporter.export(type: .structType(schema), name: "", nullable: false, metadata: metadata, to: out)
    }

    /// Exports record batch `index` as a C struct array plus its C schema (the `__arrow_c_array__` pair).
    public func exportBatch(index: Int, to array: UnsafeMutablePointer<CArrow.ArrowArray>,
                            schema: UnsafeMutablePointer<ArrowSchema>) throws(ArrowError) {
        let batch = try recordBatch(at: index)
        batch.export(to: array)
        exportSchema(to: schema)
    }

    /// Imports a C struct array and its schema (from `__arrow_c_array__`) as a one-batch table; both are consumed, even on error.
    ///
    /// Each struct child becomes a column (zero-copy; the struct's offset and
    /// length are applied). Unsupported column types throw
    /// ``ArrowError/unsupportedType(column:format:)`` naming the column.
    public static func consume(array: UnsafeMutablePointer<CArrow.ArrowArray>,
                               schema: UnsafeMutablePointer<ArrowSchema>) throws(ArrowError) -> ArrowTable {
        let fields: [ArrowField]
        let metadata: [String: String]
        do throws(ArrowError) {
            metadata = try ArrowSchemaMetadata.decode(schema.pointee.metadata)
            fields = try structFields(of: ArrowField(consuming: schema))
        } catch {
            if schema.pointee.release != nil { _ = try? ArrowField(consuming: schema) }
            ArrowArray.releaseUnimported(array)
            throw error
        }
        let root = try ArrowArray(consuming: array, type: .structType(fields), column: nil)
        return try table(fields: fields, batches: [root]).withMetadata(metadata)
    }

    /// The columns of a root struct schema, checked for unique names and supported types.
    static func structFields(of root: ArrowField) throws(ArrowError) -> [ArrowField] {
        guard case let .structType(fields) = root.type else {
            throw .invalidSchema("a table needs a struct ('+s') schema, got \(root.type) ('\(root.type.format)')")
        }
        try checkUniqueNames(fields.map(\.name))
        for field in fields { try field.type.checkSupported(column: field.name) }
        return fields
    }

    /// Builds a table from imported struct batches, slicing children by each batch's offset and length.
    static func table(fields: [ArrowField], batches: [ArrowArray]) throws(ArrowError) -> ArrowTable {
        var chunks = [[ArrowArray]](repeating: [], count: fields.count)
        for batch in batches {
            for i in fields.indices {
                chunks[i].append(try batch.field(at: i))
            }
        }
        let columns = fields.enumerated().map { i, field in
            ArrowColumn(unchecked: field.name, type: field.type, nullable: field.nullable, chunks: chunks[i])
        }
        let lengths = batches.map(\.length)
        return ArrowTable(validatedSchema: fields, columns: columns, rowCount: lengths.reduce(0, +),
                          batchLengths: lengths)
    }
}
