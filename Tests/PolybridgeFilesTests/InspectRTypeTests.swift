import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// `inspect` names the R type `convert` gives each column, also where it depends on the values.
@Suite struct InspectRTypeTests {
    /// The R type inspect reports, reduced to R's typeof() ("double (exact integers only)" is a
    /// double), for each column of `file`.
    func inspectedTypes(_ file: String) async throws -> [String] {
        try await DataFiles.inspect(file).columns.map { column in
            let type = column.rType ?? "none"
            return type.hasPrefix("double") ? "double" : type.hasPrefix("logical") ? "logical" : type
        }
    }

    /// typeof() of every column of the RDS file `convert` writes from `file`, as R's readRDS reads it.
    func convertedTypes(_ file: String) async throws -> [String] {
        let rds = try scratchDirectory() + "/out.rds"
        _ = try await DataFiles.convert(file, to: rds)
        let r = try RRuntime.shared()
        return try await r.eval("unname(vapply(readRDS('\(rds)'), typeof, ''))", as: [String].self)
    }

    /// CSV integers that fit R's integer (also with NA, across several batches) are integer
    /// vectors after convert, as read.csv makes them; wider ones are doubles.
    @Test func csvIntegerColumnsAreReportedAsConvertMakesThem() async throws {
        let csv = try scratchDirectory() + "/ints.csv"
        var text = "small,with_na,wide,late_wide,real\n"
        for row in 0..<200_000 {
            text += "\(row % 100),\(row % 3 == 0 ? "NA" : String(-row)),\(3_000_000_000 + row),\(row == 199_999 ? "2147483648" : "7"),0.5\n"
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: csv))
        let converted = try await convertedTypes(csv)
        #expect(converted == ["integer", "integer", "double", "double", "double"])
        #expect(try await inspectedTypes(csv) == converted)
    }

    /// An int32 column holding -2^31 (R's NA_integer_) becomes a double in R.
    @Test func int32ColumnHoldingRsNAIntegerIsReportedAsDouble() async throws {
        let parquet = try scratchDirectory() + "/int_min.parquet"
        try PythonRuntime.shared().exec("""
            import pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({'m': pa.array([1, None, -2**31], pa.int32()), 'n': pa.array([1, None, 2], pa.int32())}), \(pythonLiteral(parquet)))
            """)
        let converted = try await convertedTypes(parquet)
        #expect(converted == ["double", "integer"])
        #expect(try await inspectedTypes(parquet) == converted)
    }
}
