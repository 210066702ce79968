import Foundation
import PolybridgeTestSupport
import Testing
@testable import Polybridge
import PolybridgeRuntime

/// Data that used to crash the process or change silently on its way between R, Arrow and
/// Python. Each value Arrow or R cannot hold must be an error naming the column (and row).
@Suite struct ConversionSafetyTests {
    let r: RRuntime
    let python: PythonRuntime
    init() throws {
        r = try RRuntime.shared()
        python = try PythonRuntime.shared()
    }

    /// Runs `body` and returns the ConversionError it throws (recording an issue when it does not).
    private func conversionError(_ body: () async throws -> Void) async -> ConversionError? {
        do {
            try await body()
            Issue.record("expected a ConversionError")
            return nil
        } catch let error as ConversionError {
            return error
        } catch {
            Issue.record("expected a ConversionError, got \(error)")
            return nil
        }
    }

    // MARK: Size: limited by memory, not by R's protect stack

    @Test func aHundredThousandColumnsRoundTripBothWays() async throws {
        let table = try await Bridge.table(fromR: "wide_frame <- as.data.frame(matrix(as.numeric(1:100000), 1, 100000)); wide_frame")
        #expect(table.columns.count == 100_000)
        try await Bridge.assignToR(table, as: "wide_back")
        let same = try await r.eval("identical(wide_back, wide_frame)", as: Bool.self)
        let difference = same ? "" : try await r.eval("paste(c(all.equal(wide_back, wide_frame), all.equal(attributes(wide_back)[c('class', 'row.names')], attributes(wide_frame)[c('class', 'row.names')])), collapse = '; ')", as: String.self)
        #expect(same, "\(difference)")
    }

    @Test func aMillionDistinctStringsRoundTripBothWays() async throws {
        let table = try await Bridge.table(fromR: "many_strings <- data.frame(s = sprintf('value %07d', 1:1000000)); many_strings")
        try await Bridge.assignToR(table, as: "many_strings_back")
        #expect(try await r.eval("identical(many_strings_back, many_strings)", as: Bool.self))
        // From polars (string views) and pandas (large strings) too.
        try python.exec("""
            import polars as pl, pandas as pd
            many_polars = pl.DataFrame({'s': [f'value {i:07d}' for i in range(1, 1000001)]})
            many_pandas = many_polars.to_pandas()
            """)
        try await Bridge.assignToR(python: try python.evaluateObject("many_polars"), as: "from_polars")
        try await Bridge.assignToR(python: try python.evaluateObject("many_pandas"), as: "from_pandas")
        #expect(try await r.eval("identical(from_polars$s, many_strings$s) && identical(from_pandas$s, many_strings$s)", as: Bool.self))
    }

    @Test func aHundredThousandFactorLevelsRoundTripBothWays() async throws {
        let frame = try await Bridge.pandas(fromR: "many_levels <- data.frame(f = factor(sprintf('level %06d', 100000:1))); many_levels")
        try python.bind(frame, as: "many_levels_pandas")
        #expect(try python.evaluate("len(many_levels_pandas['f'].cat.categories)") == .int(100_000))
        try await Bridge.assignToR(python: frame, as: "many_levels_back")
        #expect(try await r.eval("identical(many_levels_back, many_levels)", as: Bool.self))
        try python.exec("""
            import pandas as pd
            categorical = pd.DataFrame({'f': pd.Categorical([f'c{i}' for i in range(100000)])})
            """)
        try await Bridge.assignToR(python: try python.evaluateObject("categorical"), as: "categorical")
        #expect(try await r.eval("nlevels(categorical$f) == 100000L && identical(as.character(categorical$f)[100000], 'c99999')", as: Bool.self))
    }

    // MARK: Factors

    @Test func factorCodesOutsideTheLevelsAreAnErrorNamingColumnAndRow() async throws {
        let error = await conversionError {
            _ = try await Bridge.table(fromR: "data.frame(ok = 1:3, f = structure(c(1L, 70000000L, 0L), levels = c('a', 'b'), class = 'factor'))")
        }
        #expect(error == .invalidValue(column: "f", row: 2, detail: "factor code 70000000 is outside its 2 level(s)"))
        let zero = await conversionError {
            _ = try await Bridge.table(fromR: "data.frame(f = structure(c(1L, NA, 0L), levels = 'a', class = 'factor'))")
        }
        #expect(zero?.description.contains("column 'f', row 3") == true, "\(String(describing: zero))")
    }

