/// The errors raised while reading, building, importing or exporting Arrow data.
///
/// Every message is meant for a person at a terminal: it names the column when
/// one is known and says what was expected.
public enum ArrowError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A type this library cannot read or build (the format string is kept).
    case unsupportedType(column: String?, format: String)
    /// A C `ArrowSchema` that breaks the C Data Interface rules.
    case invalidSchema(String)
    /// An array whose layout (buffers, children, lengths) is not valid for its type.
    case invalidArray(column: String?, reason: String)
    /// A column whose length differs from the table's row count.
    case lengthMismatch(column: String, expected: Int, actual: Int)
    /// Two columns with the same name in one table.
    case duplicateColumn(String)
    /// A typed read or a table column whose Arrow type is not the one asked for.
    case typeMismatch(column: String?, expected: String, actual: ArrowDataType)
    /// A C stream callback failed; the text includes the producer's own message.
    case streamError(String)
    /// An index (dictionary code, batch number, slice bound) outside `0..<count`.
    case indexOutOfRange(what: String, index: Int, count: Int)

    /// A one-line human-readable explanation of the error.
    public var description: String {
        switch self {
        case let .unsupportedType(column, format):
            let type = ArrowDataType.unsupported(format: format)
            return Self.prefix(column) + "\(type) is not supported"
        case let .invalidSchema(reason):
            return "invalid Arrow schema: \(reason)"
        case let .invalidArray(column, reason):
            return Self.prefix(column) + "invalid Arrow array: \(reason)"
        case let .lengthMismatch(column, expected, actual):
            return "column '\(column)' has \(actual) row(s) but the table has \(expected)"
        case let .duplicateColumn(name):
            return "column '\(name)': the name appears more than once; column names must be unique"
        case let .typeMismatch(column, expected, actual):
            return Self.prefix(column) + "expected Arrow type \(expected) but found \(actual)"
        case let .streamError(reason):
            return "Arrow stream error: \(reason)"
        case let .indexOutOfRange(what, index, count):
            return "\(what) \(index) is out of range (valid: 0..<\(count))"
        }
    }

    /// Returns the same error attributed to `column` when it names no column yet.
    public func inColumn(_ column: String) -> ArrowError {
        switch self {
        case let .unsupportedType(nil, format):
            return .unsupportedType(column: column, format: format)
        case let .invalidArray(nil, reason):
            return .invalidArray(column: column, reason: reason)
        case let .typeMismatch(nil, expected, actual):
            return .typeMismatch(column: column, expected: expected, actual: actual)
        default:
            return self
        }
    }

    private static func prefix(_ column: String?) -> String {
        column.map { "column '\($0)': " } ?? ""
    }
}
