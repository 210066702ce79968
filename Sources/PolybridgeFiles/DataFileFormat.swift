/// A tabular file format that `polybridge convert` and `polybridge inspect` read and write.
public enum DataFileFormat: String, CaseIterable, Sendable, Codable {
    /// Comma-separated text with a header line (read and written by pyarrow).
    case csv
    /// Feather V2, i.e. the Arrow IPC file format, optionally LZ4/ZSTD-compressed (pyarrow).
    case feather
    /// Apache Parquet (pyarrow).
    case parquet
    /// R's serialized single object, holding a data.frame (R's `readRDS`/`saveRDS`).
    case rds

    /// The format a file's extension names, case-insensitively: `.csv`, `.feather`/`.arrow`/`.ipc`,
    /// `.parquet`/`.pq`, `.rds`.
    public init(path: String) throws(DataFileError) {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else {
            throw .unknownFormat(file: path, detail: "the file name has no extension; pass --from/--to (\(DataFileFormat.choices))")
        }
        let ext = String(name[name.index(after: dot)...])
        guard let format = DataFileFormat(name: ext) else {
            throw .unknownFormat(file: path, detail: "unknown extension '.\(ext)'; expected \(DataFileFormat.extensions) or pass --from/--to")
        }
        self = format
    }

    /// The format called `name` (a case name or an extension alias such as `arrow`), or nil.
    public init?(name: String) {
        switch name.lowercased() {
        case "csv": self = .csv
        case "feather", "arrow", "ipc": self = .feather
        case "parquet", "pq": self = .parquet
        case "rds": self = .rds
        default: return nil
        }
    }

    /// The name shown to people ("Parquet", "Feather (Arrow IPC)").
    public var displayName: String {
        switch self {
        case .csv: "CSV"
        case .feather: "Feather (Arrow IPC)"
        case .parquet: "Parquet"
        case .rds: "RDS"
        }
    }

    /// The format names accepted by `--from`/`--to`, for messages.
    public static var choices: String { allCases.map(\.rawValue).joined(separator: ", ") }

    static let extensions = ".csv, .feather, .arrow, .parquet, .rds"
}
