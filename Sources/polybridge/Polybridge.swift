import ArgumentParser
import Dispatch
import Foundation
import Polybridge
import Synchronization

/// The `polybridge` command: R and Python in one process, data moved between them as Arrow.
@main
struct PolybridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "polybridge",
        abstract: "Run R and Python in one process and move data between them as Arrow buffers.",
        subcommands: [Doctor.self, Eval.self, Convert.self, Inspect.self, Fit.self, Run.self, Serve.self, Demo.self, Bench.self, Stress.self,
                      WorkerCommand.self])

    /// ArgumentParser's own `main`, with Ctrl-C and the other ending signals handled from the
    /// start (Ctrl-C's set up while this is the only thread).
    ///
    /// Synchronous on purpose: an async `main` parks the main thread in `dispatch_main()`,
    /// which unblocks every signal on it, and SIGINT must stay blocked in every thread (see
    /// `InterruptHandling`). The command runs in a task while the main thread waits, and the
    /// process ends through ``ProcessEnd`` (no C++ static destructors while Arrow data that
    /// pyarrow made may still be released on another thread).
    static func main() {
        InterruptHandling.install()
        EndingSignals.install()
        let status = Mutex<Int32>(0)
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                var command = try parseAsRoot()
                if var asyncCommand = command as? AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    try command.run()
                }
            } catch {
                status.withLock { $0 = report(error) }
            }
            finished.signal()
        }
        finished.wait()
        ProcessEnd.now(status.withLock { $0 })
    }

    /// What ArgumentParser's `exit(withError:)` prints for `error` (help and version on standard
    /// output, the rest on standard error), without its exit; returns the exit status.
    private static func report(_ error: any Error) -> Int32 {
        let code = exitCode(for: error)
        let message = fullMessage(for: error)
        if !message.isEmpty {
            if code == .success {
                print(message)
            } else {
                printError(message)
            }
        }
        return code.rawValue
    }
}
