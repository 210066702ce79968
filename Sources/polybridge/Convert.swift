import ArgumentParser
import Foundation
import Polybridge

extension DataFileFormat: ExpressibleByArgument {
    /// Accepts a format name or an extension alias (`arrow` for Feather).
    public init?(argument: String) { self.init(name: argument) }
}

/// `polybridge convert IN OUT`: converts a data file between CSV, Feather, Parquet and RDS.
struct Convert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a data file between CSV, Feather/Arrow, Parquet and RDS.",
        discussion: """
            The formats come from the extensions (.csv, .feather/.arrow, .parquet, .rds) unless \
            --from/--to say otherwise. CSV, Feather and Parquet stream through pyarrow batch by batch; \
            RDS goes through R's readRDS/saveRDS. The output is written under a temporary name and \
            renamed into place only when complete: a failed or interrupted conversion leaves nothing \
            behind. Problems exit 1 with a message naming the file and column.
            """)

    @Argument(help: "The file to read.")
    var input: String

    @Argument(help: "The file to write (replaced if it exists).")
    var output: String

    @Option(help: "Input format (\(DataFileFormat.choices)).")
    var from: DataFileFormat?

    @Option(help: "Output format (\(DataFileFormat.choices)).")
    var to: DataFileFormat?

    @Option(help: "Text encoding of a CSV input, e.g. latin1 (default UTF-8).")
    var encoding: String?

    @Option(help: "Output compression: Feather lz4|zstd|none, Parquet snappy|zstd|gzip|brotli|lz4|none, CSV/TSV none|gzip|bz2|zstd (default from a .gz/.bz2/.zst name), RDS gzip|bz2|xz|none; 'uncompressed' means none.")
    var compression: String?

    @Option(help: "Field delimiter of the CSV text (one character, or 'tab'); applies to the input when it is text, else to the output.")
    var delimiter: String?

    @Option(name: .customLong("column-types"),
            help: "Types of CSV input columns, e.g. 'zip=string,score=double' (string, integer, int64, double, logical, date, timestamp, factor).")
    var columnTypes: ColumnTypes?

    @Option(name: .customLong("row-group-rows"),
            help: "Rows per row group of Parquet output (default 1048576, pyarrow's; the last group holds the rest).")
    var rowGroupRows: Int?

    @Flag(help: "Print the summary of the written file as JSON.")
    var json = false

    func run() async throws {
        let interrupts = InterruptForwarder {
            DataFileCleanup.discardPartialOutputs()
            printError("interrupted")
            // Like _exit, not exit: atexit handlers and C++ static destructors (pyarrow's) must
            // not run while the R thread and pyarrow's threads are still working.
            ProcessEnd.immediately(130)
        }
        defer { interrupts.stop() }
        let options = DataFiles.ConvertOptions(from: from, to: to, encoding: encoding, compression: compression,
                                               delimiter: delimiter, columnTypes: columnTypes?.types ?? [:], rowGroupRows: rowGroupRows)
        let summary: DataFileSummary
        do {
            summary = try await DataFiles.convert(input, to: output, options: options)
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        for warning in summary.warnings { printError("warning: \(summary.file): \(warning)") }
        if json {
            try printJSON(summary)
        } else {
            print("wrote \(summary.file) (\(summary.format.displayName)): \(summary.rows) rows × \(summary.columns.count) columns in \(summary.batches) batch(es)")
        }
    }
}

/// `polybridge inspect FILE`: columns, types, rows and null counts of a data file.
struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a data file's rows, columns, Arrow and R types, and null counts.",
        discussion: "Reads CSV, Feather and Parquet batch by batch (bounded memory) and RDS through R.")

    @Argument(help: "The file to describe.")
    var file: String

    @Option(help: "The file's format when the extension does not say it (\(DataFileFormat.choices)).")
    var format: DataFileFormat?

    @Option(help: "Text encoding of a CSV file, e.g. latin1 (default UTF-8).")
    var encoding: String?

    @Option(help: "Field delimiter of CSV text (one character, or 'tab').")
    var delimiter: String?

    @Option(name: .customLong("column-types"),
            help: "Types of CSV columns, e.g. 'zip=string,score=double' (string, integer, int64, double, logical, date, timestamp, factor).")
    var columnTypes: ColumnTypes?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        let summary: DataFileSummary
        do {
            summary = try await DataFiles.inspect(file, format: format, encoding: encoding, delimiter: delimiter,
                                                  columnTypes: columnTypes?.types ?? [:])
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        if json {
            try printJSON(summary)
            return
        }
        print("\(summary.file): \(summary.format.displayName), \(summary.rows) rows, \(summary.columns.count) columns, \(summary.batches) batch(es)")
        let header = ("column", "arrow type", "R type", "nulls")
        let rows = summary.columns.map { ($0.name, $0.arrowType, $0.rType ?? "(not convertible)", String($0.nullCount)) }
        let widths = (
            max(header.0.count, rows.map(\.0.count).max() ?? 0),
            max(header.1.count, rows.map(\.1.count).max() ?? 0),
            max(header.2.count, rows.map(\.2.count).max() ?? 0))
        func line(_ row: (String, String, String, String)) -> String {
            [row.0.padding(toLength: widths.0, withPad: " ", startingAt: 0),
             row.1.padding(toLength: widths.1, withPad: " ", startingAt: 0),
             row.2.padding(toLength: widths.2, withPad: " ", startingAt: 0),
             row.3].joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }
}

/// `--column-types name=type,…`: the last `=` of each entry splits name from type, so a name
/// may contain `=`.
struct ColumnTypes: ExpressibleByArgument {
    /// Type name by column name.
    var types: [String: String] = [:]

    init?(argument: String) {
        for entry in argument.split(separator: ",", omittingEmptySubsequences: true) {
            guard let equals = entry.lastIndex(of: "="), equals != entry.startIndex,
                  entry.index(after: equals) != entry.endIndex else { return nil }
            types[String(entry[..<equals])] = String(entry[entry.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        }
        if types.isEmpty { return nil }
    }
}

/// Prints `value` as pretty JSON with sorted keys on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
}
