import Foundation

/// Request bodies parsed as JSON (RFC 8259) straight from their bytes: numbers, text, logicals,
/// null, lists and objects. A body that is not JSON is a 400 saying where it stops being JSON.
struct JSONReader {
    private let bytes: UnsafeRawBufferPointer
    private var at = 0
    /// Lists and objects nested deeper than this are refused (no stack is spent on them).
    static let maxDepth = 256

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The whole body as one value.
    static func parse(_ body: UnsafeRawBufferPointer) throws -> JSONItem {
        var reader = JSONReader(body)
        reader.skipByteOrderMark()
        let value = try reader.value(depth: 0)
        try reader.end()
        return value
    }

    /// The most different keys a body of records may have.
    static let maxKeys = 10_000

    /// A body of records (a list of objects) as columns: each key's values in record order,
    /// null where a record lacks the key, the keys in order of first appearance. A record that
    /// is not an object, or more than ``maxKeys`` different keys, is a 400 naming it.
    static func records(_ body: UnsafeRawBufferPointer) throws -> (names: [String], columns: [[JSONItem]]) {
        var reader = JSONReader(body)
        reader.skipByteOrderMark()
        reader.skipSpace()
        guard reader.peek == UInt8(ascii: "[") else {
            // Parsed only to tell a body that is not JSON from JSON of another shape.
            _ = try parse(body)
            throw RequestProblem.bad("the body is not a JSON list of records")
        }
        var names: [String] = [], columns: [[JSONItem]] = [], rows = 0
        var index: [String: Int] = [:]
        try reader.sequence(UInt8(ascii: "["), UInt8(ascii: "]")) { reader in
            reader.skipSpace()
            guard reader.peek == UInt8(ascii: "{") else {
                // Not an object: parsed only to tell a malformed body from a record of another kind.
                _ = try reader.value(depth: 1)
                throw RequestProblem.bad("record \(rows + 1) is not an object")
            }
            try reader.sequence(UInt8(ascii: "{"), UInt8(ascii: "}")) { reader in
                let (key, value) = try reader.member(depth: 2)
                let column: Int
                if let known = index[key] {
                    column = known
                    // A key given twice in one record: the last value counts.
                    if columns[column].count > rows { columns[column].removeLast() }
                } else {
                    guard names.count < maxKeys else {
                        throw RequestProblem.bad("the records have more than \(maxKeys) different keys (record \(rows + 1))")
                    }
                    column = names.count
                    index[key] = column
                    names.append(key)
                    columns.append([JSONItem](repeating: .null, count: rows))
                }
                columns[column].append(value)
            }
            rows += 1
            for index in columns.indices where columns[index].count < rows { columns[index].append(.null) }
        }
        try reader.end()
        return (names, columns)
    }

    private var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

    /// A UTF-8 byte order mark at the start is ignored (RFC 8259 §8.1 allows it).
    private mutating func skipByteOrderMark() {
        if at == 0, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { at = 3 }
    }

    private func failure(_ what: String) -> RequestProblem {
        RequestProblem.bad("the body is not JSON: \(what) at byte \(at + 1)")
    }

