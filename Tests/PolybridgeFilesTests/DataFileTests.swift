import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// Runs Python `expression` (after `setup`) and returns its string value.
func pythonString(_ expression: String, setup: String = "") throws -> String {
    let python = try PythonRuntime.shared()
    if !setup.isEmpty { try python.exec(setup) }
    return try python.eval(expression, as: String.self)
}

@Suite struct DataFileFormatTests {
    @Test func formatComesFromTheExtensionCaseInsensitively() throws {
        #expect(try DataFileFormat(path: "a/b.csv") == .csv)
        #expect(try DataFileFormat(path: "x.FEATHER") == .feather)
        #expect(try DataFileFormat(path: "x.arrow") == .feather)
        #expect(try DataFileFormat(path: "x.parquet") == .parquet)
        #expect(try DataFileFormat(path: "x.Rds") == .rds)
    }

    @Test func unknownOrMissingExtensionNamesTheFile() {
        #expect(throws: DataFileError.self) { try DataFileFormat(path: "data.xlsx") }
        do {
            _ = try DataFileFormat(path: "dir.v2/data")
            Issue.record("a name without an extension was accepted")
        } catch {
            #expect(error.file == "dir.v2/data")
            #expect(error.description.contains("no extension"))
        }
    }
}

@Suite struct DataFileConversionTests {
    /// Parquet → RDS → Feather keeps every value, null and NaN. Two columns come back as float64
    /// because R cannot hold them as integers: int64, and int32 holding INT_MIN (R's NA_integer_).
    @Test func parquetThroughRDSToFeatherKeepsEveryValue() async throws {
        let directory = try scratchDirectory()
        let rds = directory + "/all.rds", feather = directory + "/all.feather"
        _ = try await DataFiles.convert(fixture("all_types.parquet"), to: rds)
        let written = try await DataFiles.convert(rds, to: feather)
        #expect(written.rows == 6)
        let difference = try pythonString("arrow_difference(files_expected, files_actual)", setup: arrowDifferenceSource + """

            import pyarrow as pa, pyarrow.parquet as pq, pyarrow.feather as feather
            files_expected = pq.read_table(\(pythonLiteral(fixture("all_types.parquet"))))
            files_expected = files_expected.set_column(1, 'int', files_expected['int'].cast(pa.float64()))
            files_expected = files_expected.set_column(2, 'big', files_expected['big'].cast(pa.float64()))
            files_actual = feather.read_table(\(pythonLiteral(feather)))
            """)
        #expect(difference == "same")
    }

    /// RDS → Parquet → RDS gives back an object R calls identical(): NA vs NaN, factor levels
    /// (unused included), ordered flag, Date, POSIXct and its tzone attribute.
    @Test func rdsThroughParquetIsIdenticalInR() async throws {
        let directory = try scratchDirectory()
        let parquet = directory + "/all.parquet", back = directory + "/back.rds"
        _ = try await DataFiles.convert(fixture("all_types.rds"), to: parquet)
        _ = try await DataFiles.convert(parquet, to: back)
        let r = try RRuntime.shared()
        let same = try await r.eval("identical(readRDS('\(fixture("all_types.rds"))'), readRDS('\(back)'))", as: Bool.self)
        #expect(same)
    }

    @Test func csvMissingValuesAndNaNStayApart() async throws {
        let directory = try scratchDirectory()
        let parquet = directory + "/clean.parquet"
        _ = try await DataFiles.convert(fixture("clean.csv"), to: parquet)
        let difference = try pythonString("arrow_difference(csv_expected, csv_actual)", setup: arrowDifferenceSource + """

            import pyarrow as pa, pyarrow.parquet as pq
            csv_expected = pa.table({
                'id': pa.array([1, 2, 3], pa.int64()),
                'score': pa.array([2.5, None, float('nan')]),
                'name': pa.array(['ann', 'b, with comma', None]),
                'when': pa.array([19724, None, 20088], pa.date32()),
            })
            csv_actual = pq.read_table(\(pythonLiteral(parquet)))
            """)
        #expect(difference == "same")
    }

    @Test func compressionNameIsCaseInsensitive() async throws {
        let parquet = try scratchDirectory() + "/zstd.parquet"
        _ = try await DataFiles.convert(fixture("clean.csv"), to: parquet, options: .init(compression: "ZSTD"))
        let codec = try pythonString("pq.ParquetFile(\(pythonLiteral(parquet))).metadata.row_group(0).column(0).compression",
                                     setup: "import pyarrow.parquet as pq")
        #expect(codec == "ZSTD")
    }

