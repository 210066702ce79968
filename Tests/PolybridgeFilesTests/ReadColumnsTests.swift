import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// `DataFiles.readTable(_:columns:)`: only the named columns the file has, in the order asked,
/// each equal to the whole read's column, from every format.
@Suite struct ReadColumnsTests {
    @Test(arguments: ["parquet", "feather", "csv", "rds"])
    func aReadOfSomeColumnsEqualsThoseColumnsOfAWholeRead(format: String) async throws {
        let folder = try scratchDirectory()
        let parquet = folder + "/d.parquet", path = folder + "/d." + format
        try PythonRuntime.shared().exec("""
            import pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({'k': ['a', 'b', None, 'a'], 'x': [1.5, None, 3.0, 4.0], 'n': [1, 2, 3, 4],
                                     'skip': [9.0, 9.0, 9.0, 9.0]}), '\(parquet)', row_group_size=2)
            """)
        if format != "parquet" { _ = try await DataFiles.convert(parquet, to: path) }
        let whole = try await DataFiles.readTable(path)
        let some = try await DataFiles.readTable(path, columns: ["x", "k", "absent"])
        #expect(some.columnNames == ["x", "k"])
        #expect(some.rowCount == 4)
        #expect(try some.column(named: "x")!.float64Values() == whole.column(named: "x")!.float64Values())
        #expect(try some.column(named: "k")!.stringValues() == whole.column(named: "k")!.stringValues())
    }
}
