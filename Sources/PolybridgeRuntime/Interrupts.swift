import Foundation
import Synchronization

/// Ctrl-C for the whole process, once a program installs it (the `polybridge` command does,
/// first thing in `main`); without it, forwarders are never called.
///
/// SIGINT is blocked in every thread and taken by one thread of its own in `sigwait`: the mask
/// is set on the main thread before any other thread exists, and threads inherit it. R, while
/// it waits in `select()` (`Sys.sleep`), installs a SIGINT handler that longjmps into the R
/// thread's stack; a signal handled on any other thread would crash the process with "longjmp
/// causes uninitialized stack frame". Blocked, the signal stays pending until that thread takes
/// it. Programs started from R or Python inherit the blocked mask and so do not see Ctrl-C
/// themselves (as they inherited SIG_IGN before).
public enum InterruptHandling {
    /// The active forwarders' handlers, innermost last; empty means "exit 130".
    private static let handlers = Mutex<[(id: ObjectIdentifier, handler: @Sendable () -> Void)]>([])

    /// Blocks SIGINT and starts taking it; call first in `main`, before any thread is started.
    /// The mask is set, not added to: a program started from a thread that blocks SIGTERM (a
    /// Swift or Python pool thread, say) would otherwise pass that on, and `polybridge` would
    /// ignore `kill`. SIGPIPE keeps its inherited state (the pool starts its workers with it
    /// blocked: a dead peer is an error for them, not an exit).
    public static func install() {
        var inherited = sigset_t(), interrupt = sigset_t()
        pthread_sigmask(SIG_SETMASK, nil, &inherited)
        sigemptyset(&interrupt)
        sigaddset(&interrupt, SIGINT)
        if sigismember(&inherited, SIGPIPE) == 1 { sigaddset(&interrupt, SIGPIPE) }
        pthread_sigmask(SIG_SETMASK, &interrupt, nil)
        let thread = Thread {
            var waited = sigset_t()
            sigemptyset(&waited)
            sigaddset(&waited, SIGINT)
            // POSIX wants the signal blocked in the thread that calls sigwait; it is inherited
            // from the main thread already, and blocked again here so that this holds whoever
            // starts the thread. (/proc shows it unblocked during the wait: the kernel does that.)
            pthread_sigmask(SIG_BLOCK, &waited, nil)
            while true {
                var signal: Int32 = 0
                guard sigwait(&waited, &signal) == 0 else { continue }
                RRuntime.trace("SIGINT taken; \(handlers.withLock { $0.count }) handler(s)")
                guard let current = handlers.withLock({ $0.last?.handler }) else {
                    // No command is listening: end the process as Ctrl-C's default action would,
                    // R's session folder and the run's shared-memory files removed first.
                    ProcessEnd.immediately(130)
                }
                current()
            }
        }
        thread.name = "polybridge.interrupts"
        thread.start()
    }

    fileprivate static func push(_ owner: ObjectIdentifier, _ handler: @escaping @Sendable () -> Void) {
        handlers.withLock { $0.append((owner, handler)) }
    }

    fileprivate static func remove(_ owner: ObjectIdentifier) {
        handlers.withLock { $0.removeAll { $0.id == owner } }
    }
}

/// Turns Ctrl-C (SIGINT) into a call to `onInterrupt` while alive, instead of ending the process.
public final class InterruptForwarder: Sendable {
    /// Forwards Ctrl-C to `onInterrupt` until ``stop()``.
    public init(onInterrupt: @escaping @Sendable () -> Void) {
        InterruptHandling.push(ObjectIdentifier(self), onInterrupt)
    }

    /// Stops forwarding: Ctrl-C ends the process again (status 130).
    public func stop() {
        InterruptHandling.remove(ObjectIdentifier(self))
    }
}
