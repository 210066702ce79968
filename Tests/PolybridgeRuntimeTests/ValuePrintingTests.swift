import Foundation
import Testing
@testable import PolybridgeRuntime

/// `RValue` prints as R's `print()` does and `PythonValue` as Python's `repr()`: the runtime's
/// own output for the same object is the oracle.
@Suite struct ValuePrintingTests {
    static let rExpressions = [
        #"factor(c("a", NA, "b"))"#, #"ordered(c("lo", "hi", NA), levels = c("lo", "hi"))"#,
        "factor(character(0))", #"factor(paste0("level", 1:30))"#, #"addNA(factor(c("a", NA)))"#,
        #"setNames(factor(c("u", "v")), c("n1", "n2"))"#, #"factor(c("a\"b"))"#,
        #"as.Date(c("2024-02-29", NA))"#, "as.Date(character(0))", #"as.Date(c("1969-12-31", "0099-01-01")) - c(0, 40000)"#,
        #"setNames(as.Date("2024-01-01") + 0:1, c("d1", "d2"))"#,
        #"as.POSIXct("2024-01-01 12:00", tz = "Europe/Paris")"#,
        #"as.POSIXct(c("2024-07-01 12:00:30", NA), tz = "America/New_York")"#,
        #"as.POSIXct(c("2024-01-01", "2024-06-01"), tz = "UTC")"#, #".POSIXct(c(-0.5, 1e10), tz = "Europe/Paris")"#,
        #".POSIXct(NA_real_, tz = "UTC")"#, #"as.POSIXct(character(0), tz = "UTC")"#,
        "c(a = 1, b = 2)", "c(a = 1.5, bb = NA, ccc = 3)", #"c(a = "x", b = NA)"#, "c(a = TRUE)",
        #"x <- 1:3; names(x) <- c("a", NA, ""); x"#, "setNames(1:26, letters)",
        #"matrix(1:6, 2, dimnames = list(c("r1", "r2"), c("x", "y", "z")))"#, "matrix(c(1.5, 2, 3, NA), 2)",
        #"matrix(c("a", "bb", NA, "d"), 2)"#, #"matrix(c(-1.5, 2, 300, 4), 2, dimnames = list(c("a", "bbbbbbb"), NULL))"#,
        "matrix(1:40 * 1000, 2)", "matrix(numeric(0), 0, 3)", "array(1:8, c(2, 2, 2))",
        #"list(a = 1, b = "x", c = list(TRUE))"#, #"list(1, "x")"#, "list()", #"setNames(list(1, 2), c("a", NA))"#,
        "list(`a b` = 1, d = NULL, e = list())",
        "c(1, 2.5, NA, NaN, Inf, -Inf)", "c(1e10, 1)", "123456789", "c(0.00001234, 123456)", "pi", "c(pi, 100)",
        "c(-1.5, 2)", "1e-20", "0.1 + 0.2", "1234567.1", "c(1e5, 1e-5)", "1e300 * c(1, 10)",
        "1:30", "seq(0.5, 15, by = 0.5)", "c(TRUE, NA, FALSE)", #"c("a", NA, "b\"q", "t\tx")"#, "integer(0)",
        "character(0)", "numeric(0)", "NULL", "2147483647L", "-3:3",
    ]

    @Test(arguments: rExpressions)
    func rValuePrintsAsRPrintsIt(expression: String) async throws {
        let r = try RRuntime.shared()
        let printed = try await r.evaluate(expression, printVisible: true)
        let value = try await r.evaluate(expression).value
        #expect(value.description == ValuePrintingTests.trimmed(printed.output))
    }

    @Test func describedObjectsPrintTheirTypeAndClass() async throws {
        let r = try RRuntime.shared()
        #expect(try await r.evaluate("function(x) x").value.description == "<closure>")
        #expect(RValue.other(type: "S4", classes: ["myClass"]).description == "<S4: myClass>")
    }

    static let pythonExpressions = [
        "None", "True", "[1, 'a', None]", "{'a': 1, 'b': [2.5, None]}", #""it's""#, #"'say "hi"'"#,
        #"'both \' and "'"#, #"'tab\tnew\nline\x01\u200b\\'"#, "'é€😀'", "[]", "{}", "-7", "10**30",
        "[1e15, 1e16, 1e-05, 0.1, -0.0, float('nan'), float('inf'), -float('inf'), 1.5e300, 2.0**53, 123456789.123]",
        "{'k': {'nested': [True, False]}}",
    ]

    @Test(arguments: pythonExpressions)
    func pythonValuePrintsAsPythonRepr(expression: String) throws {
        let python = try PythonRuntime.shared()
        let value = try python.evaluate(expression)
        #expect(value.description == (try python.eval("repr(\(expression))", as: String.self)))
    }

    /// R's console output without its final newline (the description has none).
    static func trimmed(_ output: String) -> String {
        var text = output
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
