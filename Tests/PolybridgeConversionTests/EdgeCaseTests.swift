import Foundation
import Testing
@testable import Polybridge
import PolybridgeRuntime

@Suite struct EdgeCaseTests {
    @Test func zeroRowsKeepColumnTypes() async throws {
        let table = try await Bridge.table(fromR: "data.frame(a = numeric(0), b = character(0), f = factor(character(0), levels = 'x'))")
        #expect(table.rowCount == 0)
        #expect(table.schema.map(\.type) == [.float64, .utf8, .dictionary(index: .int32, value: .utf8, ordered: false)])
        try await Bridge.assignToR(table, as: "zero_rows")
        #expect(try await RRuntime.shared().eval("identical(levels(zero_rows$f), 'x') && nrow(zero_rows) == 0L", as: Bool.self))
    }

    @Test func zeroColumnsRoundTrip() async throws {
        let table = try await Bridge.table(fromR: "data.frame()")
        #expect(table.columns.isEmpty)
        try await Bridge.assignToR(table, as: "zero_columns")
        #expect(try await RRuntime.shared().eval("is.data.frame(zero_columns) && ncol(zero_columns) == 0L", as: Bool.self))
    }

    @Test func zeroColumnsKeepTheirRowCountThroughPandas() async throws {
        let table = try await Bridge.table(fromR: "data.frame(a = 1:3)[, FALSE, drop = FALSE]")
        #expect(table.columns.isEmpty)
        #expect(table.rowCount == 3)
        let frame = try Bridge.pandas(from: table)
        let python = try PythonRuntime.shared()
        #expect(try python.value(of: try python.call(try python.evaluateObject("len"), [frame])) == .int(3))
        try await Bridge.assignToR(python: frame, as: "zero_columns_three_rows")
        #expect(try await RRuntime.shared().eval("nrow(zero_columns_three_rows)", as: Int.self) == 3)
    }

    @Test func allNullColumnsStayNull() async throws {
        let table = try ArrowTable(columns: [("d", ArrowArray(float64: [nil, nil])), ("s", try ArrowArray(utf8: [nil, nil]))])
        try await Bridge.assignToR(table, as: "all_null")
        #expect(try await RRuntime.shared().eval("all(is.na(all_null$d)) && !any(is.nan(all_null$d)) && all(is.na(all_null$s))", as: Bool.self))
    }

    @Test func slicedPyarrowArraysWithOffsetsConvert() async throws {
        let python = try PythonRuntime.shared()
        try python.exec("""
            import pyarrow as pa
            sliced = pa.table({'x': pa.array([0.5, None, 2.5, 3.5, None], pa.float64()),
                               'b': pa.array([True, False, None, True, False]),
                               's': pa.array(['p', 'q', None, 'r', 's'])}).slice(1, 3)
            """)
        try await Bridge.assignToR(python: try python.evaluateObject("sliced"), as: "sliced")
        #expect(try await RRuntime.shared().eval("identical(sliced$x, c(NA, 2.5, 3.5)) && identical(sliced$b, c(FALSE, NA, TRUE)) && identical(sliced$s, c('q', NA, 'r'))", as: Bool.self))
    }

    @Test func nullCountMinusOneIsComputed() async throws {
        let validity = ArrowBuffer(copyingElements: [UInt8(0b101)])
        let values = ArrowBuffer(copyingElements: [Int32(4), 99, 6])
        let array = try ArrowArray(type: .int32, length: 3, nullCount: -1, buffers: [validity, values])
        try await Bridge.assignToR(try ArrowTable(columns: [("n", array)]), as: "unknown_nulls")
        #expect(try await RRuntime.shared().eval("unknown_nulls$n", as: [Int32?].self) == [4, nil, 6])
    }

    @Test func multiBatchTablesWithDifferentDictionariesBecomeOneFactor() async throws {
        let python = try PythonRuntime.shared()
        try python.exec("""
            import pyarrow as pa
            def _batch(codes, levels):
                return pa.record_batch([pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()), pa.array(levels))], names=['f'])
            batches = pa.Table.from_batches([_batch([0, 1], ['a', 'b']), _batch([1, None, 0], ['c', 'a'])])
            """)
        let table = try python.arrowTable(from: try python.evaluateObject("batches"))
        #expect(table.recordBatchCount == 2)
        try await Bridge.assignToR(table, as: "batched")
        #expect(try await RRuntime.shared().eval("identical(batched$f, factor(c('a', 'b', 'a', NA, 'c'), levels = c('a', 'b', 'c')))", as: Bool.self))
    }

    @Test func int32MinimumWidensToDoubleInsteadOfBecomingNA() async throws {
        // INT_MIN is NA_integer_ in R, so the column becomes an exact double column instead.
        try await Bridge.assignToR(try ArrowTable(columns: [("n", ArrowArray(int32: [Int32.min, nil, 1]))]), as: "int_min")
        #expect(try await RRuntime.shared().eval("typeof(int_min$n)", as: String.self) == "double")
        #expect(try await RRuntime.shared().eval("int_min$n", as: [Double?].self) == [-2_147_483_648, nil, 1])
    }

