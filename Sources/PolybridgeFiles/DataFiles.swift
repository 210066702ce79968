
import Foundation
import PolybridgeArrow
import PolybridgeConversion
import PolybridgeRuntime

/// Reads, converts and describes data files: CSV, Feather and Parquet through pyarrow in the
/// embedded Python (batch by batch, so memory stays bounded), RDS through R's `readRDS`/`saveRDS`
/// (whole objects, as the format requires).
///
/// Every failure is a ``DataFileError`` naming the file, and a failed conversion leaves no output
/// file behind.
public enum DataFiles {
    /// Options for ``convert(_:to:options:)``.
    public struct ConvertOptions: Sendable {
        /// The input format, when the extension does not say it.
        public var from: DataFileFormat?
        /// The output format, when the extension does not say it.
        public var to: DataFileFormat?
        /// The input text encoding for CSV (e.g. `latin1`); UTF-8 when nil.
        public var encoding: String?
        /// The output compression: Feather `lz4` (default), `zstd` or `none`; Parquet `snappy`
        /// (default), `zstd`, `gzip`, `brotli`, `lz4` or `none`; CSV/TSV `none` (default unless the
        /// name ends in .gz/.bz2/.zst), `gzip`, `bz2` or `zstd`; RDS `gzip` (default), `bz2`, `xz`
        /// or `none`. `uncompressed` is accepted for `none`.
        public var compression: String?
        /// The field delimiter of CSV text, one character (`;`, `|`, `tab`); a comma for CSV and a
        /// tab for TSV when nil. It applies to the input when that is text, else to the output.
        public var delimiter: String?
        /// Column types for CSV input by column name (`string`, `integer`, `int64`, `double`,
        /// `logical`, `date`, `timestamp`, `factor`), overriding what pyarrow infers.
        public var columnTypes: [String: String]
        /// The rows of each row group of Parquet output (the last holds the rest); about a
        /// million (pyarrow's default, 1,048,576) when nil, whatever the input's batches.
        public var rowGroupRows: Int?

        /// Options with every field defaulted.
        public init(from: DataFileFormat? = nil, to: DataFileFormat? = nil,
                    encoding: String? = nil, compression: String? = nil,
                    delimiter: String? = nil, columnTypes: [String: String] = [:], rowGroupRows: Int? = nil) {
            self.from = from
            self.to = to
            self.encoding = encoding
            self.compression = compression
            self.delimiter = delimiter
            self.columnTypes = columnTypes
            self.rowGroupRows = rowGroupRows
        }
    }

    /// How text input is parsed: encoding, delimiter, compression and column types.
    struct TextReading {
        var encoding: String?
        var delimiter: String?
        var compression: String?
        /// A Python dict of column name → type name or pyarrow type (nil: pyarrow infers all).
        var columnTypes: PythonObject?
        /// Whether `columnTypes` already holds types from a whole-file scan.
        var scanned = false
    }

    /// Converts `input` to `output`; returns a summary of what was written.
    ///
    /// When CSV types inferred from the first block of a regular file do not hold further down
    /// (a column empty for 299,000 lines and then filled, text late in a numeric column), the
    /// whole file is scanned for types that hold everywhere and the conversion starts again.
    public static func convert(_ input: String, to output: String,
                               options: ConvertOptions = ConvertOptions()) async throws(DataFileError) -> DataFileSummary {
        let inputFormat = try resolve(options.from, path: input)
        let outputFormat = try resolve(options.to, path: output)
        let compression = try checkCompression(options.compression ?? (outputFormat.isText ? DataFileFormat.textCompression(ofPath: output) : nil),
                                               for: outputFormat, file: output)
        let delimiter = try checkDelimiter(options.delimiter, input: (input, inputFormat), output: (output, outputFormat))
        let reading = try textReading(input, format: inputFormat, encoding: options.encoding,
                                      delimiter: inputFormat.isText ? delimiter : nil, columnTypes: options.columnTypes)
        let rowGroupRows = try checkRowGroupRows(options.rowGroupRows, for: outputFormat, file: output)
        let target = try OutputTarget(destination: output)
        return try await rescanningLateTypes(input, reading: reading) { reading in
            try await convertOnce(input, format: inputFormat, reading: reading, to: target, format: outputFormat,
                                  writing: Writing(compression: compression, delimiter: outputFormat.isText && !inputFormat.isText ? delimiter : nil,
                                                   rowGroupRows: rowGroupRows))
        }
    }

