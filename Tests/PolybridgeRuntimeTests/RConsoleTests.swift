import Foundation
import Synchronization
import PolybridgeTestSupport
import Testing
@testable import PolybridgeRuntime

/// The chunks a streamed console received, in order.
private final class ConsoleRecorder: Sendable {
    private let chunks = Mutex<[(RConsoleStream, String)]>([])

    var console: RConsole {
        .stream { [self] bytes, stream in
            let text = String(decoding: bytes, as: UTF8.self)
            chunks.withLock { $0.append((stream, text)) }
        }
    }

    /// Everything written to `stream`, concatenated.
    func text(of stream: RConsoleStream) -> String {
        chunks.withLock { $0.filter { $0.0 == stream }.map(\.1).joined() }
    }

    /// The streams of the chunks, in the order they arrived.
    var order: [RConsoleStream] { chunks.withLock { $0.map(\.0) } }
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
        // The R thread's kernel task, to see when it is blocked in select().
        let rThreadTask = try await r.withSession { _ in
            try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")
        }
        // The job may wait behind other tests' R jobs: it says when it runs. The waiting and the
        // cancel happen on a thread of their own: Swift's pool threads may all be blocked by
        // Python calls waiting for the GIL this very job holds.
        let started = DispatchSemaphore(value: 0)
        let console = RConsole.stream { bytes, _ in
            if String(decoding: bytes, as: UTF8.self).contains("sleeping") { started.signal() }
        }
        // Its end is timed where it runs, on the dedicated executor, not on the shared pool.
        let task = Task(executorPreference: DedicatedThreadExecutor.timing) { () async -> (Result<REvaluation, any Error>, ContinuousClock.Instant) in
            let outcome: Result<REvaluation, any Error>
            do { outcome = .success(try await r.evaluate("cat('sleeping\\n'); Sys.sleep(120)", console: console)) } catch { outcome = .failure(error) }
            return (outcome, ContinuousClock.now)
        }
        let cancelled = Mutex<(sleeping: Bool, at: ContinuousClock.Instant?)>((false, nil))
        Thread.detachNewThread {
            started.wait()
            // Cancel only once R waits in select(): a cancel that lands before it is seen without
            // any wake-up, when R checks its flag on the way in.
            let sleeping = waitUntilBlockedInSelect("/proc/\(rThreadTask)")
            cancelled.withLock { $0 = (sleeping, ContinuousClock.now) }
            task.cancel()
        }
        let (outcome, ended) = await task.value
        #expect(throws: CancellationError.self) { try outcome.get() }
        let (sleeping, at) = cancelled.withLock { $0 }
        #expect(sleeping, "R never went to sleep")
        // Without the wake-up R sleeps its two minutes and only then sees the interrupt.
        #expect(at.map { ended - $0 < .seconds(60) } == true)
        #expect(try await r.eval("4L", as: Int.self) == 4)
    }
}

/// Waits until the thread at `/proc/<pid>/task/<tid>` is in select(2)/pselect6(2) (true), or
/// gives up after a minute (false). Blocks the calling thread.
func waitUntilBlockedInSelect(_ threadDirectory: String) -> Bool {
    for _ in 0..<6_000 {
        if let syscall = try? String(contentsOfFile: threadDirectory + "/syscall", encoding: .utf8),
           let number = syscall.split(separator: " ").first, ["23", "270"].contains(number) {
            return true
        }
        usleep(10_000)
    }
    return false
}
