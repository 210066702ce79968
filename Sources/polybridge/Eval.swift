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

            A value of --r that is an existing file ending .R or .r, or of --python ending .py, \
            is a script run as Rscript FILE or python3 FILE runs it (a script echoes no Python \
            value); - reads the script from standard input. Anything else is code, as with \
            Rscript -e and python3 -c. Arguments after it, options included, are the code's: \
            commandArgs(TRUE) in R; sys.argv[1:] in Python, whose sys.argv[0] is the script's \
            path, - or -c.
            """)

    @OptionGroup var language: EvalLanguage

    /// Arguments for the code (`commandArgs(TRUE)`, `sys.argv[1:]`); options among them included.
    @Argument(parsing: .captureForPassthrough, help: "Arguments passed to the code or script.")
    var arguments: [String] = []

    func run() async throws {
        // Checked here rather than in validate(): ArgumentParser reports an unknown option (with
        // its suggestion) only after validate() passed, and a mistyped --pyton deserves that.
        if language.rCode == nil, language.pythonCode == nil, let stray = arguments.first {
            if stray.hasPrefix("-") {
                // Passthrough capture swallowed what ArgumentParser would call an unknown option.
                do { _ = try EvalLanguage.parse([stray]) } catch {
                    throw usageError(EvalLanguage.message(for: error), in: Eval.self)
                }
            }
            throw usageError("unexpected argument '\(stray)': pass code with --r CODE or --python CODE", in: Eval.self)
        }
        if (language.rCode == nil) == (language.pythonCode == nil) {
            throw usageError("give exactly one of --r CODE or --python CODE", in: Eval.self)
        }
        let source: EvalSource
        if let rCode = language.rCode {
            source = try EvalSource(rCode, scriptExtensions: [".R", ".r"])
        } else {
            source = try EvalSource(language.pythonCode ?? "", scriptExtensions: [".py"])
        }
        // Python's sys.stdout/stderr write straight through (python -u), whether Polybridge or
        // reticulate starts it, so its output interleaves with R's in the order it was printed.
        setenv("PYTHONUNBUFFERED", "1", 1)
        do {
            if language.rCode != nil {
                try await evaluateR(source)
            } else {
                try evaluatePython(source)
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

    private func evaluateR(_ source: EvalSource) async throws {
        let r = try RRuntime.shared()
        try r.setCommandArguments(script: source.scriptPath, arguments: arguments)
        let code = try source.code()
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

    private func evaluatePython(_ source: EvalSource) throws {
        let python = try PythonRuntime.shared()
        try python.setArguments([source.scriptPath ?? "-c"] + arguments)
        // Python runs without signal handlers here, so Ctrl-C cannot become KeyboardInterrupt:
        // leave with 130 as the signal would. What was printed is already out (unbuffered).
        let interrupts = InterruptForwarder {
            printError("interrupted")
            ProcessEnd.immediately(130)
        }
        defer { interrupts.stop() }
        // Inline code runs like the REPL: statements run once; a trailing expression's repr is
        // printed unless None. A script runs as python3 runs it, echoing nothing.
        let value: PythonObject?
        do {
            switch source {
            case .inline(let code): value = try python.run(code)
            case .script(let path):
                try python.runScript(at: path)
                value = nil
            }
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

/// `eval`'s language options, apart so that an unknown option swallowed by the passthrough
/// arguments can be reported with ArgumentParser's own message and suggestion.
struct EvalLanguage: ParsableArguments {
    @Option(name: .customLong("r"),
            help: "R code to evaluate, or an R script to run: an existing file ending .R/.r, or - for standard input.")
    var rCode: String?

    @Option(name: .customLong("python"),
            help: "Python code to evaluate, or a Python script to run: an existing file ending .py, or - for standard input.")
    var pythonCode: String?
}

/// What `--r`/`--python` name: code to evaluate (like `Rscript -e`, `python3 -c`) or a script
/// to run (like `Rscript file.R`, `python3 file.py`; `-` is standard input).
enum EvalSource {
    case inline(String)
    case script(path: String)

    /// A script when `value` is `-` or an existing file whose name ends with one of
    /// `scriptExtensions`; a value that looks like such a path (one word, no brackets, quotes
    /// or semicolons) but names no file is an error rather than code that would fail obscurely.
    init(_ value: String, scriptExtensions: [String]) throws {
        let looksLikePath = scriptExtensions.contains { value.hasSuffix($0) }
            && !value.contains { " \t\n;()[]{}'\"".contains($0) }
        var isFolder: ObjCBool = false
        if value == "-" {
            self = .script(path: "-")
        } else if looksLikePath {
            guard FileManager.default.fileExists(atPath: value, isDirectory: &isFolder), !isFolder.boolValue else {
                throw usageError("no script file '\(value)' (a value ending \(scriptExtensions[0]) is read as a script path)", in: Eval.self)
            }
            self = .script(path: value)
        } else {
            self = .inline(value)
        }
    }

    /// The script's path (`-` for standard input), nil for inline code.
    var scriptPath: String? {
        if case .script(let path) = self { return path }
        return nil
    }

    /// The code itself: inline code, the script file's text, or all of standard input.
    func code() throws -> String {
        switch self {
        case .inline(let code):
            return code
        case .script(path: "-"):
            return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        case .script(let path):
            do {
                return try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                printError("error: cannot read the script \(path): \(error.localizedDescription)")
                throw ExitCode(1)
            }
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
