import Foundation
import Testing
@testable import Polybridge
import PolybridgeRuntime
import PolybridgeTestSupport

/// A table with every supported type, nulls in each, built from Swift values.
func everyTypeTable() throws -> ArrowTable {
    try ArrowTable(columns: [
        ("dbl", ArrowArray(float64: [1.5, nil, .nan, -0.0, 1e300])),
        ("int", ArrowArray(int32: [1, nil, -7, Int32.max, 0])),
        ("lgl", ArrowArray(bool: [true, nil, false, true, false])),
        ("chr", try ArrowArray(utf8: ["a", nil, "é漢字🙂", "", String(repeating: "long ", count: 2_000)])),
        ("fct", try ArrowArray(dictionaryCodes: [2, 0, nil, 2, 0], levels: ["lo", "unused", "hi"], ordered: true)),
        ("day", ArrowArray(date32Days: [0, nil, -25_567, 19_000, 1])),
        ("utc", ArrowArray(timestamps: [0, nil, 1_700_000_000_123_456, -86_400_000_000, 5], unit: .microsecond, timezone: "UTC")),
        ("ny", ArrowArray(timestamps: [1, 2, nil, 3, 4], unit: .microsecond, timezone: "America/New_York")),
        ("naive", ArrowArray(timestamps: [10, nil, 20, 30, 40], unit: .microsecond, timezone: nil)),
    ])
}

/// The same table, written independently in Python with pyarrow (the oracle).
let everyTypeOracle = """
import pyarrow as pa
oracle = pa.table({
    'dbl': pa.array([1.5, None, float('nan'), -0.0, 1e300], pa.float64()),
    'int': pa.array([1, None, -7, 2**31 - 1, 0], pa.int32()),
    'lgl': pa.array([True, None, False, True, False]),
    'chr': pa.array(['a', None, 'é漢字🙂', '', 'long ' * 2000], pa.string()),
    'fct': pa.DictionaryArray.from_arrays(pa.array([2, 0, None, 2, 0], pa.int32()), pa.array(['lo', 'unused', 'hi']), ordered=True),
    'day': pa.array([0, None, -25567, 19000, 1], pa.date32()),
    'utc': pa.array([0, None, 1700000000123456, -86400000000, 5], pa.timestamp('us', tz='UTC')),
    'ny': pa.array([1, 2, None, 3, 4], pa.timestamp('us', tz='America/New_York')),
    'naive': pa.array([10, None, 20, 30, 40], pa.timestamp('us')),
})

"""

@Suite struct RoundTripTests {
    @Test func swiftToRToPythonToSwiftKeepsEveryTypeAndNull() async throws {
        let python = try PythonRuntime.shared()
        let r = try RRuntime.shared()
        let original = try everyTypeTable()
        try await Bridge.assignToR(original, as: "rt_every_type")

        // R's own view: NA vs NaN, factor levels and order, Date, tz attributes.
        let checks = try await r.eval("""
            d <- rt_every_type
            c(dbl = identical(is.na(d$dbl), c(FALSE, TRUE, TRUE, FALSE, FALSE)) && identical(is.nan(d$dbl), c(FALSE, FALSE, TRUE, FALSE, FALSE)),
              int = identical(d$int, c(1L, NA, -7L, .Machine$integer.max, 0L)),
              lgl = identical(d$lgl, c(TRUE, NA, FALSE, TRUE, FALSE)),
              chr = identical(d$chr[1:4], c("a", NA, "é漢字🙂", "")) && nchar(d$chr[5]) == 10000L,
              fct = identical(d$fct, factor(c("hi", "lo", NA, "hi", "lo"), levels = c("lo", "unused", "hi"), ordered = TRUE)),
              day = identical(d$day, as.Date(c(0, NA, -25567, 19000, 1), origin = "1970-01-01")),
              utc = identical(attr(d$utc, "tzone"), "UTC") && identical(format(d$utc[3], "%Y-%m-%d %H:%M:%OS6", tz = "UTC"), "2023-11-14 22:13:20.123456"),
              ny = identical(attr(d$ny, "tzone"), "America/New_York"),
              naive = identical(attr(d$naive, "tzone"), ""),
              rows = nrow(d) == 5L)
            """, as: [Bool].self)
        #expect(checks.allSatisfy { $0 }, "R-side checks: \(checks)")

        // R → Arrow → pyarrow equals the independently written oracle.
        let back = try await Bridge.table(fromR: "rt_every_type")
        let pyTable = try Bridge.pyarrow(from: back)
        try python.exec(everyTypeOracle + arrowDifferenceSource)
        let difference = try python.call(try python.evaluateObject("arrow_difference"), [pyTable, try python.evaluateObject("oracle")])
        #expect(try python.value(of: difference) == .string("same"))

        // pyarrow → Swift gives the original values back.
        let final = try python.arrowTable(from: try python.evaluateObject("oracle"))
        #expect(try final.column(named: "dbl")!.float64Values().map { $0?.bitPattern } == original.column(named: "dbl")!.float64Values().map { $0?.bitPattern })
        #expect(try final.column(named: "int")!.int32Values() == original.column(named: "int")!.int32Values())
        #expect(try final.column(named: "chr")!.stringValues() == original.column(named: "chr")!.stringValues())
        #expect(try final.column(named: "fct")!.stringValues() == ["hi", "lo", nil, "hi", "lo"])
        #expect(try final.column(named: "utc")!.timestampValues() == original.column(named: "utc")!.timestampValues())
    }

