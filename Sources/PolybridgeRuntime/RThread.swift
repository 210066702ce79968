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

    /// Runs `body` on the R thread and waits for its result, suspending the calling task.
    func perform<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        if isCurrent { return try body() }
        return try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try body() }) }
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
