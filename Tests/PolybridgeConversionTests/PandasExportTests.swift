import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// pandas frames reach Arrow through Polybridge's own route (vectorised NaN scan, no copy for
/// NaN-free columns); the result must be exactly what pyarrow's `Table.from_pandas` gives.
@Suite struct PandasExportTests {
    static let frames = """
        import numpy as np, pandas as pd, pyarrow as pa
        from datetime import datetime
        pandas_export_frame = pd.DataFrame({
            'f64': [1.5, np.nan, -0.0, np.inf],
            'f64_clean': [1.0, 2.0, 3.0, 4.0],
            'i64': np.array([1, -2, 3, 2**40], dtype=np.int64),
            'i32': np.array([1, -2, 3, 4], dtype=np.int32),
            'flag': [True, False, True, False],
            'obj': ['a', None, 'é', 'd'],
            'text': pd.array(['a', None, 'b', 'c'], dtype='str'),
            'cat': pd.Categorical(['lo', 'hi', None, 'lo'], categories=['lo', 'mid', 'hi'], ordered=True),
            'when': pd.to_datetime(['2024-01-01', None, '1960-06-30', '2000-02-29']).tz_localize('Europe/Paris'),
            'nint': pd.array([1, None, 3, 4], dtype='Int32'),
            'nflt': pd.array([0.5, None, 2.5, 3.5], dtype='Float64'),
            'nbool': pd.array([True, None, False, True], dtype='boolean'),
        })
        pandas_export_indexed = pandas_export_frame.set_index('obj')
        def pandas_export_check(frame, exported):
            expected = pa.Table.from_pandas(frame).replace_schema_metadata(None)
            return arrow_difference(expected, exported)
        """

    @Test(arguments: ["pandas_export_frame", "pandas_export_indexed"])
    func importedFrameEqualsPyarrowFromPandas(frameName: String) throws {
        let python = try PythonRuntime.shared()
        try python.exec(arrowDifferenceSource + "\n" + Self.frames)
        let frame = try python.evaluateObject(frameName)
        let table = try Bridge.table(fromPython: frame)
        let exported = try Bridge.pyarrow(from: table)
        let check = try python.evaluateObject("pandas_export_check")
        #expect(try python.value(of: try python.call(check, [frame, exported])) == .string("same"))
    }

    @Test func nanInAFloatColumnIsMissingAsPandasMeansIt() async throws {
        let python = try PythonRuntime.shared()
        try python.exec(arrowDifferenceSource + "\n" + Self.frames)
        let frame = try python.evaluateObject("pandas_export_frame[['f64', 'f64_clean']]")
        try await Bridge.assignToR(python: frame, as: "pandas_export_in_r")
        let r = try RRuntime.shared()
        // numpy-backed pandas has one missing marker, NaN: it arrives in R as NA, not NaN.
        #expect(try await r.eval("is.na(pandas_export_in_r$f64) & !is.nan(pandas_export_in_r$f64)", as: [Bool].self)
                == [false, true, false, false])
        #expect(try await r.eval("pandas_export_in_r$f64_clean", as: [Double].self) == [1, 2, 3, 4])
    }
}
