import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// What CSV text `convert` writes for timestamps, and the factor levels `--column-types` makes.
@Suite struct CSVTextFormatTests {
    /// A Parquet file with the columns given as Python `name: array` entries.
    func parquet(_ columns: String) throws -> String {
        let path = try scratchDirectory() + "/in.parquet"
        try PythonRuntime.shared().exec("""
            import pyarrow as pa, pyarrow.parquet as pq, datetime as dt
            pq.write_table(pa.table({\(columns)}), \(pythonLiteral(path)))
            """)
        return path
    }

    func csvText(_ input: String) async throws -> String {
        let output = try scratchDirectory() + "/out.csv"
        _ = try await DataFiles.convert(input, to: output)
        return try String(contentsOfFile: output, encoding: .utf8)
    }

    /// pandas' to_csv of the same values.
    func pandasText(_ input: String) throws -> String {
        // One expression, no global: tests run at once in the one interpreter.
        let python = try PythonRuntime.shared()
        let expression = "__import__('pandas').read_parquet(\(pythonLiteral(input))).to_csv(index=False, na_rep='NA')"
        guard case .string(let text) = try python.value(of: try python.evaluateObject(expression)) else { return "" }
        return text
    }

    /// Quotes aside (R's write.csv quotes text too), the lines pandas writes.
    func unquoted(_ text: String) -> String { text.replacingOccurrences(of: "\"", with: "") }

    @Test func wholeSecondTimestampsAreWrittenWithoutAFraction() async throws {
        let input = try parquet("'t': pa.array([dt.datetime(2013, 1, 1, 10), None], pa.timestamp('us'))")
        let text = try await csvText(input)
        #expect(text.contains("2013-01-01 10:00:00\""), "\(text)")
        #expect(unquoted(text) == (try pandasText(input)), "\(text)")
    }

    @Test func fractionalSecondsAreKept() async throws {
        let input = try parquet("'t': pa.array([dt.datetime(2013, 1, 1, 10, 0, 0, 500000)], pa.timestamp('us'))")
        #expect(unquoted(try await csvText(input)) == "t\n2013-01-01 10:00:00.500\n")
    }

    @Test func utcTimestampsCarryPandasOffset() async throws {
        let input = try parquet("'t': pa.array([dt.datetime(2013, 1, 1, 10)], pa.timestamp('us', 'UTC'))")
        let text = try await csvText(input)
        #expect(unquoted(text) == (try pandasText(input)), "\(text)")
        #expect(unquoted(text) == "t\n2013-01-01 10:00:00+00:00\n")
    }

    @Test func zonedTimestampsCarryTheirOffsetWithAColon() async throws {
        let input = try parquet("'t': pa.array([dt.datetime(2013, 1, 1, 15)], pa.timestamp('s', 'UTC')).cast(pa.timestamp('s', 'America/New_York'))")
        #expect(unquoted(try await csvText(input)) == "t\n2013-01-01 10:00:00-05:00\n")
    }

    /// R's factor() sorts the levels (the C collation of read.csv text here), not by first appearance.
    @Test func factorColumnTypeSortsLevelsAsR() async throws {
        let directory = try scratchDirectory()
        let csv = directory + "/f.csv"
        try Data("x\nb\na\nc\nB\na\n10\n9\n".utf8).write(to: URL(fileURLWithPath: csv))
        _ = try await DataFiles.convert(csv, to: directory + "/f.rds", options: .init(columnTypes: ["x": "factor"]))
        let same = try await RRuntime.shared().eval("""
            local({ old <- Sys.getlocale('LC_COLLATE'); on.exit(Sys.setlocale('LC_COLLATE', old)); Sys.setlocale('LC_COLLATE', 'C')
                    identical(readRDS('\(directory)/f.rds')$x, factor(read.csv('\(csv)', colClasses = 'character')$x)) })
            """, as: Bool.self)
        #expect(same)
        #expect(try await RRuntime.shared().eval("levels(readRDS('\(directory)/f.rds')$x)", as: [String].self) == ["10", "9", "B", "a", "b", "c"])
    }
}