    @Test func latin1CSVConvertsWithTheEncodingOption() async throws {
        let directory = try scratchDirectory()
        let parquet = directory + "/latin1.parquet"
        _ = try await DataFiles.convert(fixture("latin1.csv"), to: parquet,
                                        options: .init(encoding: "latin1"))
        let words = try pythonString("'|'.join(pq.read_table(\(pythonLiteral(parquet)))['word'].to_pylist())",
                                     setup: "import pyarrow.parquet as pq")
        #expect(words == "café|naïve")
    }

    @Test func latin1StringsInRDSArriveAsUTF8() async throws {
        let directory = try scratchDirectory()
        let parquet = directory + "/latin1.parquet"
        _ = try await DataFiles.convert(fixture("latin1_strings.rds"), to: parquet)
        let words = try pythonString("'|'.join(pq.read_table(\(pythonLiteral(parquet)))['word'].to_pylist())",
                                     setup: "import pyarrow.parquet as pq")
        #expect(words == "café|naïve|plain")
    }

    @Test func inspectCountsRowsNullsAndBatchesLikePyarrow() async throws {
        let summary = try await DataFiles.inspect(fixture("all_types.parquet"))
        let expected = try pythonString("','.join(f'{n}:{files_t[n].null_count}' for n in files_t.column_names)",
                                        setup: "import pyarrow.parquet as pq\nfiles_t = pq.read_table(\(pythonLiteral(fixture("all_types.parquet"))))")
        let actual = summary.columns.map { "\($0.name):\($0.nullCount)" }.joined(separator: ",")
        #expect(actual == expected)
        #expect(summary.rows == 6)
        #expect(summary.batches == 2)
        #expect(summary.columns.first { $0.name == "ts" }?.arrowType == "timestamp[us, tz=Europe/Paris]")
        #expect(summary.columns.first { $0.name == "cat" }?.rType == "factor")
    }

    @Test func largeCSVStreamsInSeveralBatches() async throws {
        let directory = try scratchDirectory()
        let csv = directory + "/big.csv", parquet = directory + "/big.parquet"
        try writeLargeCSV(to: csv, rows: 300_000, trailingLine: nil)
        // Row groups are whole groups of rowGroupRows rows, gathered from the streamed batches.
        let written = try await DataFiles.convert(csv, to: parquet, options: .init(rowGroupRows: 100_000))
        #expect(written.rows == 300_000)
        #expect(written.batches > 1)
        let rowGroups = try pythonString("str(pq.ParquetFile(\(pythonLiteral(parquet))).metadata.num_row_groups)",
                                         setup: "import pyarrow.parquet as pq")
        #expect(Int(rowGroups)! == 3)
    }
}

/// Every bad input: an error naming the file (and column or line), and no output left behind.
@Suite struct DataFileBadInputTests {
    /// Converts `input` into a fresh directory and returns the error; the directory must stay empty.
    func failure(_ input: String, output: String = "out.parquet",
                 options: DataFiles.ConvertOptions = .init()) async throws -> DataFileError {
        let directory = try scratchDirectory()
        do {
            _ = try await DataFiles.convert(input, to: directory + "/" + output, options: options)
        } catch {
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(leftovers.isEmpty, "partial output left behind: \(leftovers)")
            #expect(error.description.hasPrefix(error.file + ": "))
            return error
        }
        Issue.record("converting \(input) succeeded")
        throw DataFileError.unreadable(file: input, detail: "unexpectedly converted")
    }

    @Test func missingFile() async throws {
        let error = try await failure("/nonexistent/data.csv")
        #expect(error == .unreadable(file: "/nonexistent/data.csv", detail: "no such file"))
    }

    @Test func directoryInsteadOfFile() async throws {
        let directory = try scratchDirectory()
        let error = try await failure(directory, options: .init(from: .csv))
        #expect(error == .unreadable(file: directory, detail: "it is a directory, not a file"))
    }

    @Test func unknownExtension() async throws {
        let directory = try scratchDirectory()
        let path = directory + "/data.xlsx"
        try Data("a,b\n1,2\n".utf8).write(to: URL(fileURLWithPath: path))
        guard case .unknownFormat(let file, let detail) = try await failure(path) else {
            Issue.record("expected unknownFormat"); return
        }
        #expect(file == path)
        #expect(detail.contains(".xlsx"))
    }

