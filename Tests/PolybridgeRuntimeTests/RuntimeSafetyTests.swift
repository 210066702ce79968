import Foundation
import PolybridgeTestSupport
import Testing
@testable import PolybridgeRuntime

/// Inputs that used to end the process or hang it: R API calls outside a guard, the protect
/// stack growing with the data, session jobs without the GIL.
@Suite struct RuntimeSafetyTests {
    let r: RRuntime
    init() throws { r = try RRuntime.shared() }

    @Test func sixtyThousandStringArgumentsDoNotOverflowTheProtectStack() async throws {
        // One protect slot per string overflowed R's 50,000-slot stack and ended the process.
        let result = try await r.call("length", Array(repeating: "x", count: 60_000))
        #expect(result.value == .integer([60_000]))
    }

    @Test func aSessionKeepsAnyNumberOfObjectsWithConstantProtection() async throws {
        let total = try await r.withSession { session -> Int in
            var total = 0
            for index in 0..<120_000 {
                let vector = try session.make(.integer([Int32(index)]))
                total += try session.length(of: vector)
            }
            // Every object made above must still be alive: allocate more to give the GC a chance.
            _ = try session.evaluateText("invisible(gc())", purpose: "collecting garbage")
            return total
        }
        #expect(total == 120_000)
    }

    @Test func compactSequencesAreMaterialisedUnderAGuard() async throws {
        let (count, last) = try await r.withSession { session -> (Int, Int32) in
            let sequence = try session.evaluateText("1:10000000", purpose: "a compact sequence")
            let count = try session.length(of: sequence)
            let values = try #require(try session.readOnlyValues(of: sequence, as: Int32.self))
            return (count, values[count - 1])
        }
        #expect(count == 10_000_000)
        #expect(last == 10_000_000)
    }

    @Test func deferredStringsAreReadUnderAGuard() async throws {
        // as.character() of a compact sequence is an ALTREP string vector that allocates on access.
        let strings = try await r.withSession { session in
            try session.readStrings(try session.evaluateText("as.character(1:100000)", purpose: "deferred strings"))
        }
        #expect(strings.count == 100_000)
        #expect(strings.last == "100000")
    }

    @Test func aSessionJobThatLoadsReticulateLeavesPythonUsable() async throws {
        let python = try PythonRuntime.shared()
        // Loading reticulate inside a session job makes that job take the GIL (its onLoad hook);
        // it must give it back when the job ends, or the next Python call deadlocks.
        let answer = try await r.withSession { session -> Double in
            _ = try session.evaluateText("invisible(loadNamespace('reticulate'))", purpose: "loading reticulate")
            let value = try session.evaluateText("reticulate::py_eval('6 * 7')", purpose: "reticulate")
            guard case .integer(let numbers) = try session.read(value), let number = numbers.first ?? nil else {
                if case .double(let numbers) = try session.read(value), let number = numbers.first ?? nil { return number }
                return -1
            }
            return Double(number)
        }
        #expect(answer == 42)
        let finished = DispatchSemaphore(value: 0)
        let result = PythonResult()
        Thread.detachNewThread {
            result.value = try? python.evaluate("40 + 2")
            finished.signal()
        }
        // Once reticulate is loaded every R job holds the GIL while it runs, so under the parallel
        // suite this call may wait for other tests' long R jobs: only a deadlock never finishes.
        #expect(finished.wait(timeout: .now() + 600) == .success, "a Python call after the session job deadlocked")
        #expect(result.value == .int(42))
    }

