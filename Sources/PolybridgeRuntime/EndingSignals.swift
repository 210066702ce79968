import CProcess
import Foundation
import Synchronization

/// SIGTERM, SIGHUP, and SIGPIPE when standard output or error has lost its reader
/// (`polybridge eval ... | head -1`), end `polybridge` as their default action would, but
/// after ``ProcessEnd`` has removed R's session folder and the run's shared-memory files.
///
/// The handlers only note the signal; a thread of its own does the rest. They are reset to the
/// default action in forked children (see CProcess), and programs started with exec get the
/// default action anyway. SIGPIPE from another pipe (a Python subprocess that went away) no
/// longer ends the process: the write fails with EPIPE, as in Python itself.
public enum EndingSignals {
    /// Installs the handlers and starts the thread that acts on them; call once, early in `main`.
    public static func install() {
        for signal in [SIGTERM, SIGHUP, SIGPIPE] { _ = pb_signal_catch(signal) }
        let thread = Thread {
            while true {
                let signal = pb_signal_next()
                if signal == SIGPIPE, pb_descriptor_is_broken_pipe(STDOUT_FILENO) == 0, pb_descriptor_is_broken_pipe(STDERR_FILENO) == 0 {
                    continue
                }
                if let handler = takenOver.withLock({ $0[signal] }) {
                    handler()
                    continue
                }
                RRuntime.trace("signal \(signal) taken; ending the process")
                ProcessEnd.endAsKilled(by: signal)
            }
        }
        thread.name = "polybridge.ending-signals"
        thread.start()
    }

    private static let takenOver = Mutex<[Int32: @Sendable () -> Void]>([:])

    /// Has SIGTERM or SIGHUP call `handler` (on the signals' thread) instead of ending the
    /// process, until ``release(_:)``: how a server drains its requests before it ends.
    public static func takeOver(_ signal: Int32, _ handler: @escaping @Sendable () -> Void) {
        takenOver.withLock { $0[signal] = handler }
    }

    /// Gives `signal` back its ending action.
    public static func release(_ signal: Int32) {
        _ = takenOver.withLock { $0.removeValue(forKey: signal) }
    }
}
