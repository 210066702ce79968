import Testing
@testable import PolybridgeArrow

@Suite struct ArrowArraySliceTests {
    @Test func slicesWithNonZeroOffsetReadTheRightElementsForEveryType() throws {
        let doubles: [Double?] = [0, 1, nil, 3, 4, nil, 6, 7, 8, 9, 10]
        let s = try ArrowArray(float64: doubles).slice(offset: 2, length: 7)
        #expect(s.offset == 2 && s.length == 7)
        #expect(try s.float64Values() == Array(doubles[2..<9]))
        #expect(s.nullCount == 2)

        let ints: [Int32?] = [1, nil, 3, 4, 5]
        #expect(try ArrowArray(int32: ints).slice(offset: 1, length: 3).int32Values() == [nil, 3, 4])
        let longs: [Int64?] = [1, 2, nil, 4]
        #expect(try ArrowArray(int64: longs).slice(offset: 3, length: 1).int64Values() == [4])

        let bools: [Bool?] = [true, false, nil, true, false, true, true, nil, false, true, false]
        for start in 0..<bools.count {
            for count in 0...(bools.count - start) {
                let slice = try ArrowArray(bool: bools).slice(offset: start, length: count)
                #expect(try slice.boolValues() == Array(bools[start..<(start + count)]))
            }
        }

        let strings: [String?] = ["zero", nil, "two", "", "four", "fünf"]
        #expect(try ArrowArray(utf8: strings).slice(offset: 1, length: 4).stringValues() == Array(strings[1..<5]))
        #expect(try ArrowArray(largeUtf8: strings).slice(offset: 3, length: 3).stringValues() == Array(strings[3...]))
        #expect(try ArrowArray(date32Days: [1, 2, 3]).slice(offset: 2, length: 1).date32Values() == [3])
        let stamps = ArrowArray(timestamps: [1, nil, 3], unit: .millisecond, timezone: "UTC")
        #expect(try stamps.slice(offset: 1, length: 2).timestampValues() == [nil, 3])
        let dictionary = try ArrowArray(dictionaryCodes: [0, 1, nil, 1], levels: ["a", "b"], ordered: false)
        let dictionarySlice = try dictionary.slice(offset: 1, length: 3)
        #expect(try dictionarySlice.stringValues() == ["b", nil, "b"])
        #expect(try dictionarySlice.dictionaryCodes() == [1, nil, 1])
    }

    @Test func sliceOfSliceAccumulatesOffsetsAndSurvivesExport() throws {
        let values: [String?] = (0..<20).map { $0 % 3 == 0 ? nil : "v\($0)" }
        let inner = try ArrowArray(utf8: values).slice(offset: 5, length: 12).slice(offset: 3, length: 6)
        #expect(inner.offset == 8)
        #expect(try inner.stringValues() == Array(values[8..<14]))
        let back = try roundTrip(inner)
        #expect(back.offset == 8)
        #expect(try back.stringValues() == Array(values[8..<14]))
        #expect(back.nullCount == inner.nullCount)
    }

    @Test func sliceOutOfRangeThrows() {
        let array = ArrowArray(int32: [1, 2, 3])
        #expect(throws: ArrowError.self) { try array.slice(offset: 2, length: 2) }
        #expect(throws: ArrowError.self) { try array.slice(offset: -1, length: 1) }
        #expect(throws: ArrowError.self) { try array.slice(offset: 4, length: 0) }
        #expect(!array.isValid(3) && !array.isValid(-1))
    }

    @Test func nullCountMinusOneIsComputedFromValidityBitmap() throws {
        let values: [Int64?] = (0..<200).map { $0 % 7 == 0 ? nil : Int64($0) }
        let expectedNulls = values.filter { $0 == nil }.count
        let imported = try roundTrip(ArrowArray(int64: values)) { $0.null_count = -1 }
        #expect(imported.nullCount == expectedNulls)
        #expect(try imported.int64Values() == values)
        let shifted = try roundTrip(ArrowArray(int64: values)) {
            $0.null_count = -1
            $0.offset = 70
            $0.length = 130
        }
        #expect(shifted.nullCount == values[70...].filter { $0 == nil }.count)
        #expect(try shifted.int64Values() == Array(values[70...]))
    }

    @Test func nullValidityBufferMeansNoNulls() throws {
        let array = try roundTrip(ArrowArray(float64: [1, 2, 3])) { $0.null_count = -1 }
        #expect(array.buffers[0] == nil)
        #expect(array.nullCount == 0)
        #expect(array.isValid(2))
        #expect(try array.float64Values() == [1, 2, 3])
    }

    @Test func importedArrayWithOffsetAppliesItToBoolValuesAndValidity() throws {
        let values: [Bool?] = [nil, true, false, true, nil, false, true, true, false, nil, true]
        let imported = try roundTrip(ArrowArray(bool: values)) {
            $0.offset = 3
            $0.length = 8
            $0.null_count = -1
        }
        #expect(try imported.boolValues() == Array(values[3..<11]))
        #expect(imported.nullCount == 2)
    }

    @Test func structFieldsApplyTheStructOffset() throws {
        let table = try ArrowTable(columns: [
            (name: "n", array: ArrowArray(int32: [1, 2, 3, 4])),
            (name: "s", array: try ArrowArray(utf8: ["a", "b", nil, "d"])),
        ])
        let batch = try table.recordBatch(at: 0).slice(offset: 1, length: 2)
        #expect(try batch.field(at: 0).int32Values() == [2, 3])
        #expect(try batch.field(at: 1).stringValues() == ["b", nil])
        #expect(throws: ArrowError.self) { try batch.field(at: 2) }
    }
}
