"""Baseline for the pandas <-> R data-bridge benchmark: rpy2 3.5.x embedded in Python.

What it measures, on a deterministic frame from ``make_frame(rows)``:

* ``pandas2ri-to-r``      pandas DataFrame -> R data.frame (``pandas2ri`` py2rpy)
* ``pandas2ri-to-pandas`` R data.frame -> pandas DataFrame (``pandas2ri`` rpy2py)
* ``numpy2ri-to-r``       the numeric columns x1..x8, n as numpy arrays -> R vectors,
                          one ``numpy2ri`` py2rpy per column (seconds are the sum over columns)
* ``numpy2ri-to-numpy``   those R vectors -> numpy arrays, one rpy2py per column

Each timing is the best of ``--repeat`` runs (``time.perf_counter``). The peak RSS increase
is ``ru_maxrss`` after the runs minus before them. ``ru_maxrss`` is a high-water mark, so every
mode runs in its own subprocess. Just before a measurement, and between repeats, Python's and
R's garbage collectors run and glibc's ``malloc_trim(0)`` returns freed heap pages to the OS.
Then the kernel's high-water mark is reset to the current RSS
(``echo 5 > /proc/self/clear_refs``), so building the inputs does not hide the conversion's
own peak. Every result reports whether that reset worked (``peak_rss_hwm_reset``). If it did
not, the increase can read too low. The subprocesses get the environment from before R
started, because embedded R puts /usr/lib/x86_64-linux-gnu first on LD_LIBRARY_PATH. With
that, the pyenv interpreter loads Debian's libpython and cannot find its site-packages.

If a conversion raises, the error is recorded and, for the pandas -> R direction, the
conversion is retried with ``str`` columns and ``str`` category levels cast to ``object``
(the usual rpy2 3.5 workaround for the pandas 3 string dtype). Warnings rpy2 emits during
a measurement (e.g. "Fall back to string conversion") are recorded as well.

``correctness`` lists what rpy2 does with missing values, NaN, time zones and dtypes, checked
on small frames. Those are the problems the bridge is meant to avoid. It is computed only in
the default (merged) mode and is null with ``--only``.

The frame (pandas 3.1): x1..x8 float64 (x1 has 1% NaN at random positions), n int32,
s ``str`` (pandas 3 default string dtype, ``StringDtype(storage="pyarrow", na_value=nan)``)
with 4 distinct values, f category with 5 levels (``str`` levels), t datetime64[us, UTC] at
roughly one-second spacing.

Setup (Debian 12, R 4.2.2 from ``r-base-dev``, CPython 3.11.7):
    python3 -m pip install rpy2==3.5.17
rpy2 3.6 does not work with R 4.2. The 3.5.17 API-mode (compiled) cffi extension built and
loaded as it was, so ``RPY2_CFFI_MODE=ABI`` was not needed.

Run:
    python3 pyscripts/bench_rpy2_baseline.py --rows 1000000 --repeat 3
    python3 pyscripts/bench_rpy2_baseline.py --rows 100000 --only numpy2ri
Prints one JSON object on stdout. Everything else, including R console output, goes to stderr.
Another script can ``from bench_rpy2_baseline import make_frame`` to get the identical frame
(importing this module does not start R).
"""

import argparse
import ctypes
import ctypes.util
import gc
import json
import math
import os
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

MODES = ("pandas2ri-to-r", "pandas2ri-to-pandas", "numpy2ri")
MODE_RESULT_KEYS = {
    "pandas2ri-to-r": ("pandas2ri-to-r",),
    "pandas2ri-to-pandas": ("pandas2ri-to-pandas",),
    "numpy2ri": ("numpy2ri-to-r", "numpy2ri-to-numpy"),
}
NUMERIC_COLUMNS = [f"x{i}" for i in range(1, 9)] + ["n"]
S_VALUES = ["alpha", "beta", "gamma", "delta"]
F_LEVELS = ["red", "green", "blue", "cyan", "magenta"]
WORKAROUND_OBJECT_STRINGS = "cast str columns and str category levels to object dtype before py2rpy"
MAX_MESSAGE_CHARS = 300
LIBC_PATH = ctypes.util.find_library("c")
LIBC = ctypes.CDLL(LIBC_PATH) if LIBC_PATH else None

