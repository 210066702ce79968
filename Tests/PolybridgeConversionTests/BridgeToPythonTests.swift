import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// `Bridge.assignToPython`: R data frames and Swift tables bound to a name in Python's
/// `__main__`, read there by Python code and compared with what R computes. Each test binds
/// its own name, so parallel tests never share one.
@Suite struct BridgeToPythonTests {
    let r: RRuntime
    let python: PythonRuntime
    init() throws {
        r = try RRuntime.shared()
        python = try PythonRuntime.shared()
    }

    private func uniqueName(_ stem: String) -> String {
        "\(stem)_\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
    }

    static let frame = #"data.frame(x = c(1.5, 2, NA, 4), n = c(1L, NA, 3L, 4L), g = factor(c("a", "b", "a", NA)))"#

    @Test func rExpressionBecomesAPandasFrameThatPythonCodeReads() async throws {
        let name = uniqueName("df")
        try await Bridge.assignToPython(fromR: BridgeToPythonTests.frame, as: name)
        let seen = try python.evaluate("""
            [type(\(name)).__module__.split('.')[0], list(\(name).shape), float(\(name)['x'].sum()),
             int(\(name)['n'].sum()), [None if v is None or v != v else str(v) for v in \(name)['g'].astype(object)]]
            """)
        let expected = try await r.evaluate("""
            local({ d <- \(BridgeToPythonTests.frame)
                    list(dim(d), sum(d$x, na.rm = TRUE), sum(d$n, na.rm = TRUE), as.character(d$g)) })
            """).value
        guard case .list(let facts, _) = expected, case .list(let items) = seen, items.count == 5 else {
            Issue.record("unexpected shapes: \(seen) / \(expected)"); return
        }
        #expect(items[0] == .string("pandas"))
        #expect(try [Int](pythonValue: items[1]) == (try [Int32](rValue: facts[0])).map { Int($0) })
        #expect(try Double(pythonValue: items[2]) == (try Double(rValue: facts[1])))
        #expect(try Int(pythonValue: items[3]) == (try Int(rValue: facts[2])))
        #expect(try [String?](pythonValue: items[4]) == (try [String?](rValue: facts[3])))
    }

    @Test func anRVariableNameCanBeBoundAsAPyarrowTable() async throws {
        let rName = uniqueName("polybridge_frame")
        _ = try await r.evaluate("\(rName) <- \(BridgeToPythonTests.frame)")
        let name = uniqueName("table")
        try await Bridge.assignToPython(fromR: rName, as: name, kind: .pyarrow)
        let seen = try python.evaluate("""
            [type(\(name)).__name__, \(name).num_rows, \(name).column_names, __import__('pyarrow.compute').compute.sum(\(name)['x']).as_py()]
            """)
        let (rows, columns, sum) = (try await r.eval("nrow(\(rName))", as: Int.self),
                                    try await r.eval("names(\(rName))", as: [String].self),
                                    try await r.eval("sum(\(rName)$x, na.rm = TRUE)", as: Double.self))
        #expect(seen == .list([.string("Table"), .int(Int64(rows)), columns.pythonValue, .float(sum)]))
        _ = try await r.evaluate("rm(\(rName))")
    }

    @Test func swiftTableIsBoundAndPandasAddsAColumnThatComesBackToR() async throws {
        let table = try ArrowTable(columns: [
            ("a", ArrowArray(float64: [1, 2, 3])),
            ("b", ArrowArray(int32: [10, nil, 30])),
        ])
        let name = uniqueName("swift_df")
        try Bridge.assignToPython(table, as: name)
        try python.exec("\(name)['c'] = \(name)['a'] * 2")
        let frame = try python.evaluateObject(name)
        let rName = uniqueName("back")
        try await Bridge.assignToR(python: frame, as: rName)
        #expect(try await r.eval("\(rName)$c", as: [Double].self) == [2, 4, 6])
        #expect(try await r.eval("\(rName)$b", as: [Int32?].self) == [10, nil, 30])
        _ = try await r.evaluate("rm(\(rName))")
    }

    @Test func cancellingDuringTheRStepThrowsCancellationErrorAndBindsNothing() async throws {
        let name = uniqueName("never")
        // Bounded, so a cancel that never lands fails the test instead of hanging the suite.
        let task = Task {
            try await Bridge.assignToPython(
                fromR: "{ deadline <- Sys.time() + 600; while (Sys.time() < deadline) {}; data.frame(x = 1) }", as: name)
        }
        cancelFromOwnThread(task, after: .milliseconds(200))
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(try python.evaluate("'\(name)' in globals()") == .bool(false))
    }

    @Test func anRExpressionThatIsNotADataFrameIsAnError() async throws {
        await #expect(throws: (any Error).self) { try await Bridge.assignToPython(fromR: "1:3", as: uniqueName("bad")) }
    }
}