    /// Describes `path`: rows, record batches, and each column's type and null count.
    public static func inspect(_ path: String, format: DataFileFormat? = nil, encoding: String? = nil,
                               delimiter: String? = nil, columnTypes: [String: String] = [:]) async throws(DataFileError) -> DataFileSummary {
        let (fileFormat, reading) = try inputReading(path, format: format, encoding: encoding, delimiter: delimiter, columnTypes: columnTypes)
        return try await rescanningLateTypes(path, reading: reading) { reading in
            let source = try await openReader(path, format: fileFormat, reading: reading)
            let counts = try pythonCall("summarize", [source.reader], file: path, classify: lateColumnType)
            return summary(of: path, format: fileFormat, source: source, counts: try decodeCounts(counts, file: path))
        }
    }

    /// Reads the whole of `path` into an Arrow table (CSV/TSV, Feather and Parquet through
    /// pyarrow, RDS through R), with the same options and errors as ``convert(_:to:options:)``.
    /// With `columns`, only those of them the file has are kept, in that order (the others are
    /// dropped batch by batch as the file is read).
    public static func readTable(_ path: String, format: DataFileFormat? = nil, encoding: String? = nil,
                                 delimiter: String? = nil, columnTypes: [String: String] = [:],
                                 columns: [String]? = nil) async throws(DataFileError) -> ArrowTable {
        let (fileFormat, reading) = try inputReading(path, format: format, encoding: encoding, delimiter: delimiter, columnTypes: columnTypes)
        return try await rescanningLateTypes(path, reading: reading) { reading in
            try readWhole(try await openReader(path, format: fileFormat, reading: reading), file: path, columns: columns)
        }
    }

    /// Starts Python and loads the file helpers (pyarrow), so the first read does not pay for
    /// it: what a warm worker does before its first task.
    public static func prepare() throws(DataFileError) {
        do {
            _ = try helpers()
        } catch {
            throw .invalidContents(file: "", detail: "cannot start Python's file helpers: \(error)")
        }
    }

    /// The row counts of the row groups of a Parquet file, or of the record batches of an
    /// Arrow IPC (Feather V2) file, read from the file's metadata alone; nil for other formats.
    /// Their sum is the file's row count, and chunks along them read no row twice.
    public static func rowGroups(_ path: String, format: DataFileFormat? = nil) async throws(DataFileError) -> [Int]? {
        let fileFormat = try resolve(format, path: path)
        guard fileFormat == .parquet || fileFormat == .feather else { return nil }
        try checkReadable(path)
        return try fileErrors(path) {
            let sizes = try pythonStep(file: path) {
                let python = try PythonRuntime.shared()
                return try python.value(of: try pythonCall("row_groups", [path, fileFormat.rawValue], file: path))
            }
            guard case .list(let items) = sizes else { throw DataFileError.invalidContents(file: path, detail: "row groups: \(sizes)") }
            return try items.map { item -> Int in
                guard case .int(let count) = item else { throw DataFileError.invalidContents(file: path, detail: "row group size \(item)") }
                return Int(count)
            }
        }
    }

    /// Rows `rows` (0-based) of the named `columns` of a Parquet or Arrow IPC (Feather V2)
    /// file, reading only the row groups or record batches that hold them: how a worker reads
    /// its chunk without reading the whole file. Columns the file lacks are left out, so the
    /// caller sees their absence; other formats are refused with an error naming the file.
    public static func readRows(_ path: String, rows: Range<Int>, columns: [String],
                                format: DataFileFormat? = nil) async throws(DataFileError) -> ArrowTable {
        let fileFormat = try resolve(format, path: path)
        try checkReadable(path)
        return try fileErrors(path) {
            let table = try pythonCall("read_rows", [path, fileFormat.rawValue, rows.lowerBound, rows.upperBound, columns], file: path)
            return try pythonStep(file: path) { try PythonRuntime.shared().arrowTable(from: table) }
        }
    }

