import Foundation
import PolybridgeRuntime

/// What `polybridge doctor` found: each runtime's version, location and how it was found.
public struct DoctorReport: Codable, Sendable {
    /// R's side of the report.
    public struct RReport: Codable, Sendable {
        /// R's version string, when R started.
        public var version: String?
        /// R_HOME in use.
        public var home: String?
        /// How R_HOME was found.
        public var foundVia: String?
        /// Why R did not start, and the command that fixes it.
        public var error: String?
    }

    /// Python's side of the report.
    public struct PythonReport: Codable, Sendable {
        /// The interpreter's `sys.executable`.
        public var executable: String?
        /// Python's version, e.g. "3.11.7".
        public var version: String?
        /// The shared libpython that was loaded.
        public var libraryPath: String?
        /// `sys.prefix` as seen inside the embedded interpreter (a venv's directory for a venv).
        public var embeddedPrefix: String?
        /// How the interpreter was chosen.
        public var foundVia: String?
        /// pyarrow's version, or nil when it is not importable.
        public var pyarrow: String?
        /// pandas's version, or nil when it is not importable.
        public var pandas: String?
        /// Ray's version, or nil when it is not installed (optional: `--executor ray`).
        public var ray: String?
        /// Dask distributed's version, or nil when it is not installed (optional: `--executor dask`).
        public var dask: String?
        /// Why Python did not start, and the command that fixes it.
        public var error: String?
    }

    /// The R runtime.
    public var r = RReport()
    /// The Python runtime.
    public var python = PythonReport()
    /// Seconds from the start of `collect()` until both runtimes were up.
    public var startupSeconds: Double = 0
    /// Missing pieces, each with the command that fixes it; empty when all is well.
    public var problems: [String] = []

    /// Starts R then Python (if not yet started) and describes both.
    public static func collect() async -> DoctorReport {
        var report = DoctorReport()
        let start = ContinuousClock.now
        do {
            let r = try RRuntime.shared()
            report.r = RReport(version: r.version, home: r.home, foundVia: r.homeSource)
        } catch {
            report.r.error = "\(error)"
            report.problems.append("\(error)")
        }
        do {
            let python = try PythonRuntime.shared()
            let interpreter = python.interpreter
            report.python = PythonReport(executable: interpreter.executable, version: interpreter.version,
                                         libraryPath: interpreter.libraryPath,
                                         embeddedPrefix: try? python.eval("__import__('sys').prefix", as: String.self),
                                         foundVia: interpreter.foundVia)
            report.startupSeconds = (ContinuousClock.now - start).seconds
            for module in ["pyarrow", "pandas"] {
                // Installed metadata, not an import: importing pandas alone takes most of a second.
                let version = try? python.eval(
                    "__import__('importlib.metadata').metadata.version('\(module)') if __import__('importlib.util').util.find_spec('\(module)') else None",
                    as: String?.self)
                if module == "pyarrow" { report.python.pyarrow = version } else { report.python.pandas = version }
                if version == nil {
                    report.problems.append("Python module \(module) is not importable by \(interpreter.executable)\n  fix: \(pythonSetupCommand(interpreter.executable))")
                }
            }
            // The cluster engines are optional: reported, not problems.
            report.python.ray = installedVersion("ray", python)
            report.python.dask = installedVersion("distributed", python)
        } catch {
            report.python.error = "\(error)"
            report.problems.append("\(error)")
        }
        return report
    }

    /// The pip command that installs the Python packages Polybridge needs into `executable`:
    /// `-r` with the absolute path of the requirements.txt of the source tree this binary was
    /// built from when it is still there, else the same packages named on the command line.
    public static func pythonSetupCommand(_ executable: String) -> String {
        let requirements = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("requirements.txt").path
        if FileManager.default.isReadableFile(atPath: requirements) {
            return "\(executable) -m pip install -r \(requirements)"
        }
        return "\(executable) -m pip install 'pyarrow>=14' 'pandas>=2.2' numpy 'polars>=1.30'"
    }

    /// The installed version of a module, read from its metadata without importing it.
    private static func installedVersion(_ module: String, _ python: PythonRuntime) -> String? {
        (try? python.eval(
            "__import__('importlib.metadata').metadata.version('\(module)') if __import__('importlib.util').util.find_spec('\(module)') else None",
            as: String?.self)) ?? nil
    }

    /// The report as lines for a terminal.
    public var text: String {
        var lines = ["Polybridge doctor"]
        if let version = r.version {
            lines.append("R:       \(version)")
            lines.append("         R_HOME=\(r.home ?? "?") (found via \(r.foundVia ?? "?"))")
        } else {
            lines.append("R:       not available")
        }
        if let executable = python.executable {
            lines.append("Python:  \(python.version ?? "?") at \(executable) (found via \(python.foundVia ?? "?"))")
            lines.append("         libpython=\(python.libraryPath ?? "?")")
            lines.append("         sys.prefix=\(python.embeddedPrefix ?? "?")")
            lines.append("         pyarrow \(python.pyarrow ?? "missing"), pandas \(python.pandas ?? "missing")")
            lines.append("Engines: Ray \(python.ray ?? "not installed"), Dask \(python.dask ?? "not installed")"
                         + (python.ray == nil || python.dask == nil ? " (optional: make setup-engines)" : ""))
        } else {
            lines.append("Python:  not available")
        }
        lines.append(String(format: "Start-up: both runtimes up in %.3f s", startupSeconds))
        if problems.isEmpty {
            lines.append("All good.")
        } else {
            lines.append("Problems:")
            lines += problems.map { "  - " + $0.replacingOccurrences(of: "\n", with: "\n    ") }
        }
        return lines.joined(separator: "\n")
    }
}
