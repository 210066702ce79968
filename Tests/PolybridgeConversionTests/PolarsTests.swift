import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// polars exports through the same PyCapsule stream as pyarrow, with its own layouts: string
/// views (`vu`), large strings, and categoricals as dictionaries with uint32 codes.
@Suite struct PolarsTests {
    static let frame = """
        import polars as pl
        from datetime import date, datetime
        polars_frame = pl.DataFrame({
            'dbl': pl.Series([1.5, None, float('nan'), -0.0], dtype=pl.Float64),
            'int': pl.Series([1, None, -7, 2**31 - 1], dtype=pl.Int32),
            'lgl': pl.Series([True, None, False, True], dtype=pl.Boolean),
            'chr': pl.Series(['a', None, 'é漢字🙂', 'x' * 100], dtype=pl.String),
            'cat': pl.Series(['lo', 'hi', None, 'lo'], dtype=pl.Categorical),
            'day': pl.Series([date(2024, 2, 29), None, date(1960, 1, 1), date(1970, 1, 1)], dtype=pl.Date),
            'ts': pl.Series([datetime(2024, 3, 31, 2, 30), None, datetime(1960, 1, 1), datetime(1970, 1, 1)],
                            dtype=pl.Datetime('us')).dt.replace_time_zone('UTC').dt.convert_time_zone('Europe/Paris'),
        })
        """

    @Test func polarsFrameArrivesInRWithRSemantics() async throws {
        let python = try PythonRuntime.shared()
        try python.exec(Self.frame)
        try await Bridge.assignToR(python: try python.evaluateObject("polars_frame"), as: "polars_in_r")
        let r = try RRuntime.shared()
        #expect(try await r.eval("is.na(polars_in_r$dbl) & !is.nan(polars_in_r$dbl)", as: [Bool].self) == [false, true, false, false])
        #expect(try await r.eval("is.nan(polars_in_r$dbl)", as: [Bool].self) == [false, false, true, false])
        #expect(try await r.eval("typeof(polars_in_r$int)", as: String.self) == "integer")
        #expect(try await r.eval("polars_in_r$chr[3]", as: String.self) == "é漢字🙂")
        #expect(try await r.eval("as.character(polars_in_r$cat)", as: [String?].self) == ["lo", "hi", nil, "lo"])
        #expect(try await r.eval("format(polars_in_r$day[1])", as: String.self) == "2024-02-29")
        #expect(try await r.eval("attr(polars_in_r$ts, 'tzone')", as: String.self) == "Europe/Paris")
        #expect(try await r.eval("format(polars_in_r$ts[1], '%Y-%m-%d %H:%M')", as: String.self) == "2024-03-31 04:30")
    }

    @Test func polarsFrameRoundTripsThroughREqual() async throws {
        let python = try PythonRuntime.shared()
        try python.exec(Self.frame + "\n" + arrowDifferenceSource)
        let table = try Bridge.table(fromPython: try python.evaluateObject("polars_frame"))
        try await Bridge.assignToR(table, as: "polars_round_trip")
        let back = try Bridge.pyarrow(from: try await Bridge.table(fromR: "polars_round_trip"))
        let compare = try python.evaluateObject("lambda back: arrow_difference(pl.from_arrow(back).to_arrow(), polars_frame.to_arrow())")
        #expect(try python.value(of: try python.call(compare, [back])) == .string("same"))
    }
}