    /// The format and text reading of an input file from the caller's options.
    private static func inputReading(_ path: String, format: DataFileFormat?, encoding: String?, delimiter: String?,
                                     columnTypes: [String: String]) throws(DataFileError) -> (DataFileFormat, TextReading) {
        let fileFormat = try resolve(format, path: path)
        let checkedDelimiter = try checkDelimiter(delimiter, input: (path, fileFormat), output: nil)
        return (fileFormat, try textReading(path, format: fileFormat, encoding: encoding, delimiter: checkedDelimiter,
                                            columnTypes: columnTypes))
    }

    /// Runs `attempt`; when it meets a late CSV type problem, scans the file for types that hold
    /// everywhere and runs it once more (see ``rescanned(_:reading:after:)``). Other errors
    /// become ``DataFileError``s about `path`.
    private static func rescanningLateTypes<T>(_ path: String, reading: TextReading,
                                              _ attempt: (TextReading) async throws -> T) async throws(DataFileError) -> T {
        var reading = reading
        while true {
            do {
                return try await attempt(reading)
            } catch let problem as LateColumnType {
                reading = try await rescanned(path, reading: reading, after: problem)
            } catch let error as DataFileError {
                throw error
            } catch {
                throw .invalidContents(file: path, detail: "\(error)")
            }
        }
    }

    /// Every batch of `source` in one table. CSV integers that fit become int32, as read.csv
    /// reads them (with `forR`, int64 integers of any input do, as they arrive in R); CSV factor
    /// levels are sorted as R's factor() sorts them.
    private static func readWhole(_ source: Source, file: String, forR: Bool = false, columns: [String]? = nil) throws -> ArrowTable {
        try readWholeWithTypeNames(source, file: file, forR: forR, columns: columns).table
    }

    /// ``readWhole(_:file:forR:columns:)`` with pyarrow's readable name for each column's type.
    private static func readWholeWithTypeNames(_ source: Source, file: String, forR: Bool,
                                               columns: [String]? = nil) throws -> (table: ArrowTable, typeNames: [String]) {
        let whole = try pythonCall("read_all", [source.reader, source.isText || forR, source.isText, columns], file: file, classify: lateColumnType)
        return try pythonStep(file: file) {
            let python = try PythonRuntime.shared()
            let names = try python.value(of: try python.call(try python.attribute("type_names", of: try helpers()),
                                                             [try python.attribute("schema", of: whole)]))
            guard case .list(let items) = names else { throw DataFileError.invalidContents(file: file, detail: "the Python helper returned \(names)") }
            return (try python.arrowTable(from: whole), items.map { item -> String in if case .string(let text) = item { text } else { "\(item)" } })
        }
    }

    /// How output is written: compression, the delimiter of CSV text, Parquet's row group size.
    struct Writing {
        var compression: String?
        var delimiter: String?
        var rowGroupRows: Int?
    }

    /// One attempt at a conversion; a late CSV type problem is thrown as ``LateColumnType``.
    private static func convertOnce(_ input: String, format inputFormat: DataFileFormat, reading: TextReading,
                                    to target: OutputTarget, format outputFormat: DataFileFormat,
                                    writing: Writing) async throws -> DataFileSummary {
        let source = try await openReader(input, format: inputFormat, reading: reading)
        try checkConvertible(source, file: input, toR: inputFormat == .rds || outputFormat == .rds)
        return try await write(source, input: input, to: target, format: outputFormat, writing: writing)
    }

