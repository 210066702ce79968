import Foundation
import Polybridge
import Synchronization

/// What a long fit says on standard error when that is not a terminal (a CI log, a file): a
/// plain line every `interval` seconds (10, or `POLYBRIDGE_PROGRESS_SECONDS`) with the time so
/// far and the latest progress, so a log shows the fit is alive. Short fits print nothing.
final class ProgressLog: Sendable {
    private struct State {
        var latest: LinearModelProgress?
        var finished = false
    }

    private let state = Mutex(State())

    /// A log when standard error is not a terminal, else nil. `whole` describes a fit that
    /// reports no chunks (one `lm`).
    static func forNonTerminal(whole: String) -> ProgressLog? {
        guard isatty(STDERR_FILENO) != 1 else { return nil }
        let seconds = ProcessInfo.processInfo.environment["POLYBRIDGE_PROGRESS_SECONDS"].flatMap(Double.init) ?? 10
        return ProgressLog(interval: seconds > 0 && seconds.isFinite ? seconds : 10, whole: whole)
    }

    private init(interval: Double, whole: String) {
        let started = ContinuousClock.now
        Thread.detachNewThread { [self] in
            var next = interval
            while true {
                Thread.sleep(forTimeInterval: 0.1)
                let elapsed = (ContinuousClock.now - started).seconds
                guard elapsed >= next else { continue }
                next += interval
                let (latest, finished) = state.withLock { ($0.latest, $0.finished) }
                if finished { return }
                let what = latest.map { "pass \($0.passText) \($0.step), \($0.chunksDone)/\($0.chunkCount) chunks, \($0.rowsDone) of \($0.rowCount) rows" } ?? whole
                FileHandle.standardError.write(Data("fit: \(Int(elapsed)) s: \(what)\n".utf8))
            }
        }
    }

    /// Records the latest progress of a chunked fit.
    func update(_ progress: LinearModelProgress) {
        state.withLock { $0.latest = progress }
    }

    /// Stops the log.
    func finish() {
        state.withLock { $0.finished = true }
    }
}
