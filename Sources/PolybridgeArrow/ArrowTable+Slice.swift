extension ArrowColumn {
    /// Rows `rows` of the column, zero-copy: slices of the chunks they fall in.
    public func slice(rows: Range<Int>) throws(ArrowError) -> ArrowColumn {
        guard rows.lowerBound >= 0, rows.upperBound <= length else {
            throw .indexOutOfRange(what: "row", index: rows.upperBound, count: length + 1)
        }
        var parts: [ArrowArray] = []
        for (chunk, start) in zip(chunks, chunkStarts) {
            let low = Swift.max(rows.lowerBound, start), high = Swift.min(rows.upperBound, start + chunk.length)
            if low < high { parts.append(try chunk.slice(offset: low - start, length: high - low)) }
        }
        if parts.isEmpty, let first = chunks.first { parts = [try first.slice(offset: 0, length: 0)] }
        return ArrowColumn(unchecked: name, type: type, nullable: nullable, chunks: parts)
    }
}

extension ArrowTable {
    /// Rows `rows` of the table, zero-copy, with the same schema and metadata.
    public func slice(rows: Range<Int>) throws(ArrowError) -> ArrowTable {
        guard rows.lowerBound >= 0, rows.upperBound <= rowCount else {
            throw .indexOutOfRange(what: "row", index: rows.upperBound, count: rowCount + 1)
        }
        if columns.isEmpty { return try ArrowTable(rowCountWithoutColumns: rows.count).withMetadata(metadata) }
        var sliced: [ArrowColumn] = []
        for column in columns { sliced.append(try column.slice(rows: rows)) }
        return ArrowTable(validatedSchema: schema, columns: sliced, rowCount: rows.count,
                          batchLengths: ArrowTable.alignedBatchLengths(sliced), metadata: metadata)
    }
}