    @Test func malformedFactorLevelsAreErrors() async throws {
        for (code, expected) in [
            ("structure(1:2, levels = c('a', 'a'), class = 'factor')", "appears more than once"),
            ("structure(1:2, levels = c('a', NA), class = 'factor')", "is NA"),
            ("structure(1:2, levels = 1:2, class = 'factor')", "not character"),
        ] {
            // Built with structure(): data.frame() would repair some of these on the way in.
            let error = await conversionError {
                _ = try await Bridge.table(fromR: "structure(list(f = \(code)), class = 'data.frame', row.names = 1:2)")
            }
            #expect(error?.description.contains("column 'f'") == true, "\(code): \(String(describing: error))")
            #expect(error?.description.contains(expected) == true, "\(code): \(String(describing: error))")
        }
    }

    @Test func dictionaryCodesOutsideTheDictionaryAreAnError() async throws {
        try python.exec("""
            import pyarrow as pa
            bad_codes = pa.table({'f': pa.DictionaryArray.from_arrays(pa.array([0, 5], pa.int32()), pa.array(['a', 'b']), safe=False)})
            """)
        let error = await conversionError {
            try await Bridge.assignToR(python: try python.evaluateObject("bad_codes"), as: "bad_codes")
        }
        #expect(error?.description.contains("column 'f', row 2") == true, "\(String(describing: error))")
    }

    @Test func levelsThatAreCanonicallyEquivalentStayDistinct() async throws {
        // Swift's String == treats "\u{e9}" and "e\u{301}" as equal; R and Arrow do not.
        let table = try await Bridge.table(fromR: "nfc_nfd <- data.frame(f = factor(c('\\u00e9', 'e\\u0301', '\\u00e9')), '\\u00e9' = 1:3, 'e\\u0301' = 4:6, check.names = FALSE); nfc_nfd")
        #expect(table.columns.count == 3)
        try await Bridge.assignToR(table, as: "nfc_nfd_back")
        #expect(try await r.eval("identical(nfc_nfd_back, nfc_nfd) && nlevels(nfc_nfd_back$f) == 2L", as: Bool.self))
        let frame = try Bridge.pandas(from: table)
        try await Bridge.assignToR(python: frame, as: "nfc_nfd_pandas")
        #expect(try await r.eval("identical(nfc_nfd_pandas, nfc_nfd)", as: Bool.self))
    }

    // MARK: Dates and times

    @Test func datesArrowCannotHoldAreErrorsNamingTheRow() async throws {
        for (values, row, expected) in [
            ("c(0, 1e19)", 2, "outside Arrow's date32 range"),
            ("c(3e9)", 1, "outside Arrow's date32 range"),
            ("c(1, Inf)", 2, "Inf"),
            ("c(-Inf)", 1, "-Inf"),
            ("c(1, 2, 18262.5)", 3, "not a whole day"),
        ] {
            let error = await conversionError { _ = try await Bridge.table(fromR: "data.frame(d = structure(\(values), class = 'Date'))") }
            #expect(error?.description.contains("column 'd', row \(row)") == true, "\(values): \(String(describing: error))")
            #expect(error?.description.contains(expected) == true, "\(values): \(String(describing: error))")
        }
    }

    @Test func timesArrowCannotHoldAreErrorsNamingTheRow() async throws {
        for (values, row) in [("c(0, 1e13)", 2), ("c(Inf)", 1), ("c(1, -1e16)", 2)] {
            let error = await conversionError {
                _ = try await Bridge.table(fromR: "data.frame(t = structure(\(values), class = c('POSIXct', 'POSIXt'), tzone = 'UTC'))")
            }
            #expect(error?.description.contains("column 't', row \(row)") == true, "\(values): \(String(describing: error))")
        }
    }

    @Test func nanDatesAreNAAndIntegerDatesConvert() async throws {
        let table = try await Bridge.table(fromR: "data.frame(d = structure(c(1, NaN, NA), class = 'Date'), i = structure(c(19000L, NA), class = 'Date')[c(1, 2, 1)])")
        try await Bridge.assignToR(table, as: "odd_dates")
        #expect(try await r.eval("identical(odd_dates$d, structure(c(1, NA, NA), class = 'Date')) && identical(odd_dates$i, structure(c(19000, NA, 19000), class = 'Date'))", as: Bool.self))
    }

