import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// Column names reach R whole or not at all.
@Suite struct ColumnNameTests {
    /// A Parquet file (written by pyarrow) whose second column is named "a\0b".
    func parquetWithNULInAName() throws -> String {
        let parquet = try scratchDirectory() + "/nul_name.parquet"
        try PythonRuntime.shared().exec("""
            import pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({'x': [1.5, 2.5], 'a\\0b': [1, 2]}), \(pythonLiteral(parquet)))
            """)
        return parquet
    }

    /// To RDS it is refused naming the file and the column's position (R cut the name to "a");
    /// nothing is written.
    @Test func nulInAParquetColumnNameIsRefusedOnTheWayToR() async throws {
        let parquet = try parquetWithNULInAName()
        let directory = try scratchDirectory()
        do {
            _ = try await DataFiles.convert(parquet, to: directory + "/out.rds")
            Issue.record("converted a name holding NUL to R")
        } catch {
            #expect(error.file == parquet)
            #expect(error.description.contains("column 2 ('a\\0b')"))
            #expect(error.description.contains("NUL"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        await #expect(throws: DataFileError.self) { try await DataFiles.readTable(parquet) }
    }

    /// Between pyarrow formats the name passes through whole, as pyarrow reads it back.
    @Test func nulInAColumnNameSurvivesParquetToFeather() async throws {
        let parquet = try parquetWithNULInAName()
        let feather = try scratchDirectory() + "/out.feather"
        let summary = try await DataFiles.convert(parquet, to: feather)
        #expect(summary.columns.map(\.name) == ["x", "a\u{0}b"])
        let names = try pythonString("repr(feather.read_table(\(pythonLiteral(feather))).schema.names)", setup: "import pyarrow.feather as feather")
        #expect(names == "['x', 'a\\x00b']")
    }

    /// A pandas frame with such a column is refused by the Python → Arrow conversion itself.
    @Test func nulInAPandasColumnNameIsRefusedByTheConversion() throws {
        let python = try PythonRuntime.shared()
        let frame = try python.evaluateObject("__import__('pandas').DataFrame({'ok': [1], 'a\\0b': [2]})")
        do {
            let table = try python.arrowTable(from: frame)
            Issue.record("converted, with names \(table.schema.map(\.name))")
        } catch {
            #expect("\(error)".contains("column 2 ('a\\0b')"))
        }
    }
}
