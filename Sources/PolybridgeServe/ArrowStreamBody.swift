import Foundation
import PolybridgeModels

/// Arrow IPC stream bodies (`application/vnd.apache.arrow.stream`), read and written in
/// Swift: the stream's messages (Schema, DictionaryBatch, RecordBatch) are FlatBuffers tables,
/// read here with a bounds check on every access, so a malformed body is a 400 and never a
/// crash. Read: numbers (integers and floating point), logicals, text (utf8, large_utf8) and
/// dictionary-encoded text (factors), in any number of record batches, uncompressed. Written:
/// float64 columns in one record batch.
enum ArrowStreamBody {
    /// Why a body is not a readable stream (a 400).
    static func problem(_ text: String) -> RequestProblem {
        RequestProblem.bad("the body is not an Arrow IPC stream: \(text)")
    }

    // MARK: Reading

    /// A column's type, as far as reading needs it.
    private enum ColumnType {
        case int(bits: Int, signed: Bool)
        case float(bits: Int)
        case bool
        case utf8(large: Bool)
        /// Dictionary-encoded text: the indices' width and signedness, the dictionary's id, and
        /// whether its text has 64-bit offsets.
        case dictionary(id: Int64, bits: Int, signed: Bool, large: Bool)
    }

    private struct Field {
        var name: String
        var type: ColumnType
    }

    /// The columns of a stream body, by name, in the schema's order.
    static func read(_ body: UnsafeRawBufferPointer) throws -> (names: [String], columns: [PredictionColumn]) {
        var at = 0
        var fields: [Field]?
        var dictionaries: [Int64: [String?]] = [:]
        var numbers: [[Double?]] = [], texts: [[String?]] = [], logicals: [[Bool?]] = []
        while true {
            // A message: 0xFFFFFFFF, then its metadata's length (or, before format 1.0, the length alone).
            guard at + 4 <= body.count else {
                if at == body.count && fields != nil { break }
                throw problem("it ends before its end-of-stream marker")
            }
            var length = Int(body.loadUnaligned(fromByteOffset: at, as: Int32.self).littleEndian)
            at += 4
            if length == -1 {
                guard at + 4 <= body.count else { throw problem("it ends inside a message's prefix") }
                length = Int(body.loadUnaligned(fromByteOffset: at, as: Int32.self).littleEndian)
                at += 4
            }
            if length == 0 { break }
            guard length > 0, at + length <= body.count else { throw problem("a message's metadata runs past the body") }
            let message = try FlatBuffer(UnsafeRawBufferPointer(rebasing: body[at..<(at + length)])).root()
            at += length
            let bodyLength = Int(try message.int64(3))
            guard bodyLength >= 0, bodyLength <= body.count - at else { throw problem("a message's body runs past the body") }
            let data = UnsafeRawBufferPointer(rebasing: body[at..<(at + bodyLength)])
            at += bodyLength
            switch try message.uint8(1) {
            case 1:
                guard fields == nil else { throw problem("a second schema") }
                guard let schema = try message.table(2) else { throw problem("a schema message without its schema") }
                guard try schema.int16(0) == 0 else { throw problem("big-endian data") }
                fields = try schema.tables(1).map { try field($0) }
                numbers = Array(repeating: [], count: fields!.count)
                texts = numbers.map { _ in [] }
                logicals = numbers.map { _ in [] }
            case 2:
                guard let batch = try message.table(2), let records = try batch.table(1) else { throw problem("a dictionary message without its data") }
                let id = try batch.int64(0)
                let owner = fields?.first { if case .dictionary(id, _, _, _) = $0.type { true } else { false } }
                guard let owner, case .dictionary(_, _, _, let large) = owner.type else { throw problem("a dictionary (\(id)) that no column uses") }
                var batchReader = try BatchReader(records, data)
                let values = try batchReader.strings(large: large, column: owner.name)
                if try batch.bool(2) { dictionaries[id, default: []] += values } else { dictionaries[id] = values }
            case 3:
                guard let fields else { throw problem("a record batch before the schema") }
                guard let records = try message.table(2) else { throw problem("a record batch message without its batch") }
                var batchReader = try BatchReader(records, data)
                for (index, field) in fields.enumerated() {
                    switch field.type {
                    case .int(let bits, let signed): numbers[index] += try batchReader.integers(bits: bits, signed: signed)
                    case .float(let bits): numbers[index] += try batchReader.floats(bits: bits)
                    case .bool: logicals[index] += try batchReader.logicals()
                    case .utf8(let large): texts[index] += try batchReader.strings(large: large, column: field.name)
                    case .dictionary(let id, let bits, let signed, _):
                        guard let levels = dictionaries[id] else { throw problem("column '\(field.name)' uses dictionary \(id), which the stream did not send") }
                        texts[index] += try batchReader.integers(bits: bits, signed: signed).map { code -> String? in
                            guard let code else { return nil }
                            guard code >= 0, code < Double(levels.count) else {
                                throw problem("column '\(field.name)' has the code \(code) outside its dictionary of \(levels.count)")
                            }
                            return levels[Int(code)]
                        }
                    }
                }
            default:
                throw problem("a message of a kind it does not carry (tensors)")
            }
        }
        guard let fields else { throw problem("no schema") }
        let columns = fields.enumerated().map { index, field -> PredictionColumn in
            switch field.type {
            case .int, .float: .numbers(numbers[index])
            case .bool: .logicals(logicals[index])
            case .utf8, .dictionary: .texts(texts[index])
            }
        }
        return (fields.map(\.name), columns)
    }

