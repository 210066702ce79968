import Foundation
@testable import PolybridgeServe
import PolybridgeTestSupport
import Testing

/// The server's JSON reader and writer, against Swift's own reading of numbers and Foundation's
/// JSONSerialization.
@Suite struct JSONBodyTests {
    func parse(_ text: String) throws -> JSONItem {
        try Data(text.utf8).withUnsafeBytes { try JSONReader.parse($0) }
    }

    /// Every number reads as `Double(String)` reads its text, in every form a client writes.
    @Test func numbersAreReadExactly() throws {
        var generator = SystemRandomNumberGenerator()
        var texts: [String] = ["0", "-0", "1", "-1", "0.1", "1e-05", "1E+300", "2.5e-320", "9007199254740993", "123456789012345678901234",
                               "0.30000000000000004", "1.7976931348623157e308", "4.9e-324", "-12.5e3", "0.000001234", "100000000000000000000.5"]
        for _ in 0..<3000 {
            let value = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator))
            guard value.isFinite else { continue }
            let small = Double.random(in: -1e6...1e6, using: &generator)
            texts += [value.description, String(format: "%.17g", value), String(format: "%.3f", small), String(format: "%.12e", small),
                      String(format: "%.15g", small), String(Int64(small))]
        }
        texts = texts.map { $0.replacingOccurrences(of: "+", with: $0.contains("e") || $0.contains("E") ? "+" : "") }
        let body = "[" + texts.joined(separator: ",") + "]"
        guard case .list(let items) = try parse(body) else { Issue.record("not a list"); return }
        #expect(items.count == texts.count)
        for (item, text) in zip(items, texts) {
            guard case .number(let value) = item else { Issue.record("\(text) is not a number"); continue }
            #expect(value.bitPattern == Double(text)!.bitPattern, "\(text)")
        }
    }

    /// Strings, escapes, objects and literals read as JSONSerialization reads them.
    @Test func textAndStructureAreJSONSerializations() throws {
        let cases = [#""plain""#, #""üñíçødé 数据 🎉""#, #""a\"b\\c\/d\b\f\n\r\t""#, #""\u00e9\u4e2d\ud83c\udf89""#, "\"\"",
                     #"{"a": [1, true, false, null, "x"], "b": {}, "c": []}"#, " [ ] ", "true", "null"]
        for text in cases {
            let mine = try parse(text)
            let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            #expect(same(mine, theirs), "\(text)")
        }
    }

    func same(_ item: JSONItem, _ value: Any) -> Bool {
        switch item {
        case .null: return value is NSNull
        case .bool(let flag): return (value as? NSNumber).map { String(cString: $0.objCType) == "c" && $0.boolValue == flag } ?? false
        case .number(let number): return (value as? NSNumber)?.doubleValue == number
        case .text(let text): return value as? String == text
        case .list(let items):
            guard let list = value as? [Any], list.count == items.count else { return false }
            return zip(items, list).allSatisfy { same($0, $1) }
        case .object(let object):
            guard let dictionary = value as? [String: Any], Set(dictionary.keys) == Set(object.keys) else { return false }
            return object.allSatisfy { same($0.value, dictionary[$0.key]!) }
        }
    }

    /// What is not JSON (as Python's json module, strict about NaN and Infinity, also finds) is
    /// refused with a message saying where, never a crash; so is nesting deeper than 256.
    @Test func whatIsNotJSONIsRefused() async throws {
        let bad = ["", "{not json", "[1,]", "[01]", "[1.]", "[.5]", "[1e]", "[-]", "[+1]", "{\"a\" 1}", "{\"a\": 1,}", "[1] 2", "\"open",
                   "\"tab\there\"", "\"\\x\"", "\"\\u12\"", "[NaN]", "[Infinity]", "tru", "nul", "[1 2]", "{1: 2}"]
        for text in bad {
            #expect(throws: RequestProblem.self, "\(text.prefix(30))") { try parse(text) }
        }
        let python = try await runCommand("python3", ["-c", """
            import json, sys
            def refuse(name):
                raise ValueError(name)
            for text in json.loads(sys.argv[1]):
                try:
                    json.loads(text, parse_constant=refuse)
                    print("accepted", repr(text))
                except ValueError:
                    pass
            """, String(decoding: try JSONSerialization.data(withJSONObject: bad), as: UTF8.self)])
        #expect(python.status == 0 && python.output.isEmpty, "\(python.output) \(python.error)")
        for deep in [String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
                     "{\"a\":" + String(repeating: "{\"a\":", count: 300) + "1" + String(repeating: "}", count: 301)] {
            let problem = try #require(throws: RequestProblem.self) { try parse(deep) }
            #expect(problem.message.contains("nested too deep"))
        }
        // Bytes that are not UTF-8 inside a string.
        var invalid = Data("[\"".utf8)
        invalid.append(contentsOf: [0xC3, 0x28])
        invalid.append(contentsOf: Data("\"]".utf8))
        #expect(throws: RequestProblem.self) { try invalid.withUnsafeBytes { try JSONReader.parse($0) } }
        let problem = try #require(throws: RequestProblem.self) { try parse("[1, 2,, 3]") }
        #expect(problem.message == "the body is not JSON: unexpected ',' at byte 7")
        let huge = try #require(throws: RequestProblem.self) { try parse("[1e400]") }
        #expect(huge.message.contains("a number beyond the range of a double"))
        // A byte order mark is allowed before the value.
        #expect(throws: Never.self) { try parse("\u{FEFF}[1]") }
        // Records with a new key each: refused past 10,000 keys, not padded into memory.
        let keys = "[" + (0...JSONReader.maxKeys).map { "{\"k\($0)\": 1}" }.joined(separator: ",") + "]"
        let many = try #require(throws: RequestProblem.self) { try Data(keys.utf8).withUnsafeBytes { try JSONReader.records($0) } }
        #expect(many.message.contains("more than 10000 different keys"))
    }

    /// Records become columns in order of first appearance, null where a record lacks a key.
    @Test func recordsBecomeColumns() throws {
        let body = #"[{"wt": 2.5, "cyl": 6}, {"cyl": 8, "name": "x"}, {}, {"wt": 1, "wt": 3}]"#
        let (names, columns) = try Data(body.utf8).withUnsafeBytes { try JSONReader.records($0) }
        #expect(names == ["wt", "cyl", "name"])
        #expect(columns.count == 3 && columns.allSatisfy { $0.count == 4 })
        guard columns.count == 3 else { return }
        #expect(columns[0].map(describe) == ["2.5", "null", "null", "3.0"])
        #expect(columns[1].map(describe) == ["6.0", "8.0", "null", "null"])
        #expect(columns[2].map(describe) == ["null", "x", "null", "null"])
        for (text, message) in [("[1]", "record 1 is not an object"), ("{}", "the body is not a JSON list of records"), ("[{}, [", "the body is not JSON")] {
            let problem = try #require(throws: RequestProblem.self) { try Data(text.utf8).withUnsafeBytes { try JSONReader.records($0) } }
            #expect(problem.message.contains(message), "\(text): \(problem.message)")
        }
    }

    func describe(_ item: JSONItem) -> String {
        switch item {
        case .null: "null"
        case .number(let value): "\(value)"
        case .text(let text): text
        default: "?"
        }
    }

    /// The writer's numbers read back as the same doubles (by Python's json module), missing
    /// and non-finite ones as null, and its strings escaped.
    @Test func writtenAnswersReadBack() async throws {
        var generator = SystemRandomNumberGenerator()
        var values: [Double?] = [nil, .nan, .infinity, 0, -0.0, 1e-300, 5e-324, 1.7976931348623157e308, 1e22, 123456789012345680000]
        for _ in 0..<2000 {
            let value = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator))
            values.append(value.isFinite ? value : nil)
        }
        var writer = JSONWriter()
        writer.raw("{\"name\":")
        writer.string("quote \" backslash \\ newline \n tab \t bell \u{07} ü")
        writer.raw(",\"values\":")
        writer.numbers(values)
        writer.raw("}")
        let path = try scratchDirectory() + "/written.json"
        try Data(writer.bytes).write(to: URL(fileURLWithPath: path))
        let python = try await runCommand("python3", ["-c", """
            import json, struct, sys
            with open(sys.argv[1], "rb") as f:
                out = json.load(f)
            print(json.dumps([out["name"], [None if v is None else struct.unpack("<q", struct.pack("<d", v))[0] for v in out["values"]]]))
            """, path])
        try #require(python.status == 0, "\(python.error)")
        let read = try #require(try JSONSerialization.jsonObject(with: Data(python.output.utf8)) as? [Any])
        #expect(read[0] as? String == "quote \" backslash \\ newline \n tab \t bell \u{07} ü")
        let bits = try #require(read[1] as? [Any])
        #expect(bits.count == values.count)
        for (given, value) in zip(bits, values) {
            if let value, value.isFinite {
                #expect((given as? NSNumber)?.int64Value == Int64(bitPattern: value.bitPattern), "\(value)")
            } else {
                #expect(given is NSNull)
            }
        }
    }
}
