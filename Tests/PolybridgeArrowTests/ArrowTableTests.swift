import Testing
@testable import PolybridgeArrow

@Suite struct ArrowTableTests {
    func sampleBatches() throws -> ([ArrowField], [[ArrowArray]]) {
        let schema = [
            ArrowField(name: "x", type: .float64),
            ArrowField(name: "name", type: .utf8),
            ArrowField(name: "flag", type: .bool),
            ArrowField(name: "day", type: .date32),
            ArrowField(name: "at", type: .timestamp(unit: .microsecond, timezone: "UTC")),
            ArrowField(name: "cat", type: .dictionary(index: .int32, value: .utf8, ordered: false)),
        ]
        let first: [ArrowArray] = [
            ArrowArray(float64: [1, nil]), try ArrowArray(utf8: ["a", nil]), ArrowArray(bool: [true, nil]),
            ArrowArray(date32Days: [1, 2]), ArrowArray(timestamps: [10, nil], unit: .microsecond, timezone: "UTC"),
            try ArrowArray(dictionaryCodes: [0, 1], levels: ["u", "v"], ordered: false),
        ]
        let second: [ArrowArray] = [
            ArrowArray(float64: [3, 4, 5]), try ArrowArray(utf8: ["c", "d", ""]), ArrowArray(bool: [false, true, true]),
            ArrowArray(date32Days: [nil, 4, 5]), ArrowArray(timestamps: [30, 40, 50], unit: .microsecond, timezone: "UTC"),
            try ArrowArray(dictionaryCodes: [nil, 0, 0], levels: ["w"], ordered: false),
        ]
        return (schema, [first, second])
    }

    func streamRoundTrip(_ table: ArrowTable) throws -> ArrowTable {
        let stream = CStreamBox()
        table.exportStream(to: stream.pointer)
        let result = try ArrowTable.consume(stream: stream.pointer)
        #expect(stream.pointer.pointee.release == nil)
        return result
    }

    @Test func streamExportThenConsumeRoundTripsMultipleBatches() throws {
        let (schema, batches) = try sampleBatches()
        let table = try ArrowTable(schema: schema, batches: batches)
        #expect(table.rowCount == 5 && table.recordBatchCount == 2)
        let back = try streamRoundTrip(table)
        #expect(back.schema == schema)
        #expect(back.rowCount == 5)
        #expect(back.recordBatchCount == 2)
        #expect(back.columns.map { $0.chunks.count } == Array(repeating: 2, count: 6))
        #expect(try back.column(named: "x")?.float64Values() == [1, nil, 3, 4, 5])
        #expect(try back.column(named: "name")?.stringValues() == ["a", nil, "c", "d", ""])
        #expect(try back.column(named: "flag")?.boolValues() == [true, nil, false, true, true])
        #expect(try back.column(named: "day")?.date32Values() == [1, 2, nil, 4, 5])
        #expect(try back.column(named: "at")?.timestampValues() == [10, nil, 30, 40, 50])
        #expect(try back.column(named: "cat")?.stringValues() == ["u", "v", nil, "w", "w"])
        #expect(back.column(named: "x")?.nullCount == 1)
        #expect(back.column(named: "missing") == nil)
    }

    @Test func zeroRowTableRoundTripsThroughAStream() throws {
        let table = try ArrowTable(columns: [
            (name: "a", array: ArrowArray(int32: [])),
            (name: "b", array: try ArrowArray(utf8: [])),
        ])
        let back = try streamRoundTrip(table)
        #expect(back.rowCount == 0)
        #expect(back.schema.map(\.name) == ["a", "b"])
        #expect(try back.column(named: "b")?.stringValues() == [])
    }

    @Test func zeroColumnTableRoundTripsThroughAStreamKeepingItsRowCount() throws {
        let empty = try ArrowTable(columns: [(name: String, array: ArrowArray)]())
        #expect(empty.rowCount == 0 && empty.columns.isEmpty)
        #expect(try streamRoundTrip(empty).columns.isEmpty)

        let array = CArrayBox()
        let schema = CSchemaBox()
        try ArrowArray(type: .structType([]), length: 4, nullCount: 0, buffers: [nil], onRelease: {})
            .export(to: array.pointer)
        ArrowDataType.structType([]).exportSchema(to: schema.pointer)
        let counted = try ArrowTable.consume(array: array.pointer, schema: schema.pointer)
        #expect(counted.rowCount == 4 && counted.columns.isEmpty)
        let back = try streamRoundTrip(counted)
        #expect(back.rowCount == 4 && back.recordBatchCount == 1)
    }

