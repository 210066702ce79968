"""Tests of python_run: code run as the REPL runs it (a trailing expression's value returned),
scripts run as `python3 path` runs them, and tracebacks that start at the user's code."""
import io
import sys
import traceback
import types

import pytest

import python_run


@pytest.fixture
def main(monkeypatch):
    """A fresh __main__ for the helper, so the tests leave pytest's own alone."""
    module = types.ModuleType("__main__")
    monkeypatch.setattr(python_run, "__main__", module)
    monkeypatch.setattr(sys, "path", list(sys.path))
    return module.__dict__


def frames(error):
    return [(f.filename, f.name) for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]


def test_trailing_expression_is_split_off_and_returned(main):
    assert python_run.run("x = 2\nx * 21") == [42]
    assert main["x"] == 2
    assert python_run.run("x") == [2]  # the namespace persists between runs


def test_statements_alone_return_nothing(main):
    assert python_run.run("y = 1") == []
    assert python_run.run("") == []
    assert python_run.run("# only a comment\n") == []
    assert python_run.run("None") == [None]  # an expression whose value is None is a value
    assert main["y"] == 1


def test_trailing_expression_after_a_block_runs_once(main):
    code = "calls = []\nfor i in range(3):\n    pass\ncalls.append(i) or len(calls)"
    assert python_run.run(code) == [1]
    assert main["calls"] == [2]
    assert python_run.run("if True:\n    z = 5") == []  # a compound statement is not an expression
    assert main["z"] == 5


def test_an_error_traceback_starts_at_the_users_code(main):
    with pytest.raises(ZeroDivisionError) as raised:
        python_run.run("def inner():\n    return 1 / 0\nvalue = 1\ninner()")
    assert frames(raised.value) == [("<string>", "<module>"), ("<string>", "inner")]
    with pytest.raises(NameError) as raised:
        python_run.run("undefined_name + 1\nx = 1")
    assert frames(raised.value) == [("<string>", "<module>")]


def test_set_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pytest"])
    arguments = ("script.py", "--flag", "value")
    python_run.set_argv(arguments)
    assert sys.argv == ["script.py", "--flag", "value"] and isinstance(sys.argv, list)


def test_run_script_as_python3_runs_it(main, tmp_path):
    (tmp_path / "beside.py").write_text("WORD = 'caf\u00e9'\n")
    path = tmp_path / "script.py"
    # A Latin-1 script that declares its coding, as python3 honours it.
    path.write_bytes(b"# -*- coding: latin-1 -*-\nimport beside\nsame = beside.WORD == 'caf\xe9'\nwhere = __file__\n")
    python_run.run_script(str(path))
    assert main["same"] is True
    assert main["where"] == str(path)
    assert sys.path[0] == str(tmp_path.resolve())


def test_run_script_error_traceback_is_the_scripts(main, tmp_path):
    path = tmp_path / "fails.py"
    path.write_text("def f():\n    raise ValueError('bad')\nf()\n")
    with pytest.raises(ValueError, match="bad") as raised:
        python_run.run_script(str(path))
    assert frames(raised.value) == [(str(path), "<module>"), (str(path), "f")]


def test_run_script_from_standard_input(main, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"total = sum(range(5))\n")))
    python_run.run_script("-")
    assert main["total"] == 10
    assert "__file__" not in main
    assert sys.path[0] == ""