    /// A schema field: its name and type; another type is refused naming the column.
    private static func field(_ table: FlatBuffer.Table) throws -> Field {
        let name = try table.string(0) ?? ""
        let kind = try table.uint8(2)
        if let encoding = try table.table(4) {
            guard kind == 5 || kind == 20 else { throw problem("column '\(name)' is dictionary-encoded, but not text") }
            guard let index = try encoding.table(1) else {
                return Field(name: name, type: .dictionary(id: try encoding.int64(0), bits: 32, signed: true, large: kind == 20))
            }
            let bits = Int(try index.int32(0))
            guard [8, 16, 32, 64].contains(bits) else { throw problem("column '\(name)' has dictionary codes of \(bits) bits") }
            return Field(name: name, type: .dictionary(id: try encoding.int64(0), bits: bits, signed: try index.bool(1), large: kind == 20))
        }
        switch kind {
        case 2:
            guard let type = try table.table(3) else { throw problem("column '\(name)' has no integer width") }
            let bits = Int(try type.int32(0))
            guard [8, 16, 32, 64].contains(bits) else { throw problem("column '\(name)' has integers of \(bits) bits") }
            return Field(name: name, type: .int(bits: bits, signed: try type.bool(1)))
        case 3:
            let precision = try table.table(3).map { try $0.int16(0) } ?? 0
            guard precision == 1 || precision == 2 else { throw problem("column '\(name)' is half-precision floating point") }
            return Field(name: name, type: .float(bits: precision == 2 ? 64 : 32))
        case 5: return Field(name: name, type: .utf8(large: false))
        case 20: return Field(name: name, type: .utf8(large: true))
        case 6: return Field(name: name, type: .bool)
        default:
            let names = [1: "null", 4: "binary", 7: "decimal", 8: "date", 9: "time", 10: "timestamp", 11: "interval", 12: "list", 13: "struct",
                         14: "union", 15: "fixed-size binary", 16: "fixed-size list", 17: "map", 18: "duration", 19: "large binary",
                         21: "large list", 22: "run-end encoded", 23: "binary view", 24: "utf8 view"]
            throw RequestProblem.bad("column '\(name)' of the Arrow body is \(names[Int(kind)] ?? "of type \(kind)"), not numbers, text or logicals")
        }
    }

    /// The arrays of one record batch, taken in the schema's order: a node and its buffers each.
    private struct BatchReader {
        let data: UnsafeRawBufferPointer
        let length: Int
        let nodes: FlatBuffer.Structs
        let buffers: FlatBuffer.Structs
        var node = 0
        var buffer = 0
        /// Where the last buffer read ends: buffers come in order and do not overlap, so what
        /// is decoded is bounded by the body's size.
        var end = 0

        init(_ records: FlatBuffer.Table, _ data: UnsafeRawBufferPointer) throws {
            guard try records.table(3) == nil else { throw ArrowStreamBody.problem("a compressed record batch (send it uncompressed)") }
            self.data = data
            length = Int(try records.int64(0))
            guard length >= 0 else { throw ArrowStreamBody.problem("a record batch of negative length") }
            nodes = try records.structs(1, size: 16)
            buffers = try records.structs(2, size: 16)
        }

