import Dispatch
import Foundation

/// Turns Ctrl-C (SIGINT) into a call to `onInterrupt` while alive, instead of killing the process.
final class InterruptForwarder: @unchecked Sendable {
    private let source: DispatchSourceSignal

    init(onInterrupt: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler(handler: onInterrupt)
        source.resume()
    }

    /// Stops forwarding and restores the default Ctrl-C behaviour.
    func stop() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
