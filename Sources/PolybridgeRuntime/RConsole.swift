import Foundation

/// Which of R's two console streams a chunk of output belongs to.
public enum RConsoleStream: Sendable, Equatable {
    /// What R prints (`print`, `cat`): standard output under `Rscript`.
    case output
    /// Messages, warnings and errors (`message`, `cat(file = stderr())`): standard error under `Rscript`.
    case error
}

/// Receives R's console output as R writes it, on the R thread.
///
/// `bytes` are valid only during the call. The writer must not call back into R (it runs
/// inside R's console callback) and should return quickly: R waits for it.
public typealias RConsoleWriter = @Sendable (_ bytes: UnsafeRawBufferPointer, _ stream: RConsoleStream) -> Void

/// Where the console output of an R evaluation goes, and who reports its warnings and error.
public enum RConsole: Sendable {
    /// Kept for the caller: returned in `REvaluation.output` (or an `RError.evaluation`'s
    /// output); warnings are returned in `REvaluation.warnings` and nothing is printed. The default.
    case capture
    /// Handed to `writer` as R writes it, and reported the way `Rscript` reports: the warnings
    /// of each top-level expression are written to the error stream once it has run
    /// ("Warning message:" / "In f() : ..."), and an error is written there with the warnings
    /// pending before it ("Error in f() : ...", "In addition: Warning message: ...") before the
    /// evaluation throws `RError.evaluation`. `REvaluation.output` is then empty; warnings are
    /// still returned. Parse errors are only thrown (nothing ran).
    case stream(RConsoleWriter)

    /// `.stream` to the process's standard output and standard error, unbuffered: each chunk is
    /// written to file descriptor 1 or 2 as R produces it (what `polybridge eval` uses).
    public static var standardStreams: RConsole {
        .stream { bytes, stream in
            writeAll(bytes, to: stream == .output ? STDOUT_FILENO : STDERR_FILENO)
        }
    }

    /// The writer for streamed output, nil when output is captured.
    var writer: RConsoleWriter? {
        if case .stream(let writer) = self { return writer }
        return nil
    }
}

/// Writes every byte of `bytes` to `descriptor`, retrying short and interrupted writes; gives
/// up silently when the descriptor is closed (as a closed pipe would make any writer do).
private func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) {
    guard var next = bytes.baseAddress else { return }
    var remaining = bytes.count
    while remaining > 0 {
        let written = write(descriptor, next, remaining)
        if written < 0 {
            if errno == EINTR { continue }
            return
        }
        next += written
        remaining -= written
    }
}