    private mutating func skipSpace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8) throws {
        skipSpace()
        guard peek == byte else { throw failure(peek == nil ? "it ends early" : "expected '\(Character(Unicode.Scalar(byte)))'") }
        at += 1
    }

    /// A list's elements or an object's members: `open`, then each read by `element` with
    /// commas between, then `close`.
    private mutating func sequence(_ open: UInt8, _ close: UInt8, _ element: (inout JSONReader) throws -> Void) throws {
        try expect(open)
        skipSpace()
        if peek == close { at += 1; return }
        while true {
            try element(&self)
            skipSpace()
            if peek == UInt8(ascii: ",") { at += 1; continue }
            try expect(close)
            return
        }
    }

    /// An object's member: its key, a colon and its value.
    private mutating func member(depth: Int) throws -> (String, JSONItem) {
        skipSpace()
        let key = try string()
        try expect(UInt8(ascii: ":"))
        return (key, try value(depth: depth))
    }

    private mutating func end() throws {
        skipSpace()
        guard at == bytes.count else { throw failure("more follows the value") }
    }

    private mutating func value(depth: Int) throws -> JSONItem {
        skipSpace()
        guard let byte = peek else { throw failure("it ends early") }
        switch byte {
        case UInt8(ascii: "\""): return .text(try string())
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { throw failure("lists nested too deep") }
            var items: [JSONItem] = []
            try sequence(UInt8(ascii: "["), UInt8(ascii: "]")) { items.append(try $0.value(depth: depth + 1)) }
            return .list(items)
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { throw failure("objects nested too deep") }
            var object: [String: JSONItem] = [:]
            try sequence(UInt8(ascii: "{"), UInt8(ascii: "}")) { reader in
                let (key, value) = try reader.member(depth: depth + 1)
                object[key] = value
            }
            return .object(object)
        case UInt8(ascii: "t"): try word("true"); return .bool(true)
        case UInt8(ascii: "f"): try word("false"); return .bool(false)
        case UInt8(ascii: "n"): try word("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure("unexpected '\(Character(Unicode.Scalar(byte)))'")
        }
    }

    private mutating func word(_ text: StaticString) throws {
        let count = text.utf8CodeUnitCount
        guard at + count <= bytes.count else { throw failure("it ends early") }
        for index in 0..<count where bytes[at + index] != text.utf8Start[index] { throw failure("expected \(text)") }
        at += count
    }

    /// Powers of ten that are exact doubles.
    private static let exactPowers: [Double] = (0...22).map { pow(10, Double($0)) }

    /// A number, as the nearest double (as R and Python read the text).
    private mutating func number() throws -> Double {
        let start = at
        var negative = false
        if peek == UInt8(ascii: "-") { negative = true; at += 1 }
        var mantissa: UInt64 = 0, digits = 0, fractionDigits = 0
        guard let first = peek, first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") else { throw failure("a number without digits") }
        if first == UInt8(ascii: "0") {
            at += 1
        } else {
            while let byte = peek, byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(byte - UInt8(ascii: "0")) }
                digits += 1
                at += 1
            }
        }
        var simple = digits <= 19
        if peek == UInt8(ascii: ".") {
            at += 1
            var any = false
            while let byte = peek, byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(byte - UInt8(ascii: "0")); fractionDigits += 1 } else { simple = false }
                if mantissa > 0 || byte != UInt8(ascii: "0") { digits += 1 }
                any = true
                at += 1
            }
            guard any else { throw failure("a number with no digits after '.'") }
        }
        if let byte = peek, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            simple = false
            at += 1
            if let sign = peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { at += 1 }
            var any = false
            while let byte = peek, byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") { any = true; at += 1 }
            guard any else { throw failure("a number with no exponent digits") }
        }
        // Clinger's fast path: an integer below 2^53 over an exact power of ten is one correctly
        // rounded division. Anything else goes to strtod.
        if simple && mantissa < (1 << 53) && fractionDigits <= 22 {
            let value = Double(mantissa) / Self.exactPowers[fractionDigits]
            return negative ? -value : value
        }
        // Swift's reading of the text: correctly rounded, whatever the C locale.
        guard let value = Double(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)), value.isFinite else {
            throw failure("a number beyond the range of a double")
        }
        return value
    }

    /// A string (the position is at its opening quote): escapes resolved, UTF-8 checked.
    private mutating func string() throws -> String {
        guard peek == UInt8(ascii: "\"") else { throw failure(peek == nil ? "it ends early" : "expected a string") }
        at += 1
        let start = at
        // The common case: no escapes, straight from the bytes.
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
                at += 1
                guard let text else { throw failure("text that is not UTF-8") }
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            at += 1
        }
        var out = Array(bytes[start..<at])
        while true {
            guard at < bytes.count else { throw failure("a string that does not end") }
            let byte = bytes[at]
            at += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: out, as: UTF8.self) else { throw failure("text that is not UTF-8") }
                return text
            case 0..<0x20: throw failure("a control character in a string")
            case UInt8(ascii: "\\"):
                guard at < bytes.count else { throw failure("a string that does not end") }
                let escape = bytes[at]
                at += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A surrogate pair.
                        guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                            throw failure("a lone surrogate in a \\u escape")
                        }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("a lone surrogate in a \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let value = Unicode.Scalar(scalar) else { throw failure("a lone surrogate in a \\u escape") }
                    out.append(contentsOf: Array(String(Character(value)).utf8))
                default: throw failure("an unknown escape")
                }
            default: out.append(byte)
            }
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard at + 4 <= bytes.count else { throw failure("a short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[at]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("a \\u escape that is not hexadecimal")
            }
            value = value * 16 + digit
            at += 1
        }
        return value
    }
}

/// Answers written as JSON bytes: predictions as numbers in their shortest exact form (R reads
/// back the same double), NaN and missing values as null.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A string, quoted and escaped.
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A number, or null when it is missing or not finite.
    mutating func number(_ value: Double?) {
        guard let value, value.isFinite else { raw("null"); return }
        bytes.append(contentsOf: value.description.utf8)
    }

    mutating func integer(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A list of numbers.
    mutating func numbers(_ values: [Double?]) {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            number(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}
