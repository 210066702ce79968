import Foundation
import Polybridge
import Synchronization

/// Standard output sent to standard error until ``end()``: what an engine prints while it runs
/// (Ray's notes about retried tasks, Dask's warnings) must not mix with a command's result.
final class StandardOutputDiversion: Sendable {
    private let saved: Int32

    /// Starts sending standard output to standard error.
    init() {
        fflush(nil)
        saved = dup(STDOUT_FILENO)
        if saved >= 0 { dup2(STDERR_FILENO, STDOUT_FILENO) }
    }

    /// Sends standard output where it went before (once).
    func end() {
        guard saved >= 0 else { return }
        fflush(nil)
        dup2(saved, STDOUT_FILENO)
        close(saved)
    }
}

/// What Ctrl-C stops while a command uses Ray or Dask: the engine once it has started, or,
/// while it still starts, the local Ray head it is starting (which runs in a session of its
/// own and would outlive the command).
final class EngineOnInterrupt: Sendable {
    private let engine = Mutex<EngineExecutor?>(nil)
    private let interrupted = Atomic<Bool>(false)

    /// Records the engine once it has started.
    func started(_ executor: EngineExecutor) {
        engine.withLock { $0 = executor }
    }

    /// Stops the engine, or kills what it has started so far. A Ray driver is not shut down in
    /// order here: `ray.shutdown()` while other threads wait in `ray.get` ends the process from
    /// Ray's core worker (status 1) before the head is stopped. The local head's process group
    /// is killed instead (the actors and their workers with it; on a cluster Ray ends a driver's
    /// actors when the driver goes). Dask is stopped in order (its plugin unregistered).
    func stopOrAbandon() {
        interrupted.store(true, ordering: .releasing)
        let executor = engine.withLock { $0 }
        if let executor, executor.engine == .dask { executor.shutdown() } else { EngineExecutor.abandonLocalClusters() }
    }
}

extension EngineOnInterrupt {
    /// After Ctrl-C, work that failed because the engine was stopping waits here for the
    /// interrupt handler to end the process with status 130, instead of reporting that failure.
    func holdIfInterrupted() {
        guard interrupted.load(ordering: .acquiring) else { return }
        while true { sleep(1) }
    }
}
