import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// Runs R `code` (which must return TRUE or FALSE) in the embedded R.
func rIsTrue(_ code: String) async throws -> Bool {
    try await RRuntime.shared().eval(code, as: Bool.self)
}

/// `path` as an R string literal.
func rLiteral(_ path: String) -> String {
    "'" + path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
}

/// Runs Python `code` defining `result` (a string) and returns it; names are local to the call.
func pythonResult(_ code: String) throws -> String {
    let python = try PythonRuntime.shared()
    let runner = try python.evaluateObject("lambda code: (lambda scope: (exec(code, scope), str(scope['result']))[1])({})")
    let value = try python.value(of: try python.call(runner, [try python.object(code)]))
    guard case .string(let text) = value else { throw PythonError.conversion("expected a string, got \(value)") }
    return text
}

/// Text files as users meet them: R's and pandas' CSV conventions, empty and late-typed columns.
@Suite struct CSVConventionTests {
    /// Only unquoted empty/NA/NULL/null fields are missing: RDS → CSV → RDS is identical().
    @Test func quotedStringsAreNotMissingValues() async throws {
        let directory = try scratchDirectory()
        let rds = directory + "/s.rds", csv = directory + "/s.csv", back = directory + "/back.rds"
        _ = try await rIsTrue("{saveRDS(data.frame(s = c('NA', 'US', NA, '', 'null')), \(rLiteral(rds))); TRUE}")
        _ = try await DataFiles.convert(rds, to: csv)
        _ = try await DataFiles.convert(csv, to: back)
        #expect(try await rIsTrue("identical(readRDS(\(rLiteral(rds))), readRDS(\(rLiteral(back))))"))
        // A file R's write.csv wrote keeps the quoted strings apart from its unquoted NA (R's own
        // read.csv does not: it reads the quoted "NA" as missing too).
        let written = directory + "/r.csv", fromR = directory + "/r.rds"
        _ = try await rIsTrue("{write.csv(data.frame(s = c('NA', NA, 'null', '')), \(rLiteral(written)), row.names = FALSE); TRUE}")
        _ = try await DataFiles.convert(written, to: fromR)
        #expect(try await rIsTrue("identical(readRDS(\(rLiteral(fromR))), data.frame(s = c('NA', NA, 'null', '')))"))
    }

    /// An all-empty column, a header-only file and R's write.csv of an NA column become what
    /// read.csv gives: logical NA columns (and integer ids).
    @Test(arguments: ["empty-fields", "header-only", "write.csv"])
    func allNullColumnsReadAsReadCSVDoes(kind: String) async throws {
        let directory = try scratchDirectory()
        let csv = directory + "/in.csv", rds = directory + "/out.rds"
        switch kind {
        case "empty-fields": try "id,notes\n1,\n2,\n".write(toFile: csv, atomically: true, encoding: .utf8)
        case "header-only": try "id,notes\n".write(toFile: csv, atomically: true, encoding: .utf8)
        default: _ = try await rIsTrue("{write.csv(data.frame(id = 1:3, notes = NA), \(rLiteral(csv)), row.names = FALSE); TRUE}")
        }
        _ = try await DataFiles.convert(csv, to: rds)
        #expect(try await rIsTrue("identical(readRDS(\(rLiteral(rds))), read.csv(\(rLiteral(csv))))"))
    }

    /// A column empty for 299,000 lines and then filled, and text late in a numeric column, are
    /// typed from the whole file (what R's read.csv gives), not refused at line 299,002.
    @Test func lateTypedColumnsAreTypedFromTheWholeFile() async throws {
        let directory = try scratchDirectory()
        let csv = directory + "/late.csv", rds = directory + "/late.rds", parquet = directory + "/late.parquet"
        var text = "id,notes,v\n"
        for row in 0..<299_000 { text += "\(row),,\(row)\n" }
        text += "299000,hello,x\n"
        try text.write(toFile: csv, atomically: true, encoding: .utf8)
        _ = try await DataFiles.convert(csv, to: rds)
        #expect(try await rIsTrue("identical(readRDS(\(rLiteral(rds))), read.csv(\(rLiteral(csv)), na.strings = c('', 'NA')))"))
        let summary = try await DataFiles.convert(csv, to: parquet)
        #expect(summary.rows == 299_001)
        let types = try pythonResult("""
            import pyarrow.parquet as pq
            table = pq.read_table(\(pythonLiteral(parquet)))
            result = f"{table.schema.field('notes').type} {table.schema.field('v').type} {table['notes'][-1]} {table['v'][-1]}"
            """)
        #expect(types == "string string hello x")
    }

