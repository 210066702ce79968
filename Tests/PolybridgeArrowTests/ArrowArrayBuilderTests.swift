import Testing
@testable import PolybridgeArrow

@Suite struct ArrowArrayBuilderTests {
    @Test func float64BuilderRoundTripsWithNulls() throws {
        let values: [Double?] = [1.5, nil, -0.0, .infinity, nil, 42]
        let array = ArrowArray(float64: values)
        #expect(array.type == .float64)
        #expect(array.length == 6)
        #expect(array.nullCount == 2)
        #expect(try array.float64Values() == values)
        #expect(array.isValid(0) && !array.isValid(1))
    }

    @Test func int32AndInt64BuildersRoundTripWithNulls() throws {
        let small: [Int32?] = [Int32.min, nil, 0, Int32.max, 7, 8, 9, 10, nil]
        let big: [Int64?] = [Int64.min, nil, Int64.max]
        #expect(try ArrowArray(int32: small).int32Values() == small)
        #expect(try ArrowArray(int64: big).int64Values() == big)
    }

    @Test func boolBuilderBitPacksValuesAndValidity() throws {
        let values: [Bool?] = [true, false, nil, true, true, false, false, true, true, nil, false]
        let array = ArrowArray(bool: values)
        #expect(try array.boolValues() == values)
        #expect(array.nullCount == 2)
        let data = try #require(array.buffers[1]).assumingMemoryBound(to: UInt8.self)
        // Bits (LSB first): 1,0,0,1,1,0,0,1 | 1,0,0
        #expect(data[0] == 0b1001_1001)
        #expect(data[1] & 0b111 == 0b001)
    }

    @Test func utf8AndLargeUtf8BuildersRoundTripWithNullsAndUnicode() throws {
        let values: [String?] = ["", "héllo", nil, "日本語", "🦆 duck", nil, "a"]
        let utf8 = try ArrowArray(utf8: values)
        let large = ArrowArray(largeUtf8: values)
        #expect(utf8.type == .utf8 && large.type == .largeUtf8)
        #expect(try utf8.stringValues() == values)
        #expect(try large.stringValues() == values)
        #expect(utf8.buffers.count == 3)
    }

    @Test func date32AndTimestampBuildersKeepTheirTypes() throws {
        let days: [Int32?] = [0, nil, 19_000]
        let stamps: [Int64?] = [nil, 1_700_000_000_000_000, -1]
        let dates = ArrowArray(date32Days: days)
        let times = ArrowArray(timestamps: stamps, unit: .microsecond, timezone: "UTC")
        #expect(dates.type == .date32)
        #expect(times.type == .timestamp(unit: .microsecond, timezone: "UTC"))
        #expect(try dates.date32Values() == days)
        #expect(try times.timestampValues() == stamps)
    }

    @Test func dictionaryBuilderDecodesToLevelsAndKeepsCodes() throws {
        let array = try ArrowArray(dictionaryCodes: [0, 2, nil, 1, 0], levels: ["lo", "mid", "hi"], ordered: true)
        #expect(array.type == .dictionary(index: .int32, value: .utf8, ordered: true))
        #expect(try array.dictionaryCodes() == [0, 2, nil, 1, 0])
        #expect(try array.stringValues() == ["lo", "hi", nil, "mid", "lo"])
        #expect(try array.dictionary?.stringValues() == ["lo", "mid", "hi"])
    }

