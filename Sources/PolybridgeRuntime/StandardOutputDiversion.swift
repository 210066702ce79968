import Foundation

/// Standard output sent to standard error until ``end()``: what an engine prints while it runs
/// (Ray's notes about retried tasks, Dask's warnings) must not mix with a command's result.
public final class StandardOutputDiversion: Sendable {
    private let saved: Int32

    /// Starts sending standard output to standard error.
    public init() {
        fflush(nil)
        saved = dup(STDOUT_FILENO)
        if saved >= 0 { dup2(STDERR_FILENO, STDOUT_FILENO) }
    }

    /// Sends standard output where it went before (once).
    public func end() {
        guard saved >= 0 else { return }
        fflush(nil)
        dup2(saved, STDOUT_FILENO)
        close(saved)
    }
}