    /// A pipe cannot be read twice: the error names the column, the line and the option, and
    /// the option fixes it.
    @Test func lateTypeInAPipeNamesColumnLineAndOption() async throws {
        let directory = try scratchDirectory()
        let csv = directory + "/late.csv"
        var text = "id,score\n"
        for row in 0..<200_000 { text += "\(row),\(row)\n" }
        text += "200000,n/a\n"
        try text.write(toFile: csv, atomically: true, encoding: .utf8)
        let piped = try await runCommand("bash", ["-c", "cat \(csv) | \(polybridgeExecutable().path) convert /dev/stdin --from csv \(directory)/out.parquet"])
        #expect(piped.status == 1)
        #expect(piped.error.contains("column 'score', line 200002"), "\(piped.error)")
        #expect(piped.error.contains("--column-types score=string"))
        let fixed = try await runCommand("bash", ["-c", "cat \(csv) | \(polybridgeExecutable().path) convert /dev/stdin --from csv --column-types score=string \(directory)/out.parquet"])
        #expect(fixed.status == 0, "\(fixed.error)")
    }

    /// `--column-types` keeps zip codes' leading zeros; a bad type or column is named.
    @Test func columnTypesOverrideInference() async throws {
        let directory = try scratchDirectory()
        let csv = directory + "/zip.csv", rds = directory + "/zip.rds"
        try "zip,n\n01234,1\n98765,2\n".write(toFile: csv, atomically: true, encoding: .utf8)
        _ = try await DataFiles.convert(csv, to: rds, options: .init(columnTypes: ["zip": "string", "n": "double"]))
        #expect(try await rIsTrue("identical(readRDS(\(rLiteral(rds))), data.frame(zip = c('01234', '98765'), n = c(1, 2)))"))
        for (types, expected) in [(["zip": "strin"], "unknown type 'strin' for column 'zip'"),
                                  (["zipp": "string"], "names 'zipp', which the file does not have")] {
            do {
                _ = try await DataFiles.convert(csv, to: rds, options: .init(columnTypes: types))
                Issue.record("\(types) was accepted")
            } catch {
                #expect(error.description.contains(expected), "\(error)")
            }
        }
    }

    /// A Parquet file named .csv is recognised, not parsed as a "malformed CSV row".
    @Test func parquetNamedCSVIsRecognised() async throws {
        let directory = try scratchDirectory()
        let disguised = directory + "/data.csv"
        try FileManager.default.copyItem(atPath: fixture("all_types.parquet"), toPath: disguised)
        do {
            _ = try await DataFiles.convert(disguised, to: directory + "/out.rds")
            Issue.record("a Parquet file was read as CSV")
        } catch {
            #expect(error.description == "\(disguised): this looks like a Parquet file, not CSV text; pass --from parquet or rename it")
        }
    }
}