    @Test func duplicateColumnNamesAreRejectedByName() {
        #expect(throws: ArrowError.duplicateColumn("a")) {
            try ArrowTable(columns: [(name: "a", array: ArrowArray(int32: [1])), (name: "a", array: ArrowArray(int32: [2]))])
        }
        let message = ArrowError.duplicateColumn("a").description
        #expect(message.contains("'a'"))
    }

    @Test func lengthMismatchNamesTheColumn() {
        #expect(throws: ArrowError.lengthMismatch(column: "b", expected: 2, actual: 3)) {
            try ArrowTable(columns: [(name: "a", array: ArrowArray(int32: [1, 2])),
                                     (name: "b", array: ArrowArray(int32: [1, 2, 3]))])
        }
        #expect(ArrowError.lengthMismatch(column: "b", expected: 2, actual: 3).description.contains("'b'"))
    }

    @Test func unsupportedColumnFormatErrorNamesTheColumn() throws {
        let schema = CSchemaBox()
        ArrowDataType.structType([ArrowField(name: "ok", type: .int32),
                                  ArrowField(name: "price", type: .unsupported(format: "tts"))])
            .exportSchema(to: schema.pointer)
        let counter = ReleaseCounter()
        let array = CArrayBox()
        try ArrowArray(type: .structType([]), length: 0, nullCount: 0, buffers: [nil], onRelease: counter.callback)
            .export(to: array.pointer)
        let error = ArrowError.unsupportedType(column: "price", format: "tts")
        #expect(throws: error) { try ArrowTable.consume(array: array.pointer, schema: schema.pointer) }
        #expect(counter.count == 1, "the array is released even though the import failed")
        #expect(error.description == "column 'price': unsupported Arrow type 'tts' (time32) is not supported")
    }

    @Test func columnReadersNameTheColumnOnTypeMismatch() throws {
        let table = try ArrowTable(columns: [(name: "n", array: ArrowArray(int32: [1]))])
        #expect(throws: ArrowError.typeMismatch(column: "n", expected: "float64", actual: .int32)) {
            try table.column(named: "n")?.float64Values()
        }
    }

    @Test func columnsWithDifferentChunkingAreExportedInAlignedBatches() throws {
        let a = try ArrowColumn(name: "a", type: .int64, chunks: [ArrowArray(int64: [1, 2, 3]), ArrowArray(int64: [4, 5])])
        let b = try ArrowColumn(name: "b", type: .utf8,
                                chunks: [try ArrowArray(utf8: ["p"]), try ArrowArray(utf8: ["q", "r", nil, "t"])])
        let table = try ArrowTable(columns: [a, b])
        #expect(table.batchLengths == [1, 2, 2])
        let back = try streamRoundTrip(table)
        #expect(back.recordBatchCount == 3)
        #expect(try back.column(named: "a")?.int64Values() == [1, 2, 3, 4, 5])
        #expect(try back.column(named: "b")?.stringValues() == ["p", "q", "r", nil, "t"])
    }

    @Test func streamRoundTripReleasesTheSourceMemoryExactlyOnce() throws {
        let counter = ReleaseCounter()
        let storage = ForeignBytes(bytes(of: [1.0, 2.0]))
        do {
            let array = try ArrowArray(type: .float64, length: 2, nullCount: 0, buffers: [nil, storage.raw],
                                       onRelease: counter.callback)
            let back = try streamRoundTrip(try ArrowTable(columns: [(name: "v", array: array)]))
            #expect(try back.column(named: "v")?.float64Values() == [1, 2])
        }
        #expect(counter.count == 1)
        withExtendedLifetime(storage) {}
    }

    @Test func exportBatchProducesAnArrayAndSchemaPair() throws {
        let (schema, batches) = try sampleBatches()
        let table = try ArrowTable(schema: schema, batches: batches)
        let array = CArrayBox()
        let cSchema = CSchemaBox()
        try table.exportBatch(index: 1, to: array.pointer, schema: cSchema.pointer)
        #expect(array.pointer.pointee.length == 3)
        let back = try ArrowTable.consume(array: array.pointer, schema: cSchema.pointer)
        #expect(try back.column(named: "x")?.float64Values() == [3, 4, 5])
        #expect(throws: ArrowError.indexOutOfRange(what: "record batch", index: 2, count: 2)) {
            try table.exportBatch(index: 2, to: array.pointer, schema: cSchema.pointer)
        }
    }

    @Test func batchStructOffsetIsAppliedToColumnsOnImport() throws {
        let table = try ArrowTable(columns: [(name: "n", array: ArrowArray(int32: [0, 1, 2, 3, 4]))])
        let array = CArrayBox()
        let schema = CSchemaBox()
        try table.exportBatch(index: 0, to: array.pointer, schema: schema.pointer)
        array.pointer.pointee.offset = 1
        array.pointer.pointee.length = 3
        let back = try ArrowTable.consume(array: array.pointer, schema: schema.pointer)
        #expect(back.rowCount == 3)
        #expect(try back.column(named: "n")?.int32Values() == [1, 2, 3])
    }

    @Test func schemaAndBatchMismatchesAreReported() throws {
        let schema = [ArrowField(name: "a", type: .int32), ArrowField(name: "b", type: .float64)]
        #expect(throws: ArrowError.typeMismatch(column: "b", expected: "float64", actual: .int32)) {
            try ArrowTable(schema: schema, batches: [[ArrowArray(int32: [1]), ArrowArray(int32: [2])]])
        }
        #expect(throws: ArrowError.lengthMismatch(column: "b", expected: 1, actual: 2)) {
            try ArrowTable(schema: schema, batches: [[ArrowArray(int32: [1]), ArrowArray(float64: [2, 3])]])
        }
        #expect(throws: ArrowError.self) { try ArrowTable(schema: schema, batches: [[ArrowArray(int32: [1])]]) }
    }

    @Test func producerErrorsCarryTheStreamsLastErrorMessage() {
        let counter = ReleaseCounter()
        let stream = CStreamBox()
        stream.pointer.pointee = FailingStream.make(counter: counter)
        #expect(throws: ArrowError.streamError("get_next failed with error code 5: disk on fire")) {
            try ArrowTable.consume(stream: stream.pointer)
        }
        #expect(counter.count == 1, "the stream is released after the failure")
    }

    @Test func exportedStreamSignalsEndOfStreamRepeatedlyAndHasNoErrorText() throws {
        let table = try ArrowTable(columns: [(name: "a", array: ArrowArray(int32: [1]))])
        let stream = CStreamBox()
        table.exportStream(to: stream.pointer)
        let next = try #require(stream.pointer.pointee.get_next)
        let array = CArrayBox()
        #expect(next(stream.pointer, array.pointer) == 0)
        #expect(array.pointer.pointee.release != nil)
        array.pointer.pointee.release?(array.pointer)
        for _ in 0..<2 {
            #expect(next(stream.pointer, array.pointer) == 0)
            #expect(array.pointer.pointee.release == nil)
        }
        #expect(stream.pointer.pointee.get_last_error?(stream.pointer) == nil)
    }
}

/// A C stream whose get_next always fails with EIO and a message.
enum FailingStream {
    static func make(counter: ReleaseCounter) -> ArrowArrayStream {
        ArrowArrayStream(
            get_schema: { _, out in
                guard let out else { return 22 }
                ArrowDataType.structType([ArrowField(name: "a", type: .int32)]).exportSchema(to: out)
                return 0
            },
            get_next: { _, _ in 5 },
            get_last_error: { _ in
                UnsafeRawPointer(("disk on fire" as StaticString).utf8Start).assumingMemoryBound(to: CChar.self)
            },
            release: { stream in
                guard let stream, let data = stream.pointee.private_data else { return }
                Unmanaged<ReleaseCounter>.fromOpaque(data).takeRetainedValue().increment()
                stream.pointee.release = nil
            },
            private_data: Unmanaged.passRetained(counter).toOpaque()
        )
    }
}
