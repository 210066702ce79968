import CProcess
import Foundation

/// The worker's side of the protocol (`polybridge worker`): reads one request line at a time on
/// standard input, answers each with one line on standard output, and writes an empty line
/// every second in between so the caller tells a worker that is busy from one that is stopped.
public enum JobServer {
    /// How often the heartbeat is written.
    public static let heartbeatInterval: Duration = .seconds(1)

    /// Serves `registry` until standard input ends. The worker dies with its parent (however
    /// the parent ends), and the protocol gets its own copy of standard output: what R, Python
    /// or a job's code prints goes to standard error instead of into the answers. Returns
    /// false when it cannot set that up.
    public static func serve(_ registry: JobRegistry) async -> Bool {
        guard pb_die_with_parent() == 0 else { return false }
        let protocolDescriptor = dup(STDOUT_FILENO)
        guard protocolDescriptor >= 0, dup2(STDERR_FILENO, STDOUT_FILENO) >= 0 else { return false }
        let answers = Answers(descriptor: protocolDescriptor)
        let context = JobContext()
        while let line = readLine(strippingNewline: true) {
            if line.isEmpty { continue }
            answers.write(await registry.answer(Data(line.utf8), context: context) + Data("\n".utf8))
        }
        return true
    }

    /// The answers, with the heartbeat written from a thread of its own; lines are written
    /// whole, under one lock.
    private final class Answers: @unchecked Sendable {
        private let handle: FileHandle
        private let lock = NSLock()

        init(descriptor: Int32) {
            handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
            Thread.detachNewThread { [self] in
                while true {
                    Thread.sleep(forTimeInterval: Double(JobServer.heartbeatInterval.components.seconds))
                    write(Data("\n".utf8))
                }
            }
        }

        func write(_ data: Data) {
            lock.lock()
            defer { lock.unlock() }
            try? handle.write(contentsOf: data)
        }
    }
}