    @Test func int32ColumnWithoutMinimumStaysInteger() async throws {
        try await Bridge.assignToR(try ArrowTable(columns: [("n", ArrowArray(int32: [Int32.min + 1, nil, Int32.max]))]), as: "int_near_min")
        #expect(try await RRuntime.shared().eval("typeof(int_near_min$n)", as: String.self) == "integer")
    }

    @Test func exactInt64BecomesDoubleAndInexactIsAnError() async throws {
        try await Bridge.assignToR(try ArrowTable(columns: [("big", ArrowArray(int64: [1 << 53, nil, -5]))]), as: "int64_ok")
        #expect(try await RRuntime.shared().eval("int64_ok$big", as: [Double?].self) == [9_007_199_254_740_992, nil, -5])
        let error = await #expect(throws: ConversionError.self) {
            try await Bridge.assignToR(try ArrowTable(columns: [("big", ArrowArray(int64: [1, (1 << 53) + 1]))]), as: "int64_bad")
        }
        guard case .inexactInteger("big", 2, "int64", "9007199254740993", _)? = error else {
            Issue.record("expected inexactInteger, got \(String(describing: error))")
            return
        }
    }

    @Test func latin1StringsInRConvertToUTF8() async throws {
        let table = try await Bridge.table(fromR: "x <- 'caf\\xe9'; Encoding(x) <- 'latin1'; data.frame(s = x)")
        #expect(try table.column(named: "s")!.stringValues() == ["café"])
    }

    @Test func doublesAreSharedNotCopiedIntoR() async throws {
        let values = (0..<100_000).map { Double($0) }
        try await Bridge.assignToR(try ArrowTable(columns: [("v", try ArrowArray(float64Buffer: values))]), as: "shared")
        let inspected = try await RRuntime.shared().evaluate(".Internal(inspect(shared$v))")
        #expect(inspected.output.contains("zero-copy"))
        #expect(try await RRuntime.shared().eval("sum(shared$v)", as: Double.self) == values.reduce(0, +))
        // Writing to it materialises a private copy; the Arrow buffer is never written.
        #expect(try await RRuntime.shared().eval("shared$v[1] <- -1; shared$v[1]", as: Double.self) == -1)
        // A short slice of a large buffer is copied, so R does not keep the whole buffer alive.
        let big = try ArrowTable(columns: [("v", try ArrowArray(float64Buffer: values))])
        try await Bridge.assignToR(try big.slice(rows: 10..<74), as: "short_slice")
        let slice = try await RRuntime.shared().evaluate(".Internal(inspect(short_slice$v))")
        #expect(!slice.output.contains("zero-copy"))
        #expect(try await RRuntime.shared().eval("identical(short_slice$v, as.numeric(10:73))", as: Bool.self))
    }
}

@Suite struct BadInputTests {
    @Test func nonDataFrameIsRejectedWithItsClass() async throws {
        await #expect(throws: ConversionError.notADataFrame(found: "lm")) {
            try await Bridge.table(fromR: "lm(mpg ~ wt, mtcars)")
        }
    }

    @Test func duplicateColumnNamesAreRejected() async throws {
        await #expect(throws: ConversionError.duplicateColumn("a")) {
            try await Bridge.table(fromR: "data.frame(a = 1, a = 2, check.names = FALSE)")
        }
    }

    @Test func listColumnInRNamesTheColumn() async throws {
        do {
            _ = try await Bridge.table(fromR: "d <- data.frame(x = 1:2); d$nested <- list(1, 'a'); d")
            Issue.record("expected an error")
        } catch let error as ConversionError {
            #expect(error.description.contains("nested"))
            #expect(error.description.contains("list"))
        }
    }

    @Test func unsupportedArrowTypeNamesColumnAndType() async throws {
        let python = try PythonRuntime.shared()
        try python.exec("import pyarrow as pa\nlisty = pa.table({'ok': [1.0], 'items': pa.array([[1, 2]])})")
        do {
            let table = try python.arrowTable(from: try python.evaluateObject("listy"))
            try await Bridge.assignToR(table, as: "listy")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("items"))
            #expect("\(error)".lowercased().contains("list"))
        }
    }

    @Test func invalidUTF8IsRejectedNamingTheColumn() async throws {
        let python = try PythonRuntime.shared()
        try python.exec("""
            import pyarrow as pa
            bad_bytes = pa.Array.from_buffers(pa.string(), 2, [None, pa.py_buffer(bytes([0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0])), pa.py_buffer(b'a\\xff\\xfe')])
            bad_utf8 = pa.table({'text': bad_bytes})
            """)
        let table = try python.arrowTable(from: try python.evaluateObject("bad_utf8"))
        do {
            try await Bridge.assignToR(table, as: "bad_utf8")
            Issue.record("expected an error")
        } catch let error as ConversionError {
            #expect(error.description.contains("text"))
            #expect(error.description.contains("UTF-8"))
        }
    }

    @Test func pythonObjectWithoutArrowExportIsRejected() throws {
        let python = try PythonRuntime.shared()
        #expect(throws: ConversionError.notArrowExportable(type: "dict")) {
            try python.arrowTable(from: try python.evaluateObject("{'a': 1}"))
        }
    }
}
