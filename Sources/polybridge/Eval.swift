import ArgumentParser
import Foundation
import Polybridge

/// `polybridge eval`: runs R or Python code in the embedded runtime and prints the result.
struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate R or Python code in the embedded runtime and print the result.",
        discussion: "R prints visible values like Rscript -e. Python prints the value of a single expression, or runs statements. An error prints its message and exits 1.")

    @Option(name: .customLong("r"), help: "R code to evaluate.")
    var rCode: String?

    @Option(name: .customLong("python"), help: "Python code to evaluate.")
    var pythonCode: String?

    func validate() throws {
        if (rCode == nil) == (pythonCode == nil) {
            throw ValidationError("give exactly one of --r CODE or --python CODE")
        }
    }

    func run() async throws {
        do {
            if let rCode {
                try await evaluateR(rCode)
            } else if let pythonCode {
                try evaluatePython(pythonCode)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch let error as CancellationError {
            _ = error
            printError("interrupted")
            throw ExitCode(130)
        } catch RError.interrupted {
            printError("interrupted")
            throw ExitCode(130)
        } catch {
            printError("\(error)")
            if case PythonError.exception(_, _, let traceback) = error, !traceback.isEmpty {
                printError(traceback.trimmingTrailingNewlines)
            }
            throw ExitCode(1)
        }
    }

    private func evaluateR(_ code: String) async throws {
        let r = try RRuntime.shared()
        let interrupts = InterruptForwarder { r.interruptCurrentComputation() }
        defer { interrupts.stop() }
        do {
            let result = try await r.evaluate(code, printVisible: true)
            FileHandle.standardOutput.write(Data(result.output.utf8))
            for warning in result.warnings { printError("Warning: \(warning)") }
        } catch let error as RError {
            if case .evaluation(_, _, let output) = error {
                FileHandle.standardOutput.write(Data(output.utf8))
            }
            throw error
        }
    }

    private func evaluatePython(_ code: String) throws {
        let python = try PythonRuntime.shared()
        // Like the REPL: statements run once; a trailing expression's repr is printed unless None.
        let value: PythonObject?
        do {
            value = try python.run(code)
        } catch {
            guard let status = exitStatus(of: error) else { throw error }
            throw ExitCode(status)
        }
        guard let value else { return }
        let repr = try python.call(try python.evaluateObject("repr"), [value])
        if case .string(let text) = try python.value(of: repr), text != "None" { print(text) }
    }
}

/// The exit status `sys.exit(...)` asked for, or nil when `error` is not a SystemExit.
/// `sys.exit("text")` prints the text and exits 1, as python does.
private func exitStatus(of error: PythonError) -> Int32? {
    guard case .exception(let type, let message, _) = error, type == "SystemExit" else { return nil }
    if message.isEmpty || message == "None" { return 0 }
    if let status = Int32(message) { return status }
    printError(message)
    return 1
}

/// Prints `message` on standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

extension String {
    var trimmingTrailingNewlines: String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}
