/// A table of equally long, uniquely named columns, stored as one or more record batches.
///
/// Tables are immutable and can be shared between threads. They are built
/// from Swift arrays, from record batches, or imported from a C stream
/// (``consume(stream:)``) or a C struct array (``consume(array:schema:)``),
/// and exported with ``exportStream(to:)``.
public final class ArrowTable: Sendable {
    /// The fields (name, type, nullability), one per column, in order.
    public let schema: [ArrowField]
    /// The columns, in schema order.
    public let columns: [ArrowColumn]
    /// The number of rows.
    public let rowCount: Int
    /// The length of each record batch the table is exported as (aligned on every column's chunk boundaries).
    public let batchLengths: [Int]
    /// The row at which each record batch begins.
    let batchStarts: [Int]
    /// Schema-level key/value metadata, exported with the table and read from imported ones
    /// (pandas keeps its index description under `pandas`).
    public let metadata: [String: String]

    /// The number of record batches (``recordBatch(at:)`` / the exported stream yields this many).
    public var recordBatchCount: Int { batchLengths.count }

    /// The column names, in order.
    public var columnNames: [String] { schema.map(\.name) }

    /// The same columns (shared, not copied) with `metadata` as the schema metadata.
    public func withMetadata(_ metadata: [String: String]) -> ArrowTable {
        if metadata == self.metadata { return self }
        return ArrowTable(validatedSchema: schema, columns: columns, rowCount: rowCount, batchLengths: batchLengths,
                          metadata: metadata)
    }

    /// The column with the given name, or nil.
    public func column(named name: String) -> ArrowColumn? {
        columns.first { $0.name == name }
    }

    init(validatedSchema schema: [ArrowField], columns: [ArrowColumn], rowCount: Int, batchLengths: [Int],
         metadata: [String: String] = [:]) {
        self.metadata = metadata
        self.schema = schema
        self.columns = columns
        self.rowCount = rowCount
        self.batchLengths = batchLengths
        var starts: [Int] = []
        starts.reserveCapacity(batchLengths.count)
        var position = 0
        for length in batchLengths {
            starts.append(position)
            position += length
        }
        self.batchStarts = starts
    }

    /// Creates a table from chunked columns; lengths must agree and names be unique.
    ///
    /// Record batches follow the chunk boundaries when every column is chunked
    /// the same way; otherwise they are cut at the union of all boundaries.
    public convenience init(columns: [ArrowColumn]) throws(ArrowError) {
        try ArrowTable.checkUniqueNames(columns.map(\.name))
        let rowCount = columns.first?.length ?? 0
        for column in columns where column.length != rowCount {
            throw .lengthMismatch(column: column.name, expected: rowCount, actual: column.length)
        }
        for column in columns { try column.type.checkSupported(column: column.name) }
        self.init(validatedSchema: columns.map(\.field), columns: columns, rowCount: rowCount,
                  batchLengths: ArrowTable.alignedBatchLengths(columns))
    }

    /// A table with no columns that still has `rowCount` rows (an R data.frame or pandas frame
    /// whose columns were all dropped); it travels as one record batch of that length.
    public convenience init(rowCountWithoutColumns rowCount: Int) throws(ArrowError) {
        guard rowCount >= 0 else { throw .invalidArray(column: nil, reason: "row count is negative (\(rowCount))") }
        self.init(validatedSchema: [], columns: [], rowCount: rowCount, batchLengths: rowCount > 0 ? [rowCount] : [])
    }

    /// Creates a single-batch table from named arrays; all must have the same length and distinct names.
    ///
    /// Every field is declared nullable.
    public convenience init(columns: [(name: String, array: ArrowArray)]) throws(ArrowError) {
        try self.init(columns: columns.map { ArrowColumn(name: $0.name, array: $0.array) })
    }

    /// Creates a table from record batches, each holding one array per schema field (matching type, equal lengths).
    ///
    /// With an empty schema every batch has zero rows.
    public convenience init(schema: [ArrowField], batches: [[ArrowArray]]) throws(ArrowError) {
        try ArrowTable.checkUniqueNames(schema.map(\.name))
        for field in schema { try field.type.checkSupported(column: field.name) }
        var lengths: [Int] = []
        for (b, batch) in batches.enumerated() {
            guard batch.count == schema.count else {
                throw .invalidArray(column: nil,
                                    reason: "record batch \(b) has \(batch.count) array(s) but the schema has \(schema.count) field(s)")
            }
            let batchLength = batch.first?.length ?? 0
            for (field, array) in zip(schema, batch) {
                guard array.type == field.type else {
                    throw .typeMismatch(column: field.name, expected: "\(field.type)", actual: array.type)
                }
                guard array.length == batchLength else {
                    throw .lengthMismatch(column: field.name, expected: batchLength, actual: array.length)
                }
            }
            lengths.append(batchLength)
        }
        let columns = schema.enumerated().map { i, field in
            ArrowColumn(unchecked: field.name, type: field.type, nullable: field.nullable, chunks: batches.map { $0[i] })
        }
        self.init(validatedSchema: schema, columns: columns, rowCount: lengths.reduce(0, +), batchLengths: lengths)
    }

    static func checkUniqueNames(_ names: [String]) throws(ArrowError) {
        // Bytes, not `String` equality: "\u{e9}" and "e\u{301}" are different names.
        var seen = Set<[UInt8]>()
        for name in names where !seen.insert(Array(name.utf8)).inserted {
            throw .duplicateColumn(name)
        }
    }

    /// Batch lengths that respect every column's chunk boundaries.
    static func alignedBatchLengths(_ columns: [ArrowColumn]) -> [Int] {
        guard let first = columns.first else { return [] }
        let firstLengths = first.chunks.map(\.length)
        if columns.allSatisfy({ $0.chunks.map(\.length) == firstLengths }) {
            return firstLengths
        }
        var cuts = Set<Int>()
        for column in columns {
            var position = 0
            for chunk in column.chunks {
                position += chunk.length
                cuts.insert(position)
            }
        }
        var lengths: [Int] = []
        var previous = 0
        for cut in cuts.sorted() where cut > previous {
            lengths.append(cut - previous)
            previous = cut
        }
        return lengths
    }
}
