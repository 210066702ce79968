import ast
import builtins
import contextlib
import hashlib
import importlib.util
import io
import json
import linecache
import os
import sys
import threading
import types

_ANNOTATIONS = {"int": "integer", "float": "number", "str": "string", "bool": "boolean", "list": "list", "dict": "mapping"}

def _kind(annotation, default):
    if isinstance(annotation, ast.Name) and annotation.id in _ANNOTATIONS:
        return _ANNOTATIONS[annotation.id]
    # A negative number is a unary minus on a constant (the R side reads -1 as a number too).
    if isinstance(default, ast.UnaryOp) and isinstance(default.op, (ast.USub, ast.UAdd)) and \
            isinstance(default.operand, ast.Constant) and type(default.operand.value) in (int, float):
        default = default.operand
    if isinstance(default, ast.Constant):
        value = default.value
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer"
        if isinstance(value, float):
            return "number"
        if isinstance(value, str):
            return "string"
    return "other"

def function_signature(path, name):
    """The parameters of top-level function `name` in `path`, by parsing only."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    for node in reversed(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            arguments = node.args
            positional = arguments.posonlyargs + arguments.args
            defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
            names, kinds = [], []
            for argument, default in zip(positional, defaults):
                names.append(argument.arg)
                kinds.append(_kind(argument.annotation, default))
            for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
                names.append(argument.arg)
                kinds.append(_kind(argument.annotation, default))
            return {"found": True, "args": names, "kinds": kinds, "varkw": arguments.kwarg is not None}
    return {"found": False, "args": [], "kinds": [], "varkw": False}

def local_imports(path, seen=None):
    """`path` and the modules beside it that it imports (import x / from x import y), recursively."""
    seen = [] if seen is None else seen
    path = os.path.realpath(path)
    if path in seen or not os.path.exists(path):
        return seen
    seen.append(path)
    folder = os.path.dirname(path)
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level in (0, 1):
            names = [node.module]
        for name in names:
            base = os.path.join(folder, *name.split("."))
            if os.path.exists(base + ".py"):
                local_imports(base + ".py", seen)
            elif os.path.isdir(base) and os.path.exists(os.path.join(base, "__init__.py")):
                for root, _, files in os.walk(base):  # a local package: every module in it
                    for file in sorted(files):
                        if file.endswith(".py"):
                            local_imports(os.path.join(root, file), seen)
    return seen

def sha256(texts, paths):
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()

_counter = [0]
_step_folders = set()

# Python steps share this interpreter's sys.path and sys.modules, which a step changes while
# it imports its script: one step at a time (each on a thread of its own, waiting here
# without the GIL). Steps in worker processes (on an engine) run beside each other.
_step_lock = threading.Lock()

class _PrefixedStream(io.TextIOBase):
    """sys.stdout and sys.stderr while a step runs: each whole line goes to standard error
    (file descriptor 2, in one write) with the step's id in front, as R's output does."""

    def __init__(self, step_id):
        self._prefix = f"[{step_id}] "
        self._pending = ""

    def writable(self):
        return True

    def write(self, text):
        self._pending += text
        if "\n" in self._pending:
            complete, self._pending = self._pending.rsplit("\n", 1)
            self._emit(complete)
        return len(text)

    def flush(self):
        pass

    def finish(self):
        if self._pending:
            self._emit(self._pending)
            self._pending = ""

    def _emit(self, lines):
        data = "".join(self._prefix + line + "\n" for line in lines.split("\n")).encode("utf-8", "replace")
        while data:
            try:
                data = data[os.write(2, data):]
            except InterruptedError:
                continue
            except OSError:
                return

def check_code(code):
    """Why a step's inline code cannot run ("" when it can): a syntax error with its line, or
    a last statement that is not an expression (its value is the step's result)."""
    try:
        tree = ast.parse(code, "<code>")
    except SyntaxError as error:
        return f"SyntaxError: {error.msg} (line {error.lineno} of the code)"
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1].lineno if tree.body else 1
        return f"the last statement (line {last} of the code) must be an expression: its value is the step's result"
    return ""

def run_step(step_id, path, function, inputs, params_json, code=""):
    """Runs a step: `function` of `path` (imported afresh, its folder first on sys.path) called
    with the inputs and the parameters as keyword arguments, or inline `code` run with them
    bound as variables; returns {name: frame}. One step at a time. What the step prints and
    warns goes to standard error, prefixed with its id; an error's traceback keeps only the
    user's frames (the script and the modules beside it, or the inline code)."""
    with _step_lock:
        printed = _PrefixedStream(step_id)
        code_file = f"<code of step {step_id}>"
        try:
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                if code:
                    return _run_step(lambda: _run_code(code, code_file, inputs, params_json))
                return _run_step(lambda: _run_step_in(path, function, inputs, params_json))
        except BaseException as error:
            folder = os.path.realpath(os.path.dirname(path)) if path else None
            _keep_user_frames(error, folder, code_file, set())
            raise
        finally:
            printed.finish()

