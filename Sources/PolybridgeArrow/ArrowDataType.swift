/// The logical type of an Arrow array, covering the types this library reads and builds.
///
/// Everything else is kept as ``unsupported(format:)`` so that errors can name
/// the exact Arrow format string.
public indirect enum ArrowDataType: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Every element is null; the array has no buffers (format "n"). CSV readers give it to a
    /// column that is empty in every row.
    case null
    /// 16-bit IEEE float (format "e").
    case float16
    /// 32-bit IEEE float (format "f").
    case float32
    /// 64-bit IEEE float (format "g").
    case float64
    /// Signed 8-bit integer (format "c"); mainly used as dictionary indices.
    case int8
    /// Signed 16-bit integer (format "s"); mainly used as dictionary indices.
    case int16
    /// Signed 32-bit integer (format "i").
    case int32
    /// Signed 64-bit integer (format "l").
    case int64
    /// Unsigned 8-bit integer (format "C"); mainly used as dictionary indices.
    case uint8
    /// Unsigned 16-bit integer (format "S"); mainly used as dictionary indices.
    case uint16
    /// Unsigned 32-bit integer (format "I"); mainly used as dictionary indices.
    case uint32
    /// Unsigned 64-bit integer (format "L"); mainly used as dictionary indices.
    case uint64
    /// Bit-packed boolean (format "b").
    case bool
    /// UTF-8 string with 32-bit offsets (format "u").
    case utf8
    /// UTF-8 string with 64-bit offsets (format "U").
    case largeUtf8
    /// UTF-8 string view with 16-byte views and variadic data buffers (format "vu").
    case utf8View
    /// Days since the UNIX epoch as a 32-bit integer (format "tdD").
    case date32
    /// Milliseconds since the UNIX epoch as a 64-bit integer (format "tdm").
    case date64
    /// A decimal of `precision` digits, `scale` of them after the point, stored as a two's
    /// complement integer of `bitWidth` bits (32, 64, 128 or 256; format "d:p,s[,bits]").
    case decimal(precision: Int, scale: Int, bitWidth: Int)
    /// A 64-bit count of `unit`s since the UNIX epoch; a nil `timezone` means naive local time (format "ts?:tz").
    case timestamp(unit: ArrowTimeUnit, timezone: String?)
    /// Dictionary-encoded values: integer `index` codes into a dictionary array of type `value`.
    case dictionary(index: ArrowDataType, value: ArrowDataType, ordered: Bool)
    /// A struct whose children are the given fields (format "+s"); record batches have this type.
    case structType([ArrowField])
    /// Any Arrow type this library does not handle, kept by its format string.
    case unsupported(format: String)

    /// A readable name such as "float64", "timestamp[us, tz=UTC]" or "dictionary<values=utf8, indices=int32, ordered>".
    public var description: String {
        switch self {
        case .null: return "null"
        case .float16: return "float16"
        case .float32: return "float32"
        case .float64: return "float64"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        case .uint16: return "uint16"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .bool: return "bool"
        case .utf8: return "utf8"
        case .largeUtf8: return "large_utf8"
        case .utf8View: return "utf8_view"
        case .date32: return "date32"
        case .date64: return "date64"
        case let .decimal(precision, scale, bitWidth): return "decimal\(bitWidth)(\(precision), \(scale))"
        case let .timestamp(unit, timezone):
            if let timezone { return "timestamp[\(unit), tz=\(timezone)]" }
            return "timestamp[\(unit)]"
        case let .dictionary(index, value, ordered):
            return "dictionary<values=\(value), indices=\(index)\(ordered ? ", ordered" : "")>"
        case let .structType(fields):
            let inner = fields.map { "\($0.name): \($0.type)" }.joined(separator: ", ")
            return "struct<\(inner)>"
        case let .unsupported(format):
            return "unsupported Arrow type '\(format)' (\(ArrowDataType.kindName(ofFormat: format)))"
        }
    }

    /// The byte width of one value for fixed-width primitive types, or nil (bool is bit-packed, so nil).
    public var fixedByteWidth: Int? {
        switch self {
        case .int8, .uint8: 1
        case .int16, .uint16, .float16: 2
        case .int32, .uint32, .date32, .float32: 4
        case .float64, .int64, .uint64, .timestamp, .date64: 8
        case let .decimal(_, _, bitWidth): bitWidth / 8
        default: nil
        }
    }

    /// True for the signed and unsigned integer types that may serve as dictionary indices.
    public var isInteger: Bool {
        switch self {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: true
        default: false
        }
    }

    /// True for the string types (utf8, largeUtf8, utf8View).
    public var isString: Bool {
        switch self {
        case .utf8, .largeUtf8, .utf8View: true
        default: false
        }
    }

    /// The format string of the first unsupported type found in this type or any nested type, or nil.
    public var firstUnsupportedFormat: String? {
        switch self {
        case let .unsupported(format):
            return format
        case let .dictionary(index, value, _):
            return index.firstUnsupportedFormat ?? value.firstUnsupportedFormat
        case let .structType(fields):
            for field in fields {
                if let format = field.type.firstUnsupportedFormat { return format }
            }
            return nil
        default:
            return nil
        }
    }

    /// Throws ``ArrowError/unsupportedType(column:format:)`` naming `column` (or the nested field) if any part is unsupported.
    func checkSupported(column: String?) throws(ArrowError) {
        switch self {
        case let .unsupported(format):
            throw .unsupportedType(column: column, format: format)
        case let .dictionary(index, value, _):
            try index.checkSupported(column: column)
            try value.checkSupported(column: column)
            if !index.isInteger {
                throw .invalidSchema("\(column.map { "column '\($0)': " } ?? "")dictionary indices must be an integer type, not \(index)")
            }
        case let .structType(fields):
            for field in fields {
                let name = column.map { "\($0).\(field.name)" } ?? field.name
                try field.type.checkSupported(column: name)
            }
        default:
            break
        }
    }
}
