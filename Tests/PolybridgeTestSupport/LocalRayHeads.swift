import Dispatch

/// Lets one test command at a time start a local Ray head.
///
/// A local head gives its raylet a fixed 30 s to register with Ray's GCS (`ray start` then
/// fails with "The current node timed out during startup"). With every suite running at once
/// on two cores, six heads starting together have each missed that limit three times in a
/// row. Ray is the one engine that starts a cluster of several processes per command; the
/// tests that use it take turns at it, and every other test keeps running beside them.
enum LocalRayHeads {
    private static let turn = DispatchSemaphore(value: 1)

    /// Whether `arguments` run a command on Ray (`--executor ray` or `--executor=ray`).
    static func startsOne(_ arguments: [String]) -> Bool {
        arguments.contains("--executor=ray") || zip(arguments, arguments.dropFirst()).contains { $0 == "--executor" && $1 == "ray" }
    }

    /// Runs `body`, blocking first until no other test command is on Ray when `arguments`
    /// run one on Ray. Call it on a thread of its own (``runOnOwnThread(_:)``), never on
    /// Swift's cooperative pool.
    static func takingTurns<T>(_ arguments: [String], _ body: () throws -> T) rethrows -> T {
        guard startsOne(arguments) else { return try body() }
        turn.wait()
        defer { turn.signal() }
        return try body()
    }
}