def _is_user_file(filename, folder, code_file):
    if filename == code_file:
        return True
    if folder is None or filename.startswith("<"):
        return False
    real = os.path.realpath(filename)
    return (real.startswith(folder + os.sep) and "site-packages" not in real and "dist-packages" not in real)

def _keep_user_frames(error, folder, code_file, seen):
    """Drops the frames of this module, importlib and ast from `error`'s traceback (and its
    causes'), keeping the user's in order."""
    if error is None or id(error) in seen:
        return
    seen.add(id(error))
    frames = []
    tb = error.__traceback__
    while tb is not None:
        if _is_user_file(tb.tb_frame.f_code.co_filename, folder, code_file):
            frames.append(tb)
        tb = tb.tb_next
    kept = None
    for tb in reversed(frames):
        kept = types.TracebackType(kept, tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
    error.__traceback__ = kept
    _keep_user_frames(error.__cause__, folder, code_file, seen)
    _keep_user_frames(error.__context__, folder, code_file, seen)

def _run_code(code, code_file, inputs, params_json):
    """Inline code: statements run with the inputs and parameters bound; the last
    expression's value is the result (as R's inline code)."""
    tree = ast.parse(code, code_file)
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        raise ValueError("the last statement of the code must be an expression: its value is the step's result")
    last = ast.Expression(tree.body.pop().value)
    # Tracebacks show the code's lines (formatted after the step returns, so the entry stays;
    # the step's next run replaces it).
    linecache.cache[code_file] = (len(code), None, code.splitlines(True), code_file)
    namespace = {"__name__": "__polybridge_step__", "__builtins__": builtins}
    namespace.update(inputs)
    namespace.update(json.loads(params_json))
    exec(compile(tree, code_file, "exec"), namespace)
    return _outputs(eval(compile(last, code_file, "eval"), namespace))

def _save_state():
    """What a step may change that the next step would otherwise see."""
    import random
    numpy = sys.modules.get("numpy")
    return (os.getcwd(), dict(os.environ), random.getstate(), numpy.random.get_state() if numpy else None)

def _restore_state(saved):
    import random
    cwd, environ, state, numpy_state = saved
    os.chdir(cwd)
    for name in [name for name in os.environ if name not in environ]:
        del os.environ[name]
    for name, value in environ.items():
        if os.environ.get(name) != value:
            os.environ[name] = value
    random.setstate(state)
    if numpy_state is not None:
        sys.modules["numpy"].random.set_state(numpy_state)

def _run_step(run):
    saved = _save_state()
    try:
        return run()
    finally:
        _restore_state(saved)

def _run_step_in(path, function, inputs, params_json):
    converted = inputs
    _counter[0] += 1
    folder = os.path.realpath(os.path.dirname(path))
    _step_folders.add(folder)
    sys.path.insert(0, folder)
    try:
        spec = importlib.util.spec_from_file_location(f"_polybridge_step_{_counter[0]}", path)
        module = importlib.util.module_from_spec(spec)
        # Modules a step imported from beside its script (in this or any earlier step's
        # folder) are imported afresh, so edits take effect and two folders' `utils` never
        # mix; installed packages (site-packages, a venv) are left alone.
        for name, loaded in list(sys.modules.items()):
            module_file = getattr(loaded, "__file__", None)
            if not module_file or "site-packages" in module_file or "dist-packages" in module_file:
                continue
            module_folder = os.path.dirname(os.path.realpath(module_file))
            if any(module_folder == f or module_folder.startswith(f + os.sep) for f in _step_folders):
                sys.modules.pop(name, None)  # another step may have dropped it already
        spec.loader.exec_module(module)
        result = getattr(module, function)(**converted, **json.loads(params_json))
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return _outputs(result)

def _outputs(result):
    """A step's result as {name: frame}, checked."""
    outputs = result if isinstance(result, dict) else {"": result}
    for name, value in outputs.items():
        if not hasattr(value, "__arrow_c_stream__") and not _is_pandas(value):
            raise TypeError(f"the step returned {type(value).__name__}" + (f" for '{name}'" if name else "")
                            + ", not a pandas/polars DataFrame, a pyarrow Table or a dict of them")
    return outputs

def _is_pandas(value):
    module = type(value).__module__ or ""
    return module.startswith("pandas") and type(value).__name__ == "DataFrame"

def _pandas_types():
    import pandas as pd
    import pyarrow as pa
    mapping = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
               pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    return mapping.get
