import ArgumentParser

/// The `polybridge` command: R and Python in one process, data moved between them as Arrow.
@main
struct PolybridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "polybridge",
        abstract: "Run R and Python in one process and move data between them as Arrow buffers.",
        subcommands: [Doctor.self, Eval.self, Convert.self, Inspect.self, Demo.self, Bench.self, Stress.self])
}
