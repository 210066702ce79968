import Foundation
import Synchronization

/// What Ctrl-C stops while a command uses Ray or Dask: the engine once it has started, or,
/// while it still starts, the local Ray head it is starting (which runs in a session of its
/// own and would outlive the command).
public final class EngineOnInterrupt: Sendable {
    private let engine = Mutex<EngineExecutor?>(nil)
    private let interrupted = Atomic<Bool>(false)

    /// Nothing started yet.
    public init() {}

    /// Records the engine once it has started.
    public func started(_ executor: EngineExecutor) {
        engine.withLock { $0 = executor }
    }

    /// Stops the engine, or kills what it has started so far. A Ray driver is not shut down in
    /// order here: `ray.shutdown()` while other threads wait in `ray.get` ends the process from
    /// Ray's core worker (status 1) before the head is stopped. The local head's process group
    /// is killed instead (the actors and their workers with it; on a cluster Ray ends a driver's
    /// actors when the driver goes). Dask is stopped in order (its plugin unregistered).
    public func stopOrAbandon() {
        interrupted.store(true, ordering: .releasing)
        let executor = engine.withLock { $0 }
        if let executor, executor.engine == .dask { executor.shutdown() } else { EngineExecutor.abandonLocalClusters() }
    }
}

extension EngineOnInterrupt {
    /// After Ctrl-C, work that failed because the engine was stopping waits here for the
    /// interrupt handler to end the process with status 130, instead of reporting that failure.
    public func holdIfInterrupted() {
        guard interrupted.load(ordering: .acquiring) else { return }
        while true { sleep(1) }
    }
}
