import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// int64 columns whose values all fit R's integer become integer vectors on the way to R, as
/// R's arrow package does (`arrow.int64_downcast`); wider ones stay doubles.
@Suite struct Int64DowncastTests {
    /// A Parquet file written by pyarrow with int64 column `v` holding `values` (a Python literal).
    func parquet(_ values: String) throws -> String {
        let path = try scratchDirectory() + "/int64.parquet"
        try PythonRuntime.shared().exec("""
            import pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({'v': pa.array(\(values), pa.int64())}), \(pythonLiteral(path)))
            """)
        return path
    }

    func rType(afterConverting input: String) async throws -> String {
        let rds = try scratchDirectory() + "/out.rds"
        _ = try await DataFiles.convert(input, to: rds)
        return try await RRuntime.shared().eval("typeof(readRDS('\(rds)')$v)", as: String.self)
    }

    @Test func parquetInt64ThatFitsBecomesAnRInteger() async throws {
        let input = try parquet("[1, None, -2**31 + 1, 2**31 - 1]")
        #expect(try await rType(afterConverting: input) == "integer")
        let rds = try scratchDirectory() + "/again.rds"
        _ = try await DataFiles.convert(input, to: rds)
        #expect(try await RRuntime.shared().eval("identical(readRDS('\(rds)')$v, c(1L, NA, -2147483647L, 2147483647L))", as: Bool.self))
    }

    @Test func parquetInt64HoldingRsNAIntegerOrWiderStaysDouble() async throws {
        #expect(try await rType(afterConverting: try parquet("[1, -2**31]")) == "double")
        #expect(try await rType(afterConverting: try parquet("[1, 2**31]")) == "double")
    }

    /// CSV → RDS and CSV → Parquet → RDS give the same R types.
    @Test func csvThroughParquetToRDSKeepsIntegers() async throws {
        let directory = try scratchDirectory()
        try Data("year,n\n2013,1\n2014,2\n".utf8).write(to: URL(fileURLWithPath: directory + "/in.csv"))
        _ = try await DataFiles.convert(directory + "/in.csv", to: directory + "/mid.parquet")
        let summary = try await DataFiles.convert(directory + "/mid.parquet", to: directory + "/out.rds")
        #expect(try await RRuntime.shared().eval("identical(readRDS('\(directory)/out.rds'), read.csv('\(directory)/in.csv'))", as: Bool.self))
        // The summary describes the file written: integer vectors, Arrow int32.
        #expect(summary.columns.map(\.rType) == ["integer", "integer"])
        #expect(summary.columns.map(\.arrowType) == ["int32", "int32"])
    }

    @Test func inspectOfParquetNamesTheRTypeConvertGives() async throws {
        let summary = try await DataFiles.inspect(try parquet("[5, None, 7]"))
        #expect(summary.columns.first?.rType == "integer")
        #expect(summary.columns.first?.arrowType == "int64")
    }

    @Test func pipelineRStepSeesParquetInt64AsInteger() async throws {
        let input = try parquet("[1, 2, 3]")
        let table = try await DataFiles.readTable(input)
        try await Bridge.assignToR(table, as: "downcast_check")
        #expect(try await RRuntime.shared().eval("typeof(downcast_check$v)", as: String.self) == "integer")
    }

    /// Beyond 2^53 the message says how to keep the values: as text.
    @Test func int64BeyondDoublePrecisionSuggestsReadingAsText() async throws {
        let directory = try scratchDirectory()
        try Data("id,big\n1,9007199254740993\n".utf8).write(to: URL(fileURLWithPath: directory + "/big.csv"))
        do {
            _ = try await DataFiles.convert(directory + "/big.csv", to: directory + "/out.rds")
            Issue.record("converted")
        } catch {
            let message = "\(error)"
            #expect(message.contains("--column-types big=string"), "\(message)")
            #expect(message.contains("bit64::as.integer64"), "\(message)")
        }
    }
}