    @Test func dictionaryBuilderRejectsOutOfRangeCodes() {
        #expect(throws: ArrowError.indexOutOfRange(what: "dictionary code", index: 3, count: 3)) {
            try ArrowArray(dictionaryCodes: [0, 3], levels: ["a", "b", "c"], ordered: false)
        }
        #expect(throws: ArrowError.indexOutOfRange(what: "dictionary code", index: -1, count: 1)) {
            try ArrowArray(dictionaryCodes: [-1], levels: ["a"], ordered: false)
        }
    }

    @Test func validityBufferIsNullWhenThereAreNoNulls() throws {
        let arrays: [ArrowArray] = [
            ArrowArray(float64: [1, 2]), ArrowArray(int32: [1]), ArrowArray(bool: [true]),
            try ArrowArray(utf8: ["x"]), ArrowArray(largeUtf8: ["y"]), ArrowArray(date32Days: [3]),
            ArrowArray(timestamps: [4], unit: .second, timezone: nil),
            try ArrowArray(dictionaryCodes: [0], levels: ["z"], ordered: false),
        ]
        for array in arrays {
            #expect(array.buffers[0] == nil, Comment(rawValue: array.type.description))
            #expect(array.nullCount == 0)
            #expect(array.validityBitmap == nil)
        }
    }

    @Test func emptyInputsBuildZeroLengthArrays() throws {
        #expect(try ArrowArray(float64: []).float64Values() == [])
        #expect(try ArrowArray(utf8: []).stringValues() == [])
        #expect(try ArrowArray(bool: []).boolValues() == [])
    }

    @Test func plainBufferBuildersApplyTheValidityMask() throws {
        let array = try ArrowArray(float64Buffer: [1, 2, 3], validity: [true, false, true])
        #expect(try array.float64Values() == [1, nil, 3])
        #expect(try ArrowArray(int32Buffer: [5, 6]).int32Values() == [5, 6])
        #expect(throws: ArrowError.self) { try ArrowArray(int64Buffer: [1], validity: [true, false]) }
    }

    @Test func typedReadersThrowTypeMismatchForOtherTypes() {
        let array = ArrowArray(int32: [1])
        #expect(throws: ArrowError.typeMismatch(column: nil, expected: "float64", actual: .int32)) {
            try array.float64Values()
        }
        #expect(throws: ArrowError.self) { try array.stringValues() }
        #expect(throws: ArrowError.self) { try array.date32Values() }
        #expect(throws: ArrowError.self) { try array.dictionaryCodes() }
        #expect(throws: ArrowError.self) { try ArrowArray(date32Days: [1]).int32Values() }
    }

    @Test func valuesAsTypedBufferAppliesOffsetAndChecksWidth() throws {
        let array = try ArrowArray(int64: [10, 20, 30, 40]).slice(offset: 1, length: 2)
        let values = try array.values(as: Int64.self)
        #expect(Array(values) == [20, 30])
        #expect(throws: ArrowError.self) { try array.values(as: Int32.self) }
        #expect(throws: ArrowError.self) { try ArrowArray(bool: [true]).values(as: UInt8.self) }
        withExtendedLifetime(array) {}
    }

    @Test func ownedBufferInitializerBuildsArraysFromFilledMemory() throws {
        let data = ArrowBuffer(byteCount: 3 * 8)
        let doubles = data.mutableElements(of: Double.self)
        doubles[0] = 1; doubles[1] = 2; doubles[2] = 3
        let validity = ArrowBuffer(byteCount: 1)
        validity.baseAddress.storeBytes(of: 0b101, as: UInt8.self)
        let array = try ArrowArray(type: .float64, length: 3, nullCount: -1, buffers: [validity, data])
        #expect(array.nullCount == 1)
        #expect(try array.float64Values() == [1, nil, 3])
    }

    @Test func ownedBufferInitializerRejectsShortOrMisshapenBuffers() {
        #expect(throws: ArrowError.self) {
            try ArrowArray(type: .float64, length: 4, nullCount: 0, buffers: [nil, ArrowBuffer(byteCount: 8)])
        }
        #expect(throws: ArrowError.self) {
            try ArrowArray(type: .utf8, length: 1, nullCount: 0, buffers: [nil, ArrowBuffer(byteCount: 8)])
        }
        let offsets = ArrowBuffer(copyingElements: [Int32(0), 5])
        #expect(throws: ArrowError.self) {
            try ArrowArray(type: .utf8, length: 1, nullCount: 0, buffers: [nil, offsets, ArrowBuffer(byteCount: 2)])
        }
        #expect(throws: ArrowError.self) {
            try ArrowArray(type: .unsupported(format: "f"), length: 0, nullCount: 0, buffers: [nil, nil])
        }
    }

    @Test func arrowBufferIsAlignedZeroFilledAndCopies() {
        let buffer = ArrowBuffer(byteCount: 100)
        #expect(Int(bitPattern: buffer.baseAddress) % 64 == 0)
        #expect(UnsafeRawBufferPointer(start: buffer.baseAddress, count: 100).allSatisfy { $0 == 0 })
        let copy = [UInt8](1...5).withUnsafeBytes { ArrowBuffer(copying: $0) }
        #expect(Array(UnsafeRawBufferPointer(start: copy.baseAddress, count: copy.byteCount)) == [1, 2, 3, 4, 5])
    }
}
