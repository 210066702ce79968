import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeRuntime

/// Arrow IPC streams (`application/vnd.apache.arrow.stream`): the format of a batch of rows in
/// an HTTP body, read and written by pyarrow through a file.
extension DataFiles {
    /// The table in the Arrow IPC stream file at `path`; anything else is an error naming it.
    public static func readStream(_ path: String) throws(DataFileError) -> ArrowTable {
        try fileErrors(path) {
            let table = try pythonCall("read_stream", [path], file: path)
            return try pythonStep(file: path) { try PythonRuntime.shared().arrowTable(from: table) }
        }
    }

    /// Writes `table` to `path` as an Arrow IPC stream.
    public static func writeStream(_ table: ArrowTable, to path: String) throws(DataFileError) {
        try fileErrors(path) {
            try pythonStep(file: path) {
                let reader = try PythonRuntime.shared().pyarrowReader(from: table)
                _ = try pythonCall("write_stream", [reader, path], file: path)
            }
        }
    }
}
