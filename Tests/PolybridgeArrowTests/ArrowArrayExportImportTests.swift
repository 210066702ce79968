import Testing
@testable import PolybridgeArrow

@Suite struct ArrowArrayExportImportTests {
    @Test func everyBuiltTypeSurvivesExportAndImport() throws {
        let float = try roundTrip(ArrowArray(float64: [1, nil, 3]))
        #expect(try float.float64Values() == [1, nil, 3])
        #expect(try roundTrip(ArrowArray(int32: [nil, 2])).int32Values() == [nil, 2])
        #expect(try roundTrip(ArrowArray(int64: [5, nil])).int64Values() == [5, nil])
        #expect(try roundTrip(ArrowArray(bool: [true, nil, false])).boolValues() == [true, nil, false])
        #expect(try roundTrip(ArrowArray(utf8: ["a", nil, "ccc"])).stringValues() == ["a", nil, "ccc"])
        #expect(try roundTrip(ArrowArray(largeUtf8: [nil, "b"])).stringValues() == [nil, "b"])
        #expect(try roundTrip(ArrowArray(date32Days: [1, nil])).date32Values() == [1, nil])
        let stamps = try roundTrip(ArrowArray(timestamps: [9, nil], unit: .nanosecond, timezone: nil))
        #expect(try stamps.timestampValues() == [9, nil])
        let dictionary = try roundTrip(ArrowArray(dictionaryCodes: [1, nil, 0], levels: ["x", "y"], ordered: false))
        #expect(try dictionary.stringValues() == ["y", nil, "x"])
        #expect(try dictionary.dictionaryCodes() == [1, nil, 0])
    }

    @Test func importMovesTheStructAndReleasesExactlyOnceWhenTheLastReferenceGoes() throws {
        let counter = ReleaseCounter()
        let storage = ForeignBytes(bytes(of: [1.0, 2.0, 3.0]))
        var array: ArrowArray? = try ArrowArray(type: .float64, length: 3, nullCount: 0,
                                                buffers: [nil, storage.raw], onRelease: counter.callback)
        let box = CArrayBox()
        array?.export(to: box.pointer)
        array = nil
        #expect(counter.count == 0, "the export keeps the array alive")
        var imported: ArrowArray? = try ArrowArray(consuming: box.pointer, type: .float64)
        #expect(box.pointer.pointee.release == nil, "the source struct is marked as moved")
        var slice: ArrowArray? = try imported?.slice(offset: 1, length: 2)
        imported = nil
        #expect(counter.count == 0, "a slice keeps the imported array alive")
        #expect(try slice?.float64Values() == [2, 3])
        slice = nil
        #expect(counter.count == 1)
        withExtendedLifetime(storage) {}
    }

    @Test func exportingTheSameArrayTwiceHoldsTwoIndependentReferences() throws {
        let counter = ReleaseCounter()
        let storage = ForeignBytes(bytes(of: [Int32(7), 8]))
        var array: ArrowArray? = try ArrowArray(type: .int32, length: 2, nullCount: 0,
                                                buffers: [nil, storage.raw], onRelease: counter.callback)
        let first = CArrayBox()
        let second = CArrayBox()
        array?.export(to: first.pointer)
        array?.export(to: second.pointer)
        array = nil
        first.pointer.pointee.release?(first.pointer)
        #expect(first.pointer.pointee.release == nil)
        #expect(counter.count == 0)
        let again = try ArrowArray(consuming: second.pointer, type: .int32)
        #expect(try again.int32Values() == [7, 8])
        second.pointer.pointee.release?(second.pointer)  // already moved: no-op
        #expect(counter.count == 0)
        _ = consume again
        #expect(counter.count == 1)
        withExtendedLifetime(storage) {}
    }

