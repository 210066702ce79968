import Foundation
import PolybridgeTestSupport
import Testing
@testable import PolybridgeRuntime

@Suite struct RRuntimeTests {
    let r: RRuntime
    init() throws { r = try RRuntime.shared() }

    @Test func evaluatesCodeAndReturnsTypedValues() async throws {
        #expect(try await r.eval("1 + 1", as: Double.self) == 2)
        #expect(try await r.eval("5L", as: Int.self) == 5)
        #expect(try await r.eval("c(TRUE, NA, FALSE)", as: [Bool?].self) == [true, nil, false])
        #expect(try await r.eval("c('a', NA, 'é')", as: [String?].self) == ["a", nil, "é"])
        #expect(try await r.evaluate("NULL").value == .null)
    }

    /// An error R raised inside a call (not with call. = FALSE) reaches the user as its message
    /// alone: R's "Error in …" prefix and its "Calls: …" traceback are left out.
    @Test func anRErrorsMessageLeavesOutItsCallAndTraceback() throws {
        let buffer = "Error in eval(family$initialize, e) : y values must be 0 <= y <= 1\nCalls: <Anonymous> -> initialize -> eval -> eval\n"
        #expect(RRuntime.conditionMessage(fromErrorBuffer: buffer) == "y values must be 0 <= y <= 1")
        #expect(RRuntime.conditionMessage(fromErrorBuffer: "Error: two\nlines\n") == "two\nlines")
    }

    @Test func keepsNAApartFromNaN() async throws {
        let values = try await r.eval("c(NA_real_, NaN, 1.5)", as: [Double?].self)
        #expect(values[0] == nil)
        #expect(values[1]?.isNaN == true)
        #expect(values[2] == 1.5)
    }

    @Test func integerNAIsNilNotIntMin() async throws {
        #expect(try await r.eval("c(1L, NA_integer_)", as: [Int32?].self) == [1, nil])
    }

    @Test func listsKeepNames() async throws {
        let value = try await r.evaluate("list(a = 1, b = 'x')").value
        #expect(value == .list([.double([1]), .character(["x"])], names: ["a", "b"]))
    }

    @Test func callsFunctionsWithSwiftArguments() async throws {
        let sum = try await r.call("sum", [RArgument(nil, [1.0, 2.0, 3.5]), RArgument("na.rm", true)])
        #expect(sum.value == .double([6.5]))
        let median = try await r.call("stats::median", [5.0, 1.0, 3.0])
        #expect(median.value == .double([3]))
    }

    @Test func assignsAndReadsGlobalVariables() async throws {
        try await r.assign("polybridge_test_variable", ["x", "y"])
        #expect(try await r.value(of: "polybridge_test_variable") == .character(["x", "y"]))
        #expect(try await r.eval("length(polybridge_test_variable)", as: Int.self) == 2)
    }

    @Test func rErrorsCarryMessageAndCall() async throws {
        do {
            _ = try await r.evaluate("f <- function(x) stop('bad input: ', x); f(3)")
            Issue.record("expected an error")
        } catch let error as RError {
            guard case .evaluation(let message, let call, _) = error else {
                Issue.record("wrong error \(error)"); return
            }
            #expect(message == "bad input: 3")
            #expect(call == "f(3)")
        }
    }

    @Test func parseErrorsAreReported() async throws {
        await #expect(throws: RError.self) { try await r.evaluate("1 +* 2") }
        do {
            _ = try await r.evaluate("x <- '\\q'")
            Issue.record("an invalid escape must be a parse error")
        } catch let error as RError {
            guard case .parse(let message) = error else { Issue.record("wrong error \(error)"); return }
            #expect(message.contains("\\q"))
        }
    }

    @Test func warningsAndOutputAreCapturedNotPrinted() async throws {
        let result = try await r.evaluate("cat('hello\\n'); message('note'); warning('careful'); as.integer('x'); 7")
        #expect(result.value == .double([7]))
        #expect(result.output.contains("hello"))
        #expect(result.output.contains("note"))
        #expect(result.warnings.contains("careful"))
        #expect(result.warnings.contains("NAs introduced by coercion"))
    }

    @Test func printVisibleFormatsLikeRscript() async throws {
        let result = try await r.evaluate("x <- 1:3; x", printVisible: true)
        #expect(result.output == "[1] 1 2 3\n")
    }

