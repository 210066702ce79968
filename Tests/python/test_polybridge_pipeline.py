"""Tests of _polybridge_pipeline: reading a step script without running it, hashing, inline
code checks, running steps (state put back, output prefixed, tracebacks of the user's code
alone) and the checks on what a step returns."""
import hashlib
import json
import os
import random
import sys
import textwrap
import traceback

import pandas as pd
import pyarrow as pa
import pytest

import _polybridge_pipeline as pipeline


def script(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return str(path)


# --- reading a script -----------------------------------------------------------------------

def test_function_signature_reads_parameters_and_kinds_without_running(tmp_path):
    ran = tmp_path / "ran"
    path = script(tmp_path, "step.py", f"""
        open({str(ran)!r}, "w").close()  # would show the script ran

        def clean(data, /, n: int, rate=0.5, label="x", flag=False, other=None, *rest, scale: float, tags: list = (), **extra):
            return data

        def clean(data, threshold=-1, low=-0.5, mode: str = 3, shift=-x):  # the last definition is the one used
            return data
    """)
    found = pipeline.function_signature(path, "clean")
    # A negative default is a number (as R's -1 is); an annotation wins over the default.
    assert found == {"found": True, "args": ["data", "threshold", "low", "mode", "shift"],
                     "kinds": ["other", "integer", "number", "string", "other"], "varkw": False}
    assert not ran.exists()


def test_function_signature_kinds_from_annotations_and_defaults(tmp_path):
    path = script(tmp_path, "step.py", """
        async def fit(data, /, n: int, rate=0.5, label="x", flag=False, other=None, *rest, scale: float, tags: list = (), opts: dict = None, k=2, **extra):
            return data
    """)
    found = pipeline.function_signature(path, "fit")
    assert found["args"] == ["data", "n", "rate", "label", "flag", "other", "scale", "tags", "opts", "k"]
    assert found["kinds"] == ["other", "integer", "number", "string", "boolean", "other", "number", "list", "mapping", "integer"]
    assert found["varkw"] is True


def test_function_signature_of_a_missing_or_nested_function(tmp_path):
    path = script(tmp_path, "step.py", """
        class Steps:
            def clean(self, data):
                return data
        def outer():
            def clean(data):
                return data
    """)
    assert pipeline.function_signature(path, "clean") == {"found": False, "args": [], "kinds": [], "varkw": False}


def test_local_imports_follow_modules_beside_the_script(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    script(tmp_path, "pkg/__init__.py", "")
    script(tmp_path, "pkg/sub/deep.py", "")
    script(tmp_path, "pkg/util.py", "")
    script(tmp_path, "helpers.py", "import step  # a cycle back\nimport json\n")
    main = script(tmp_path, "step.py", """
        import os, helpers
        from pkg import util
        from . import nothing
        import numpy
        def run(data):
            import not_there
            return data
    """)
    found = pipeline.local_imports(main)
    def real(*parts):
        return os.path.realpath(os.path.join(tmp_path, *parts))
    assert found[:2] == [real("step.py"), real("helpers.py")]
    assert set(found) == {real("step.py"), real("helpers.py"), real("pkg", "__init__.py"), real("pkg", "util.py"),
                          real("pkg", "sub", "deep.py")}
    assert len(found) == len(set(found))
    assert pipeline.local_imports(str(tmp_path / "missing.py")) == []


def test_sha256_of_texts_and_files(tmp_path):
    a = tmp_path / "a.py"
    a.write_bytes(b"print(1)\n")
    expected = hashlib.sha256(b"x\0y\0" + b"print(1)\n" + b"\0").hexdigest()
    assert pipeline.sha256(["x", "y"], [str(a)]) == expected
    # The separators keep the boundaries: ["xy"] is not ["x", "y"].
    assert pipeline.sha256(["xy"], [str(a)]) != expected
    a.write_bytes(b"print(2)\n")
    assert pipeline.sha256(["x", "y"], [str(a)]) != expected
    assert pipeline.sha256(["\u00e9"], []) == hashlib.sha256("\u00e9".encode() + b"\0").hexdigest()


def test_check_code():
    assert pipeline.check_code("x = 1\nx + 1") == ""
    assert pipeline.check_code("x = 1\ny = (") .startswith("SyntaxError: ")
    assert "(line 2 of the code)" in pipeline.check_code("x = 1\ny = (")
    assert pipeline.check_code("x = 1\n\ny = 2") == \
        "the last statement (line 3 of the code) must be an expression: its value is the step's result"
    assert "line 1 of the code" in pipeline.check_code("")


# --- output ---------------------------------------------------------------------------------

def test_prefixed_stream_writes_whole_lines_to_standard_error(capfd):
    stream = pipeline._PrefixedStream("clean")
    assert stream.write("one\ntw") == 6
    assert stream.write("o\nthree\nfo") == 10
    captured = capfd.readouterr()
    assert captured.err == "[clean] one\n[clean] two\n[clean] three\n"
    stream.write("ur")
    stream.finish()
    stream.finish()
    captured = capfd.readouterr()
    assert captured.err == "[clean] four\n" and captured.out == ""


def user_frames(error):
    """The traceback's frames below this test's own (which pytest's raises adds on top)."""
    return [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]


# --- running steps ----------------------------------------------------------------------------

def test_inline_code_runs_with_inputs_and_params(capfd):
    frame = pd.DataFrame({"x": [1, 2, 3]})
    result = pipeline.run_step("s1", "", "", {"d": frame}, json.dumps({"k": 10}),
                               code="print('rows', len(d))\nd.assign(y=d.x * k)")
    assert list(result) == [""]
    assert result[""]["y"].tolist() == [10, 20, 30]
    assert capfd.readouterr().err == "[s1] rows 3\n"


def test_a_step_returns_a_dict_of_frames_or_tables():
    result = pipeline.run_step("s", "", "", {}, "{}", code="import pyarrow as pa\n{'a': pa.table({'x': [1]}), 'b': pa.table({'y': [2]})}")
    assert sorted(result) == ["a", "b"] and isinstance(result["a"], pa.Table)


@pytest.mark.parametrize("value, message", [
    ("[1, 2]", "the step returned list, not a pandas/polars DataFrame"),
    ("{'good': __import__('pandas').DataFrame(), 'bad': 3}", "the step returned int for 'bad', not"),
])
def test_outputs_that_are_not_frames_are_refused(value, message):
    with pytest.raises(TypeError, match=message):
        pipeline.run_step("s", "", "", {}, "{}", code=value)


def test_inline_code_whose_last_statement_is_not_an_expression():
    with pytest.raises(ValueError, match="must be an expression"):
        pipeline.run_step("s", "", "", {}, "{}", code="x = 1")


def test_a_step_script_runs_afresh_and_leaves_the_session_as_it_was(tmp_path, monkeypatch, capfd):
    script(tmp_path, "helper.py", "FACTOR = 2\n")
    path = script(tmp_path, "step.py", """
        import os, random
        import helper
        def double(data, extra=0):
            os.chdir("/")
            os.environ["POLYBRIDGE_TEST_STEP"] = "set"
            random.seed(99)
            print("doubling")
            return data.assign(x=data.x * helper.FACTOR + extra)
    """)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLYBRIDGE_TEST_STEP", raising=False)
    random.seed(1)
    expected_random = random.random()
    random.seed(1)
    path_before = list(sys.path)
    frame = pd.DataFrame({"x": [1, 2]})
    result = pipeline.run_step("d", path, "double", {"data": frame}, json.dumps({"extra": 1}))
    assert result[""]["x"].tolist() == [3, 5]
    assert os.getcwd() == str(tmp_path)
    assert "POLYBRIDGE_TEST_STEP" not in os.environ
    assert random.random() == expected_random
    assert sys.path == path_before
    assert capfd.readouterr().err == "[d] doubling\n"
    # An edit to the module beside the script takes effect in the next step.
    script(tmp_path, "helper.py", "FACTOR = 10\n")
    result = pipeline.run_step("d", path, "double", {"data": frame}, "{}")
    assert result[""]["x"].tolist() == [10, 20]


def test_a_step_error_keeps_only_the_users_frames(tmp_path):
    script(tmp_path, "helper.py", "def fail(value):\n    raise KeyError(value)\n")
    path = script(tmp_path, "step.py", """
        import helper
        def run(data):
            return helper.fail("missing column")
    """)
    with pytest.raises(KeyError) as raised:
        pipeline.run_step("e", path, "run", {"data": pd.DataFrame()}, "{}")
    frames = user_frames(raised.value)
    assert [(os.path.basename(f.filename), f.name) for f in frames] == [("step.py", "run"), ("helper.py", "fail")]


def test_an_inline_code_error_shows_the_codes_lines():
    with pytest.raises(ZeroDivisionError) as raised:
        pipeline.run_step("z", "", "", {}, "{}", code="a = 1\nb = a / 0\nb")
    frames = user_frames(raised.value)
    assert [(f.filename, f.lineno, f.line) for f in frames] == [("<code of step z>", 2, "b = a / 0")]
