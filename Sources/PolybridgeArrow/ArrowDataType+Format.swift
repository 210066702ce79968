extension ArrowDataType {
    /// The Arrow C Data Interface format string ("g", "tsu:UTC", "+s"; a dictionary gives its index format).
    public var format: String {
        switch self {
        case .null: return "n"
        case .float16: return "e"
        case .float32: return "f"
        case .float64: return "g"
        case .int8: return "c"
        case .int16: return "s"
        case .int32: return "i"
        case .int64: return "l"
        case .uint8: return "C"
        case .uint16: return "S"
        case .uint32: return "I"
        case .uint64: return "L"
        case .bool: return "b"
        case .utf8: return "u"
        case .largeUtf8: return "U"
        case .utf8View: return "vu"
        case .date32: return "tdD"
        case .date64: return "tdm"
        case let .decimal(precision, scale, bitWidth):
            return bitWidth == 128 ? "d:\(precision),\(scale)" : "d:\(precision),\(scale),\(bitWidth)"
        case let .timestamp(unit, timezone):
            return "ts\(unit.formatLetter):\(timezone ?? "")"
        case let .dictionary(index, _, _):
            return index.format
        case .structType:
            return "+s"
        case let .unsupported(format):
            return format
        }
    }

    /// Parses a single format string; nested information (struct children, dictionaries) is not in it.
    ///
    /// "+s" yields a struct with no fields (use ``init(schema:)`` for the children),
    /// a naive timestamp "tsu:" yields a nil timezone, and every format this
    /// library does not handle, including malformed ones, yields ``unsupported(format:)``.
    public init(format: String) {
        switch format {
        case "n": self = .null
        case "e": self = .float16
        case "f": self = .float32
        case "g": self = .float64
        case "c": self = .int8
        case "s": self = .int16
        case "i": self = .int32
        case "l": self = .int64
        case "C": self = .uint8
        case "S": self = .uint16
        case "I": self = .uint32
        case "L": self = .uint64
        case "b": self = .bool
        case "u": self = .utf8
        case "U": self = .largeUtf8
        case "vu": self = .utf8View
        case "tdD": self = .date32
        case "tdm": self = .date64
        case "+s": self = .structType([])
        default:
            self = ArrowDataType.parseTimestamp(format) ?? ArrowDataType.parseDecimal(format) ?? .unsupported(format: format)
        }
    }

    /// "d:precision,scale[,bitWidth]" with a bit width of 32, 64, 128 (the default) or 256.
    private static func parseDecimal(_ format: String) -> ArrowDataType? {
        guard format.hasPrefix("d:") else { return nil }
        let numbers = format.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        guard numbers.count == 2 || numbers.count == 3, let precision = numbers[0], let scale = numbers[1],
              precision >= 1, precision <= 76 else { return nil }
        let bitWidth = numbers.count == 3 ? numbers[2] : 128
        guard let bitWidth, [32, 64, 128, 256].contains(bitWidth) else { return nil }
        return .decimal(precision: precision, scale: scale, bitWidth: bitWidth)
    }

    private static func parseTimestamp(_ format: String) -> ArrowDataType? {
        let utf8 = Array(format.utf8)
        // "ts" + unit letter + ":" + optional timezone.
        guard utf8.count >= 4, utf8[0] == UInt8(ascii: "t"), utf8[1] == UInt8(ascii: "s"),
              utf8[3] == UInt8(ascii: ":"),
              let unit = ArrowTimeUnit(formatLetter: Character(Unicode.Scalar(utf8[2])))
        else { return nil }
        let zone = String(decoding: utf8[4...], as: UTF8.self)
        return .timestamp(unit: unit, timezone: zone.isEmpty ? nil : zone)
    }

    /// A short human name for the kind of Arrow type a format string denotes (e.g. "decimal" for "d:10,2").
    public static func kindName(ofFormat format: String) -> String {
        let exact: [String: String] = [
            "n": "null", "b": "bool", "c": "int8", "C": "uint8", "s": "int16", "S": "uint16",
            "i": "int32", "I": "uint32", "l": "int64", "L": "uint64", "e": "float16",
            "f": "float32", "g": "float64", "z": "binary", "Z": "large binary", "vz": "binary view",
            "u": "utf8", "U": "large utf8", "vu": "utf8 view", "tdD": "date32", "tdm": "date64",
            "tts": "time32", "ttm": "time32", "ttu": "time64", "ttn": "time64",
            "tDs": "duration", "tDm": "duration", "tDu": "duration", "tDn": "duration",
            "tiM": "interval", "tiD": "interval", "tin": "interval",
            "+l": "list", "+L": "large list", "+vl": "list view", "+vL": "large list view",
            "+s": "struct", "+m": "map", "+r": "run-end encoded",
        ]
        if let name = exact[format] { return name }
        let prefixes: [(String, String)] = [
            ("d:", "decimal"), ("w:", "fixed-size binary"), ("+w:", "fixed-size list"),
            ("+ud:", "dense union"), ("+us:", "sparse union"), ("ts", "timestamp"),
        ]
        for (prefix, name) in prefixes where format.hasPrefix(prefix) { return name }
        return "unknown format"
    }
}