    // Session 3 saw about one run in two lose the cancel here (the job ran to its end). Fixed in
    // session 4: each job has its own interrupt flag, which R's polled-events hook re-asserts
    // until the job ends, instead of one global flag that a timer had to keep setting.
    @Test func cancellingAfterReticulateRanStillStopsTheRJob() async throws {
        _ = try PythonRuntime.shared()
        // reticulate saves and restores R's interrupt flag around its own work; a cancel must
        // still land (the host re-asserts it from R's event polling).
        _ = try await r.evaluate("invisible(loadNamespace('reticulate')); invisible(reticulate::py_eval('1 + 1'))")
        for _ in 0..<5 {
            // Bounded, so that a cancel that never lands fails the test instead of hanging the suite.
            let task = Task(executorPreference: DedicatedThreadExecutor.timing) {
                await timed { try await r.evaluate("reticulate::py_eval('2'); deadline <- Sys.time() + 600; while (Sys.time() < deadline) {}") }
            }
            cancelFromOwnThread(task, after: .milliseconds(300))
            let (outcome, seconds) = await task.value
            guard case .failure(let error) = outcome else { Issue.record("the loop finished on its own"); continue }
            #expect(error is CancellationError, "\(error)")
            #expect(seconds < 60)
        }
    }

    /// A job cancelled while it still waits for the R thread ends at once: it does not wait
    /// behind the job that is running (an 8-second loop that other tests' interrupts cannot
    /// stop), and it never runs.
    @Test func aCancelledQueuedJobDoesNotWaitForTheRunningOne() async throws {
        _ = try await r.evaluate("queued_job_ran <- FALSE")
        let started = try scratchDirectory() + "/loop-started"
        // All of it on the dedicated executor: waiting for the loop's file on the shared pool
        // could resume after the 8-second loop had already ended.
        let (outcome, seconds) = try await withTaskExecutorPreference(DedicatedThreadExecutor.timing) {
            let long = Task(executorPreference: DedicatedThreadExecutor.timing) {
                try await r.evaluate("suspendInterrupts({ file.create('\(started)'); deadline <- Sys.time() + 8; while (Sys.time() < deadline) {} })")
            }
            // The loop holds the R thread once its file exists.
            while !FileManager.default.fileExists(atPath: started) { try await Task.sleep(for: .milliseconds(20)) }
            let queued = Task(executorPreference: DedicatedThreadExecutor.timing) { await timed { try await r.evaluate("queued_job_ran <- TRUE") } }
            cancelFromOwnThread(queued, after: .milliseconds(200))
            let result = await queued.value
            _ = await long.result
            return result
        }
        #expect(seconds < 4, "the cancelled job waited for the running one")
        guard case .failure(let error) = outcome else { Issue.record("the cancelled job ran"); return }
        #expect(error is CancellationError, "\(error)")
        #expect(try await r.eval("queued_job_ran", as: Bool.self) == false)
    }

    @Test func sessionJobsCallingReticulateHoldTheGILWhileOtherThreadsRunPython() async throws {
        let python = try PythonRuntime.shared()
        _ = try await r.evaluate("invisible(loadNamespace('reticulate'))")
        let stop = ManagedFlag()
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            // Python busy on another thread the whole time.
            while !stop.isSet { _ = try? python.evaluate("sum(range(2000))") }
            finished.signal()
        }
        var values: [RValue] = []
        for _ in 0..<200 {
            values.append(try await r.withSession { session in
                try session.read(try session.evaluateText("reticulate::py_eval('1 + 1')", purpose: "reticulate"))
            })
        }
        stop.set()
        #expect(finished.wait(timeout: .now() + 600) == .success)
        #expect(values.allSatisfy { $0 == .integer([2]) })
    }
}

/// How `body` ended and the seconds it took, measured where it runs (in a timing test, on the
/// dedicated executor's thread, so that the time is the runtime's, not the shared pool's).
func timed<T: Sendable>(_ body: () async throws -> T) async -> (Result<T, any Error>, Double) {
    let started = ContinuousClock.now
    let outcome: Result<T, any Error>
    do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
    return (outcome, (ContinuousClock.now - started).seconds)
}

/// A slot a detached thread writes before signalling; the semaphore orders the read.
private final class PythonResult: @unchecked Sendable {
    var value: PythonValue?
}

/// A flag set by one thread and polled by another.
private final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
