import Testing
@testable import PolybridgeArrow

@Suite struct ArrowDataTypeFormatTests {
    /// Every leaf format with its parsed type (built per call: no global state).
    func leafCases() -> [(String, ArrowDataType)] {
        [
        ("g", .float64), ("c", .int8), ("s", .int16), ("i", .int32), ("l", .int64),
        ("C", .uint8), ("S", .uint16), ("I", .uint32), ("L", .uint64), ("b", .bool),
        ("u", .utf8), ("U", .largeUtf8), ("vu", .utf8View), ("tdD", .date32),
        ("tss:", .timestamp(unit: .second, timezone: nil)),
        ("tsm:Europe/Paris", .timestamp(unit: .millisecond, timezone: "Europe/Paris")),
        ("tsu:", .timestamp(unit: .microsecond, timezone: nil)),
        ("tsu:UTC", .timestamp(unit: .microsecond, timezone: "UTC")),
        ("tsn:+01:00", .timestamp(unit: .nanosecond, timezone: "+01:00")),
        ("n", .null), ("e", .float16), ("f", .float32), ("tdm", .date64),
        ("d:10,2", .decimal(precision: 10, scale: 2, bitWidth: 128)),
        ("d:40,-3,256", .decimal(precision: 40, scale: -3, bitWidth: 256)),
        ("d:9,2,32", .decimal(precision: 9, scale: 2, bitWidth: 32)),
        ("d:10,2,48", .unsupported(format: "d:10,2,48")), ("tts", .unsupported(format: "tts")),
        ("+l", .unsupported(format: "+l")), ("z", .unsupported(format: "z")),
        ("tsx:", .unsupported(format: "tsx:")),
        ]
    }

    @Test func everyLeafFormatParsesAndPrintsBack() {
        for (format, type) in leafCases() {
            #expect(ArrowDataType(format: format) == type, "parsing \(format)")
            #expect(type.format == format, "printing \(type)")
        }
    }

    @Test func naiveTimestampHasNilTimezoneAndZonedKeepsIt() {
        #expect(ArrowDataType(format: "tsu:") == .timestamp(unit: .microsecond, timezone: nil))
        #expect(ArrowDataType(format: "tsu:UTC") == .timestamp(unit: .microsecond, timezone: "UTC"))
    }

    @Test func descriptionsAreReadable() {
        #expect(ArrowDataType.float64.description == "float64")
        #expect(ArrowDataType.timestamp(unit: .microsecond, timezone: "UTC").description == "timestamp[us, tz=UTC]")
        #expect(ArrowDataType.timestamp(unit: .nanosecond, timezone: nil).description == "timestamp[ns]")
        #expect(ArrowDataType.dictionary(index: .int32, value: .utf8, ordered: true).description
            == "dictionary<values=utf8, indices=int32, ordered>")
        #expect(ArrowDataType.dictionary(index: .int8, value: .utf8, ordered: false).description
            == "dictionary<values=utf8, indices=int8>")
        #expect(ArrowDataType.unsupported(format: "d:10,2").description == "unsupported Arrow type 'd:10,2' (decimal)")
        #expect(ArrowDataType.unsupported(format: "+l").description == "unsupported Arrow type '+l' (list)")
        #expect(ArrowDataType.structType([ArrowField(name: "a", type: .int32)]).description == "struct<a: int32>")
    }

    @Test func timeUnitsKnowTheirLettersAndScale() {
        #expect(ArrowTimeUnit.allCases.map(\.formatLetter) == ["s", "m", "u", "n"])
        #expect(ArrowTimeUnit.allCases.map(\.perSecond) == [1, 1_000, 1_000_000, 1_000_000_000])
    }

    @Test func orderedDictionaryFlagSurvivesSchemaExportAndImport() throws {
        for ordered in [true, false] {
            let field = ArrowField(name: "f", type: .dictionary(index: .int16, value: .utf8, ordered: ordered))
            let box = CSchemaBox()
            field.exportSchema(to: box.pointer)
            #expect(String(cString: box.pointer.pointee.format) == "s")
            #expect(box.pointer.pointee.flags & CArrowFlagDictionaryOrdered == (ordered ? 1 : 0))
            #expect(box.pointer.pointee.dictionary != nil)
            #expect(try ArrowField(schema: box.pointer) == field)
        }
    }

    @Test func nestedStructSchemaRoundTripsWithNamesAndNullability() throws {
        let field = ArrowField(name: "root", type: .structType([
            ArrowField(name: "x", type: .float64, nullable: false),
            ArrowField(name: "when", type: .timestamp(unit: .nanosecond, timezone: "UTC")),
            ArrowField(name: "inner", type: .structType([ArrowField(name: "s", type: .largeUtf8)])),
            ArrowField(name: "cat", type: .dictionary(index: .int32, value: .utf8, ordered: false)),
        ]), nullable: false)
        let box = CSchemaBox()
        field.exportSchema(to: box.pointer)
        #expect(String(cString: box.pointer.pointee.format) == "+s")
        #expect(box.pointer.pointee.n_children == 4)
        #expect(box.pointer.pointee.flags & CArrowFlagNullable == 0)
        #expect(try ArrowField(schema: box.pointer) == field)
    }

    @Test func consumerMayMoveAChildSchemaOutAndReleaseItSeparately() throws {
        let field = ArrowField(name: "t", type: .structType([ArrowField(name: "a", type: .int32),
                                                             ArrowField(name: "b", type: .utf8)]))
        let parent = CSchemaBox()
        field.exportSchema(to: parent.pointer)
        let moved = CSchemaBox()
        let child = try #require(parent.pointer.pointee.children?[1])
        moved.pointer.pointee = child.pointee
        child.pointee.release = nil
        parent.pointer.pointee.release?(parent.pointer)
        #expect(parent.pointer.pointee.release == nil)
        #expect(try ArrowField(schema: moved.pointer) == ArrowField(name: "b", type: .utf8))
    }

    @Test func typeOnlySchemaExportHasEmptyNameAndNullableFlag() throws {
        let box = CSchemaBox()
        ArrowDataType.date32.exportSchema(to: box.pointer)
        #expect(String(cString: box.pointer.pointee.name) == "")
        #expect(box.pointer.pointee.flags == CArrowFlagNullable)
        #expect(try ArrowDataType(schema: box.pointer) == .date32)
    }

    @Test func dictionaryWithNonIntegerIndexFormatIsAnInvalidSchema() {
        let field = ArrowField(name: "d", type: .dictionary(index: .int32, value: .utf8, ordered: false))
        let box = CSchemaBox()
        field.exportSchema(to: box.pointer)
        let saved = box.pointer.pointee.format
        "g".withCString { bad in
            box.pointer.pointee.format = bad
            #expect(throws: ArrowError.self) { try ArrowField(schema: box.pointer) }
        }
        box.pointer.pointee.format = saved
    }

    @Test func releasedSchemaIsRejected() {
        let box = CSchemaBox()
        #expect(throws: ArrowError.invalidSchema("the schema has already been released")) {
            try ArrowDataType(schema: box.pointer)
        }
    }
}
