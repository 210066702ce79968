import CArrow
import Testing
@testable import PolybridgeArrow

@Suite struct ArrowErrorAndEdgeCaseTests {
    @Test func errorMessagesNameTheColumnAndReadAsSentences() {
        #expect(ArrowError.typeMismatch(column: "age", expected: "float64", actual: .utf8).description
            == "column 'age': expected Arrow type float64 but found utf8")
        #expect(ArrowError.invalidArray(column: "x", reason: "the data buffer (buffer 1) is NULL").description
            == "column 'x': invalid Arrow array: the data buffer (buffer 1) is NULL")
        #expect(ArrowError.lengthMismatch(column: "b", expected: 2, actual: 3).description
            == "column 'b' has 3 row(s) but the table has 2")
        #expect(ArrowError.indexOutOfRange(what: "dictionary code", index: 5, count: 3).description
            == "dictionary code 5 is out of range (valid: 0..<3)")
        #expect(ArrowError.streamError("boom").description == "Arrow stream error: boom")
        #expect(ArrowError.unsupportedType(column: nil, format: "+l").description
            == "unsupported Arrow type '+l' (list) is not supported")
    }

    @Test func zeroColumnSchemaWithSeveralBatchesHasNoRows() throws {
        let table = try ArrowTable(schema: [], batches: [[], []])
        #expect(table.rowCount == 0 && table.recordBatchCount == 2 && table.columns.isEmpty)
    }

    @Test func emptyChunksDoNotBreakBatchAlignment() throws {
        let a = try ArrowColumn(name: "a", type: .int32,
                                chunks: [ArrowArray(int32: [1, 2, 3]), ArrowArray(int32: []), ArrowArray(int32: [4, 5])])
        let b = ArrowColumn(name: "b", array: ArrowArray(float64: [1, 2, 3, 4, 5]))
        let table = try ArrowTable(columns: [a, b])
        #expect(table.batchLengths == [3, 2])
        #expect(try table.recordBatch(at: 1).field(at: 1).float64Values() == [4, 5])
        #expect(try table.column(named: "a")?.int32Values() == [1, 2, 3, 4, 5])
    }

    @Test func columnRejectsChunksOfAnotherType() {
        #expect(throws: ArrowError.typeMismatch(column: "c", expected: "int32", actual: .int64)) {
            try ArrowColumn(name: "c", type: .int32, chunks: [ArrowArray(int64: [1])])
        }
    }

    @Test func dictionaryIndicesOfAnyIntegerWidthAreWidenedToInt32() throws {
        let levels = try ArrowArray(utf8: ["a", "b", "c"])
        let int8Codes = ForeignBytes(bytes(of: [Int8(2), 0, 1]))
        let uint64Codes = ForeignBytes(bytes(of: [UInt64(1), 2]))
        let small = try ArrowArray(type: .dictionary(index: .int8, value: .utf8, ordered: false), length: 3,
                                   nullCount: 0, buffers: [nil, int8Codes.raw], dictionary: levels, onRelease: {})
        let wide = try ArrowArray(type: .dictionary(index: .uint64, value: .utf8, ordered: true), length: 2,
                                  nullCount: 0, buffers: [nil, uint64Codes.raw], dictionary: levels, onRelease: {})
        #expect(try small.dictionaryCodes() == [2, 0, 1])
        #expect(try small.stringValues() == ["c", "a", "b"])
        #expect(try wide.dictionaryCodes() == [1, 2])
        #expect(try roundTrip(wide).stringValues() == ["b", "c"])
        withExtendedLifetime((int8Codes, uint64Codes)) {}
    }

    @Test func dictionaryCodePastTheDictionaryIsReportedWhenDecoding() throws {
        let levels = try ArrowArray(utf8: ["only"])
        let codes = ForeignBytes(bytes(of: [Int32(0), 4]))
        let array = try ArrowArray(type: .dictionary(index: .int32, value: .utf8, ordered: false), length: 2,
                                   nullCount: 0, buffers: [nil, codes.raw], dictionary: levels, onRelease: {})
        #expect(throws: ArrowError.indexOutOfRange(what: "dictionary code", index: 4, count: 1)) {
            try array.stringValues()
        }
        withExtendedLifetime(codes) {}
    }

    @Test func emptyArraysExistForEverySupportedType() throws {
        let types: [ArrowDataType] = [
            .float64, .int8, .uint64, .bool, .utf8, .largeUtf8, .utf8View, .date32,
            .timestamp(unit: .second, timezone: nil), .dictionary(index: .int16, value: .largeUtf8, ordered: false),
            .structType([ArrowField(name: "s", type: .utf8)]),
        ]
        for type in types {
            let empty = try ArrowArray.empty(of: type)
            #expect(empty.length == 0 && empty.type == type)
            #expect(try roundTrip(empty).length == 0)
        }
        #expect(throws: ArrowError.unsupportedType(column: nil, format: "z")) {
            try ArrowArray.empty(of: .unsupported(format: "z"))
        }
    }

    @Test func fieldImportConsumesTheSchema() throws {
        let schema = CSchemaBox()
        ArrowField(name: "when", type: .timestamp(unit: .millisecond, timezone: "UTC"), nullable: false)
            .exportSchema(to: schema.pointer)
        let field = try ArrowField(consuming: schema.pointer)
        #expect(schema.pointer.pointee.release == nil)
        #expect(field == ArrowField(name: "when", type: .timestamp(unit: .millisecond, timezone: "UTC"), nullable: false))
    }
}

@Suite struct ArrowNameEncodingTests {
    @Test func fieldNamesThatAreNotUTF8AreAnErrorNotRepaired() throws {
        let schema = UnsafeMutablePointer<ArrowSchema>.allocate(capacity: 1)
        defer { schema.deallocate() }
        ArrowField(name: "cafe", type: .int32, nullable: true).exportSchema(to: schema)
        let original = schema.pointee.name
        // "caf" + 0xE9: Latin-1, not UTF-8. It must not come back as "caf\u{FFFD}".
        let latin1: [CChar] = [0x63, 0x61, 0x66, CChar(bitPattern: 0xE9), 0]
        latin1.withUnsafeBufferPointer { bytes in
            schema.pointee.name = bytes.baseAddress
            #expect(throws: ArrowError.self) { try ArrowField.parse(schema, depth: 0) }
            schema.pointee.name = original
        }
        #expect(try ArrowField.parse(schema, depth: 0).name == "cafe")
        schema.pointee.release?(schema)
    }
}
