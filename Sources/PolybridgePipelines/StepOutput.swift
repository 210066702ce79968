import Foundation
import PolybridgeRuntime
import Synchronization

/// What a step's R code prints (`print`, `cat`, `message`, warnings), sent to standard error a
/// whole line at a time with the step's id in front (`[clean] ...`), so the output of steps
/// running at the same moment (here and in worker processes, which share this standard error)
/// stays readable and standard output stays free for the run's account (`run --json`).
/// Python's output takes the same form through the Python helper (`_PrefixedStream`).
final class StepOutput: Sendable {
    private let prefix: [UInt8]
    /// Bytes of a line not yet ended, for R's output stream and its error stream.
    private let pending = Mutex<(output: [UInt8], error: [UInt8])>(([], []))

    /// Output of the step `id`.
    init(step id: String) { prefix = Array("[\(id)] ".utf8) }

    /// R's console for the step: streamed here as R writes it.
    var rConsole: RConsole {
        .stream { [self] bytes, stream in append(bytes, error: stream == .error) }
    }

    /// Writes the lines `bytes` completes; keeps the rest for the next chunk.
    private func append(_ bytes: UnsafeRawBufferPointer, error: Bool) {
        let lines = pending.withLock { pending -> [UInt8] in
            var buffer = error ? pending.error : pending.output
            buffer.append(contentsOf: bytes)
            guard let end = buffer.lastIndex(of: UInt8(ascii: "\n")) else {
                if error { pending.error = buffer } else { pending.output = buffer }
                return []
            }
            let complete = buffer[...end]
            let rest = Array(buffer[(end + 1)...])
            if error { pending.error = rest } else { pending.output = rest }
            return prefixed(complete)
        }
        write(lines)
    }

    /// Writes `text` as a warning line of the step's (`[id] warning: text`).
    func warn(_ text: String) {
        write(prefixed(Array("warning: \(text)\n".utf8)))
    }

    /// Writes what is left of an unfinished last line (at the step's end).
    func finish() {
        let rest = pending.withLock { pending -> [UInt8] in
            var text: [UInt8] = []
            for part in [pending.output, pending.error] where !part.isEmpty { text += part + [UInt8(ascii: "\n")] }
            pending = ([], [])
            return prefixed(text)
        }
        write(rest)
    }

    /// `lines` (each ended by a newline) with the prefix before each.
    private func prefixed<Lines: Collection<UInt8>>(_ lines: Lines) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(lines.count + prefix.count * 4)
        var startOfLine = true
        for byte in lines {
            if startOfLine { result += prefix }
            result.append(byte)
            startOfLine = byte == UInt8(ascii: "\n")
        }
        return result
    }

    /// One write(2) per call, so lines from steps writing at the same moment do not interleave.
    private func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            guard var next = buffer.baseAddress else { return }
            var remaining = buffer.count
            while remaining > 0 {
                let written = Foundation.write(STDERR_FILENO, next, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                next += written
                remaining -= written
            }
        }
    }
}