        /// The next node's length and null count.
        private mutating func nextNode() throws -> (length: Int, nulls: Int) {
            guard node < nodes.count else { throw ArrowStreamBody.problem("a record batch with fewer arrays than the schema has columns") }
            let length = Int(try nodes.int64(node, at: 0)), nulls = Int(try nodes.int64(node, at: 8))
            node += 1
            guard length >= 0, nulls >= 0, nulls <= length else { throw ArrowStreamBody.problem("an array of \(length) values with \(nulls) nulls") }
            guard length == self.length else { throw ArrowStreamBody.problem("an array of \(length) values in a batch of \(self.length) rows") }
            // Every array read takes at least a bit per value from the body.
            guard length <= data.count * 8 else { throw ArrowStreamBody.problem("an array of \(length) values in a body of \(data.count) bytes") }
            return (length, nulls)
        }

        /// The next buffer's bytes.
        private mutating func nextBuffer() throws -> UnsafeRawBufferPointer {
            guard buffer < buffers.count else { throw ArrowStreamBody.problem("a record batch with fewer buffers than its arrays need") }
            let offset = Int(try buffers.int64(buffer, at: 0)), size = Int(try buffers.int64(buffer, at: 8))
            buffer += 1
            guard offset >= 0, size >= 0, offset <= data.count, size <= data.count - offset else {
                throw ArrowStreamBody.problem("a buffer runs past its message's body")
            }
            if size > 0 {
                guard offset >= end else { throw ArrowStreamBody.problem("buffers that overlap or are out of order") }
                end = offset + size
            }
            return UnsafeRawBufferPointer(rebasing: data[offset..<(offset + size)])
        }

        /// The next array's validity (nil: every value is there).
        private mutating func validity(_ length: Int, nulls: Int) throws -> UnsafeRawBufferPointer? {
            let bits = try nextBuffer()
            if nulls == 0 { return nil }
            guard bits.count * 8 >= length else { throw ArrowStreamBody.problem("a validity bitmap shorter than its array") }
            return bits
        }

        private func valid(_ bits: UnsafeRawBufferPointer?, _ index: Int) -> Bool {
            guard let bits else { return true }
            return bits[index >> 3] & (1 << UInt8(index & 7)) != 0
        }

        /// The next array's values of `width` bytes each.
        private mutating func fixed(_ length: Int, width: Int) throws -> UnsafeRawBufferPointer {
            let values = try nextBuffer()
            guard values.count / width >= length else { throw ArrowStreamBody.problem("a values buffer shorter than its array") }
            return values
        }

        mutating func integers(bits: Int, signed: Bool) throws -> [Double?] {
            let (length, nulls) = try nextNode()
            let mask = try validity(length, nulls: nulls), values = try fixed(length, width: bits / 8)
            return (0..<length).map { index -> Double? in
                guard valid(mask, index) else { return nil }
                switch (bits, signed) {
                case (8, true): return Double(values.load(fromByteOffset: index, as: Int8.self))
                case (8, false): return Double(values.load(fromByteOffset: index, as: UInt8.self))
                case (16, true): return Double(Int16(littleEndian: values.loadUnaligned(fromByteOffset: index * 2, as: Int16.self)))
                case (16, false): return Double(UInt16(littleEndian: values.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)))
                case (32, true): return Double(Int32(littleEndian: values.loadUnaligned(fromByteOffset: index * 4, as: Int32.self)))
                case (32, false): return Double(UInt32(littleEndian: values.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
                case (_, true): return Double(Int64(littleEndian: values.loadUnaligned(fromByteOffset: index * 8, as: Int64.self)))
                default: return Double(UInt64(littleEndian: values.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)))
                }
            }
        }

        mutating func floats(bits: Int) throws -> [Double?] {
            let (length, nulls) = try nextNode()
            let mask = try validity(length, nulls: nulls), values = try fixed(length, width: bits / 8)
            return (0..<length).map { index -> Double? in
                guard valid(mask, index) else { return nil }
                if bits == 32 { return Double(Float(bitPattern: UInt32(littleEndian: values.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))) }
                return Double(bitPattern: UInt64(littleEndian: values.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)))
            }
        }

        mutating func logicals() throws -> [Bool?] {
            let (length, nulls) = try nextNode()
            let mask = try validity(length, nulls: nulls), values = try nextBuffer()
            guard values.count * 8 >= length else { throw ArrowStreamBody.problem("a logical array's bits are shorter than it") }
            return (0..<length).map { index in valid(mask, index) ? values[index >> 3] & (1 << UInt8(index & 7)) != 0 : nil }
        }

