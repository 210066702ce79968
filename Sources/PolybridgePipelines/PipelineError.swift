/// Why a pipeline could not be loaded or run, with what the user needs to find the cause: the
/// file and line, the step id, R's message and call stack, Python's traceback.
public enum PipelineError: Error, CustomStringConvertible, Equatable {
    /// The pipeline file cannot be read or is not YAML.
    case unreadable(file: String, detail: String)
    /// The pipeline file is readable but wrong (found before anything runs).
    case invalid(file: String, line: Int, step: String?, message: String)
    /// A step failed while running.
    case stepFailed(step: String, message: String)
    /// Some steps failed or were skipped (the run's verdict).
    case runFailed(failed: [String], skipped: [String])

    public var description: String {
        switch self {
        case .unreadable(let file, let detail):
            return "\(file): \(detail)"
        case .invalid(let file, let line, let step, let message):
            return "\(file):\(line): " + (step.map { "step '\($0)': " } ?? "") + message
        case .stepFailed(let step, let message):
            return "step '\(step)' failed: \(message)"
        case .runFailed(let failed, let skipped):
            return "\(failed.count) step\(failed.count == 1 ? "" : "s") failed (\(failed.joined(separator: ", ")))"
                + (skipped.isEmpty ? "" : "; \(skipped.count) skipped (\(skipped.joined(separator: ", ")))")
        }
    }
}
