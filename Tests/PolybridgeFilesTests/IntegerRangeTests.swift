import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// Integers R cannot hold exactly are refused with their true value and type.
@Suite struct IntegerRangeTests {
    /// A Parquet file written by pyarrow with column `v` of `type` holding `values` (Python literals).
    func parquet(_ type: String, _ values: String, extra: String = "") throws -> String {
        let path = try scratchDirectory() + "/\(type).parquet"
        try PythonRuntime.shared().exec("""
            import pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({\(extra)'v': pa.array(\(values), pa.\(type)())}), \(pythonLiteral(path)))
            """)
        return path
    }

    func conversionError(_ input: String) async throws -> String {
        do {
            _ = try await DataFiles.convert(input, to: try scratchDirectory() + "/out.rds")
        } catch {
            return "\(error)"
        }
        Issue.record("\(input) converted to R")
        return ""
    }

    /// 2^64 − 1 was reported as "int64 value 9223372036854775807".
    @Test func uint64BeyondInt64IsReportedWithItsValueAndType() async throws {
        let message = try await conversionError(try parquet("uint64", "[1, 2**64 - 1]"))
        #expect(message.contains("column 'v': uint64 value 18446744073709551615 at row 2"), "\(message)")
    }

    @Test func uint64WithinInt64IsReportedAsUInt64() async throws {
        let message = try await conversionError(try parquet("uint64", "[2**53 + 1]"))
        #expect(message.contains("column 'v': uint64 value 9007199254740993 at row 1"), "\(message)")
    }

    @Test func int64MinimumIsReportedWithItsValue() async throws {
        let message = try await conversionError(try parquet("int64", "[0, None, -2**63]"))
        #expect(message.contains("column 'v': int64 value -9223372036854775808 at row 3"), "\(message)")
    }
}
