import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeRuntime

/// A run of consecutive rows of an Arrow IPC file: where one group's rows are in a file that
/// ``DataFiles/writeGroups(_:by:to:keys:)`` wrote.
public struct FilePiece: Sendable, Codable, Equatable {
    /// The file.
    public var path: String
    /// Its first row, 0-based.
    public var start: Int
    /// How many rows.
    public var count: Int

    /// The `count` rows of `path` from row `start`.
    public init(path: String, start: Int, count: Int) {
        self.path = path
        self.start = start
        self.count = count
    }
}

/// Rows grouped by key columns, for fits per group on workers: a worker writes its rows group
/// by group, and another reads a set of groups back from every worker's file (pyarrow, with
/// the files memory-mapped).
extension DataFiles {
    /// Writes the rows of `table` to the Arrow IPC file `path`, each group of rows with equal
    /// `by` columns together (groups in their order of first appearance, rows in their order
    /// within a group), and the groups' keys to `keysPath`: the `by` columns, one row per group
    /// in the same order, then `__rows`, the group's row count. Rows whose key has a missing
    /// value (null, or NaN) are left out, as R's `split()` leaves them out. Both files are
    /// written under a temporary name and renamed into place. Returns the rows written and the
    /// rows left out.
    public static func writeGroups(_ table: ArrowTable, by: [String], to path: String,
                                   keys keysPath: String) throws(DataFileError) -> (rows: Int, leftOut: Int) {
        try fileErrors(path) {
            let counts = try pythonStep(file: path) {
                let python = try PythonRuntime.shared()
                let reader = try python.pyarrowReader(from: table)
                return try python.value(of: try pythonCall("write_groups", [reader, by, path, keysPath], file: path, module: try groups()))
            }
            guard case .list(let items) = counts, items.count == 2, case .int(let rows) = items[0], case .int(let leftOut) = items[1] else {
                throw DataFileError.invalidContents(file: path, detail: "the Python helper returned \(counts)")
            }
            return (Int(rows), Int(leftOut))
        }
    }

    /// The rows of `pieces`, in their order, as one table (of one record batch), whose rows
    /// are runs of `runs` rows, one group each; and the groups' keys, the `by` columns of each
    /// run's first row. A factor column's levels are the union of the files' levels.
    public static func readPieces(_ pieces: [FilePiece], runs: [Int], by: [String]) throws(DataFileError) -> (table: ArrowTable, keys: ArrowTable) {
        let file = pieces.first?.path ?? ""
        return try fileErrors(file) {
            let python = try PythonRuntime.shared()
            let both = try pythonCall("read_pieces", [try piecesJSON(pieces), by, try python.object(runs)], file: file, module: try groups())
            return try pythonStep(file: file) {
                let item = try python.attribute("__getitem__", of: both)
                return (try python.arrowTable(from: try python.call(item, [try python.object(0)])),
                        try python.arrowTable(from: try python.call(item, [try python.object(1)])))
            }
        }
    }

    /// Writes the rows of `pieces`, in their order, to the Arrow IPC file `path` in record
    /// batches of at most `batchRows` rows; returns the batches' row counts.
    public static func writePieces(_ pieces: [FilePiece], to path: String, batchRows: Int) throws(DataFileError) -> [Int] {
        try fileErrors(path) {
            let sizes = try pythonStep(file: path) {
                try PythonRuntime.shared().value(of: try pythonCall("write_pieces", [try piecesJSON(pieces), path, max(1, batchRows)], file: path,
                                                                    module: try groups()))
            }
            guard case .list(let items) = sizes else { throw DataFileError.invalidContents(file: path, detail: "the Python helper returned \(sizes)") }
            return try items.map { item -> Int in
                guard case .int(let count) = item else { throw DataFileError.invalidContents(file: path, detail: "batch size \(item)") }
                return Int(count)
            }
        }
    }

    private static func piecesJSON(_ pieces: [FilePiece]) throws -> String {
        let rows = pieces.map { [$0.path as Any, $0.start, $0.count] }
        return String(decoding: try JSONSerialization.data(withJSONObject: rows), as: UTF8.self)
    }

    private static func groups() throws -> PythonObject {
        try PythonRuntime.shared().helperModule(named: "_polybridge_groups", source: EmbeddedScripts.polybridgeGroupsPy)
    }
}
