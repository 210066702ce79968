import ArgumentParser
import Foundation
import Polybridge

/// `polybridge eval`: runs R or Python code in the embedded runtime, printing as it goes.
struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate R or Python code in the embedded runtime and print the result.",
        discussion: """
            R behaves like Rscript -e: visible values are printed, output appears as it is \
            printed, message() and warnings go to standard error, graphics devices the code \
            opened are closed at the end. Python behaves like the REPL: statements run once and \
            a trailing expression's repr is printed; sys.exit(n) exits n. An error prints R's \
            message or Python's traceback and exits 1; Ctrl-C exits 130.
            """)

    @Option(name: .customLong("r"), help: "R code to evaluate.")
    var rCode: String?

    @Option(name: .customLong("python"), help: "Python code to evaluate.")
    var pythonCode: String?

    /// Code given without --r or --python lands here, so the message can name it.
    @Argument(help: .hidden)
    var unexpected: [String] = []

    func run() async throws {
        // Checked here rather than in validate(): ArgumentParser reports an unknown option (with
        // its suggestion) only after validate() passed, and a mistyped --pyton deserves that.
        if let stray = unexpected.first {
            throw usageError("unexpected argument '\(stray)': pass code with --r CODE or --python CODE", in: Eval.self)
        }
        if (rCode == nil) == (pythonCode == nil) {
            throw usageError("give exactly one of --r CODE or --python CODE", in: Eval.self)
        }
        // Python's sys.stdout/stderr write straight through (python -u), whether Polybridge or
        // reticulate starts it, so its output interleaves with R's in the order it was printed.
        setenv("PYTHONUNBUFFERED", "1", 1)
        do {
            if let rCode {
                try await evaluateR(rCode)
            } else if let pythonCode {
                try evaluatePython(pythonCode)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch is CancellationError {
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
        let failure: (any Error)?
        do {
            // Streamed like Rscript: output as printed, warnings and errors on standard error.
            _ = try await r.evaluate(code, printVisible: true, console: .standardStreams)
            failure = nil
        } catch {
            failure = error
        }
        // Rscript closes every device at exit, which is when a png() file gets its last bytes.
        _ = try? await r.evaluate("if (\"grDevices\" %in% loadedNamespaces()) grDevices::graphics.off()",
                                  console: .standardStreams)
        switch failure {
        case nil:
            return
        case .some(RError.evaluation):
            // Already written to standard error by R, with its pending warnings.
            throw ExitCode(1)
        case .some(let error):
            throw error
        }
    }

    private func evaluatePython(_ code: String) throws {
        let python = try PythonRuntime.shared()
        // Python runs without signal handlers here, so Ctrl-C cannot become KeyboardInterrupt:
        // leave with 130 as the signal would. What was printed is already out (unbuffered).
        let interrupts = InterruptForwarder {
            printError("interrupted")
            ProcessEnd.immediately(130)
        }
        defer { interrupts.stop() }
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
        if case .string(let text) = try python.value(of: repr), text != "None" {
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        }
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
