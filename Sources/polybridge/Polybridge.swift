import ArgumentParser
import Dispatch

/// The `polybridge` command: R and Python in one process, data moved between them as Arrow.
@main
struct PolybridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "polybridge",
        abstract: "Run R and Python in one process and move data between them as Arrow buffers.",
        subcommands: [Doctor.self, Eval.self, Convert.self, Inspect.self, Fit.self, Run.self, Demo.self, Bench.self, Stress.self, WorkerCommand.self])

    /// ArgumentParser's own `main`, with Ctrl-C handling set up while this is the only thread.
    ///
    /// Synchronous on purpose: an async `main` parks the main thread in `dispatch_main()`,
    /// which unblocks every signal on it, and SIGINT must stay blocked in every thread (see
    /// `InterruptHandling`). The command runs in a task while the main thread waits.
    static func main() {
        InterruptHandling.install()
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
                exit(withError: error)
            }
            finished.signal()
        }
        finished.wait()
    }
}