    /// Writes `table` to `output` in the format its extension names (or `format`), atomically
    /// (a temporary file renamed into place), as ``convert(_:to:options:)`` writes.
    /// `rowGroupRows` and a `delimiter` apply as in ``ConvertOptions``.
    public static func writeTable(_ table: ArrowTable, to output: String, format: DataFileFormat? = nil,
                                  compression: String? = nil, delimiter: String? = nil,
                                  rowGroupRows: Int? = nil) async throws(DataFileError) -> DataFileSummary {
        let outputFormat = try resolve(format, path: output)
        let checkedCompression = try checkCompression(compression ?? (outputFormat.isText ? DataFileFormat.textCompression(ofPath: output) : nil),
                                                      for: outputFormat, file: output)
        let checkedRowGroupRows = try checkRowGroupRows(rowGroupRows, for: outputFormat, file: output)
        let checkedDelimiter = try checkDelimiter(delimiter, input: (output, outputFormat), output: nil)
        let target = try OutputTarget(destination: output)
        do {
            let source = try pythonStep(file: output) {
                let python = try PythonRuntime.shared()
                let reader = try python.pyarrowReader(from: table)
                let schema = try python.attribute("schema", of: reader)
                let names = try python.value(of: try python.call(try python.attribute("type_names", of: try helpers()), [schema]))
                guard case .list(let items) = names else { throw DataFileError.invalidContents(file: output, detail: "the Python helper returned \(names)") }
                return Source(reader: reader, fields: table.schema, typeNames: items.map { item -> String in if case .string(let text) = item { text } else { "\(item)" } })
            }
            try checkConvertible(source, file: output, toR: outputFormat == .rds)
            return try await write(source, input: output, to: target, format: outputFormat,
                                   writing: Writing(compression: checkedCompression, delimiter: checkedDelimiter, rowGroupRows: checkedRowGroupRows))
        } catch let error as DataFileError {
            throw error
        } catch {
            throw .invalidContents(file: output, detail: "\(error)")
        }
    }

    /// Writes the batches of `source` to `target` through a temporary file renamed into place.
    private static func write(_ source: Source, input: String, to target: OutputTarget, format outputFormat: DataFileFormat,
                              writing: Writing) async throws -> DataFileSummary {
        let destination = AtomicOutput(target)
        do {
            let written: Counts
            if outputFormat == .rds {
                written = try await writeRDS(source, input: input, to: destination, compression: writing.compression)
            } else {
                written = try writeWithPyarrow(source, input: input, format: outputFormat, writing: writing, to: destination)
            }
            try destination.commit()
            return summary(of: target.destination, format: outputFormat, source: source, counts: written)
        } catch {
            destination.discard()
            throw error
        }
    }

    /// The format given explicitly, else the one the extension names.
    private static func resolve(_ format: DataFileFormat?, path: String) throws(DataFileError) -> DataFileFormat {
        if let format { return format }
        return try DataFileFormat(path: path)
    }

    /// A CSV value that does not fit the type inferred from the lines before it.
    struct LateColumnType: Error {
        var message: String
    }

    private static func lateColumnType(_ error: PythonError) -> (any Error)? {
        if case .exception("ColumnTypeProblem", let message, _) = error { return LateColumnType(message: message) }
        return nil
    }

    /// After a late type problem: the whole file's types, or the problem itself when a scan
    /// cannot help (already scanned, or the input is a pipe that cannot be read twice).
    private static func rescanned(_ path: String, reading: TextReading, after problem: LateColumnType) async throws(DataFileError) -> TextReading {
        var isRegular = false
        var status = stat()
        if stat(path, &status) == 0 { isRegular = (status.st_mode & S_IFMT) == S_IFREG }
        guard !reading.scanned, isRegular else { throw .invalidContents(file: path, detail: problem.message) }
        var next = reading
        next.columnTypes = try fileErrors(path) {
            try pythonCall("infer_csv_types", [path, reading.encoding, reading.delimiter, reading.compression, reading.columnTypes],
                           file: path)
        }
        next.scanned = true
        return next
    }

    private static func textReading(_ path: String, format: DataFileFormat, encoding: String?, delimiter: String?,
                                    columnTypes: [String: String]) throws(DataFileError) -> TextReading {
        guard format.isText else {
            if !columnTypes.isEmpty { throw .invalidContents(file: path, detail: "--column-types applies to CSV/TSV input, not \(format.displayName)") }
            if encoding != nil { throw .invalidContents(file: path, detail: "--encoding applies to CSV/TSV input, not \(format.displayName)") }
            return TextReading()
        }
        var reading = TextReading(encoding: encoding, delimiter: delimiter, compression: DataFileFormat.textCompression(ofPath: path))
        if !columnTypes.isEmpty {
            let entries = columnTypes.sorted { $0.key < $1.key }.map { ($0.key, PythonValue.string($0.value)) }
            reading.columnTypes = try fileErrors(path) {
                try pythonStep(file: path) { try PythonRuntime.shared().object(PythonValue.dictionary(entries)) }
            }
        }
        return reading
    }

