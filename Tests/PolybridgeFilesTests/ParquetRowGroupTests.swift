import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// Parquet written by `convert` has row groups of about a million rows (pyarrow's default),
/// not one per CSV block; `rowGroupRows` chooses another size.
@Suite struct ParquetRowGroupTests {
    /// A 3-column CSV of `rows` rows.
    func csv(rows: Int) throws -> String {
        let path = try scratchDirectory() + "/rows.csv"
        var text = "a,b,c\n"
        for row in 0..<rows { text += "\(row),\(row % 7).5,g\(row % 3)\n" }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The row counts of the row groups of `path`, as pyarrow reads them from the metadata.
    func rowGroupSizes(_ path: String) throws -> [Int] {
        let python = try PythonRuntime.shared()
        try python.exec("""
            import pyarrow.parquet as pq
            _meta = pq.ParquetFile(\(pythonLiteral(path))).metadata
            row_group_sizes = ','.join(str(_meta.row_group(i).num_rows) for i in range(_meta.num_row_groups))
            """)
        guard case .string(let text) = try python.value(of: try python.evaluateObject("row_group_sizes")) else { return [] }
        return text.split(separator: ",").map { Int($0)! }
    }

    @Test func csvToParquetWritesOneRowGroupUpToAMillionRows() async throws {
        let input = try csv(rows: 300_000)
        let output = try scratchDirectory() + "/out.parquet"
        _ = try await DataFiles.convert(input, to: output)
        #expect(try rowGroupSizes(output) == [300_000])
    }

    @Test func rowGroupRowsChoosesTheRowGroupSize() async throws {
        let input = try csv(rows: 25_000)
        let output = try scratchDirectory() + "/out.parquet"
        _ = try await DataFiles.convert(input, to: output, options: .init(rowGroupRows: 10_000))
        #expect(try rowGroupSizes(output) == [10_000, 10_000, 5_000])
    }

    @Test func rowGroupRowsOnTheCommandLine() async throws {
        let input = try csv(rows: 2_500)
        let output = try scratchDirectory() + "/out.parquet"
        let run = try await runPolybridge("convert", "--row-group-rows", "1000", input, output)
        #expect(run.status == 0, "\(run.error)")
        #expect(try rowGroupSizes(output) == [1_000, 1_000, 500])
        let refused = try await runPolybridge("convert", "--row-group-rows", "1000", input, output + ".csv")
        #expect(refused.status == 1)
        #expect(refused.error.contains("--row-group-rows applies to Parquet output"), "\(refused.error)")
    }
}
