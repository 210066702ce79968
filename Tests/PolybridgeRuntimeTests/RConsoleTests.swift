import Foundation
import Synchronization
import Testing
@testable import PolybridgeRuntime

/// The chunks a streamed console received, in order; `arrival(of:)` waits for a text to appear.
private final class ConsoleRecorder: Sendable {
    private struct State {
        var chunks: [(RConsoleStream, String)] = []
        var waiting: [(text: String, continuation: CheckedContinuation<Void, Never>)] = []
    }
    private let state = Mutex(State())

    var console: RConsole {
        .stream { [self] bytes, stream in
            let text = String(decoding: bytes, as: UTF8.self)
            let ready = state.withLock { state in
                state.chunks.append((stream, text))
                let all = state.chunks.map(\.1).joined()
                let ready = state.waiting.filter { all.contains($0.text) }
                state.waiting.removeAll { all.contains($0.text) }
                return ready
            }
            for waiter in ready { waiter.continuation.resume() }
        }
    }

    /// Everything written to `stream`, concatenated.
    func text(of stream: RConsoleStream) -> String {
        state.withLock { $0.chunks.filter { $0.0 == stream }.map(\.1).joined() }
    }

    /// The streams of the chunks, in the order they arrived.
    var order: [RConsoleStream] { state.withLock { $0.chunks.map(\.0) } }

    /// Returns once `text` has been written (at once if it already was).
    func arrival(of text: String) async {
        await withCheckedContinuation { continuation in
            let seen = state.withLock { state in
                if state.chunks.map(\.1).joined().contains(text) { return true }
                state.waiting.append((text, continuation))
                return false
            }
            if seen { continuation.resume() }
        }
    }
}

@Suite struct RConsoleTests {
    let r: RRuntime
    init() throws { r = try RRuntime.shared() }

    @Test func streamedConsoleHandsOverEachStreamInTheOrderWritten() async throws {
        let recorder = ConsoleRecorder()
        let result = try await r.evaluate("cat('a\\n'); message('m'); cat('b\\n'); 42L",
                                          printVisible: true, console: recorder.console)
        #expect(recorder.text(of: .output) == "a\nb\n[1] 42\n")
        #expect(recorder.text(of: .error) == "m\n")
        let firstError = try #require(recorder.order.firstIndex(of: .error))
        #expect(recorder.order[..<firstError].allSatisfy { $0 == .output })
        #expect(recorder.order.last == .output)
        #expect(result.output == "")
        #expect(result.value == .integer([42]))
    }

    @Test func capturedConsoleIsTheDefaultAndPrintsNothing() async throws {
        let result = try await r.evaluate("cat('a\\n'); message('m'); warning('w')")
        #expect(result.output == "a\nm\n")
        #expect(result.warnings == ["w"])
    }

    @Test func streamedWarningsAreReportedLikeRscriptAfterTheirExpressionAndStillReturned() async throws {
        let recorder = ConsoleRecorder()
        let result = try await r.evaluate("""
            f <- function() warning('careful')
            f(); cat('after f\\n')
            warning('top level')
            """, console: recorder.console)
        #expect(recorder.text(of: .error) == "Warning message:\nIn f() : careful\nWarning message:\ntop level \n")
        #expect(recorder.text(of: .output) == "after f\n")
        #expect(result.warnings == ["careful", "top level"])
    }

    @Test func streamedErrorIsReportedLikeRscriptWithTheWarningsBeforeIt() async throws {
        let recorder = ConsoleRecorder()
        await #expect(throws: RError.evaluation(message: "boom", call: "f()", output: "")) {
            try await r.evaluate("f <- function() { warning('first'); stop('boom') }; f()", console: recorder.console)
        }
        #expect(recorder.text(of: .error) == "Error in f() : boom\nIn addition: Warning message:\nIn f() : first\n")
    }

    @Test func streamedReportSummarisesMoreThanTenWarningsAndWarningsShowsThem() async throws {
        let recorder = ConsoleRecorder()
        let result = try await r.evaluate("for (i in 1:12) warning(i); length(warnings())", console: recorder.console)
        #expect(recorder.text(of: .error) == "There were 12 warnings (use warnings() to see them)\n")
        #expect(result.value == .integer([12]))
    }

    @Test func cancellingWakesRFromSysSleep() async throws {
        let recorder = ConsoleRecorder()
        // Without the wake-up, R would sleep the whole minute and then return normally.
        let task = Task { try await r.evaluate("cat('sleeping\\n'); Sys.sleep(60); 'woke on its own'", console: recorder.console) }
        await recorder.arrival(of: "sleeping")
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try await r.eval("4L", as: Int.self) == 4)
    }
}
