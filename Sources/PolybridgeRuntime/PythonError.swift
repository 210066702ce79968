/// An error raised by Python or by the bridge while talking to Python.
public enum PythonError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Python could not be started; `fix` says what to run.
    case startup(reason: String, fix: String)
    /// Python raised an exception: its type name, `str(exception)` and the formatted traceback.
    case exception(type: String, message: String, traceback: String)
    /// A value could not be converted between Python and Swift.
    case conversion(String)

    /// A message for the person at the terminal.
    public var description: String {
        switch self {
        case .startup(let reason, let fix): return "Python could not start: \(reason)\n  fix: \(fix)"
        case .exception(let type, let message, _): return "Python \(type): \(message)"
        case .conversion(let message): return "Python conversion error: \(message)"
        }
    }
}

extension PythonError {
    /// What Python said, as a person reads it: the traceback when there is one, else
    /// `Type: message`.
    public var userMessage: String {
        if case .exception(let type, let message, let traceback) = self {
            return traceback.isEmpty ? "\(type): \(message)" : traceback.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return description
    }
}