        mutating func strings(large: Bool, column: String) throws -> [String?] {
            let (length, nulls) = try nextNode()
            let mask = try validity(length, nulls: nulls)
            // An empty array may come without its one offset.
            let offsets = try nextBuffer(), bytes = try nextBuffer()
            if length == 0 { return [] }
            guard offsets.count / (large ? 8 : 4) > length else { throw ArrowStreamBody.problem("an offsets buffer shorter than its array") }
            func offset(_ index: Int) -> Int {
                large ? Int(Int64(littleEndian: offsets.loadUnaligned(fromByteOffset: index * 8, as: Int64.self)))
                    : Int(Int32(littleEndian: offsets.loadUnaligned(fromByteOffset: index * 4, as: Int32.self)))
            }
            // Offsets never decrease (null rows included) and stay in the data: the text read
            // is at most the data's size.
            guard offset(0) >= 0, offset(length) <= bytes.count, (0..<length).allSatisfy({ offset($0) <= offset($0 + 1) }) else {
                throw ArrowStreamBody.problem("text of column '\(column)' has offsets outside its data")
            }
            return try (0..<length).map { index -> String? in
                guard valid(mask, index) else { return nil }
                let start = offset(index), end = offset(index + 1)
                guard let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) else {
                    throw ArrowStreamBody.problem("text of column '\(column)' is not UTF-8 (row \(index + 1))")
                }
                return text
            }
        }
    }

    // MARK: Writing

    /// `columns` (float64, missing values as nulls) as a stream: the schema, one record batch
    /// and the end-of-stream marker.
    static func write(_ columns: [(name: String, values: [Double?])]) -> [UInt8] {
        var out: [UInt8] = []
        let rows = columns.first?.values.count ?? 0
        // The body: per column a validity bitmap (none without nulls) and the values, each
        // padded to 8 bytes.
        var body: [UInt8] = [], buffers: [(Int, Int)] = [], nodes: [(Int, Int)] = []
        for column in columns {
            let nulls = column.values.count(where: { $0 == nil })
            nodes.append((rows, nulls))
            if nulls > 0 {
                var bits = [UInt8](repeating: 0, count: (rows + 7) / 8)
                for (index, value) in column.values.enumerated() where value != nil { bits[index >> 3] |= 1 << UInt8(index & 7) }
                buffers.append((body.count, bits.count))
                body += bits
                pad(&body)
            } else {
                buffers.append((body.count, 0))
            }
            buffers.append((body.count, rows * 8))
            body.reserveCapacity(body.count + rows * 8)
            for value in column.values {
                withUnsafeBytes(of: (value ?? 0).bitPattern.littleEndian) { body.append(contentsOf: $0) }
            }
            pad(&body)
        }
        message(&out, header: 1, bodyLength: 0) { builder in schema(&builder, columns.map(\.name)) }
        message(&out, header: 3, bodyLength: body.count) { builder in recordBatch(&builder, rows: rows, nodes: nodes, buffers: buffers) }
        out += body
        out += [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]
        return out
    }

    private static func pad(_ bytes: inout [UInt8]) {
        while bytes.count % 8 != 0 { bytes.append(0) }
    }

    /// One message: its prefix, its metadata (a Message table whose header is built by
    /// `header`), padded to 8 bytes.
    private static func message(_ out: inout [UInt8], header kind: UInt8, bodyLength: Int, _ header: @escaping (inout FlatBufferBuilder) -> Int) {
        var builder = FlatBufferBuilder()
        let root = builder.reserveRoot()
        builder.table(root, [
            .int16(4),  // MetadataVersion V5
            .uint8(kind),
            .child { header(&$0) },
            .int64(Int64(bodyLength)),
        ])
        pad(&builder.bytes)
        out += [0xFF, 0xFF, 0xFF, 0xFF]
        withUnsafeBytes(of: Int32(builder.bytes.count).littleEndian) { out.append(contentsOf: $0) }
        out += builder.bytes
    }

    private static func schema(_ builder: inout FlatBufferBuilder, _ names: [String]) -> Int {
        builder.table(nil, [
            .int16(0),  // little-endian
            .tables(names.map { name in { builder in
                builder.table(nil, [
                    .string(name),
                    .bool(true),
                    .uint8(3),  // FloatingPoint
                    .child { $0.table(nil, [.int16(2)]) },  // DOUBLE
                    .absent,
                    .tables([]),  // children
                ])
            } }),
        ])
    }

    private static func recordBatch(_ builder: inout FlatBufferBuilder, rows: Int, nodes: [(Int, Int)], buffers: [(Int, Int)]) -> Int {
        builder.table(nil, [
            .int64(Int64(rows)),
            .structs(nodes.map { [Int64($0.0), Int64($0.1)] }),
            .structs(buffers.map { [Int64($0.0), Int64($0.1)] }),
        ])
    }
}

