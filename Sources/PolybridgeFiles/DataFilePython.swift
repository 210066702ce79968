import PolybridgeRuntime

/// The Python side of file conversion: pyarrow's CSV, Feather (Arrow IPC) and Parquet readers
/// and writers, driven batch by batch so large files stay bounded in memory.
///
/// Problems found in a file are raised as `FileProblem` with a message that names the column or
/// line; Swift prefixes the file name.
enum DataFilePython {
    static let moduleName = "_polybridge_files"

    static let source = EmbeddedScripts.polybridgeFilesPy
}