    /// The one-character delimiter (`tab` and `\t` mean a tab), for the side that is text.
    private static func checkDelimiter(_ delimiter: String?, input: (String, DataFileFormat),
                                       output: (String, DataFileFormat)?) throws(DataFileError) -> String? {
        guard let delimiter else { return nil }
        let file = input.1.isText ? input.0 : (output?.1.isText == true ? output!.0 : input.0)
        guard input.1.isText || output?.1.isText == true else {
            throw .invalidContents(file: file, detail: "--delimiter applies to CSV/TSV text, and neither side is text")
        }
        let character = ["tab": "\t", "\\t": "\t"][delimiter.lowercased()] ?? delimiter
        guard character.utf8.count == 1, character != "\n", character != "\r", character != "\"" else {
            throw .invalidContents(file: file, detail: "--delimiter must be one ASCII character other than a quote or line break (got '\(delimiter)'); use tab for tabs")
        }
        return character
    }

    // MARK: - Reading

    /// A pyarrow RecordBatchReader over a file, with its fields as Polybridge sees them and
    /// pyarrow's readable name for each field's type.
    struct Source {
        var reader: PythonObject
        var fields: [ArrowField]
        var typeNames: [String]
        /// Whether the file is CSV/TSV text (whose integers R's read.csv makes integer vectors).
        var isText = false
        /// What reading the file could not keep (R attributes), one sentence each.
        var notes: [String] = []
    }

    static func openReader(_ path: String, format: DataFileFormat, reading: TextReading) async throws -> Source {
        try checkReadable(path)
        let reader: PythonObject
        var notes: [String] = []
        if format == .rds {
            let table: ArrowTable
            (table, notes) = try await readRDS(path)
            reader = try pythonStep(file: path) { try PythonRuntime.shared().pyarrowReader(from: table) }
        } else {
            reader = try pythonCall("open_reader", [path, format.rawValue, reading.encoding, reading.delimiter,
                                                    reading.compression, reading.columnTypes], file: path, classify: lateColumnType)
        }
        return try pythonStep(file: path) {
            let python = try PythonRuntime.shared()
            let schema = try python.attribute("schema", of: reader)
            let names = try python.value(of: try python.call(try python.attribute("type_names", of: try helpers()), [schema]))
            guard case .list(let items) = names else { throw DataFileError.invalidContents(file: path, detail: "the Python helper returned \(names)") }
            let typeNames = items.map { item -> String in if case .string(let text) = item { text } else { "\(item)" } }
            return Source(reader: reader, fields: try fieldsWithWholeNames(of: schema), typeNames: typeNames, isText: format.isText,
                          notes: notes)
        }
    }

    /// The fields of a pyarrow schema with their names as Python holds them: the C Data
    /// Interface cuts a name at a NUL byte, and two names alike up to one would look duplicated.
    private static func fieldsWithWholeNames(of schema: PythonObject) throws -> [ArrowField] {
        let python = try PythonRuntime.shared()
        var fields = try python.arrowFields(of: schema)
        if case .list(let names) = try python.value(of: try python.attribute("names", of: schema)), names.count == fields.count {
            for (position, name) in names.enumerated() { if case .string(let text) = name { fields[position].name = text } }
        }
        return fields
    }