/// A FlatBuffers buffer, read with every offset checked against its bounds.
struct FlatBuffer {
    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func bad() -> RequestProblem { ArrowStreamBody.problem("a message's metadata is malformed") }

    func load<T: FixedWidthInteger>(_ at: Int, as _: T.Type) throws -> T {
        guard at >= 0, at <= bytes.count - MemoryLayout<T>.size else { throw bad() }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: T.self))
    }

    /// The root table.
    func root() throws -> Table {
        try Table(buffer: self, at: Int(try load(0, as: UInt32.self)))
    }

    /// The position an offset field at `at` points to.
    func follow(_ at: Int) throws -> Int {
        let target = at + Int(try load(at, as: UInt32.self))
        guard target < bytes.count else { throw bad() }
        return target
    }

    /// A table: its fields located through its vtable.
    struct Table {
        let buffer: FlatBuffer
        let at: Int
        let vtable: Int
        let vtableSize: Int

        init(buffer: FlatBuffer, at: Int) throws {
            self.buffer = buffer
            self.at = at
            vtable = at - Int(try buffer.load(at, as: Int32.self))
            vtableSize = Int(try buffer.load(vtable, as: UInt16.self))
            guard vtableSize >= 4, vtable + vtableSize <= buffer.bytes.count else { throw buffer.bad() }
        }

        /// Where field `index` is, or nil when absent.
        func field(_ index: Int) throws -> Int? {
            let entry = 4 + 2 * index
            guard entry + 2 <= vtableSize else { return nil }
            let offset = Int(try buffer.load(vtable + entry, as: UInt16.self))
            return offset == 0 ? nil : at + offset
        }

        func uint8(_ index: Int) throws -> UInt8 { try field(index).map { try buffer.load($0, as: UInt8.self) } ?? 0 }
        func bool(_ index: Int) throws -> Bool { try uint8(index) != 0 }
        func int16(_ index: Int) throws -> Int16 { try field(index).map { try buffer.load($0, as: Int16.self) } ?? 0 }
        func int32(_ index: Int) throws -> Int32 { try field(index).map { try buffer.load($0, as: Int32.self) } ?? 0 }
        func int64(_ index: Int) throws -> Int64 { try field(index).map { try buffer.load($0, as: Int64.self) } ?? 0 }

        func table(_ index: Int) throws -> Table? {
            guard let field = try field(index) else { return nil }
            return try Table(buffer: buffer, at: try buffer.follow(field))
        }

        func string(_ index: Int) throws -> String? {
            guard let field = try field(index) else { return nil }
            let start = try buffer.follow(field), count = Int(try buffer.load(start, as: UInt32.self))
            guard count <= buffer.bytes.count - start - 4 else { throw buffer.bad() }
            return String(decoding: UnsafeRawBufferPointer(rebasing: buffer.bytes[(start + 4)..<(start + 4 + count)]), as: UTF8.self)
        }

        /// A vector of tables.
        func tables(_ index: Int) throws -> [Table] {
            guard let field = try field(index) else { return [] }
            let start = try buffer.follow(field), count = Int(try buffer.load(start, as: UInt32.self))
            guard count <= (buffer.bytes.count - start - 4) / 4 else { throw buffer.bad() }
            return try (0..<count).map { try Table(buffer: buffer, at: try buffer.follow(start + 4 + 4 * $0)) }
        }

        /// A vector of structs of `size` bytes.
        func structs(_ index: Int, size: Int) throws -> Structs {
            guard let field = try field(index) else { return Structs(buffer: buffer, start: 0, count: 0, size: size) }
            let start = try buffer.follow(field), count = Int(try buffer.load(start, as: UInt32.self))
            guard count <= (buffer.bytes.count - start - 4) / size else { throw buffer.bad() }
            return Structs(buffer: buffer, start: start + 4, count: count, size: size)
        }
    }

    /// A vector of fixed-size structs.
    struct Structs {
        let buffer: FlatBuffer
        let start: Int
        let count: Int
        let size: Int

        func int64(_ element: Int, at offset: Int) throws -> Int64 {
            try buffer.load(start + element * size + offset, as: Int64.self)
        }
    }
}

