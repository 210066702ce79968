/// An error raised by R or by the bridge while talking to R.
public enum RError: Error, CustomStringConvertible, Equatable, Sendable {
    /// R could not be started (missing R_HOME, libR failure); `fix` says what to run.
    case startup(reason: String, fix: String)
    /// The R code did not parse; `message` is R's parser message with line and column.
    case parse(message: String)
    /// R signalled an error condition: R's `conditionMessage` and the deparsed `conditionCall`.
    case evaluation(message: String, call: String?, output: String)
    /// The computation was interrupted (Ctrl-C or a cancelled task) and R returned to top level.
    case interrupted
    /// A value could not be converted between R and Swift; says what was expected and found.
    case conversion(String)
    /// R raised an error inside one of the bridge's own R API calls (for example an allocation).
    case internalCall(operation: String, message: String)
    /// Element `row` (1-based) of a string vector being made is not valid UTF-8 or holds a NUL byte.
    case invalidString(row: Int)

    /// A message for the person at the terminal.
    public var description: String {
        switch self {
        case .startup(let reason, let fix):
            return "R could not start: \(reason)\n  fix: \(fix)"
        case .parse(let message):
            return "R parse error: \(message)"
        case .evaluation(let message, let call, _):
            if let call { return "R error in \(call): \(message)" }
            return "R error: \(message)"
        case .interrupted:
            return "R computation interrupted"
        case .conversion(let message):
            return "R conversion error: \(message)"
        case .internalCall(let operation, let message):
            return "R failed during \(operation): \(message.trimmingTrailingNewlines)"
        case .invalidString(let row):
            return "row \(row) holds a string that is not valid UTF-8 (or contains a NUL byte)"
        }
    }

    /// R's own condition message (or the parser's), without the bridge's framing.
    public var conditionMessage: String {
        switch self {
        case .parse(let message), .evaluation(let message, _, _), .conversion(let message),
             .internalCall(_, let message):
            return message
        case .startup(let reason, _): return reason
        case .interrupted: return "interrupted"
        case .invalidString: return description
        }
    }
}

extension String {
    /// The text of a C buffer filled up to its first NUL byte (an error message from a shim).
    init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    var trimmingTrailingNewlines: String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}

extension RError {
    /// What R said, as a person reads it: the condition's message without R's "Error in call :"
    /// framing (the same text a failed chunk, step or fit reports).
    public var userMessage: String {
        switch self {
        case .evaluation(let message, _, _): return message
        case .internalCall(_, let message):
            return RRuntime.conditionMessage(fromErrorBuffer: message).trimmingCharacters(in: .whitespacesAndNewlines)
        default: return description
        }
    }
}
