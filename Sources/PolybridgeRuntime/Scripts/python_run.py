import ast
import os
import sys
import __main__

def run(code):
    try:
        tree = ast.parse(code, "<string>", "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        namespace = __main__.__dict__
        exec(compile(tree, "<string>", "exec"), namespace)
        if last is None:
            return []
        return [eval(compile(last, "<string>", "eval"), namespace)]
    except BaseException as error:
        # The user's traceback starts at their code, not in this helper. A bare raise adds no
        # frame of its own; `raise error.with_traceback(...)` would add this one back.
        error.__traceback__ = error.__traceback__.tb_next
        raise

def set_argv(argv):
    sys.argv = list(argv)

def run_script(path):
    namespace = __main__.__dict__
    if path == "-":
        source, filename = sys.stdin.buffer.read(), "<stdin>"
        sys.path.insert(0, "")
    else:
        with open(path, "rb") as script:
            source, filename = script.read(), path
        namespace["__file__"] = path
        sys.path.insert(0, os.path.dirname(os.path.realpath(path)))
    try:
        # Bytes, so a coding declaration in the script is honoured as python3 does.
        exec(compile(source, filename, "exec"), namespace)
    except BaseException as error:
        error.__traceback__ = error.__traceback__.tb_next
        raise
