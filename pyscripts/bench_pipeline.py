"""`make bench-pipeline`: the demo pipeline cold and warm, and the cost of handing a 1,000,000-row
frame from an R step to a Python step and back: Polybridge in memory (both conversions) versus
the file-passing way of Snakemake-style tools (R writes a file, Python reads it, Python writes,
R reads), in the same run. Feather is not in the comparison: R's arrow package is not packaged
by Debian (CRAN is not reachable here), so R cannot write Feather on this machine.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("POLYBRIDGE_BIN", ".build/release/polybridge")
ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))

MAKE_FRAME = f"""
set.seed(1); n <- {ROWS}
d <- data.frame(a = rnorm(n), b = rnorm(n), c = rnorm(n), d = rnorm(n), e = runif(n), f = runif(n),
                i = sample.int(1000L, n, TRUE), j = seq_len(n), flag = sample(c(TRUE, FALSE, NA), n, TRUE),
                g = factor(sample(c("basic", "pro", "team", "trial", "legacy"), n, TRUE)))
d$a[sample.int(n, n %/% 100)] <- NA
"""


def timed_rscript(code):
    out = subprocess.run(["Rscript", "-e", code], check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def file_handoff(folder, kind):
    """Seconds of the four file operations (R write, Python read, Python write, R read),
    each timed inside its own process (process start-up is not counted)."""
    there, back = os.path.join(folder, f"there.{kind}"), os.path.join(folder, f"back.{kind}")
    if kind == "csv":
        write_r = "data.table::fwrite(d, '%s')" % there
        read_r = "data.table::fread('%s')" % back
    else:
        write_r = "saveRDS(d, '%s', compress = FALSE)" % there
        read_r = "readRDS('%s')" % back
    r_write = timed_rscript(MAKE_FRAME + f"t <- Sys.time(); {write_r}; cat(as.numeric(Sys.time() - t, units = 'secs'))")
    python = f"""
import time, pandas as pd
t = time.perf_counter()
frame = {"pd.read_csv(%r)" % there if kind == "csv" else "__import__('pyreadr').read_r(%r)[None]" % there}
middle = time.perf_counter()
{"frame.to_csv(%r, index=False)" % back if kind == "csv" else "__import__('pyreadr').write_rds(%r, frame)" % back}
print(middle - t, time.perf_counter() - middle)
"""
    out = subprocess.run([sys.executable, "-c", python], check=True, capture_output=True, text=True).stdout.split()
    r_read = timed_rscript(f"t <- Sys.time(); x <- {read_r}; cat(as.numeric(Sys.time() - t, units = 'secs'))")
    return r_write, float(out[0]), float(out[1]), r_read


def run_demo(extra):
    t = time.perf_counter()
    subprocess.run([BIN, "run", "examples/churn/pipeline.yaml", *extra], check=True, capture_output=True)
    return time.perf_counter() - t


def main():
    cores = os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {cores} cores, {memory:.0f} GiB")
    shutil.rmtree("examples/churn/.polybridge-cache", ignore_errors=True)
    cold = run_demo([])
    warm = run_demo([])
    print(f"demo pipeline (examples/churn, 8 steps, 5,000 rows), wall time of `polybridge run` including start-up: "
          f"cold {cold:.2f} s, warm (every step cached) {warm:.2f} s")
    for extra in [["--arrow-dtypes"], ["--arrow-dtypes", "--with-date"], [], ["--with-date"]]:
        report = json.loads(subprocess.run([BIN, "bench", "handoff", "--rows", str(ROWS), *extra], check=True,
                                           capture_output=True, text=True).stdout)
        mode = "pipeline default (pandas, pyarrow-backed dtypes)" if "--arrow-dtypes" in extra else "as: pandas (numpy-backed dtypes)"
        print(f"hand-off R step -> Python step -> R step, {mode}, {ROWS:,} rows, {report['columns']}: "
              f"polybridge in memory {report['r_to_pandas_seconds'] * 1000:.0f} ms + {report['pandas_to_r_seconds'] * 1000:.0f} ms "
              f"= {report['both_seconds'] * 1000:.0f} ms (goal < 50 ms; round trip equal: {report['round_trip_equal']})")
    with tempfile.TemporaryDirectory() as folder:
        for kind, label in [("csv", "CSV (data.table fwrite/fread, pandas read_csv/to_csv)"), ("rds", "RDS (saveRDS/readRDS, pyreadr)")]:
            parts = file_handoff(folder, kind)
            print(f"file hand-off {label}, same frame without Date: R write {parts[0] * 1000:.0f} ms, Python read "
                  f"{parts[1] * 1000:.0f} ms, Python write {parts[2] * 1000:.0f} ms, R read {parts[3] * 1000:.0f} ms "
                  f"= {sum(parts) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