/// Builds a FlatBuffers buffer front to back: each table's vtable just before it, and what its
/// offset fields point to after it (FlatBuffers offsets point forward).
struct FlatBufferBuilder {
    /// A table's field, in the schema's field order.
    enum Field {
        case absent
        case bool(Bool)
        case uint8(UInt8)
        case int16(Int16)
        case int64(Int64)
        case string(String)
        /// A table, built by the closure.
        case child((inout FlatBufferBuilder) -> Int)
        /// A vector of tables.
        case tables([(inout FlatBufferBuilder) -> Int])
        /// A vector of structs of 64-bit integers.
        case structs([[Int64]])

        var size: Int {
            switch self {
            case .absent: 0
            case .bool, .uint8: 1
            case .int16: 2
            case .int64: 8
            case .string, .child, .tables, .structs: 4
            }
        }
    }

    var bytes: [UInt8] = []

    private mutating func align(_ alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    private mutating func put<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func patch(_ at: Int, _ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { raw in for index in 0..<4 { bytes[at + index] = raw[index] } }
    }

    /// Room for the root offset, to hand to the root table.
    mutating func reserveRoot() -> Int {
        put(UInt32(0))
        return 0
    }

    /// A table of `fields`, returning where it starts; `offsetAt`, when given, is patched to
    /// point to it.
    @discardableResult
    mutating func table(_ offsetAt: Int?, _ fields: [Field]) -> Int {
        // Inline layout: the vtable offset, then the fields by decreasing size (each aligned).
        let order = fields.indices.filter { fields[$0].size > 0 }.sorted { fields[$0].size > fields[$1].size }
        var positions = [Int](repeating: 0, count: fields.count)
        var size = 4
        for index in order {
            let width = fields[index].size
            size = (size + width - 1) / width * width
            positions[index] = size
            size += width
        }
        // The vtable, then the table aligned to 8 (its start is what the offsets count from).
        let vtableSize = 4 + 2 * fields.count
        align(2)
        var tableStart = bytes.count + vtableSize
        while tableStart % 8 != 0 { tableStart += 1 }
        let vtableStart = tableStart - vtableSize
        while bytes.count < vtableStart { bytes.append(0) }
        put(UInt16(vtableSize))
        put(UInt16(size))
        for index in fields.indices { put(UInt16(fields[index].size > 0 ? positions[index] : 0)) }
        precondition(bytes.count == tableStart)
        put(Int32(tableStart - vtableStart))
        bytes += [UInt8](repeating: 0, count: size - 4)
        if let offsetAt { patch(offsetAt, UInt32(tableStart - offsetAt)) }
        for (index, field) in fields.enumerated() {
            let at = tableStart + positions[index]
            switch field {
            case .absent: break
            case .bool(let value): bytes[at] = value ? 1 : 0
            case .uint8(let value): bytes[at] = value
            case .int16(let value): withUnsafeBytes(of: value.littleEndian) { bytes[at] = $0[0]; bytes[at + 1] = $0[1] }
            case .int64(let value): withUnsafeBytes(of: value.littleEndian) { raw in for byte in 0..<8 { bytes[at + byte] = raw[byte] } }
            default: break
            }
        }
        // What the offset fields point to, after the table.
        for (index, field) in fields.enumerated() {
            let at = tableStart + positions[index]
            switch field {
            case .string(let text):
                align(4)
                patch(at, UInt32(bytes.count - at))
                put(UInt32(text.utf8.count))
                bytes += Array(text.utf8) + [0]
            case .child(let build):
                let child = build(&self)
                patch(at, UInt32(child - at))
            case .tables(let builds):
                align(4)
                let start = bytes.count
                patch(at, UInt32(start - at))
                put(UInt32(builds.count))
                bytes += [UInt8](repeating: 0, count: 4 * builds.count)
                for (element, build) in builds.enumerated() {
                    let child = build(&self)
                    patch(start + 4 + 4 * element, UInt32(child - (start + 4 + 4 * element)))
                }
            case .structs(let elements):
                // The length just before 8-aligned elements.
                while (bytes.count + 4) % 8 != 0 { bytes.append(0) }
                patch(at, UInt32(bytes.count - at))
                put(UInt32(elements.count))
                for element in elements { for value in element { put(value) } }
            default: break
            }
        }
        return tableStart
    }
}