    @Test func deepRecursionIsACatchableError() async throws {
        // R raises this error without running calling handlers: it must still be an error, not an interrupt.
        do {
            _ = try await r.evaluate("f <- function(n) f(n + 1); f(0)")
            Issue.record("expected an error")
        } catch RError.evaluation(let message, _, _) {
            #expect(message.contains("nested too deeply"), "\(message)")
        }
        #expect(try await r.eval("!is.na(Cstack_info()[['size']])", as: Bool.self), "R's C stack check is off")
        // Deep recursion in R's C code (not its evaluator) must hit the C stack check, not the guard page.
        do {
            _ = try await r.evaluate("local({ x <- list(); for (i in 1:3e6) x <- list(x); object.size(x) })")
            Issue.record("expected a C stack error")
        } catch let error as RError {
            #expect(error.conditionMessage.contains("C stack"), "\(error)")
        }
        // With R's expression limit lifted, the C stack check must catch it instead of a segfault.
        do {
            _ = try await r.evaluate("local({ old <- options(expressions = 500000); on.exit(options(old)); g <- function(n) g(n + 1); g(0) })")
            Issue.record("expected an error")
        } catch let error as RError {
            #expect(error.conditionMessage.contains("stack") || error.conditionMessage.contains("nested too deeply"))
        }
        #expect(try await r.eval("1L", as: Int.self) == 1)
    }

    @Test func callResultsAreNotEvaluatedAgain() async throws {
        // A function returning a symbol or a call: its value, not the value of evaluating it.
        #expect(try await r.call("as.name", "not_a_variable_anywhere").value == .other(type: "symbol", classes: []))
        #expect(try await r.call("str2lang", "stop('must not run')").value == .other(type: "language", classes: []))
    }

    @Test func quitIsRefusedInsteadOfEndingTheProcess() async throws {
        await #expect(throws: RError.self) { try await r.evaluate("q('no')") }
        #expect(try await r.eval("2L", as: Int.self) == 2)
    }

    @Test func cancellingATaskInterruptsALongComputation() async throws {
        // Bounded (10 minutes) so that a cancel that never lands fails this test instead of
        // hanging the whole suite.
        let task = Task { try await r.evaluate("i <- 0; deadline <- Sys.time() + 600; while (Sys.time() < deadline) { i <- i + 1 }") }
        cancelFromOwnThread(task, after: .milliseconds(200))
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try await r.eval("3L", as: Int.self) == 3)
    }
}

@Suite struct RRuntimeConcurrencyTests {
    @Test func twoHundredConcurrentTasksEachGetTheirOwnResult() async throws {
        let r = try RRuntime.shared()
        try await withThrowingTaskGroup(of: (Int, Double).self) { group in
            for index in 0..<200 {
                group.addTask {
                    // Each task uses its own variable and value so cross-talk would show.
                    let value = try await r.eval("task_\(index) <- sqrt(\(index * index)) + \(index); task_\(index)", as: Double.self)
                    return (index, value)
                }
            }
            var seen = 0
            for try await (index, value) in group {
                #expect(value == Double(2 * index))
                seen += 1
            }
            #expect(seen == 200)
        }
    }

    @Test(arguments: 0..<20)
    func parallelTestCasesMixingErrorsAndValues(caseNumber: Int) async throws {
        let r = try RRuntime.shared()
        if caseNumber.isMultiple(of: 2) {
            #expect(try await r.eval("\(caseNumber)L * 2L", as: Int.self) == caseNumber * 2)
        } else {
            await #expect(throws: RError.evaluation(message: "case \(caseNumber)", call: nil, output: "")) {
                try await r.evaluate("stop('case \(caseNumber)')")
            }
        }
    }

    @Test func tenThousandErrorsAreCaughtWithoutMemoryGrowth() async throws {
        let run = try await runPolybridge(["stress", "--count", "10000"])
        #expect(run.status == 0, "stress failed: \(run.error)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        // Each round raises one error in an evaluation job and one in a session job (Bridge).
        #expect(report["caught"] as? Int == 20_000)
        #expect((report["wrongMessages"] as? [String])?.isEmpty == true, "\(report)")
        let growth = (report["rssAfterKB"] as? Int ?? 0) - (report["rssBeforeKB"] as? Int ?? 0)
        #expect(growth < 6 * 1024, "resident memory grew by \(growth) KiB over 20,000 errors")
    }

    @Test func anRErrorEscapingEveryGuardIsReportedNotSilent() async throws {
        let run = try await runPolybridge(["stress", "unguarded-error"])
        #expect(run.status == 70)
        #expect(run.error.contains("deliberately unguarded R error"), "stderr: \(run.error)")
        #expect(run.error.contains("internal error: an R error escaped"), "stderr: \(run.error)")
        #expect(!run.output.contains("unreachable"))
    }
}