    // MARK: Value semantics

    @Test func pandasMutationAfterAssignmentDoesNotChangeR() async throws {
        try python.exec("""
            import numpy as np, pandas as pd
            mutable = pd.DataFrame({'x': np.arange(5, dtype='float64'), 'n': np.arange(5, dtype='int32'),
                                    'm': pd.array([1, 2, 3, 4, 5], dtype='Int32')})
            mutable_indexed = pd.DataFrame({'x': np.arange(5, dtype='float64')}, index=list('abcde'))
            """)
        try await Bridge.assignToR(python: try python.evaluateObject("mutable"), as: "mutable")
        try await Bridge.assignToR(python: try python.evaluateObject("mutable_indexed"), as: "mutable_indexed")
        try python.exec("""
            mutable.iloc[0, 0] = 99.0
            mutable.iloc[0, 1] = 99
            mutable.iloc[0, 2] = 99
            mutable_indexed.iloc[0, 0] = 99.0
            """)
        #expect(try await r.eval("mutable$x[1] == 0 && mutable$n[1] == 0L && mutable$m[1] == 1L", as: Bool.self))
        // pandas 3 copies on write, so the values were shared with R without a copy all the same.
        let shared = try await r.withSession { session in
            let frame = try session.evaluateText("mutable", purpose: "reading mutable")
            return try (0..<2).map { session.isSharedVector(try session.element(of: frame, at: $0)) }
        }
        #expect(shared == [true, true])
        #expect(try await r.eval("mutable_indexed$x[1] == 0", as: Bool.self))
    }

    @Test func writingToAPandasFrameMadeFromRDoesNotChangeR() async throws {
        // The pandas columns wrap R's memory through Arrow; pandas must copy before writing.
        let frame = try await Bridge.pandas(fromR: "r_owned <- data.frame(x = c(1.5, 2.5), n = 1:2); r_owned")
        let write = try python.evaluateObject("lambda f: (f.iloc.__setitem__((0, 0), 99.0), float(f.iloc[0, 0]))[1]")
        #expect(try python.value(of: try python.call(write, [frame])) == .float(99))
        #expect(try await r.eval("identical(r_owned$x, c(1.5, 2.5))", as: Bool.self))
    }

    @Test func pyarrowBuffersAreStillSharedWithoutACopy() async throws {
        try python.exec("""
            import pyarrow as pa
            immutable = pa.table({'x': pa.array([1.5, 2.5, 3.5])})
            """)
        try await Bridge.assignToR(python: try python.evaluateObject("immutable"), as: "immutable")
        let shared = try await r.withSession { session in
            let frame = try session.evaluateText("immutable", purpose: "reading immutable")
            return session.isSharedVector(try session.element(of: frame, at: 0))
        }
        #expect(shared)
    }

    // MARK: Strings

    @Test func invalidUTF8InDictionariesAndStringViewsIsAnError() async throws {
        try python.exec("""
            import pyarrow as pa
            _bad = pa.Array.from_buffers(pa.string(), 2, [None, pa.py_buffer(b'\\x00\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x03\\x00\\x00\\x00'), pa.py_buffer(b'a\\xff\\xfe')])
            bad_dictionary = pa.table({'f': pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), _bad)})
            bad_view = pa.table({'s': _bad.cast(pa.string_view(), safe=False)})
            bad_plain = pa.table({'s': _bad})
            """)
        for (name, column) in [("bad_dictionary", "f"), ("bad_view", "s"), ("bad_plain", "s")] {
            let error = await conversionError {
                try await Bridge.assignToR(python: try python.evaluateObject(name), as: name)
            }
            guard case .invalidUTF8(let reported, let detail)? = error else {
                Issue.record("\(name): expected invalidUTF8, got \(String(describing: error))")
                continue
            }
            #expect(reported == column)
            #expect(detail.contains("2"), "\(name): \(detail)")
        }
    }

    // MARK: Sizes R cannot hold

    @Test func moreRowsThanAnRDataFrameCanHoldIsAnError() async throws {
        let table = try ArrowTable(rowCountWithoutColumns: 2_147_483_648)
        let error = await conversionError { try await Bridge.assignToR(table, as: "too_long") }
        #expect(error == .tooManyRows(2_147_483_648))
    }
}
