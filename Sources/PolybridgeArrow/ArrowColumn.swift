/// A named column made of one or more array chunks of the same type (a chunked array).
public struct ArrowColumn: Sendable {
    /// The column name.
    public let name: String
    /// The Arrow type shared by every chunk.
    public let type: ArrowDataType
    /// Whether the column is declared nullable.
    public let nullable: Bool
    /// The chunks in order; their lengths add up to ``length``.
    public let chunks: [ArrowArray]
    /// The total number of rows over all chunks.
    public let length: Int
    /// The row at which each chunk begins.
    let chunkStarts: [Int]

    /// Creates a column from chunks, checking that every chunk has the column's type.
    public init(name: String, type: ArrowDataType, nullable: Bool = true, chunks: [ArrowArray]) throws(ArrowError) {
        for chunk in chunks where chunk.type != type {
            throw .typeMismatch(column: name, expected: "\(type)", actual: chunk.type)
        }
        self.init(unchecked: name, type: type, nullable: nullable, chunks: chunks)
    }

    /// Creates a single-chunk column from one array.
    public init(name: String, array: ArrowArray, nullable: Bool = true) {
        self.init(unchecked: name, type: array.type, nullable: nullable, chunks: [array])
    }

    init(unchecked name: String, type: ArrowDataType, nullable: Bool, chunks: [ArrowArray]) {
        self.name = name
        self.type = type
        self.nullable = nullable
        self.chunks = chunks
        var starts: [Int] = []
        starts.reserveCapacity(chunks.count)
        var position = 0
        for chunk in chunks {
            starts.append(position)
            position += chunk.length
        }
        self.chunkStarts = starts
        self.length = position
    }

    /// The column's name, type and nullability as a field.
    public var field: ArrowField {
        ArrowField(name: name, type: type, nullable: nullable)
    }

    /// The number of nulls over all chunks.
    public var nullCount: Int {
        chunks.reduce(0) { $0 + $1.nullCount }
    }

    /// All float64 values, chunks concatenated (nulls as nil); errors name this column.
    public func float64Values() throws(ArrowError) -> [Double?] {
        try gatherFixed(Double.self, .float64)
    }

    /// All int32 values, chunks concatenated (nulls as nil); errors name this column.
    public func int32Values() throws(ArrowError) -> [Int32?] {
        try gatherFixed(Int32.self, .int32)
    }

    /// All int64 values, chunks concatenated (nulls as nil); errors name this column.
    public func int64Values() throws(ArrowError) -> [Int64?] {
        try gatherFixed(Int64.self, .int64)
    }

    /// All date32 values (days since the epoch), chunks concatenated; errors name this column.
    public func date32Values() throws(ArrowError) -> [Int32?] {
        try gatherFixed(Int32.self, .date32)
    }

    /// All raw timestamp values, chunks concatenated; errors name this column.
    public func timestampValues() throws(ArrowError) -> [Int64?] {
        try gatherFixed(Int64.self, .timestamp)
    }

    /// All boolean values, chunks concatenated (nulls as nil); errors name this column.
    public func boolValues() throws(ArrowError) -> [Bool?] {
        try requireChunks("bool") { $0 == .bool }
        return gather { chunk, target in chunk.writeBoolValues(into: target) }
    }

    /// All dictionary codes as Int32, chunks concatenated; errors name this column.
    ///
    /// Chunks may carry different dictionaries; codes index into their own
    /// chunk's dictionary.
    public func dictionaryCodes() throws(ArrowError) -> [Int32?] {
        try requireChunks("dictionary") { if case .dictionary = $0 { true } else { false } }
        var failure: ArrowError?
        let codes = gather { chunk, target in
            if let error = chunk.writeDictionaryCodes(into: target), failure == nil { failure = error }
        }
        if let failure { throw failure.inColumn(name) }
        return codes
    }

    /// All string values (utf8, large_utf8, utf8_view or string dictionary), chunks concatenated; errors name this column.
    public func stringValues() throws(ArrowError) -> [String?] {
        var out: [String?] = []
        out.reserveCapacity(length)
        do throws(ArrowError) {
            for chunk in chunks { try chunk.appendStringValues(to: &out) }
        } catch {
            throw error.inColumn(name)
        }
        return out
    }

    private func requireChunks(_ expected: String, _ matches: (ArrowDataType) -> Bool) throws(ArrowError) {
        for chunk in chunks where !matches(chunk.type) {
            throw .typeMismatch(column: name, expected: expected, actual: chunk.type)
        }
    }

    private func gatherFixed<T: BitwiseCopyable>(_: T.Type, _ kind: ArrowArray.FixedKind) throws(ArrowError) -> [T?] {
        try requireChunks(kind.rawValue) { kind.matches($0) }
        return gather { chunk, target in chunk.writeFixed(T.self, into: target) }
    }

    /// Builds one array of `length` elements; `write` initializes each chunk's slots in place.
    private func gather<T>(_ write: (ArrowArray, UnsafeMutablePointer<T>) -> Void) -> [T] {
        ArrowArray.makeArray(count: length) { base in
            var position = 0
            for chunk in chunks {
                write(chunk, base + position)
                position += chunk.length
            }
        }
    }

    /// The rows `start..<start + count` as one zero-copy array; the range must lie within a single chunk.
    func window(start: Int, count: Int) throws(ArrowError) -> ArrowArray {
        // The last chunk that begins at or before `start` (binary search over chunk starts).
        var low = 0
        var high = chunks.count
        while low < high {
            let middle = (low + high) / 2
            if chunkStarts[middle] <= start { low = middle + 1 } else { high = middle }
        }
        let index = low - 1
        if index >= 0 {
            let chunkStart = chunkStarts[index]
            let chunk = chunks[index]
            if start + count <= chunkStart + chunk.length {
                return try chunk.slice(offset: start - chunkStart, length: count)
            }
        }
        if count == 0 {
            do throws(ArrowError) {
                return try ArrowArray.empty(of: type)
            } catch {
                throw error.inColumn(name)
            }
        }
        throw .invalidArray(column: name, reason: "rows \(start)..<\(start + count) do not lie within one chunk")
    }
}
