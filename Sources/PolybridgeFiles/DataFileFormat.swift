/// A tabular file format that `polybridge convert` and `polybridge inspect` read and write.
public enum DataFileFormat: String, CaseIterable, Sendable, Codable {
    /// Comma-separated text with a header line (read and written by pyarrow), optionally
    /// gzip/bzip2/zstd-compressed (`.csv.gz`, `.csv.bz2`, `.csv.zst`).
    case csv
    /// Tab-separated text with a header line: CSV split on tabs.
    case tsv
    /// Feather V2, i.e. the Arrow IPC file format, optionally LZ4/ZSTD-compressed (pyarrow);
    /// Feather V1 files are read too.
    case feather
    /// Apache Parquet (pyarrow).
    case parquet
    /// R's serialized single object, holding a data.frame (R's `readRDS`/`saveRDS`).
    case rds

    /// The format a file's extension names, case-insensitively: `.csv`, `.tsv`/`.tab`,
    /// `.feather`/`.arrow`/`.ipc`, `.parquet`/`.pq`, `.rds`; text formats may end in `.gz`,
    /// `.bz2` or `.zst` as well.
    public init(path: String) throws(DataFileError) {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        var parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.first == "" { parts.removeFirst() }  // a hidden file's leading dot is not an extension
        guard parts.count >= 2, let last = parts.last else {
            throw .unknownFormat(file: path, detail: "the file name has no extension; pass --from/--to (\(DataFileFormat.choices))")
        }
        var ext = last
        if DataFileFormat.textCompression(ofExtension: last) != nil {
            guard parts.count >= 3 else {
                throw .unknownFormat(file: path, detail: "'.\(last)' says compressed, but not what is inside; name it like data.csv.\(last) or pass --from/--to")
            }
            ext = parts[parts.count - 2]
            guard let inner = DataFileFormat(name: ext), inner.isText else {
                throw .unknownFormat(file: path, detail: "'.\(ext).\(last)': only CSV and TSV text are read and written compressed this way (Feather and Parquet compress inside the file: use --compression)")
            }
        }
        guard let format = DataFileFormat(name: ext) else {
            throw .unknownFormat(file: path, detail: "unknown extension '.\(ext)'; expected \(DataFileFormat.extensions) or pass --from/--to")
        }
        self = format
    }

    /// The format called `name` (a case name or an extension alias such as `arrow`), or nil.
    public init?(name: String) {
        switch name.lowercased() {
        case "csv": self = .csv
        case "tsv", "tab": self = .tsv
        case "feather", "arrow", "ipc": self = .feather
        case "parquet", "pq": self = .parquet
        case "rds": self = .rds
        default: return nil
        }
    }

    /// The compression (`gzip`, `bz2`, `zstd`) a text file's last extension names, or nil.
    public static func textCompression(ofPath path: String) -> String? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        return textCompression(ofExtension: String(name[name.index(after: dot)...]))
    }

    private static func textCompression(ofExtension ext: String) -> String? {
        switch ext.lowercased() {
        case "gz", "gzip": "gzip"
        case "bz2": "bz2"
        case "zst", "zstd": "zstd"
        default: nil
        }
    }

    /// Whether the format is delimited text (CSV or TSV).
    public var isText: Bool { self == .csv || self == .tsv }

    /// The name shown to people ("Parquet", "Feather (Arrow IPC)").
    public var displayName: String {
        switch self {
        case .csv: "CSV"
        case .tsv: "TSV"
        case .feather: "Feather (Arrow IPC)"
        case .parquet: "Parquet"
        case .rds: "RDS"
        }
    }

    /// The format names accepted by `--from`/`--to`, for messages.
    public static var choices: String { allCases.map(\.rawValue).joined(separator: ", ") }

    static let extensions = ".csv, .tsv, .feather, .arrow, .parquet, .rds (text also as .csv.gz, .csv.bz2, .csv.zst)"
}
