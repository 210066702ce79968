import CPython
import Foundation
import Synchronization

/// The embedded Python interpreter: the one the user runs, loaded at run time.
///
/// Started once per process, after R (so both share the process the way reticulate and rpy2
/// expect). Python's signal handlers are not installed. The GIL is released after start-up and
/// taken around every call, so any thread may call in.
public final class PythonRuntime: Sendable {
    private static let startup = Mutex<Result<PythonRuntime, PythonError>?>(nil)

    /// The interpreter that was embedded.
    public let interpreter: PythonInterpreter

    /// The process's Python runtime, started on first use.
    public static func shared() throws(PythonError) -> PythonRuntime {
        let result = startup.withLock { cached -> Result<PythonRuntime, PythonError> in
            if let cached { return cached }
            let started = Result<PythonRuntime, PythonError> { () throws(PythonError) -> PythonRuntime in
                try PythonRuntime()
            }
            cached = started
            return started
        }
        return try result.get()
    }

    /// True once Python has been started in this process.
    public static var isStarted: Bool {
        startup.withLock { if case .success = $0 { true } else { false } }
    }

    private init() throws(PythonError) {
        RuntimeEnvironment.prepare()
        // R first: it must own the process's start-up; if R is missing, Python still starts.
        let r = try? RRuntime.shared()
        let interpreter = try PythonInterpreter.discover()
        self.interpreter = interpreter
        // Python is initialised on the R thread, which so becomes Python's main thread: reticulate
        // (running there) installs signal handlers, which Python allows only on its main thread.
        let initialize: @Sendable () -> Result<Void, PythonError> = {
            var message = [CChar](repeating: 0, count: 512)
            guard pb_py_load(interpreter.libraryPath, &message, message.count) != 0 else {
                return .failure(.startup(reason: String(nulTerminated: message),
                                         fix: "check that \(interpreter.libraryPath) exists and matches \(interpreter.executable)"))
            }
            switch pb_py_initialize(interpreter.executable, &message, message.count) {
            case 0:
                return .failure(.startup(reason: String(nulTerminated: message),
                                         fix: "check the Python installation at \(interpreter.prefix)"))
            case 2:
                return .failure(.startup(reason: "Python was already initialised in this process by someone else",
                                         fix: "start Polybridge's Python before loading reticulate"))
            default:
                return .success(())
            }
        }
        let outcome = (try? r?.thread.performBlocking(initialize)) ?? initialize()
        try outcome.get()
        try withGIL { gil throws(PythonError) in
            let main = pb_py_main_dict()
            _ = try gil.own(pb_py_run_string("import sys\nsys.argv = ['polybridge']\n", Int32(PB_PY_FILE_INPUT), main, main))
            _ = try gil.own(pb_py_run_string(Self.exitGuard, Int32(PB_PY_FILE_INPUT), main, main))
        }
        // reticulate inside the embedded R attaches to this interpreter instead of starting its own.
        setenv("PYTHON_SESSION_INITIALIZED", "current_pid=\(getpid()):sys.executable=\(interpreter.executable)", 1)
        setenv("RETICULATE_PYTHON", interpreter.executable, 1)
        RRuntime.setHostLock {
            let state = pb_py_gil_ensure()
            return { pb_py_gil_release(state) }
        }
    }

    /// `os._exit` would end the whole host process on the spot, with any status, before a
    /// pipeline reports its steps (R's `quit()` is refused the same way). In this process it
    /// raises an error instead; a forked child (multiprocessing's fork start method ends its
    /// children with `os._exit`) still exits.
    static let exitGuard = """
        def _polybridge_guard_exit():
            import os, posix
            real, host = os._exit, os.getpid()
            def _exit(status):
                if os.getpid() == host:
                    raise RuntimeError(f"os._exit({status}) is not available inside polybridge: it would end the whole process; "
                                       "return a value or raise an exception instead")
                real(status)
            os._exit = posix._exit = _exit
        _polybridge_guard_exit()
        del _polybridge_guard_exit
        """

