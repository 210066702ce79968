import CProcess
import Foundation
import Polybridge

/// SIGTERM and SIGHUP end `polybridge` as their default action would, but after
/// ``ProcessEnd`` has removed the run's shared-memory files.
///
/// The handlers only note the signal; a thread of its own does the rest. They are reset to the
/// default action in forked children (see CProcess), and programs started with exec get the
/// default action anyway.
enum EndingSignals {
    /// Installs the handlers and starts the thread that acts on them; call once, early in `main`.
    static func install() {
        for signal in [SIGTERM, SIGHUP] { _ = pb_signal_catch(signal) }
        let thread = Thread {
            while true {
                let signal = pb_signal_next()
                RRuntime.trace("signal \(signal) taken; ending the process")
                ProcessEnd.endAsKilled(by: signal)
            }
        }
        thread.name = "polybridge.ending-signals"
        thread.start()
    }
}