    private static func checkReadable(_ path: String) throws(DataFileError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(file: path, detail: "no such file")
        }
        guard !isDirectory.boolValue else { throw .unreadable(file: path, detail: "it is a directory, not a file") }
        guard access(path, R_OK) == 0 else { throw .unreadable(file: path, detail: systemMessage(errno)) }
    }

    /// `readRDS(path)`, checked to be a data.frame and converted to Arrow on the R thread, with
    /// its R classes and attributes in the schema metadata and notes on what cannot be kept.
    private static func readRDS(_ path: String) async throws(DataFileError) -> (ArrowTable, [String]) {
        do {
            let r = try RRuntime.shared()
            return try await r.withSession { session in
                let call = try session.lang(try session.symbol("readRDS"), [try session.makeStrings([path])])
                let object = try session.evaluate(call, purpose: "readRDS")
                return try session.arrowTableKeepingRAttributes(fromDataFrame: object)
            }
        } catch let error as ConversionError {
            switch error {
            case .notADataFrame(let found): throw .notADataFrame(file: path, found: "an object of class \(found)")
            case .duplicateColumn(let name): throw .duplicateColumn(file: path, column: name)
            case .unsupportedColumn(let column, let type): throw .unsupportedColumn(file: path, column: column, type: type)
            default: throw .invalidContents(file: path, detail: error.description)
            }
        } catch let error as RError {
            throw .invalidContents(file: path, detail: "not a readable RDS file (R: \(rMessage(error)))")
        } catch {
            throw .invalidContents(file: path, detail: "\(error)")
        }
    }

    /// Refuses duplicate names (pandas and R need unique ones) and, when the data goes through R,
    /// types that Polybridge does not convert to R, naming every such column at once. Between
    /// CSV, Feather and Parquet every type passes through.
    private static func checkConvertible(_ source: Source, file: String, toR: Bool) throws(DataFileError) {
        // Bytes, not `String` equality: "\u{e9}" and "e\u{301}" are different names.
        var seen = Set<[UInt8]>()
        var refused: [(column: String, type: String)] = []
        for (index, field) in source.fields.enumerated() {
            guard seen.insert(Array(field.name.utf8)).inserted else { throw .duplicateColumn(file: file, column: field.name) }
            if toR && field.name.utf8.contains(0) {
                throw .invalidContents(file: file, detail: ConversionError.nulInColumnName(position: index + 1, name: field.name).description)
            }
            if toR && field.type.rTypeName == nil {
                refused.append((field.name, index < source.typeNames.count ? source.typeNames[index] : "\(field.type)"))
            }
        }
        guard let first = refused.first else { return }
        if refused.count == 1 { throw .unsupportedColumn(file: file, column: first.column, type: first.type) }
        throw .unsupportedColumns(file: file, columns: refused.map { "\($0.column)" }, types: refused.map(\.type))
    }

    // MARK: - Writing

    private static func writeWithPyarrow(_ source: Source, input: String, format: DataFileFormat, writing: Writing,
                                         to output: AtomicOutput) throws -> Counts {
        let counts = try pythonCall("write", [source.reader, output.temporaryPath, format.rawValue, writing.compression,
                                              writing.delimiter, writing.rowGroupRows],
                                    file: input) { error -> (any Error)? in
            if let late = lateColumnType(error) { return late }
            // Problems in the data name the input; anything else happened while writing.
            if case .exception(let type, let message, _) = error, type != "FileProblem" {
                return output.writeError(type: type, message: message)
            }
            return nil
        }
        return try decodeCounts(counts, file: input)
    }

    /// Reads every batch into one table, converts it to a data.frame and `saveRDS`es it.
    private static func writeRDS(_ source: Source, input: String, to output: AtomicOutput,
                                 compression: String?) async throws -> Counts {
        let (table, typeNames) = try readWholeWithTypeNames(source, file: input, forR: true)
        let path = output.temporaryPath
        let notes: [String]
        do {
            let r = try RRuntime.shared()
            notes = try await r.withSession { session in
                func logical(_ value: Bool) throws -> SEXP {
                    let vector = try session.allocate(.logical, length: 1)
                    try session.writableValues(of: vector, as: Int32.self)[0] = value ? 1 : 0
                    return vector
                }
                let (frame, notes) = try session.dataFrameRestoringRAttributes(from: table)
                // saveRDS(frame, path, ascii = FALSE, version = NULL, compress = …)
                let compress: SEXP
                switch compression ?? "gzip" {
                case "none": compress = try logical(false)
                case let other: compress = try session.makeStrings([other == "bz2" ? "bzip2" : other])
                }
                let call = try session.lang(try session.symbol("saveRDS"),
                                            [frame, try session.makeStrings([path]), try logical(false), session.null, compress])
                _ = try session.evaluate(call, purpose: "saveRDS")
                return notes
            }
        } catch let error as RError {
            throw output.writeError(type: "R", message: rMessage(error))
        } catch let error as ConversionError {
            throw DataFileError.invalidContents(file: input, detail: error.description)
        }
        let nulls = table.columns.map { column in column.chunks.reduce(0) { $0 + $1.nullCount } }
        var counts = Counts(rows: table.rowCount, batches: 1, nulls: nulls)  // an RDS file is one object
        // The file holds the table R received (int64 columns narrowed to integers), not the input's types.
        counts.written = (table.schema, typeNames)
        counts.notes = notes
        return counts
    }

    /// The row group size, when given: Parquet output only, at least 1.
    private static func checkRowGroupRows(_ rows: Int?, for format: DataFileFormat, file: String) throws(DataFileError) -> Int? {
        guard let rows else { return nil }
        guard format == .parquet else {
            throw .unwritable(file: file, detail: "--row-group-rows applies to Parquet output, not \(format.displayName)")
        }
        guard rows >= 1 else { throw .unwritable(file: file, detail: "--row-group-rows must be at least 1 (got \(rows))") }
        return rows
    }

    /// The compression's canonical name (`uncompressed` is `none`); an error when `format` has
    /// no such option.
    private static func checkCompression(_ compression: String?, for format: DataFileFormat,
                                         file: String) throws(DataFileError) -> String? {
        guard let compression else { return nil }
        let aliases = ["uncompressed": "none", "gz": "gzip", "zst": "zstd", "bzip2": "bz2"]
        let name = aliases[compression.lowercased()] ?? compression.lowercased()
        let accepted: [String]
        switch format {
        case .feather: accepted = ["lz4", "zstd", "none"]
        case .parquet: accepted = ["snappy", "zstd", "gzip", "brotli", "lz4", "none"]
        case .csv, .tsv: accepted = ["none", "gzip", "bz2", "zstd"]
        case .rds: accepted = ["gzip", "bz2", "xz", "none"]
        }
        guard accepted.contains(name) else {
            throw .unwritable(file: file, detail: "unknown compression '\(compression)' for \(format.displayName); expected one of \(accepted.joined(separator: ", "))")
        }
        return name
    }

    // MARK: - Python plumbing

    static func helpers() throws -> PythonObject {
        try PythonRuntime.shared().helperModule(named: DataFilePython.moduleName, source: DataFilePython.source)
    }

    /// Calls a function of the helper module (or of `module`); Python errors become
    /// `DataFileError`s about `file` unless `classify` names another error.
    static func pythonCall(_ function: String, _ arguments: [Any?], file: String, module: PythonObject? = nil,
                           classify: (PythonError) -> (any Error)? = { _ in nil }) throws -> PythonObject {
        do {
            let python = try PythonRuntime.shared()
            var objects: [PythonObject] = []
            for argument in arguments {
                switch argument {
                case let object as PythonObject: objects.append(object)
                case let text as String: objects.append(try python.object(text))
                case let flag as Bool: objects.append(try python.object(flag))
                case let number as Int: objects.append(try python.object(number))
                case let texts as [String]: objects.append(try python.object(texts))
                default: objects.append(try python.evaluateObject("None"))
                }
            }
            return try python.call(try python.attribute(function, of: try module ?? helpers()), objects)
        } catch let error as PythonError {
            if let classified = classify(error) { throw classified }
            throw describe(error, file: file)
        } catch let error as DataFileError {
            throw error
        } catch {
            throw DataFileError.invalidContents(file: file, detail: "\(error)")
        }
    }

    /// Runs a Python-side step; its errors become `DataFileError`s about `file`.
    static func pythonStep<T>(file: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as LateColumnType {
            throw error
        } catch let error as DataFileError {
            throw error
        } catch let error as PythonError {
            throw describe(error, file: file)
        } catch let error as ConversionError {
            if case .arrow(.unsupportedType(let column?, let format)) = error {
                throw DataFileError.unsupportedColumn(file: file, column: column, type: "Arrow \(ArrowDataType.kindName(ofFormat: format)) ('\(format)')")
            }
            throw DataFileError.invalidContents(file: file, detail: error.description)
        } catch {
            throw DataFileError.invalidContents(file: file, detail: "\(error)")
        }
    }

    /// Runs `body`, turning anything but a ``DataFileError`` into one about `file`.
    static func fileErrors<T>(_ file: String, _ body: () throws -> T) throws(DataFileError) -> T {
        do {
            return try body()
        } catch let error as DataFileError {
            throw error
        } catch let error as LateColumnType {
            throw .invalidContents(file: file, detail: error.message)
        } catch {
            throw .invalidContents(file: file, detail: "\(error)")
        }
    }

    private static func describe(_ error: PythonError, file: String) -> DataFileError {
        switch error {
        case .exception("FileProblem", let message, _), .exception("ColumnTypeProblem", let message, _):
            return .invalidContents(file: file, detail: message)
        case .exception("ModuleNotFoundError", let message, _):
            // "No module named 'pyarrow.parquet'": name the package the user installs.
            let named = message.split(separator: "'").dropFirst().first.map(String.init) ?? message
            let module = named.split(separator: ".").first.map(String.init) ?? named
            let interpreter = (try? PythonRuntime.shared().interpreter.executable) ?? "the embedded Python"
            return .pythonModuleMissing(file: file, module: module, interpreter: interpreter)
        case .exception(let type, let message, _) where type == "FileNotFoundError" || type == "PermissionError" || type == "IsADirectoryError":
            return .unreadable(file: file, detail: message)
        case .exception(let type, let message, _):
            return .invalidContents(file: file, detail: "\(type): \(message)")
        case .startup, .conversion:
            return .invalidContents(file: file, detail: error.description)
        }
    }

    /// What reading or writing a file's batches counted: rows, batches, nulls per column, and
    /// the R type of the columns whose R type depends on their values (by position).
    struct Counts {
        var rows: Int
        var batches: Int
        var nulls: [Int]
        /// int64 columns that fit R's integer (integer vectors in R, as read.csv and arrow make them)
        /// and int32 columns holding -2^31, R's NA_integer_ (read as doubles).
        var rTypes: [Int: String] = [:]
        /// The fields and type names of the file written, when they differ from the input's.
        var written: (fields: [ArrowField], typeNames: [String])?
        /// What writing could not keep (R attributes), one sentence each.
        var notes: [String] = []
    }

    private static func decodeCounts(_ object: PythonObject, file: String) throws -> Counts {
        let value = try pythonStep(file: file) { try PythonRuntime.shared().value(of: object) }
        guard case .dictionary(let entries) = value else {
            throw DataFileError.invalidContents(file: file, detail: "the Python helper returned \(value)")
        }
        func integer(_ value: PythonValue?) -> Int { if case .int(let number)? = value { Int(number) } else { 0 } }
        func integers(_ value: PythonValue?) -> [Int] { if case .list(let items)? = value { items.map { integer($0) } } else { [] } }
        let lookup = Dictionary(entries, uniquingKeysWith: { first, _ in first })
        var counts = Counts(rows: integer(lookup["rows"]), batches: integer(lookup["batches"]), nulls: integers(lookup["nulls"]))
        for position in integers(lookup["r_integer"]) { counts.rTypes[position] = "integer" }
        for position in integers(lookup["r_double"]) { counts.rTypes[position] = "double" }
        return counts
    }

    private static func summary(of file: String, format: DataFileFormat, source: Source,
                                counts: Counts) -> DataFileSummary {
        let (fields, typeNames) = counts.written ?? (source.fields, source.typeNames)
        let columns = fields.enumerated().map { index, field in
            DataFileSummary.Column(name: field.name,
                                   arrowType: index < typeNames.count ? typeNames[index] : "\(field.type)",
                                   rType: counts.rTypes[index] ?? field.type.rTypeName,
                                   nullCount: index < counts.nulls.count ? counts.nulls[index] : 0)
        }
        return DataFileSummary(file: file, format: format, rows: counts.rows, batches: counts.batches, columns: columns,
                               warnings: source.notes + counts.notes)
    }

    /// The C library's text for an errno value ("No space left on device").
    static func systemMessage(_ code: Int32) -> String {
        String(decoding: Data(bytes: strerror(code), count: strlen(strerror(code))), as: UTF8.self)
    }

    /// R's condition message without the "Error in call :" framing.
    private static func rMessage(_ error: RError) -> String {
        RRuntime.conditionMessage(fromErrorBuffer: error.conditionMessage).replacingOccurrences(of: "\n", with: " ")
    }
}