    /// Runs `body` holding the GIL on the calling thread.
    public func withGIL<T, E: Error>(_ body: (PythonGIL) throws(E) -> T) throws(E) -> T {
        let state = pb_py_gil_ensure()
        defer { pb_py_gil_release(state) }
        return try body(PythonGIL())
    }

    /// The module `name`, created from `source` on first use and kept in `sys.modules`.
    ///
    /// Polybridge's own Python helper code travels inside the binary this way, so nothing has
    /// to be installed beside it.
    public func helperModule(named name: String, source: String) throws(PythonError) -> PythonObject {
        try withGIL { gil throws(PythonError) in
            let main = pb_py_main_dict()
            let modules = try gil.own(pb_py_run_string("__import__('sys').modules", Int32(PB_PY_EVAL_INPUT), main, main))
            if let existing = pb_py_dict_get(modules.pointer, name) { return PythonObject(owning: existing) }
            let namespace = try gil.own(pb_py_dict_new())
            let builtins = try gil.own(pb_py_run_string("__builtins__", Int32(PB_PY_EVAL_INPUT), main, main))
            let nameObject = try gil.make(.string(name))
            let sourceObject = try gil.make(.string(source))
            // The locals must outlive the calls that read their pointers.
            let stored = withExtendedLifetime((builtins, nameObject, sourceObject)) {
                pb_py_dict_set(namespace.pointer, "__builtins__", builtins.pointer) == 0
                    && pb_py_dict_set(namespace.pointer, "_name", nameObject.pointer) == 0
                    && pb_py_dict_set(namespace.pointer, "_source", sourceObject.pointer) == 0
            }
            guard stored else { throw gil.fetchError() }
            let install = """
                import sys, types
                _module = types.ModuleType(_name)
                exec(compile(_source, "<polybridge " + _name + ">", "exec"), _module.__dict__)
                sys.modules[_name] = _module
                """
            _ = try gil.own(pb_py_run_string(install, Int32(PB_PY_FILE_INPUT), namespace.pointer, namespace.pointer))
            guard let module = pb_py_dict_get(namespace.pointer, "_module") else { throw gil.fetchError() }
            return PythonObject(owning: module)
        }
    }

    /// Executes statements in `__main__` (like `exec(code, globals())`).
    public func exec(_ code: String) throws(PythonError) {
        try withGIL { gil throws(PythonError) in
            let main = pb_py_main_dict()
            _ = try gil.own(pb_py_run_string(code, Int32(PB_PY_FILE_INPUT), main, main))
        }
    }

    /// Runs `code` in `__main__` the way the REPL does: every statement once, in order; when
    /// the last statement is an expression, its value is returned (nil otherwise).
    public func run(_ code: String) throws(PythonError) -> PythonObject? {
        let helpers = try helperModule(named: "_polybridge_run", source: PythonRunHelper.source)
        let outcome = try call(try attribute("run", of: helpers), [try object(code)])
        return try withGIL { gil throws(PythonError) -> PythonObject? in
            guard pb_py_sequence_length(outcome.pointer) == 1 else { return nil }
            return try gil.own(pb_py_sequence_item(outcome.pointer, 0))
        }
    }

    /// Sets `sys.argv` to `arguments` (the first is what `python3` puts there: the script's
    /// path, `-` for standard input, `-c` for inline code).
    public func setArguments(_ arguments: [String]) throws(PythonError) {
        let helpers = try helperModule(named: "_polybridge_run", source: PythonRunHelper.source)
        _ = try call(try attribute("set_argv", of: helpers), [try object(arguments)])
    }

    /// Runs the script at `path` (`-`: standard input) as `python3 path` does: as `__main__`,
    /// with `__file__` set and the script's folder first on `sys.path`; no value is echoed.
    public func runScript(at path: String) throws(PythonError) {
        let helpers = try helperModule(named: "_polybridge_run", source: PythonRunHelper.source)
        _ = try call(try attribute("run_script", of: helpers), [try object(path)])
    }

    /// Evaluates one expression in `__main__` and returns the resulting object.
    public func evaluateObject(_ expression: String) throws(PythonError) -> PythonObject {
        try withGIL { gil throws(PythonError) in
            let main = pb_py_main_dict()
            return try gil.own(pb_py_run_string(expression, Int32(PB_PY_EVAL_INPUT), main, main))
        }
    }

