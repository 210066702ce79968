import PolybridgeArrow
import PolybridgeRuntime

/// Why data could not move between R, Arrow and Python; always names the column involved.
public enum ConversionError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The R object is not a data frame (e.g. a list, a model, a vector); `found` is its class.
    case notADataFrame(found: String)
    /// A column's type has no Arrow (or R) counterpart.
    case unsupportedColumn(column: String, type: String)
    /// Two columns share a name.
    case duplicateColumn(String)
    /// An integer value (int64 or uint64, named by `type`) cannot be represented exactly as an
    /// R double; `value` is its decimal text, since a uint64 may not fit an Int64. `bit64` says
    /// whether R's bit64 package is installed, which the advice then names.
    case inexactInteger(column: String, row: Int, type: String, value: String, bit64: Bool = false)
    /// A column name holds a NUL byte, which Arrow's C interface (and an R name) cannot carry;
    /// `position` is 1-based.
    case nulInColumnName(position: Int, name: String)
    /// A string is not valid UTF-8.
    case invalidUTF8(column: String, detail: String)
    /// A Python object does not export Arrow data (`__arrow_c_stream__` / `__arrow_c_array__`).
    case notArrowExportable(type: String)
    /// A value the target cannot hold exactly (a date outside date32, a factor code outside its
    /// levels, …); `row` is 1-based. Never clamped, wrapped or turned into NA.
    case invalidValue(column: String, row: Int?, detail: String)
    /// A data.frame R itself would not make: columns without names, for instance.
    case malformedDataFrame(String)
    /// More rows than an R data.frame can have (2^31 − 1).
    case tooManyRows(Int)
    /// An Arrow-level problem (invalid layout, stream error, …).
    case arrow(ArrowError)

    /// The error for element `row` (1-based) of `column` that is not valid UTF-8 or holds a NUL.
    static func invalidString(column: String, row: Int) -> ConversionError {
        .invalidUTF8(column: column, detail: "row \(row) holds a string that is not valid UTF-8 (or contains a NUL byte)")
    }

    /// A message for the person at the terminal.
    public var description: String {
        switch self {
        case .notADataFrame(let found):
            return "expected an R data.frame, found an object of class \(found)"
        case .unsupportedColumn(let column, let type):
            return "column '\(column)': unsupported type \(type)"
        case .duplicateColumn(let name):
            return "column '\(name)': the name appears more than once; column names must be unique"
        case .inexactInteger(let column, let row, let type, let value, let bit64):
            return "column '\(column)': \(type) value \(value) at row \(row) cannot be represented exactly as an R double (|value| > 2^53); "
                + "keep the column as text with --column-types \(column)=string (a CSV input; the params column_types of a pipeline's read step)"
                + (bit64 ? ", then bit64::as.integer64() in R makes exact 64-bit integers of it" : "")
        case .nulInColumnName(let position, let name):
            return "column \(position) ('\(name.replacingOccurrences(of: "\u{0}", with: "\\0"))'): the name holds a NUL byte, which Arrow's C interface and R names cannot carry (it would arrive cut short at the NUL); rename the column"
        case .invalidUTF8(let column, let detail):
            return "column '\(column)': \(detail)"
        case .notArrowExportable(let type):
            return "a Python \(type) does not export Arrow data (no __arrow_c_stream__ or __arrow_c_array__)"
        case .invalidValue(let column, let row, let detail):
            return "column '\(column)'" + (row.map { ", row \($0)" } ?? "") + ": \(detail)"
        case .malformedDataFrame(let detail):
            return "a malformed data.frame: \(detail)"
        case .tooManyRows(let count):
            return "\(count) rows do not fit in an R data.frame (at most 2147483647 rows)"
        case .arrow(let error):
            return error.description
        }
    }
}
