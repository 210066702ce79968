import Foundation

/// A task executor with one thread of its own. A test whose timing matters runs its task here
/// (`Task(executorPreference: DedicatedThreadExecutor.timing)`), so the moment its awaits
/// resume is not decided by Swift's shared pool: on two cores that pool has two threads, and
/// other tests can hold both for seconds (a Python call waiting for the GIL that a running R
/// job holds once reticulate is loaded, CPU-heavy conversions).
public final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    /// The executor timing tests share.
    public static let timing = DedicatedThreadExecutor(name: "polybridge-tests.timing")

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    /// Starts the executor's thread (it lives as long as the process).
    public init(name: String) {
        let thread = Thread { [self] in runJobs() }
        thread.name = name
        thread.start()
    }

    /// Queues `job` for the executor's thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func runJobs() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
