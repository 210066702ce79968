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

    /// Stops the engine, or kills what it has started so far (``EngineExecutor/stopForInterrupt(_:)``).
    public func stopOrAbandon() {
        interrupted.store(true, ordering: .releasing)
        EngineExecutor.stopForInterrupt(engine.withLock { $0 })
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