    @Test func pandasToRKeepsNullableTypes() async throws {
        let python = try PythonRuntime.shared()
        let r = try RRuntime.shared()
        try python.exec("""
            import pandas as pd, numpy as np
            pandas_frame = pd.DataFrame({
                'i': pd.array([1, None, 3], dtype='Int32'),
                'b': pd.array([True, None, False], dtype='boolean'),
                'f': [1.0, np.nan, 2.5],
                's': pd.array(['x', None, 'z'], dtype='str'),
                'c': pd.Categorical(['b', 'a', None], categories=['a', 'b', 'c'], ordered=False),
                't': pd.to_datetime(['2024-01-01 00:00:00', None, '1960-06-01 12:30:00']).tz_localize('Europe/Paris'),
            })
            """)
        try await Bridge.assignToR(python: try python.evaluateObject("pandas_frame"), as: "from_pandas")
        let ok = try await r.eval("""
            d <- from_pandas
            c(identical(d$i, c(1L, NA, 3L)), identical(d$b, c(TRUE, NA, FALSE)),
              identical(is.na(d$f), c(FALSE, TRUE, FALSE)),
              identical(d$s, c("x", NA, "z")),
              identical(d$c, factor(c("b", "a", NA), levels = c("a", "b", "c"))),
              identical(attr(d$t, "tzone"), "Europe/Paris"),
              identical(format(d$t[3], "%Y-%m-%d %H:%M:%S", tz = "Europe/Paris"), "1960-06-01 12:30:00"),
              is.na(d$t[2]))
            """, as: [Bool].self)
        #expect(ok == Array(repeating: true, count: 8), "\(ok)")
    }

    @Test func rToPandasKeepsIntegerAndLogicalNA() async throws {
        let python = try PythonRuntime.shared()
        let frame = try await Bridge.pandas(fromR: "data.frame(i = c(1L, NA), l = c(NA, TRUE), f = factor(c('u', NA)), stringsAsFactors = FALSE)")
        try python.exec("import builtins")
        let describe = try python.evaluateObject("lambda d: [str(d.dtypes[c]) for c in d.columns] + [bool(d['i'].isna()[1]), bool(d['l'].isna()[0]), int(d['i'][0])]")
        let summary = try python.value(of: try python.call(describe, [frame]))
        #expect(summary == .list([.string("Int32"), .string("boolean"), .string("category"), .bool(true), .bool(true), .int(1)]))
    }

    @Test func nullableDtypesKeepDoublesAsFloat64WithNaNForMissing() async throws {
        let python = try PythonRuntime.shared()
        let frame = try await Bridge.pandas(fromR: "data.frame(x = c(NA, NaN, 1))")
        let describe = try python.evaluateObject("lambda d: [str(d['x'].dtype)] + [bool(v) for v in d['x'].isna()]")
        #expect(try python.value(of: try python.call(describe, [frame])) == .list([.string("float64"), .bool(true), .bool(true), .bool(false)]))
    }

    @Test func arrowDtypesKeepNaNApartFromNAInPandas() async throws {
        let python = try PythonRuntime.shared()
        let frame = try await Bridge.pandas(fromR: "data.frame(x = c(NA, NaN, 1))", dtypes: .arrow)
        let nulls = try python.call(try python.evaluateObject("lambda d: d['x'].array._pa_array.null_count"), [frame])
        #expect(try python.value(of: nulls) == .int(1))
    }
}
