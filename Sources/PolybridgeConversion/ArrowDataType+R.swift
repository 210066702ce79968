import PolybridgeArrow

extension ArrowDataType {
    /// The R type a column of this Arrow type becomes (as `vector(from:)` converts it), or nil
    /// when Polybridge does not convert it.
    public var rTypeName: String? {
        switch self {
        case .float64, .float32, .float16: "double"
        case .null: "logical (all NA)"
        case .decimal: "double (up to 15 significant digits)"
        case .date64: "Date"
        case .int8, .int16, .int32, .uint8, .uint16: "integer"
        case .int64, .uint32, .uint64: "double (exact integers only)"
        case .bool: "logical"
        case .utf8, .largeUtf8, .utf8View: "character"
        case .dictionary(_, let value, let ordered) where value.isString: ordered ? "ordered factor" : "factor"
        case .date32: "Date"
        case .timestamp(_, let timezone?): "POSIXct (tz \(timezone))"
        case .timestamp(_, nil): "POSIXct (local time)"
        default: nil
        }
    }
}
