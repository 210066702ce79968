import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// What a format cannot hold is refused when it is written, never dropped: the output holds
/// what the summary says, as pyarrow reads it back.
@Suite struct FaithfulWriteTests {
    /// Writes `table` (a pyarrow expression) as Feather to a fresh file named `name`, by pyarrow.
    func feather(_ name: String, _ table: String) throws -> String {
        let path = try scratchDirectory() + "/" + name
        try PythonRuntime.shared().exec("import pyarrow as pa, pyarrow.feather as feather\nfeather.write_feather(\(table), \(pythonLiteral(path)))")
        return path
    }

    /// Converts `input` to a file named `output` in a fresh directory; returns the error's text
    /// (and checks nothing was left), or nil when it converted.
    func failure(_ input: String, to output: String) async throws -> String? {
        let directory = try scratchDirectory()
        do {
            _ = try await DataFiles.convert(input, to: directory + "/" + output)
            return nil
        } catch {
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
            return "\(error)"
        }
    }

    /// date64 values with a part of a day: the R path refused them, Parquet (date32) and CSV
    /// (the date alone) dropped the rest of the day. Every one names the column and the row.
    @Test(arguments: ["out.parquet", "out.csv", "out.rds"])
    func date64WithPartOfADayIsRefusedWhereOnlyDaysAreHeld(output: String) async throws {
        let feather = try feather("partial.feather", "pa.table({'d': pa.array([86400000, None, 2 * 86400000 + 5000], pa.date64())})")
        let message = try await failure(feather, to: output)
        #expect(message?.contains("column 'd', row 3") == true, "\(message ?? "converted")")
        #expect(message?.contains("172805000 ms is not a whole day") == true, "\(message ?? "converted")")
    }

    /// Whole days (negative ones and nulls included) are written as those days; Feather keeps
    /// date64 milliseconds as they are.
    @Test func date64OfWholeDaysWritesToParquetAndPartialDaysToFeather() async throws {
        let whole = try feather("whole.feather", "pa.table({'d': pa.array([None, 86400000, -3 * 86400000], pa.date64())})")
        let parquet = try scratchDirectory() + "/whole.parquet"
        _ = try await DataFiles.convert(whole, to: parquet)
        let days = try pythonString("str(pq.read_table(\(pythonLiteral(parquet)))['d'].cast(pa.int32()).to_pylist())",
                                    setup: "import pyarrow as pa, pyarrow.parquet as pq")
        #expect(days == "[None, 1, -3]")
        let partial = try feather("partial.feather", "pa.table({'d': pa.array([5000], pa.date64())})")
        let copy = try scratchDirectory() + "/copy.feather"
        _ = try await DataFiles.convert(partial, to: copy)
        let kept = try pythonString("str(feather.read_table(\(pythonLiteral(copy)))['d'].cast(pa.int64()).to_pylist())",
                                    setup: "import pyarrow as pa, pyarrow.feather as feather")
        #expect(kept == "[5000]")
    }

    /// An R data.frame of 7 rows and no columns, saved by R.
    func zeroColumnRDS() async throws -> String {
        let rds = try scratchDirectory() + "/no_columns.rds"
        _ = try await RRuntime.shared().evaluate("saveRDS(data.frame(row.names = 1:7), '\(rds)')")
        return rds
    }

    /// Parquet and CSV count rows in their columns and lines: the file held 0 rows while convert
    /// said 7. It is refused, naming the row count.
    @Test(arguments: ["out.parquet", "out.csv"])
    func rowsWithoutColumnsAreRefusedWhereTheFormatCannotCountThem(output: String) async throws {
        let message = try await failure(try await zeroColumnRDS(), to: output)
        #expect(message?.contains("7 rows and no columns") == true, "\(message ?? "converted")")
    }

    /// Arrow IPC records a batch's length, so Feather keeps the 7 rows (pyarrow reads them).
    @Test func rowsWithoutColumnsKeepTheirCountInFeather() async throws {
        let feather = try scratchDirectory() + "/no_columns.feather"
        let written = try await DataFiles.convert(try await zeroColumnRDS(), to: feather)
        #expect(written.rows == 7)
        let rows = try pythonString("str(feather.read_table(\(pythonLiteral(feather))).num_rows)", setup: "import pyarrow.feather as feather")
        #expect(rows == "7")
    }

    /// A pipeline's write step goes through writeTable: the same refusal.
    @Test func writeTableRefusesRowsWithoutColumnsForParquet() async throws {
        let table = try await Bridge.table(fromR: "data.frame(a = 1:7)[, FALSE, drop = FALSE]")
        let directory = try scratchDirectory()
        await #expect(throws: DataFileError.self) { try await DataFiles.writeTable(table, to: directory + "/out.parquet") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }
}