/// Every Arrow type has an answer: converted to R, passed through, or refused by name.
@Suite struct ArrowTypeCoverageTests {
    /// float32, date64, timestamps in s/ms/ns, decimal and null convert to what R would hold,
    /// checked value by value in R.
    @Test func everyConvertibleTypeReachesRWithItsValues() async throws {
        let directory = try scratchDirectory()
        let feather = directory + "/types.feather", rds = directory + "/types.rds"
        _ = try pythonResult("""
            import datetime, decimal, numpy as np, pyarrow as pa, pyarrow.feather as feather
            feather.write_feather(pa.table({
                'f32': pa.array([1.5, None, -3.25], pa.float32()),
                'f16': pa.array(np.array([0.5, 0, 2.0], dtype=np.float16), mask=np.array([False, True, False])),
                'd64': pa.array([datetime.date(2024, 2, 29), None, datetime.date(1969, 12, 31)], pa.date64()),
                'ts_s': pa.array([0, 86400, None], pa.timestamp('s', 'UTC')),
                'ts_ms': pa.array([1500, -1, None], pa.timestamp('ms', 'UTC')),
                'ts_ns': pa.array([1_700_000_000_123_456_000, 1, None], pa.timestamp('ns', 'Europe/Paris')),
                'dec': pa.array([decimal.Decimal('1.10'), None, decimal.Decimal('-12345.67')], pa.decimal128(10, 2)),
                'nul': pa.array([None, None, None], pa.null()),
            }), \(pythonLiteral(feather)))
            result = 'ok'
            """)
        _ = try await DataFiles.convert(feather, to: rds)
        #expect(try await rIsTrue("""
            with(readRDS(\(rLiteral(rds))), identical(f32, c(1.5, NA, -3.25)) && identical(f16, c(0.5, NA, 2)) &&
              identical(d64, as.Date(c('2024-02-29', NA, '1969-12-31'))) &&
              identical(ts_s, as.POSIXct(c(0, 86400, NA), origin = '1970-01-01', tz = 'UTC')) &&
              identical(ts_ms, as.POSIXct(c(1.5, -0.001, NA), origin = '1970-01-01', tz = 'UTC')) &&
              identical(attr(ts_ns, 'tzone'), 'Europe/Paris') && identical(unclass(ts_ns)[2:3], c(1e-9, NA)) &&
              abs(unclass(ts_ns)[1] - 1700000000.123456) < 1e-6 &&
              identical(dec, c(1.1, NA, -12345.67)) && identical(nul, c(NA, NA, NA)))
            """))
    }

    /// A decimal with more digits than a double holds exactly is an error naming column and row.
    @Test func inexactDecimalIsRefusedNamingTheRow() async throws {
        let directory = try scratchDirectory()
        let parquet = directory + "/big.parquet"
        _ = try pythonResult("""
            import decimal, pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({'amount': pa.array([decimal.Decimal('1.5'), decimal.Decimal('1234567890.1234567')],
                                                        pa.decimal128(20, 7))}), \(pythonLiteral(parquet)))
            result = 'ok'
            """)
        do {
            _ = try await DataFiles.convert(parquet, to: directory + "/out.rds")
            Issue.record("an inexact decimal was converted")
        } catch {
            #expect(error.description.contains("column 'amount', row 2"), "\(error)")
            #expect(error.description.contains("15 significant digits"))
        }
    }

    /// time32, binary, list and struct are refused on the way to R, all named in one message;
    /// between Parquet and Feather they pass through unchanged; inspect prints type names.
    @Test func nestedAndUnconvertibleTypesPassThroughOrAreAllNamed() async throws {
        let directory = try scratchDirectory()
        let parquet = directory + "/nested.parquet", feather = directory + "/nested.feather", again = directory + "/again.parquet"
        _ = try pythonResult("""
            import decimal, pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({
                'id': [1, 2, 3],
                'items': pa.array([[1, 2], [], None], pa.list_(pa.int64())),
                'point': pa.array([{'a': 1, 'b': 'x'}, None, {'a': 2, 'b': 'y'}]),
                'at': pa.array([1, 2, None], pa.time32('ms')),
                'blob': pa.array([b'a', None, b'\\x00']),
                'price': pa.array([decimal.Decimal('1.10'), None, decimal.Decimal('2.00')], pa.decimal128(10, 2)),
            }), \(pythonLiteral(parquet)))
            result = 'ok'
            """)
        do {
            _ = try await DataFiles.convert(parquet, to: directory + "/out.rds")
            Issue.record("list/struct/time/binary reached R")
        } catch {
            for column in ["'items' (list<int64>)", "'point' (struct<a: int64, b: string>)", "'at' (time32[ms])", "'blob' (binary)"] {
                #expect(error.description.contains(column), "\(error)")
            }
        }
        _ = try await DataFiles.convert(parquet, to: feather)
        _ = try await DataFiles.convert(feather, to: again)
        let same = try pythonResult("""
            import pyarrow.parquet as pq, pyarrow.feather as feather
            original = pq.read_table(\(pythonLiteral(parquet)))
            result = str(original.equals(feather.read_table(\(pythonLiteral(feather)))) and original.equals(pq.read_table(\(pythonLiteral(again)))))
            """)
        #expect(same == "True")
        let summary = try await DataFiles.inspect(parquet)
        #expect(summary.columns.map(\.arrowType) == ["int64", "list<int64>", "struct<a: int64, b: string>", "time32[ms]", "binary", "decimal128(10, 2)"])
    }

    /// Feather V1 (pre-IPC) files are read.
    @Test func featherVersionOneIsRead() async throws {
        let directory = try scratchDirectory()
        let v1 = directory + "/old.feather", rds = directory + "/old.rds"
        _ = try pythonResult("""
            import warnings, pyarrow as pa, pyarrow.feather as feather
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                feather.write_feather(pa.table({'x': [1.5, None], 'name': ['a', 'b']}), \(pythonLiteral(v1)), version=1)
            result = open(\(pythonLiteral(v1)), 'rb').read(4).decode()
            """)
        _ = try await DataFiles.convert(v1, to: rds)
        #expect(try await rIsTrue("identical(readRDS(\(rLiteral(rds))), data.frame(x = c(1.5, NA), name = c('a', 'b')))"))
    }
}

/// Compressed and delimited text, by extension and by option.
@Suite struct CompressedTextTests {
    @Test(arguments: [("gz", "gzip", [UInt8]([0x1f, 0x8b])), ("bz2", "bz2", Array("BZh".utf8)), ("zst", "zstd", [0x28, 0xb5, 0x2f, 0xfd])])
    func compressedCSVIsWrittenAndReadByExtension(ext: String, codec: String, magic: [UInt8]) async throws {
        let directory = try scratchDirectory()
        let compressed = directory + "/clean.csv." + ext, back = directory + "/back.parquet"
        _ = try await DataFiles.convert(fixture("clean.csv"), to: compressed)
        let head = try Data(contentsOf: URL(fileURLWithPath: compressed)).prefix(magic.count)
        #expect(Array(head) == magic, "\(compressed) is not \(codec)-compressed")
        _ = try await DataFiles.convert(compressed, to: back)
        let same = try pythonResult("""
            import pyarrow as pa, pyarrow.csv as csv, pyarrow.parquet as pq
            options = csv.ConvertOptions(null_values=['', 'NA'], strings_can_be_null=True, quoted_strings_can_be_null=False)
            expected = csv.read_csv(\(pythonLiteral(fixture("clean.csv"))), convert_options=options)
            independent = csv.read_csv(pa.input_stream(\(pythonLiteral(compressed)), compression='\(codec)'), convert_options=options)
            def same(a, b):  # NaN-aware: Arrow's equals() says NaN != NaN
                return a.schema == b.schema and repr(a.to_pylist()) == repr(b.to_pylist())
            result = str(same(expected, pq.read_table(\(pythonLiteral(back)))) and same(expected, independent))
            """)
        #expect(same == "True")
    }

    /// .tsv splits on tabs both ways; --delimiter reads other separators.
    @Test func tabsAndOtherDelimiters() async throws {
        let directory = try scratchDirectory()
        let tsv = directory + "/in.tsv", semicolon = directory + "/in.txt", out = directory + "/out.tsv", rds = directory + "/x.rds"
        try "name\tscore\nAnn, Jr.\t1.5\nBo\t2\n".write(toFile: tsv, atomically: true, encoding: .utf8)
        _ = try await DataFiles.convert(tsv, to: rds)
        #expect(try await rIsTrue("identical(readRDS(\(rLiteral(rds))), data.frame(name = c('Ann, Jr.', 'Bo'), score = c(1.5, 2)))"))
        _ = try await DataFiles.convert(rds, to: out)
        #expect(try await rIsTrue("identical(read.delim(\(rLiteral(out))), data.frame(name = c('Ann, Jr.', 'Bo'), score = c(1.5, 2)))"))
        try "name;score\nAnn;1,5\n".replacingOccurrences(of: "1,5", with: "1.5").write(toFile: semicolon, atomically: true, encoding: .utf8)
        _ = try await DataFiles.convert(semicolon, to: rds, options: .init(from: .csv, delimiter: ";"))
        #expect(try await rIsTrue("identical(readRDS(\(rLiteral(rds))), data.frame(name = 'Ann', score = 1.5))"))
    }

    /// The same compression names for every format: `none` everywhere, `uncompressed` accepted.
    @Test(arguments: ["feather", "parquet", "csv", "rds"])
    func noneAndUncompressedAreAcceptedForEveryFormat(format: String) async throws {
        let directory = try scratchDirectory()
        for name in ["none", "uncompressed"] {
            let output = directory + "/out-\(name)." + format
            _ = try await DataFiles.convert(fixture("clean.csv"), to: output, options: .init(compression: name))
            #expect(FileManager.default.fileExists(atPath: output))
        }
    }
}

/// Output files behave as `cp` would leave them, and errors name the user's path.
@Suite struct OutputFileTests {
    @Test func replacingAFileKeepsItsMode() async throws {
        let directory = try scratchDirectory()
        let output = directory + "/shared.parquet"
        try Data("old".utf8).write(to: URL(fileURLWithPath: output))
        #expect(chmod(output, 0o640) == 0)
        _ = try await DataFiles.convert(fixture("clean.csv"), to: output)
        let mode = (try FileManager.default.attributesOfItem(atPath: output)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o640)
    }

    @Test func aSymlinkIsWrittenThroughToItsTarget() async throws {
        let directory = try scratchDirectory()
        let target = directory + "/real.csv", link = directory + "/link.csv"
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real.csv")
        _ = try await DataFiles.convert(fixture("clean.csv"), to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "real.csv")
        #expect(try String(contentsOfFile: target, encoding: .utf8).hasPrefix("\""))
    }

    /// An existing file the user may not write is refused and left as it was. (Root may write
    /// any file, so for root the file is made immutable instead.)
    @Test func anUnwritableFileIsRefusedNotReplaced() async throws {
        let directory = try scratchDirectory()
        let output = directory + "/locked.csv"
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: output))
        if geteuid() == 0 {
            let locked = try await runCommand("chattr", ["+i", output])
            #expect(locked.status == 0, "\(locked.error)")
        } else {
            #expect(chmod(output, 0o444) == 0)
        }
        defer { if geteuid() == 0 { _ = try? runCommandBlocking("chattr", ["-i", output]) } }
        do {
            _ = try await DataFiles.convert(fixture("clean.csv"), to: output)
            Issue.record("an unwritable file was replaced")
        } catch {
            #expect(error.description.hasPrefix("\(output): cannot write: the existing file is not writable"), "\(error)")
        }
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "old\n")
    }

    /// A write failure (here the file-size limit, as a full disk would) names the user's path and
    /// the system's reason, never the temporary name, and leaves nothing behind.
    @Test func aWriteFailureNamesTheUsersPath() async throws {
        let directory = try scratchDirectory()
        let csv = directory + "/big.csv", output = directory + "/people.csv"
        try writeLargeCSV(to: csv, rows: 50_000, trailingLine: nil)
        let run = try await runCommand("bash", ["-c", "trap '' XFSZ; ulimit -f 64; exec \(polybridgeExecutable().path) convert \(csv) \(output)"])
        #expect(run.status == 1)
        #expect(run.error.contains("error: \(output): cannot write: File too large"), "\(run.error)")
        #expect(!run.error.contains(".tmp"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["big.csv"])
    }
}

/// R row names ↔ the pandas index, through Bridge and through files, stored as pandas stores it.
@Suite struct RowNameIndexTests {
    /// `mtcars`' car names become the pandas index, and a pandas string index becomes row names.
    @Test func bridgeCarriesRowNamesBothWays() async throws {
        let python = try PythonRuntime.shared()
        let frame = try await Bridge.pandas(fromR: "mtcars")
        let describe = try python.evaluateObject("lambda df: '|'.join(df.index) + ':' + str(df.shape[1])")
        let seen = try python.value(of: try python.call(describe, [frame]))
        let expected = try await RRuntime.shared().eval("paste(paste(rownames(mtcars), collapse = '|'), ncol(mtcars), sep = ':')", as: String.self)
        #expect(seen == .string(expected))
        let indexed = try python.evaluateObject("__import__('pandas').DataFrame({'v': [1.5, 2.5]}, index=__import__('pandas').Index(['x', 'y']))")
        try await Bridge.assignToR(python: indexed, as: "row_name_index_test")
        #expect(try await rIsTrue("identical(row_name_index_test, data.frame(v = c(1.5, 2.5), row.names = c('x', 'y')))"))
        // A filtered pandas frame keeps its integer labels as R row names, and back.
        let filtered = try python.evaluateObject("__import__('pandas').DataFrame({'v': [1.0, 2.0, 3.0]}).iloc[[2, 0]]")
        try await Bridge.assignToR(python: filtered, as: "row_name_subset_test")
        #expect(try await rIsTrue("identical(row_name_subset_test, data.frame(v = c(3, 1), row.names = c(2L, 0L)))"))
    }

    /// Through Parquet: pandas.read_parquet restores the index, R gets row names from a file
    /// pandas wrote, and automatic row names add no column.
    @Test func filesStoreTheIndexAsPandasDoes() async throws {
        let directory = try scratchDirectory()
        let mtcars = directory + "/mtcars.rds", parquet = directory + "/mtcars.parquet", back = directory + "/back.rds"
        _ = try await rIsTrue("{saveRDS(mtcars, \(rLiteral(mtcars))); TRUE}")
        _ = try await DataFiles.convert(mtcars, to: parquet)
        let index = try pythonResult("""
            import pandas as pd
            result = '|'.join(pd.read_parquet(\(pythonLiteral(parquet))).index)
            """)
        #expect(index == (try await RRuntime.shared().eval("paste(rownames(mtcars), collapse = '|')", as: String.self)))
        _ = try await DataFiles.convert(parquet, to: back)
        #expect(try await rIsTrue("identical(readRDS(\(rLiteral(back))), mtcars)"))

        let fromPandas = directory + "/pandas.parquet", rds = directory + "/pandas.rds"
        _ = try pythonResult("""
            import pandas as pd
            pd.DataFrame({'v': [1.5, 2.5]}, index=pd.Index(['x', 'y'], name='id')).to_parquet(\(pythonLiteral(fromPandas)))
            result = 'ok'
            """)
        _ = try await DataFiles.convert(fromPandas, to: rds)
        #expect(try await rIsTrue("identical(readRDS(\(rLiteral(rds))), data.frame(v = c(1.5, 2.5), row.names = c('x', 'y')))"))

        let automatic = directory + "/auto.rds", autoParquet = directory + "/auto.parquet"
        _ = try await rIsTrue("{saveRDS(data.frame(a = 1:3), \(rLiteral(automatic))); TRUE}")
        _ = try await DataFiles.convert(automatic, to: autoParquet)
        let layout = try pythonResult("""
            import pandas as pd, pyarrow.parquet as pq
            result = f"{pq.read_schema(\(pythonLiteral(autoParquet))).names} {type(pd.read_parquet(\(pythonLiteral(autoParquet))).index).__name__}"
            """)
        #expect(layout == "['a'] RangeIndex")
    }

    /// Through CSV: row names go first under an empty header (as write.csv and to_csv write
    /// them) and come back as row names (as read.csv(row.names = 1) and read_csv(index_col=0) read them).
    @Test func csvKeepsRowNamesAsTheFirstColumn() async throws {
        let directory = try scratchDirectory()
        let rds = directory + "/m.rds", csv = directory + "/m.csv", back = directory + "/back.rds"
        _ = try await rIsTrue("{saveRDS(mtcars, \(rLiteral(rds))); TRUE}")
        _ = try await DataFiles.convert(rds, to: csv)
        #expect(try await rIsTrue("identical(read.csv(\(rLiteral(csv)), row.names = 1), { m <- mtcars; m[] <- lapply(m, function(x) if (all(x == round(x))) as.integer(x) else x); m })"))
        _ = try await DataFiles.convert(csv, to: back)
        #expect(try await rIsTrue("identical(readRDS(\(rLiteral(back))), read.csv(\(rLiteral(csv)), row.names = 1))"))
        let pandasIndex = try pythonResult("""
            import pandas as pd
            result = pd.read_csv(\(pythonLiteral(csv)), index_col=0).index[0]
            """)
        #expect(pandasIndex == "Mazda RX4")
    }
}
