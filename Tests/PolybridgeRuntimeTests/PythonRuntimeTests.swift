import Foundation
import Testing
@testable import PolybridgeRuntime

@Suite struct PythonRuntimeTests {
    let python: PythonRuntime
    init() throws { python = try PythonRuntime.shared() }

    @Test func embedsTheInterpreterOnPath() throws {
        let probed = try PythonInterpreter.discover()
        #expect(python.interpreter.executable == probed.executable)
        #expect(try python.eval("__import__('sys').prefix", as: String.self) == probed.prefix)
        #expect(try python.eval("__import__('sys').version.split()[0]", as: String.self) == probed.version)
    }

    @Test func evaluatesScalarsAndContainers() throws {
        #expect(try python.eval("40 + 2", as: Int.self) == 42)
        #expect(try python.eval("1.5 * 2", as: Double.self) == 3.0)
        #expect(try python.eval("'é' * 2", as: String.self) == "éé")
        #expect(try python.eval("True", as: Bool.self) == true)
        #expect(try python.evaluate("None") == .none)
        #expect(try python.evaluate("[1, 'a', None]") == .list([.int(1), .string("a"), .none]))
        #expect(try python.evaluate("{'k': 2.5}") == .dictionary([(key: "k", value: .float(2.5))]))
    }

    @Test func callsFunctionsWithSwiftArguments() throws {
        #expect(try python.call("math.hypot", 3.0, 4.0) == .float(5.0))
        #expect(try python.call("len", "hello") == .int(5))
    }

    @Test func execSharesMainGlobals() throws {
        try python.exec("polybridge_test_value = [n * n for n in range(4)]")
        #expect(try python.global("polybridge_test_value") == .list([.int(0), .int(1), .int(4), .int(9)]))
    }

    @Test func exceptionsCarryTypeMessageAndTraceback() throws {
        do {
            try python.exec("def inner():\n    raise ValueError('bad value 7')\ninner()\n")
            Issue.record("expected an exception")
        } catch {
            guard case .exception(let type, let message, let traceback) = error else {
                Issue.record("wrong error \(error)"); return
            }
            #expect(type == "ValueError")
            #expect(message == "bad value 7")
            #expect(traceback.contains("Traceback"))
            #expect(traceback.contains("in inner"))
        }
        #expect(throws: PythonError.self) { try python.evaluate("1 +") }
        #expect(throws: PythonError.self) { try python.importModule("no_such_module_polybridge") }
    }

    @Test func callsFromManyThreadsAreSafe() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                group.addTask {
                    let value = try python.eval("sum(range(\(index)))", as: Int.self)
                    #expect(value == (0..<index).reduce(0, +))
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func reticulateInsideRSharesThisInterpreter() async throws {
        let r = try RRuntime.shared()
        _ = try await r.evaluate("reticulate::py_run_string('polybridge_shared = 41 + 1')")
        #expect(try python.global("polybridge_shared") == .int(42))
        try python.exec("polybridge_from_swift = 'hello from python'")
        let seen = try await r.eval("reticulate::py_eval('polybridge_from_swift')", as: String.self)
        #expect(seen == "hello from python")
        let executable = try await r.eval("reticulate::py_config()$python", as: String.self)
        #expect(executable == python.interpreter.executable)
    }
}