    /// Evaluates one expression in `__main__` and copies its value to Swift.
    public func evaluate(_ expression: String) throws(PythonError) -> PythonValue {
        let object = try evaluateObject(expression)
        return try value(of: object)
    }

    /// Evaluates one expression and decodes it as `T`.
    public func eval<T: PythonDecodable>(_ expression: String, as type: T.Type = T.self) throws -> T {
        try T(pythonValue: try evaluate(expression))
    }

    /// Imports the module `name`.
    public func importModule(_ name: String) throws(PythonError) -> PythonObject {
        try withGIL { gil throws(PythonError) in try gil.own(pb_py_import(name)) }
    }

    /// The attribute `name` of `object`.
    public func attribute(_ name: String, of object: PythonObject) throws(PythonError) -> PythonObject {
        try withGIL { gil throws(PythonError) in try gil.own(pb_py_get_attribute(object.pointer, name)) }
    }

    /// Makes a Python object from a Swift value.
    public func object(_ value: any PythonEncodable) throws(PythonError) -> PythonObject {
        try withGIL { gil throws(PythonError) in try gil.make(value.pythonValue) }
    }

    /// Calls `callable(*arguments, **keywords)`.
    public func call(_ callable: PythonObject, _ arguments: [PythonObject],
                     keywords: [String: PythonObject] = [:]) throws(PythonError) -> PythonObject {
        try withGIL { gil throws(PythonError) in
            let tuple = try gil.own(pb_py_tuple_new(arguments.count))
            for (index, argument) in arguments.enumerated() {
                pb_py_incref(argument.pointer)
                _ = pb_py_tuple_set(tuple.pointer, index, argument.pointer)
            }
            var keywordObject: PythonObject?
            if !keywords.isEmpty {
                let dictionary = try gil.own(pb_py_dict_new())
                for (key, value) in keywords {
                    guard pb_py_dict_set(dictionary.pointer, key, value.pointer) == 0 else { throw gil.fetchError() }
                }
                keywordObject = dictionary
            }
            return try gil.own(pb_py_call(callable.pointer, tuple.pointer, keywordObject?.pointer))
        }
    }

    /// Calls the function at dotted path `function` (e.g. "math.sqrt") with Swift arguments.
    public func call(_ function: String, _ arguments: any PythonEncodable...) throws(PythonError) -> PythonValue {
        let parts = function.split(separator: ".").map(String.init)
        var target: PythonObject
        if parts.count == 1 {
            target = try evaluateObject(function)
        } else {
            target = try importModule(parts.dropLast().joined(separator: "."))
            target = try attribute(parts[parts.count - 1], of: target)
        }
        var objects: [PythonObject] = []
        for argument in arguments { objects.append(try object(argument)) }
        return try value(of: try call(target, objects))
    }

    /// Copies `object` into a Swift `PythonValue`.
    public func value(of object: PythonObject) throws(PythonError) -> PythonValue {
        try withGIL { gil throws(PythonError) in try gil.value(of: object.pointer) }
    }

    /// Binds `object` to the global `name` in `__main__`, where code run by `exec` and `run` sees it.
    public func bind(_ object: PythonObject, as name: String) throws(PythonError) {
        try withGIL { gil throws(PythonError) in
            guard pb_py_dict_set(pb_py_main_dict(), name, object.pointer) == 0 else { throw gil.fetchError() }
        }
    }

    /// The value of the global `name` in `__main__`.
    public func global(_ name: String) throws(PythonError) -> PythonValue {
        try withGIL { gil throws(PythonError) in
            guard let item = pb_py_dict_get(pb_py_main_dict(), name) else {
                throw .exception(type: "NameError", message: "name '\(name)' is not defined", traceback: "")
            }
            return try gil.value(of: PythonObject(owning: item).pointer)
        }
    }
}

/// Python code behind `PythonRuntime.run`: split off a trailing expression, run the rest once.
enum PythonRunHelper {
    static let source = EmbeddedScripts.pythonRunPy
}
