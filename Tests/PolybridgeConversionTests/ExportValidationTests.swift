import Foundation
import PolybridgeTestSupport
import Testing
@testable import Polybridge
import PolybridgeRuntime

/// Every Arrow array Polybridge exports passes pyarrow's own full validation: an independent
/// check of buffers, offsets, UTF-8, dictionary indices and lengths, not Polybridge re-reading itself.
@Suite struct ExportValidationTests {
    let python: PythonRuntime
    init() throws { python = try PythonRuntime.shared() }

    /// pyarrow's `validate(full=True)` on `table`'s export; "valid" or pyarrow's complaint.
    private func pyarrowVerdict(_ table: ArrowTable) throws -> String {
        let exported = try Bridge.pyarrow(from: table)
        // Tests run in parallel: the table goes in as an argument, never through a global.
        try python.exec("""
            def _export_verdict(table):
                try:
                    table.validate(full=True)
                    for column in table.columns:
                        for chunk in column.chunks:
                            chunk.validate(full=True)
                    return 'valid'
                except Exception as error:
                    return f'{type(error).__name__}: {error}'
            """)
        let verdict = try python.call(try python.evaluateObject("_export_verdict"), [exported])
        guard case .string(let text) = try python.value(of: verdict) else { return "no verdict" }
        return text
    }

    static let rFrames = [
        "data.frame(d = c(1.5, NA, NaN, -Inf), i = c(1L, NA, 3L, -2147483647L), l = c(TRUE, NA, FALSE, TRUE), s = c('a', NA, '\\u00e9', ''))",
        "data.frame(f = factor(c('x', NA, 'y', 'x'), levels = c('y', 'x', 'unused')), o = factor(c('lo', 'hi', 'lo', NA), levels = c('lo', 'hi'), ordered = TRUE))",
        "data.frame(day = as.Date(c('1900-01-01', NA, '2024-02-29', '1970-01-01')), t = as.POSIXct(c(0, NA, 1.5e9, -1e9), origin = '1970-01-01', tz = 'America/New_York'))",
        "data.frame(naive = structure(c(0, 1.25, NA), class = c('POSIXct', 'POSIXt')))",
        "data.frame(s = sprintf('row %d \\u2603', 1:70000), x = as.numeric(1:70000))",
        "data.frame(compact = 1:100000, deferred = as.character(1:100000))",
        "data.frame(a = numeric(0), s = character(0), f = factor(character(0)))",
        "data.frame(all_na_d = c(NA_real_, NA), all_na_s = c(NA_character_, NA), all_na_l = c(NA, NA))",
        "data.frame(latin1 = iconv(c('caf\\u00e9', 'na\\u00efve'), 'UTF-8', 'latin1'))",
        "mtcars", "iris", "airquality",
    ]

    @Test(arguments: rFrames)
    func rExportsPassPyarrowFullValidation(_ frame: String) async throws {
        let table = try await Bridge.table(fromR: frame)
        #expect(try pyarrowVerdict(table) == "valid", "\(frame)")
    }

    @Test func swiftBuiltTablesPassPyarrowFullValidation() throws {
        let table = try ArrowTable(columns: [
            ("d", ArrowArray(float64: [1, nil, .nan])),
            ("i", ArrowArray(int32: [nil, 2, 3])),
            ("s", try ArrowArray(utf8: ["x", nil, "\u{e9}"])),
        ])
        #expect(try pyarrowVerdict(table) == "valid")
    }

    @Test func pythonImportsReExportedPassPyarrowFullValidation() throws {
        // polars string views and dictionaries, imported into Swift and exported again.
        try python.exec("""
            import polars as pl
            validation_polars_frame = pl.DataFrame({'s': ['a', None, 'a long string over twelve bytes'], 'c': pl.Series(['x', 'y', None], dtype=pl.Categorical)})
            """)
        let table = try Bridge.table(fromPython: try python.evaluateObject("validation_polars_frame"))
        #expect(try pyarrowVerdict(table) == "valid")
    }
}