R_DESCRIBE = """function(df) {
  x <- df[[1]]
  flags <- function(v) paste(substr(as.character(v), 1, 1), collapse = "")
  paste0("class=", paste(class(x), collapse = "/"),
         " is.na=", flags(is.na(x)),
         if (is.double(x)) paste0(" is.nan=", flags(is.nan(x))) else "",
         if (!is.null(attr(x, "tzone"))) paste0(" tzone=", attr(x, "tzone")) else "")
}"""


def make_frame(rows: int) -> pd.DataFrame:
    """Return the deterministic benchmark frame with ``rows`` rows (seed 42, numpy default_rng)."""
    rng = np.random.default_rng(42)
    data = {f"x{i}": rng.standard_normal(rows) for i in range(1, 9)}
    data["x1"][rng.choice(rows, size=rows // 100, replace=False)] = np.nan
    data["n"] = rng.integers(-1_000_000, 1_000_000, size=rows, dtype=np.int32)
    data["s"] = pd.Series(np.array(S_VALUES)[rng.integers(0, len(S_VALUES), size=rows)], dtype="str")
    data["f"] = pd.Categorical.from_codes(rng.integers(0, len(F_LEVELS), size=rows), categories=F_LEVELS)
    offsets_us = np.cumsum(rng.integers(900_000, 1_100_001, size=rows)).astype("timedelta64[us]")
    data["t"] = pd.DatetimeIndex(np.datetime64("2024-01-01T00:00:00", "us") + offsets_us).tz_localize("UTC")
    return pd.DataFrame(data)


def object_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with ``str`` columns and ``str`` category levels as ``object``."""
    out = df.copy()
    for name, col in out.items():
        if isinstance(col.dtype, pd.StringDtype):
            out[name] = col.astype(object)
        elif isinstance(col.dtype, pd.CategoricalDtype) and isinstance(col.cat.categories.dtype, pd.StringDtype):
            out[name] = col.cat.set_categories(col.cat.categories.astype(object), rename=True)
    return out


def short(message: object) -> str:
    """Return ``message`` as one line of at most MAX_MESSAGE_CHARS characters."""
    text = " ".join(str(message).split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


def error_text(exc: BaseException) -> str:
    """Return a short ``Type: message`` description of an exception."""
    return short(f"{type(exc).__name__}: {exc}")


def route_r_console_to_stderr() -> None:
    """Send R's console output (rpy2 writes it to stdout by default) to stderr."""
    from rpy2.rinterface_lib import callbacks

    callbacks.consolewrite_print = sys.stderr.write
    callbacks.consolewrite_warnerror = sys.stderr.write


def collect_garbage() -> None:
    """Run Python's and R's garbage collectors, then hand free heap pages back to the OS.

    Without glibc's malloc_trim, a conversion could reuse pages an earlier step freed but kept
    resident, and its RSS increase would read too low.
    """
    import rpy2.robjects as ro

    gc.collect()
    ro.r("invisible(gc())")
    if LIBC is not None and hasattr(LIBC, "malloc_trim"):
        LIBC.malloc_trim(0)


def reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark to the current RSS; return whether it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def max_rss_bytes() -> int:
    """Return this process's peak RSS in bytes (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(fn, repeat: int) -> dict:
    """Time ``fn()`` best-of-``repeat`` and measure the peak RSS increase across the runs.

    Returns a result dict with ``seconds``, ``peak_rss_increase_bytes``, ``peak_rss_hwm_reset``,
    ``error``, ``workaround`` (always null here) and ``warnings``. An exception from ``fn``
    ends the measurement and is recorded in ``error``.
    """
    collect_garbage()
    hwm_reset = reset_peak_rss()
    before = max_rss_bytes()
    best = math.inf
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(repeat):
            try:
                start = time.perf_counter()
                out = fn()
                elapsed = time.perf_counter() - start
            except Exception as exc:  # noqa: BLE001 - any rpy2 failure is a result to report
                error = error_text(exc)
                break
            best = min(best, elapsed)
            del out
            collect_garbage()
    peak = max_rss_bytes() - before
    return {
        "seconds": None if error else best,
        "peak_rss_increase_bytes": None if error else peak,
        "peak_rss_hwm_reset": hwm_reset,
        "error": error,
        "workaround": None,
        "warnings": sorted({short(f"{w.category.__name__}: {w.message}") for w in caught}),
    }


def failed(error: str, workaround: str | None = None) -> dict:
    """Return a result dict for a conversion that could not be measured."""
    return {
        "seconds": None,
        "peak_rss_increase_bytes": None,
        "peak_rss_hwm_reset": False,
        "error": error,
        "workaround": workaround,
        "warnings": [],
    }


def pandas_converter():
    """Return rpy2's default converter extended with pandas2ri."""
    import rpy2.robjects as ro
    from rpy2.robjects import pandas2ri

    return ro.default_converter + pandas2ri.converter


def numpy_converter():
    """Return rpy2's default converter extended with numpy2ri."""
    import rpy2.robjects as ro
    from rpy2.robjects import numpy2ri

    return ro.default_converter + numpy2ri.converter


def bench_pandas2ri_to_r(df: pd.DataFrame, repeat: int) -> dict:
    """Measure pandas -> R data.frame with pandas2ri, retrying with the workaround on error."""
    from rpy2.robjects.conversion import localconverter

    with localconverter(pandas_converter()) as cv:
        result = measure(lambda: cv.py2rpy(df), repeat)
        if result["error"] is None:
            return result
        fixed = object_strings(df)
        retry = measure(lambda: cv.py2rpy(fixed), repeat)
    if retry["error"] is not None:
        retry["error"] = f"{result['error']} | with workaround: {retry['error']}"
    else:
        retry["error"] = result["error"]
    retry["workaround"] = WORKAROUND_OBJECT_STRINGS
    return retry


def bench_pandas2ri_to_pandas(df: pd.DataFrame, repeat: int) -> dict:
    """Measure R data.frame -> pandas with pandas2ri; the R input is built from ``df`` first."""
    from rpy2.robjects.conversion import localconverter

    workaround = None
    with localconverter(pandas_converter()) as cv:
        try:
            r_df = cv.py2rpy(df)
        except Exception as first:  # noqa: BLE001 - fall back to the documented workaround
            workaround = f"R input built after the workaround: {WORKAROUND_OBJECT_STRINGS}"
            try:
                r_df = cv.py2rpy(object_strings(df))
            except Exception as second:  # noqa: BLE001
                return failed(f"building R input: {error_text(first)} | {error_text(second)}", workaround)
        del df
        result = measure(lambda: cv.rpy2py(r_df), repeat)
    result["workaround"] = workaround
    return result


def bench_numpy2ri(df: pd.DataFrame, repeat: int) -> dict:
    """Measure per-column numpy2ri conversion of the numeric columns, both directions.

    Each timed run converts all of NUMERIC_COLUMNS in one loop, so its time is the sum over
    the columns.
    """
    from rpy2.robjects.conversion import localconverter

    arrays = [df[name].to_numpy() for name in NUMERIC_COLUMNS]
    del df
    with localconverter(numpy_converter()) as cv:
        to_r = measure(lambda: [cv.py2rpy(a) for a in arrays], repeat)  # noqa: F821 (measured before the del below)
        try:
            r_vectors = [cv.py2rpy(a) for a in arrays]
        except Exception as exc:  # noqa: BLE001
            return {"numpy2ri-to-r": to_r, "numpy2ri-to-numpy": failed(f"building R input: {error_text(exc)}")}
        del arrays
        to_numpy = measure(lambda: [cv.rpy2py(v) for v in r_vectors], repeat)
    return {"numpy2ri-to-r": to_r, "numpy2ri-to-numpy": to_numpy}


def run_mode(mode: str, rows: int, repeat: int) -> dict:
    """Build the frame and run one benchmark mode in this process; return its results."""
    df = make_frame(rows)
    print(f"[{mode}] rows={rows} repeat={repeat}", file=sys.stderr, flush=True)
    if mode == "pandas2ri-to-r":
        return {mode: bench_pandas2ri_to_r(df, repeat)}
    if mode == "pandas2ri-to-pandas":
        return {mode: bench_pandas2ri_to_pandas(df, repeat)}
    return bench_numpy2ri(df, repeat)


def run_mode_subprocess(mode: str, rows: int, repeat: int, env: dict) -> dict:
    """Run one mode in a fresh interpreter (for an honest peak RSS) and return its results.

    ``env`` must be the environment from before R started: embedded R prepends
    /usr/lib/x86_64-linux-gnu to LD_LIBRARY_PATH, which makes the pyenv interpreter load
    Debian's libpython and lose its site-packages.
    """
    cmd = [sys.executable, os.path.abspath(__file__), "--rows", str(rows), "--repeat", str(repeat), "--only", mode]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False, env=env)
    try:
        return json.loads(proc.stdout)["results"]
    except (json.JSONDecodeError, KeyError):
        message = f"subprocess for {mode} exited with code {proc.returncode} without a JSON result"
        return {key: failed(message) for key in MODE_RESULT_KEYS[mode]}


def roundtrip(series: pd.Series):
    """Convert a one-column frame to R and back with pandas2ri.

    Returns (R description from R_DESCRIBE, the column that came back, warnings raised).
    """
    import rpy2.robjects as ro
    from rpy2.robjects.conversion import localconverter

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with localconverter(pandas_converter()) as cv:
            r_df = cv.py2rpy(series.to_frame("v"))
        description = ro.r(R_DESCRIBE)(r_df)[0]
        with localconverter(pandas_converter()) as cv:
            back = cv.rpy2py(r_df)["v"]
    return description, back, [short(w.message) for w in caught]


def describe_back(back: pd.Series) -> str:
    """Describe a column that came back from R: dtype, values and pandas isna flags."""
    values = ", ".join(repr(v) for v in back.tolist())
    flags = "".join("T" if v else "F" for v in back.isna())
    return f"back in pandas: dtype={back.dtype} values=[{values}] isna={flags}"


def check_missing(label: str, series: pd.Series, note: str = "") -> str:
    """Round-trip ``series`` and report how its missing values look in R and after return."""
    description, back, caught = roundtrip(series)
    want = "".join("T" if v else "F" for v in series.isna())
    kept_in_r = f"is.na={want}" in description
    kept_back = "".join("T" if v else "F" for v in back.isna()) == want and back.dtype == series.dtype
    text = (
        f"{label}: NA reaches R {'OK' if kept_in_r else 'WRONG'} ({description}); "
        f"round trip {'OK' if kept_back else 'LOSSY'} ({describe_back(back)})"
    )
    return text + (f"; {note}" if note else "") + (f"; warnings: {caught}" if caught else "")


def check_nan_vs_na(label: str, series: pd.Series, expected_na: str, expected_nan: str) -> str:
    """Report whether R tells NaN from NA for a float column with known NaN/NA positions."""
    description, back, caught = roundtrip(series)
    ok = f"is.na={expected_na}" in description and f"is.nan={expected_nan}" in description
    text = (
        f"{label}: R {'distinguishes' if ok else 'does NOT distinguish'} NaN from NA "
        f"(expected is.na={expected_na} is.nan={expected_nan}, got {description}); {describe_back(back)}"
    )
    return text + (f"; warnings: {caught}" if caught else "")


def check_timezone(tz: str) -> str:
    """Report whether a tz-aware pandas column reaches R as POSIXct with its tzone attribute."""
    series = pd.Series(pd.date_range("2024-01-01", periods=3, freq="s", tz=tz, unit="us"))
    description, back, caught = roundtrip(series)
    ok = "POSIXct" in description and f"tzone={tz}" in description and back.dtype == series.dtype
    text = f"time zone {series.dtype}: {'kept' if ok else 'NOT kept'} (R {description}; back dtype={back.dtype})"
    return text + (f"; warnings: {caught}" if caught else "")


def check_frame_roundtrip() -> str:
    """Report dtype, index and value changes after a pandas2ri round trip of make_frame(1000)."""
    from rpy2.robjects.conversion import localconverter

    df = make_frame(1000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with localconverter(pandas_converter()) as cv:
            back = cv.rpy2py(cv.py2rpy(df))
    changes = []
    for name in df.columns:
        same_values = pd.Series(df[name].to_numpy(dtype=object)).equals(pd.Series(back[name].to_numpy(dtype=object)))
        if df[name].dtype != back[name].dtype or not same_values:
            changes.append(f"{name}: {df[name].dtype} -> {back[name].dtype}{'' if same_values else ' (values differ)'}")
    changes.append(f"index: {type(df.index).__name__} -> {type(back.index).__name__}[{back.index.dtype}]")
    text = "benchmark frame round trip (1000 rows): " + "; ".join(changes)
    return text + (f"; warnings: {sorted({short(w.message) for w in caught})}" if caught else "")


def correctness_findings() -> list[str]:
    """Run the small correctness checks; each finding (or its exception) is one short string."""
    nan_and_na = pd.arrays.FloatingArray(np.array([np.nan, 0.0, 1.0]), np.array([False, True, False]))
    checks = [
        lambda: check_missing("integer NA (Int32 [1, <NA>, 3])", pd.Series(pd.array([1, None, 3], dtype="Int32"))),
        lambda: check_missing(
            "logical NA (boolean [True, <NA>, False])", pd.Series(pd.array([True, None, False], dtype="boolean"))
        ),
        lambda: check_missing("string NA (str ['a', NaN, 'c'])", pd.Series(["a", None, "c"], dtype="str")),
        lambda: check_nan_vs_na(
            "float64 [NaN, None, 1.0] (pandas already stores None as NaN)",
            pd.Series([np.nan, None, 1.0], dtype="float64"),
            expected_na="TTF",
            expected_nan="TFF",
        ),
        lambda: check_nan_vs_na(
            "Float64 [NaN, <NA>, 1.0]", pd.Series(nan_and_na), expected_na="TTF", expected_nan="TFF"
        ),
        lambda: check_timezone("UTC"),
        lambda: check_timezone("America/New_York"),
        check_frame_roundtrip,
    ]
    findings = []
    for check in checks:
        try:
            findings.append(check())
        except Exception as exc:  # noqa: BLE001 - a crashing check is itself a finding
            findings.append(f"check {getattr(check, '__name__', 'lambda')} raised {error_text(exc)}")
    return findings


def versions() -> dict:
    """Return the rpy2, pandas and R versions."""
    import rpy2
    import rpy2.robjects as ro

    return {
        "rpy2_version": rpy2.__version__,
        "pandas_version": pd.__version__,
        "r_version": str(ro.r("R.version.string")[0]),
    }


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the benchmark frame")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; the best is reported")
    parser.add_argument(
        "--only", choices=MODES, help="run one mode in this process (default: each mode in its own subprocess)"
    )
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Run the benchmark and print one JSON object on the original stdout."""
    args = parse_args(argv)
    env_before_r = dict(os.environ)
    json_out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints and R output go to stderr
    route_r_console_to_stderr()

    frame = make_frame(args.rows)
    report = {
        "rows": args.rows,
        "frame_bytes": int(frame.memory_usage(deep=True).sum()),
        "frame_dtypes": {name: str(dtype) for name, dtype in frame.dtypes.items()},
        **versions(),
    }
    del frame
    if args.only:
        report["results"] = run_mode(args.only, args.rows, args.repeat)
        report["correctness"] = None
    else:
        report["results"] = {}
        for mode in MODES:
            report["results"].update(run_mode_subprocess(mode, args.rows, args.repeat, env_before_r))
        report["correctness"] = correctness_findings()
    json.dump(report, json_out, indent=2)
    json_out.write("\n")
    json_out.close()


if __name__ == "__main__":
    main()
