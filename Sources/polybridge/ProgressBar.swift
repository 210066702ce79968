import Foundation
import Polybridge
import Synchronization

/// A one-line progress bar for a chunked fit on standard error: the pass, chunks done, rows per
/// second and time elapsed, redrawn in place at most ten times a second. Only made when
/// standard error is a terminal, so logs and pipes stay clean.
final class ProgressBar: Sendable {
    private struct State {
        var passStarted = ContinuousClock.now
        var pass = 0
        var lastDrawn: ContinuousClock.Instant?
        var drawn = false
    }

    private let started = ContinuousClock.now
    private let state = Mutex(State())

    /// A bar when standard error is a terminal, else nil.
    static func forTerminal() -> ProgressBar? {
        isatty(STDERR_FILENO) == 1 ? ProgressBar() : nil
    }

    /// Draws `progress` (throttled; the last chunk of a pass is always drawn).
    func update(_ progress: LinearModelProgress) {
        let now = ContinuousClock.now
        let line = state.withLock { state -> String? in
            if progress.pass != state.pass {
                state.pass = progress.pass
                state.passStarted = now
            }
            let final = progress.chunksDone == progress.chunkCount
            if let last = state.lastDrawn, now - last < .milliseconds(100), !final { return nil }
            state.lastDrawn = now
            state.drawn = true
            return Self.render(progress, passSeconds: (now - state.passStarted).seconds, elapsed: (now - started).seconds)
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// Clears the bar's line, if it drew one.
    func finish() {
        if state.withLock({ $0.drawn }) { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    /// The bar's text, e.g. `pass 2/2 factor [#######-----] 6/10 chunks  4.1M rows/s  1.5 s`.
    static func render(_ progress: LinearModelProgress, passSeconds: Double, elapsed: Double) -> String {
        let width = 24
        let filled = progress.chunkCount == 0 ? width : width * progress.chunksDone / progress.chunkCount
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let rate = passSeconds > 0 ? Double(progress.rowsDone) / passSeconds : 0
        let rateText = rate >= 1e6 ? String(format: "%.1fM", rate / 1e6) : rate >= 1e3 ? String(format: "%.1fk", rate / 1e3) : String(format: "%.0f", rate)
        return "\r\u{1B}[K" + String(format: "pass %@ %@ [%@] %d/%d chunks  %@ rows/s  %.1f s",
                                     progress.passText as NSString, progress.step as NSString, bar as NSString,
                                     progress.chunksDone, progress.chunkCount, rateText as NSString, elapsed)
    }
}
