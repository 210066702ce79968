
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
        /// The output compression: Feather `lz4` (default), `zstd` or `uncompressed`;
        /// Parquet `snappy` (default), `zstd`, `gzip`, `brotli`, `lz4` or `none`.
        public var compression: String?

        /// Options with every field defaulted.
        public init(from: DataFileFormat? = nil, to: DataFileFormat? = nil,
                    encoding: String? = nil, compression: String? = nil) {
            self.from = from
            self.to = to
            self.encoding = encoding
            self.compression = compression
        }
    }

    /// Converts `input` to `output`; returns a summary of what was written.
    public static func convert(_ input: String, to output: String,
                               options: ConvertOptions = ConvertOptions()) async throws(DataFileError) -> DataFileSummary {
        let inputFormat = try resolve(options.from, path: input)
        let outputFormat = try resolve(options.to, path: output)
        let compression = try checkCompression(options.compression, for: outputFormat, file: output)
        let source = try await openReader(input, format: inputFormat, encoding: options.encoding)
        try checkConvertible(source.fields, file: input)
        let destination = try AtomicOutput(destination: output)
        do {
            let written: (rows: Int, batches: Int, nulls: [Int])
            if outputFormat == .rds {
                written = try await writeRDS(source, input: input, to: destination.temporaryPath)
            } else {
                written = try writeWithPyarrow(source, input: input, format: outputFormat,
                                               compression: compression, to: destination.temporaryPath)
            }
            try destination.commit()
            return summary(of: output, format: outputFormat, fields: source.fields, counts: written)
        } catch {
            destination.discard()
            throw error
        }
    }

    /// Describes `path`: rows, record batches, and each column's type and null count.
    public static func inspect(_ path: String, format: DataFileFormat? = nil,
                               encoding: String? = nil) async throws(DataFileError) -> DataFileSummary {
        let fileFormat = try resolve(format, path: path)
        let source = try await openReader(path, format: fileFormat, encoding: encoding)
        let counts = try pythonCall("summarize", [source.reader], file: path)
        return summary(of: path, format: fileFormat, fields: source.fields, counts: try decodeCounts(counts, file: path))
    }

    /// The format given explicitly, else the one the extension names.
    private static func resolve(_ format: DataFileFormat?, path: String) throws(DataFileError) -> DataFileFormat {
        if let format { return format }
        return try DataFileFormat(path: path)
    }

    // MARK: - Reading

    /// A pyarrow RecordBatchReader over a file, with its fields as Polybridge sees them.
    struct Source {
        var reader: PythonObject
        var fields: [ArrowField]
    }

    static func openReader(_ path: String, format: DataFileFormat, encoding: String?) async throws(DataFileError) -> Source {
        try checkReadable(path)
        let reader: PythonObject
        if format == .rds {
            let table = try await readRDS(path)
            reader = try pythonStep(file: path) { try PythonRuntime.shared().pyarrowReader(from: table) }
        } else {
            reader = try pythonCall("open_reader", [path, format.rawValue, encoding], file: path)
        }
        let fields = try pythonStep(file: path) {
            let python = try PythonRuntime.shared()
            return try python.arrowFields(of: try python.attribute("schema", of: reader))
        }
        return Source(reader: reader, fields: fields)
    }

    private static func checkReadable(_ path: String) throws(DataFileError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(file: path, detail: "no such file")
        }
        guard !isDirectory.boolValue else { throw .unreadable(file: path, detail: "it is a directory, not a file") }
        guard access(path, R_OK) == 0 else { throw .unreadable(file: path, detail: String(cString: strerror(errno))) }
    }

    /// `readRDS(path)`, checked to be a data.frame and converted to Arrow on the R thread.
    private static func readRDS(_ path: String) async throws(DataFileError) -> ArrowTable {
        do {
            let r = try RRuntime.shared()
            return try await r.withSession { session in
                let call = try session.lang(try session.symbol("readRDS"), [try session.makeStrings([path])])
                let object = try session.evaluate(call, purpose: "readRDS")
                return try session.arrowTable(fromDataFrame: object)
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

    /// Refuses duplicate names and types that Polybridge does not convert, naming the column.
    private static func checkConvertible(_ fields: [ArrowField], file: String) throws(DataFileError) {
        // Bytes, not `String` equality: "\u{e9}" and "e\u{301}" are different names.
        var seen = Set<[UInt8]>()
        for field in fields {
            guard seen.insert(Array(field.name.utf8)).inserted else { throw .duplicateColumn(file: file, column: field.name) }
            if field.type.rTypeName == nil { throw .unsupportedColumn(file: file, column: field.name, type: describe(field.type)) }
        }
    }

    /// "list ('+l')" for a type Polybridge does not know, else the type's own name.
    private static func describe(_ type: ArrowDataType) -> String {
        if case .unsupported(let format) = type { return "Arrow \(ArrowDataType.kindName(ofFormat: format)) ('\(format)')" }
        if let unsupported = type.firstUnsupportedFormat {
            return "Arrow \(type) containing \(ArrowDataType.kindName(ofFormat: unsupported))"
        }
        return "Arrow \(type)"
    }

    // MARK: - Writing

    private static func writeWithPyarrow(_ source: Source, input: String, format: DataFileFormat,
                                         compression: String?, to path: String) throws(DataFileError) -> (rows: Int, batches: Int, nulls: [Int]) {
        let counts = try pythonCall("write", [source.reader, path, format.rawValue, compression], file: input) { error -> DataFileError? in
            // Problems in the data name the input; anything else happened while writing.
            if case .exception(let type, let message, _) = error, type != "FileProblem" {
                return .unwritable(file: path, detail: "\(type): \(message)")
            }
            return nil
        }
        return try decodeCounts(counts, file: input)
    }

    /// Reads every batch into one table, converts it to a data.frame and `saveRDS`es it.
    private static func writeRDS(_ source: Source, input: String, to path: String) async throws(DataFileError) -> (rows: Int, batches: Int, nulls: [Int]) {
        let table = try pythonStep(file: input) { () throws -> ArrowTable in
            let python = try PythonRuntime.shared()
            let whole = try python.call(try python.attribute("read_all", of: try helpers()), [source.reader])
            return try python.arrowTable(from: whole)
        }
        do {
            let r = try RRuntime.shared()
            try await r.withSession { session in
                let frame = try session.dataFrame(from: table)
                let call = try session.lang(try session.symbol("saveRDS"), [frame, try session.makeStrings([path])])
                _ = try session.evaluate(call, purpose: "saveRDS")
            }
        } catch let error as RError {
            throw .unwritable(file: path, detail: rMessage(error))
        } catch {
            throw .invalidContents(file: input, detail: "\(error)")
        }
        let nulls = table.columns.map { column in column.chunks.reduce(0) { $0 + $1.nullCount } }
        return (table.rowCount, 1, nulls)  // an RDS file is one object
    }

    /// The compression name in the lower case pyarrow expects; an error when `format` has no such option.
    private static func checkCompression(_ compression: String?, for format: DataFileFormat,
                                         file: String) throws(DataFileError) -> String? {
        guard let compression else { return nil }
        let accepted: [String]
        switch format {
        case .feather: accepted = ["lz4", "zstd", "uncompressed"]
        case .parquet: accepted = ["snappy", "zstd", "gzip", "brotli", "lz4", "none"]
        case .csv, .rds: accepted = []
        }
        guard accepted.contains(compression.lowercased()) else {
            let choices = accepted.isEmpty ? "none can be chosen for \(format.displayName)" : "expected one of \(accepted.joined(separator: ", "))"
            throw .unwritable(file: file, detail: "unknown compression '\(compression)' for \(format.displayName); \(choices)")
        }
        return compression.lowercased()
    }

    // MARK: - Python plumbing

    private static func helpers() throws -> PythonObject {
        try PythonRuntime.shared().helperModule(named: DataFilePython.moduleName, source: DataFilePython.source)
    }

    /// Calls a function of the helper module; Python errors become `DataFileError`s about `file`
    /// unless `classify` names another error.
    private static func pythonCall(_ function: String, _ arguments: [Any?], file: String,
                                   classify: (PythonError) -> DataFileError? = { _ in nil }) throws(DataFileError) -> PythonObject {
        do {
            let python = try PythonRuntime.shared()
            var objects: [PythonObject] = []
            for argument in arguments {
                switch argument {
                case let object as PythonObject: objects.append(object)
                case let text as String: objects.append(try python.object(text))
                default: objects.append(try python.evaluateObject("None"))
                }
            }
            return try python.call(try python.attribute(function, of: try helpers()), objects)
        } catch let error as PythonError {
            if let classified = classify(error) { throw classified }
            throw describe(error, file: file)
        } catch {
            throw .invalidContents(file: file, detail: "\(error)")
        }
    }

    /// Runs a Python-side step; its errors become `DataFileError`s about `file`.
    private static func pythonStep<T>(file: String, _ body: () throws -> T) throws(DataFileError) -> T {
        do {
            return try body()
        } catch let error as PythonError {
            throw describe(error, file: file)
        } catch let error as ConversionError {
            if case .arrow(.unsupportedType(let column?, let format)) = error {
                throw .unsupportedColumn(file: file, column: column, type: describe(.unsupported(format: format)))
            }
            throw .invalidContents(file: file, detail: error.description)
        } catch {
            throw .invalidContents(file: file, detail: "\(error)")
        }
    }

    private static func describe(_ error: PythonError, file: String) -> DataFileError {
        switch error {
        case .exception("FileProblem", let message, _):
            return .invalidContents(file: file, detail: message)
        case .exception(let type, let message, _) where type == "FileNotFoundError" || type == "PermissionError" || type == "IsADirectoryError":
            return .unreadable(file: file, detail: message)
        case .exception(let type, let message, _):
            return .invalidContents(file: file, detail: "\(type): \(message)")
        case .startup, .conversion:
            return .invalidContents(file: file, detail: error.description)
        }
    }

    private static func decodeCounts(_ object: PythonObject, file: String) throws(DataFileError) -> (rows: Int, batches: Int, nulls: [Int]) {
        let value = try pythonStep(file: file) { try PythonRuntime.shared().value(of: object) }
        guard case .dictionary(let entries) = value else {
            throw .invalidContents(file: file, detail: "the Python helper returned \(value)")
        }
        func integer(_ value: PythonValue?) -> Int { if case .int(let number)? = value { Int(number) } else { 0 } }
        let lookup = Dictionary(entries, uniquingKeysWith: { first, _ in first })
        var nulls: [Int] = []
        if case .list(let items)? = lookup["nulls"] { nulls = items.map { integer($0) } }
        return (integer(lookup["rows"]), integer(lookup["batches"]), nulls)
    }

    private static func summary(of file: String, format: DataFileFormat, fields: [ArrowField],
                                counts: (rows: Int, batches: Int, nulls: [Int])) -> DataFileSummary {
        let columns = fields.enumerated().map { index, field in
            DataFileSummary.Column(name: field.name, arrowType: "\(field.type)", rType: field.type.rTypeName,
                                   nullCount: index < counts.nulls.count ? counts.nulls[index] : 0)
        }
        return DataFileSummary(file: file, format: format, rows: counts.rows, batches: counts.batches, columns: columns)
    }

    /// R's condition message without the "Error in call :" framing.
    private static func rMessage(_ error: RError) -> String {
        RRuntime.conditionMessage(fromErrorBuffer: error.conditionMessage).replacingOccurrences(of: "\n", with: " ")
    }
}
