import Foundation
import Synchronization

/// The one thread in the process that may enter R.
///
/// R is not thread-safe and checks its C stack against the bounds of the thread that
/// initialised it, so every R call from any Swift task or thread is queued here and run in
/// order on a dedicated thread with a large stack.
final class RThread: @unchecked Sendable {
    /// Stack size of the R thread: deep R recursion must hit R's own C stack check, not a guard page.
    static let stackSize = 256 << 20

    private let condition = NSCondition()
    private var pending: [@Sendable () -> Void] = []
    private let threadIdentifier = Mutex<pthread_t?>(nil)
    /// Jobs queued and not yet taken; read without the lock while the R thread spins.
    private let queued = Atomic<Int>(0)
    /// How long the R thread keeps polling for the next job before it sleeps: waking a sleeping
    /// thread costs 10-30 µs on this kind of machine, more than most calls themselves.
    static let spinBeforeSleeping = Duration.microseconds(100)
    /// Set by a job on the R thread; from the next batch on, the loop runs inside it.
    private var loopWrapper: ((@escaping () -> Void) -> Void)?

    init(name: String) {
        let thread = Thread { [unowned self] in self.runLoop() }
        thread.name = name
        thread.stackSize = RThread.stackSize
        thread.start()
    }

    /// True when called on the R thread itself.
    var isCurrent: Bool {
        guard let identifier = threadIdentifier.withLock({ $0 }) else { return false }
        return pthread_equal(identifier, pthread_self()) != 0
    }

    /// Queues `job` to run on the R thread and returns at once.
    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        pending.append(job)
        queued.add(1, ordering: .releasing)
        condition.signal()
        condition.unlock()
    }

    /// Runs `body` on the R thread for a task that may be cancelled. `onCancel` runs when the
    /// task is cancelled (to interrupt the job if it runs); a cancel while the job still waits
    /// in the queue also ends the wait at once with `CancellationError`, and the job is dropped
    /// when its turn comes, so a cancelled task never waits behind other tasks' jobs.
    func performCancellable<T: Sendable>(_ body: @escaping @Sendable () throws -> T,
                                         onCancel: @escaping @Sendable () -> Void) async throws -> T {
        if isCurrent {
            return try await withTaskCancellationHandler { try body() } onCancel: { onCancel() }
        }
        let job = QueuedJob<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                job.attach(continuation)
                submit { if job.claim() { job.finish(Result { try body() }) } }
            }
        } onCancel: {
            onCancel()
            if job.abandon() { job.finish(.failure(CancellationError())) }
        }
    }

    /// Runs `body` on the R thread and blocks the calling thread until it is done.
    ///
    /// For synchronous callers (the CLI, deinitialisers). Runs inline when already on the R thread.
    func performBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        if isCurrent { return try body() }
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        submit {
            box.result = Result { try body() }
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }

    /// Makes the job loop run inside `wrapper` (which must not return) once the current batch
    /// is done. Called on the R thread, by the job that initialised R.
    func guardLoop(with wrapper: @escaping (@escaping () -> Void) -> Void) {
        loopWrapper = wrapper
    }

    private func runLoop() {
        threadIdentifier.withLock { $0 = pthread_self() }
        RThread.useOrdinarySignalMask()
        while true {
            runNextBatch()
            if let wrapper = loopWrapper {
                loopWrapper = nil
                wrapper { [unowned self] in
                    while true { self.runNextBatch() }
                }
            }
        }
    }

    /// Blocks SIGINT alone on the R thread (Ctrl-C is taken elsewhere, see the R shim), not the
    /// nearly full mask of the Swift pool thread that happened to start it. Programs R starts
    /// inherit this thread's mask, and R's `mc_fork` gives its children the forking thread's
    /// mask even after a fork handler reset it: `mclapply`'s children, SIGUSR1 blocked, never
    /// learnt that they may exit and stayed forever.
    private static func useOrdinarySignalMask() {
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGINT)
        pthread_sigmask(SIG_SETMASK, &mask, nil)
    }

    private func runNextBatch() {
        if queued.load(ordering: .acquiring) == 0 {
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: RThread.spinBeforeSleeping)
            var polls = 0
            while queued.load(ordering: .acquiring) == 0 {
                polls &+= 1
                if polls & 63 == 0, clock.now >= deadline { break }
            }
        }
        condition.lock()
        while pending.isEmpty { condition.wait() }
        let batch = pending
        pending.removeAll(keepingCapacity: true)
        queued.store(0, ordering: .releasing)
        condition.unlock()
        for job in batch { job() }
    }
}

/// A slot written by the R thread before it signals, read by the waiter after: the semaphore orders the two.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

/// One queued job of ``RThread/performCancellable(_:onCancel:)``: taken by the R thread or
/// abandoned by a cancel, whichever comes first, and its caller resumed exactly once.
private final class QueuedJob<T: Sendable>: Sendable {
    private let state = Atomic<Int>(0)  // 0 queued, 1 taken by the R thread, 2 abandoned
    private let slot = Mutex<(continuation: CheckedContinuation<T, any Error>?, result: Result<T, any Error>?)>((nil, nil))

    /// The R thread takes the job; false when it was abandoned.
    func claim() -> Bool { state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged }

    /// A cancel abandons the job; false when the R thread has it already.
    func abandon() -> Bool { state.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged }

    /// The waiting caller; resumed at once if the outcome is known already.
    func attach(_ continuation: CheckedContinuation<T, any Error>) {
        let known = slot.withLock { slot -> Result<T, any Error>? in
            if let result = slot.result { return result }
            slot.continuation = continuation
            return nil
        }
        if let known { continuation.resume(with: known) }
    }

    /// The outcome; resumes the caller, or keeps it for ``attach(_:)``.
    func finish(_ result: Result<T, any Error>) {
        let waiting = slot.withLock { slot -> CheckedContinuation<T, any Error>? in
            guard let continuation = slot.continuation else {
                slot.result = result
                return nil
            }
            slot.continuation = nil
            return continuation
        }
        waiting?.resume(with: result)
    }
}
