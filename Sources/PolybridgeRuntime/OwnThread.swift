import Foundation

/// Runs `body`, which blocks for as long as it takes (a Python step holding the GIL, starting a
/// cluster, waiting for a child process), on a thread of its own and resumes with its result.
///
/// Swift's cooperative pool has one thread per core, two on a small machine: work that blocks
/// pool threads for seconds delays every other task in the process, a cancel's effect among them.
/// It throws what `body` throws, and nothing when `body` cannot fail.
public func runOnOwnThread<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    let outcome: Result<T, E> = await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: Result { () throws(E) -> T in try body() }) }
    }
    return try outcome.get()
}

extension Duration {
    /// The duration in seconds as a Double.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
