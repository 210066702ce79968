/// Why a file could not be inspected or converted; every case names the file.
public enum DataFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The format could not be told from the name, or `--from`/`--to` named no format.
    case unknownFormat(file: String, detail: String)
    /// The input does not exist, is a directory, or cannot be opened.
    case unreadable(file: String, detail: String)
    /// The file's contents are malformed: a bad CSV row, a truncated Parquet footer, invalid UTF-8…
    case invalidContents(file: String, detail: String)
    /// A column holds a type Polybridge does not convert (list, struct, decimal, binary…).
    case unsupportedColumn(file: String, column: String, type: String)
    /// Several columns hold types Polybridge does not convert; every one is named.
    case unsupportedColumns(file: String, columns: [String], types: [String])
    /// Two columns share a name.
    case duplicateColumn(file: String, column: String)
    /// An RDS file holds something other than a data frame.
    case notADataFrame(file: String, found: String)
    /// The output could not be written (missing directory, disk full, …); nothing was left behind.
    case unwritable(file: String, detail: String)
    /// The embedded Python lacks a module the file's format needs (pyarrow); `interpreter` is
    /// the Python Polybridge started.
    case pythonModuleMissing(file: String, module: String, interpreter: String)

    /// The file the problem is in.
    public var file: String {
        switch self {
        case .unknownFormat(let file, _), .unreadable(let file, _), .invalidContents(let file, _),
             .unsupportedColumn(let file, _, _), .unsupportedColumns(let file, _, _), .duplicateColumn(let file, _), .notADataFrame(let file, _),
             .unwritable(let file, _), .pythonModuleMissing(let file, _, _):
            return file
        }
    }

    private static let convertible = "(it converts numbers, decimals that fit a double, logicals, strings, factors/dictionaries, dates and timestamps; between CSV, Feather and Parquet every type passes through)"

    /// A message for the person at the terminal: the file, then the problem.
    public var description: String {
        switch self {
        case .unknownFormat(let file, let detail):
            return "\(file): cannot tell the file format: \(detail)"
        case .unreadable(let file, let detail):
            return "\(file): cannot read: \(detail)"
        case .invalidContents(let file, let detail):
            return "\(file): \(detail)"
        case .unsupportedColumn(let file, let column, let type):
            return "\(file): column '\(column)' has type \(type), which Polybridge does not convert to R \(DataFileError.convertible)"
        case .unsupportedColumns(let file, let columns, let types):
            let list = zip(columns, types).map { "'\($0)' (\($1))" }.joined(separator: ", ")
            return "\(file): columns \(list) have types Polybridge does not convert to R \(DataFileError.convertible)"
        case .duplicateColumn(let file, let column):
            return "\(file): column '\(column)': the name appears more than once; column names must be unique"
        case .notADataFrame(let file, let found):
            return "\(file): the RDS file holds \(found), not a data.frame"
        case .unwritable(let file, let detail):
            return "\(file): cannot write: \(detail)"
        case .pythonModuleMissing(let file, let module, let interpreter):
            return "\(file): the Python at \(interpreter) has no module \(module) (ModuleNotFoundError), which reading and writing this format needs; run `polybridge doctor` for the command that installs it, or point POLYBRIDGE_PYTHON at a Python that has it"
        }
    }
}