    @Test func foreignInitializerCallsOnReleaseEvenWhenValidationFails() {
        let counter = ReleaseCounter()
        #expect(throws: ArrowError.self) {
            try ArrowArray(type: .utf8, length: 1, nullCount: 0, buffers: [nil], onRelease: counter.callback)
        }
        #expect(counter.count == 1)
    }

    @Test func releasingAStructExportReleasesChildrenUnlessTheConsumerMovedThem() throws {
        let counterA = ReleaseCounter()
        let counterB = ReleaseCounter()
        let storageA = ForeignBytes(bytes(of: [Int32(1), 2]))
        let storageB = ForeignBytes(bytes(of: [Int64(3), 4]))
        let fields = [ArrowField(name: "a", type: .int32), ArrowField(name: "b", type: .int64)]
        let parent = CArrayBox()
        do {
            let a = try ArrowArray(type: .int32, length: 2, nullCount: 0, buffers: [nil, storageA.raw],
                                   onRelease: counterA.callback)
            let b = try ArrowArray(type: .int64, length: 2, nullCount: 0, buffers: [nil, storageB.raw],
                                   onRelease: counterB.callback)
            let table = try ArrowTable(columns: [(name: "a", array: a), (name: "b", array: b)])
            try table.recordBatch(at: 0).export(to: parent.pointer)
        }
        #expect(parent.pointer.pointee.n_children == 2)
        let moved = CArrayBox()
        let childB = try #require(parent.pointer.pointee.children?[1])
        moved.pointer.pointee = childB.pointee
        childB.pointee.release = nil
        parent.pointer.pointee.release?(parent.pointer)
        #expect(counterA.count == 1, "child a is released with its parent")
        #expect(counterB.count == 0, "moved child b lives on")
        let b = try ArrowArray(consuming: moved.pointer, type: .int64)
        #expect(try b.int64Values() == [3, 4])
        _ = consume b
        #expect(counterB.count == 1)
        _ = fields
        withExtendedLifetime((storageA, storageB)) {}
    }

    @Test func arrayAndSchemaPairImportsTogether() throws {
        let array = CArrayBox()
        let schema = CSchemaBox()
        try ArrowArray(utf8: ["p", nil]).export(to: array.pointer)
        ArrowField(name: "s", type: .utf8).exportSchema(to: schema.pointer)
        let imported = try ArrowArray(consuming: array.pointer, schema: schema.pointer)
        #expect(schema.pointer.pointee.release == nil && array.pointer.pointee.release == nil)
        #expect(try imported.stringValues() == ["p", nil])
    }

    @Test func importRejectsWrongBufferCountsAndReleasesTheArray() throws {
        let counter = ReleaseCounter()
        let storage = ForeignBytes(bytes(of: [1.0]))
        let box = CArrayBox()
        try ArrowArray(type: .float64, length: 1, nullCount: 0, buffers: [nil, storage.raw],
                       onRelease: counter.callback).export(to: box.pointer)
        #expect(throws: ArrowError.invalidArray(column: nil, reason: "utf8 arrays need 3 buffer(s), got 2")) {
            try ArrowArray(consuming: box.pointer, type: .utf8)
        }
        #expect(counter.count == 1)
        #expect(throws: ArrowError.self) { try ArrowArray(consuming: box.pointer, type: .float64) }
        withExtendedLifetime(storage) {}
    }

    @Test func importOfUnsupportedTypeThrowsWithTheFormat() throws {
        let box = CArrayBox()
        ArrowArray(float64: [1]).export(to: box.pointer)
        #expect(throws: ArrowError.unsupportedType(column: nil, format: "f")) {
            try ArrowArray(consuming: box.pointer, type: .unsupported(format: "f"))
        }
    }

    @Test func utf8ViewArraysReadInlineAndOutOfLineStrings() throws {
        let long = "this string is longer than twelve bytes"
        let longBytes = Array(long.utf8)
        var views = [UInt8](repeating: 0, count: 48)
        func putInt32(_ value: Int32, at index: Int) {
            withUnsafeBytes(of: value.littleEndian) { for (k, b) in $0.enumerated() { views[index + k] = b } }
        }
        putInt32(5, at: 0)
        for (k, b) in "short".utf8.enumerated() { views[4 + k] = b }
        putInt32(Int32(longBytes.count), at: 16)
        for k in 0..<4 { views[20 + k] = longBytes[k] }
        putInt32(0, at: 24)   // buffer index
        putInt32(0, at: 28)   // offset
        // Element 2 is null (zeroed view).
        let validity = ForeignBytes([0b011])
        let viewStorage = ForeignBytes(views)
        let data = ForeignBytes(longBytes)
        let sizes = ForeignBytes(bytes(of: [Int64(longBytes.count)]))
        let counter = ReleaseCounter()
        let array = try ArrowArray(type: .utf8View, length: 3, nullCount: -1,
                                   buffers: [validity.raw, viewStorage.raw, data.raw, sizes.raw],
                                   onRelease: counter.callback)
        #expect(array.nullCount == 1)
        #expect(try array.stringValues() == ["short", long, nil])
        #expect(try roundTrip(array).stringValues() == ["short", long, nil])
        #expect(try array.slice(offset: 1, length: 1).stringValues() == [long])
        withExtendedLifetime((validity, viewStorage, data, sizes)) {}
    }
}
