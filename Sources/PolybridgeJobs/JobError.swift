import PolybridgeRuntime

/// Why a job failed, the same wherever it ran: a code a program can act on, the message a
/// person reads, and the underlying cause when there is one (R's call, a Python traceback, the
/// system's error). It travels from worker to caller as part of the answer.
public struct JobError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: String, Codable, Sendable {
        /// The process serving the job died or stopped answering, more times than retried.
        case workerDied
        /// The job took longer than the executor's timeout.
        case timedOut
        /// The caller cancelled the job.
        case cancelled
        /// R raised an error running the job.
        case rError
        /// Python raised an exception running the job.
        case pythonError
        /// The job's input was refused (an unknown kind, a malformed request, bad data).
        case badInput
        /// The job reads worker state that its worker does not hold, and nothing can rebuild it.
        case stateMissing
        /// Anything else the job threw.
        case failed
    }

    /// What kind of failure.
    public var code: Code
    /// The message for the person at the terminal.
    public var message: String
    /// The underlying cause, when it adds to the message.
    public var cause: String?

    /// A job error.
    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// `error` as a job error: itself when it is one, else coded by its type with the message
    /// a person reads: R's condition message (``RError/userMessage``), Python's traceback
    /// (``PythonError/userMessage``), or the error's description.
    public init(_ error: any Error) {
        switch error {
        case let error as JobError: self = error
        case let error as RError: self.init(.rError, error.userMessage)
        case let error as PythonError: self.init(.pythonError, error.userMessage)
        case is CancellationError: self.init(.cancelled, "cancelled")
        default: self.init(.failed, "\(error)")
        }
    }

    /// The message.
    public var description: String { message }
}
