import Foundation

/// The Python interpreter Polybridge embeds, as that interpreter describes itself.
///
/// Found from `POLYBRIDGE_PYTHON` if set, else `python3` on `PATH`. The interpreter is asked
/// (by running it once) for its real executable, prefix and shared libpython, so a pyenv shim
/// or a venv's `bin/python` resolves to the right library and site-packages.
public struct PythonInterpreter: Sendable, Equatable, Codable {
    /// The interpreter's `sys.executable` (a venv's `bin/python` for a venv).
    public var executable: String
    /// `sys.version` up to the first space, e.g. "3.11.7".
    public var version: String
    /// `sys.prefix` (the venv for a venv).
    public var prefix: String
    /// `sys.base_prefix` (the installation a venv was made from).
    public var basePrefix: String
    /// Full path of the shared libpython the interpreter was built with.
    public var libraryPath: String
    /// How the interpreter was chosen, for `polybridge doctor`.
    public var foundVia: String

    /// Resolves the interpreter to embed from the environment.
    public static func discover() throws(PythonError) -> PythonInterpreter {
        let environment = ProcessInfo.processInfo.environment
        let requested: String
        let foundVia: String
        if let explicit = environment["POLYBRIDGE_PYTHON"], !explicit.isEmpty {
            requested = explicit
            foundVia = "POLYBRIDGE_PYTHON=\(explicit)"
        } else {
            requested = "python3"
            foundVia = "python3 on PATH"
        }
        guard let path = RuntimeEnvironment.which(requested) else {
            throw .startup(reason: "no Python interpreter found (\(foundVia))",
                           fix: "install Python 3 with a shared libpython, or set POLYBRIDGE_PYTHON=/path/to/python")
        }
        let probe = """
        import sys, sysconfig, os, json
        libdir = sysconfig.get_config_var('LIBDIR') or ''
        names = [sysconfig.get_config_var('LDLIBRARY') or '', sysconfig.get_config_var('INSTSONAME') or '']
        lib = next((os.path.join(libdir, n) for n in names if n.endswith('.so') or '.so.' in n
                    if os.path.exists(os.path.join(libdir, n))), '')
        print(json.dumps({'executable': sys.executable, 'version': sys.version.split()[0],
                          'prefix': sys.prefix, 'basePrefix': sys.base_prefix, 'libraryPath': lib}))
        """
        guard let output = RuntimeEnvironment.capture(path, ["-c", probe]),
              let data = output.data(using: .utf8),
              let description = try? JSONDecoder().decode(Probe.self, from: data) else {
            throw .startup(reason: "\(path) did not run or did not describe itself",
                           fix: "check that \(path) is a working Python 3 interpreter")
        }
        guard !description.libraryPath.isEmpty else {
            throw .startup(reason: "\(description.executable) has no shared libpython (built without --enable-shared)",
                           fix: "use a Python built with --enable-shared (pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared) and set POLYBRIDGE_PYTHON")
        }
        return PythonInterpreter(executable: description.executable, version: description.version,
                                 prefix: description.prefix, basePrefix: description.basePrefix,
                                 libraryPath: description.libraryPath, foundVia: foundVia)
    }

    private struct Probe: Decodable {
        var executable, version, prefix, basePrefix, libraryPath: String
    }
}