    @Test func malformedCSVRowNamesTheLine() async throws {
        let error = try await failure(fixture("malformed_row.csv"))
        guard case .invalidContents(_, let detail) = error else { Issue.record("got \(error)"); return }
        #expect(detail.contains("line 4"))
        #expect(detail.contains("Expected 2 columns, got 3"))
    }

    @Test func emptyCSV() async throws {
        let error = try await failure(fixture("empty.csv"))
        #expect(error == .invalidContents(file: fixture("empty.csv"), detail: "the CSV file is empty (no header line)"))
    }

    @Test(arguments: ["truncated.parquet", "truncated.feather", "corrupted.feather"])
    func damagedArrowFile(name: String) async throws {
        let error = try await failure(fixture(name), output: "out.csv")
        guard case .invalidContents(let file, let detail) = error else { Issue.record("got \(error)"); return }
        #expect(file == fixture(name))
        #expect(detail.contains(name.hasSuffix("parquet") ? "Parquet" : "Feather"))
    }

    @Test func rdsHoldingAModel() async throws {
        let error = try await failure(fixture("model_not_frame.rds"))
        #expect(error == .notADataFrame(file: fixture("model_not_frame.rds"), found: "an object of class lm"))
    }

    @Test(arguments: [("duplicate_columns.rds", "a"), ("duplicate_header.csv", "value")])
    func duplicateColumnNames(name: String, column: String) async throws {
        let error = try await failure(fixture(name))
        #expect(error == .duplicateColumn(file: fixture(name), column: column))
    }

    @Test(arguments: ["list_column.parquet", "list_column.rds"])
    func unsupportedColumnType(name: String) async throws {
        let error = try await failure(fixture(name), output: name.hasSuffix("rds") ? "out.parquet" : "out.rds")
        guard case .unsupportedColumn(let file, let column, let type) = error else { Issue.record("got \(error)"); return }
        #expect(file == fixture(name))
        #expect(column == "items")
        #expect(type.contains("list"))
    }

    @Test func invalidUTF8InRDSIsRefusedNotMangled() async throws {
        let error = try await failure(fixture("invalid_utf8.rds"))
        guard case .invalidContents(_, let detail) = error else { Issue.record("got \(error)"); return }
        #expect(detail.contains("column 'word'"))
        #expect(detail.contains("row 2"))
    }

    @Test func latin1CSVWithoutEncodingNamesTheColumn() async throws {
        let error = try await failure(fixture("latin1.csv"))
        guard case .invalidContents(_, let detail) = error else { Issue.record("got \(error)"); return }
        #expect(detail.contains("column 'word'"))
        #expect(detail.contains("--encoding latin1"))
    }

    @Test func missingOutputDirectory() async throws {
        let error = try await failure(fixture("clean.csv"), output: "no/such/dir/out.parquet")
        guard case .unwritable = error else { Issue.record("got \(error)"); return }
    }

    /// The bad line comes after many good batches have been written: still nothing left behind,
    /// and an existing output file keeps its old contents.
    @Test func errorAfterSeveralBatchesLeavesTheOldOutputUntouched() async throws {
        let directory = try scratchDirectory()
        let csv = directory + "/late.csv", output = directory + "/out.parquet"
        try writeLargeCSV(to: csv, rows: 300_000, trailingLine: Data("300000,1.0,caf".utf8) + Data([0xE9, 0x0A]))  // 0xE9: Latin-1 "é"
        try Data("old".utf8).write(to: URL(fileURLWithPath: output))
        do {
            _ = try await DataFiles.convert(csv, to: output)
            Issue.record("converting a file with a bad last line succeeded")
        } catch {
            #expect(error.description.contains("column 'label'"))
            #expect(error.description.contains("line 300002"))
        }
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["late.csv", "out.parquet"])
    }
}

/// Writes `rows` lines of `id,value,label` (then `trailingLine` raw bytes) to `path`.
func writeLargeCSV(to path: String, rows: Int, trailingLine: Data?) throws {
    var text = "id,value,label\n"
    text.reserveCapacity(rows * 24)
    for row in 0..<rows { text += "\(row),\(Double(row) * 0.5),label\(row % 7)\n" }
    var data = Data(text.utf8)
    if let trailingLine { data.append(trailingLine) }
    try data.write(to: URL(fileURLWithPath: path))
}

/// `text` as a Python string literal.
func pythonLiteral(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
}
