"""`make bench-fit-large`: an exact fit of 100,000,000 rows (y ~ x1..x8 + g) from a Parquet file
the bench writes in streaming fashion, with the peak memory of coordinator plus workers.

R's lm cannot fit this on the machine: its peak memory is measured on a smaller run (the same
model, BENCH_LM_ROWS rows, read from RDS) and scaled to 100M rows, rather than pushing the
machine into swap. The polybridge answer is checked against an independent oracle computed
here in Python: the normal equations accumulated over the same file in float64 by numpy (well
conditioned data, so they agree with QR to ~1e-12).
"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(__file__))
from bench_fit import FORMULA, TreeMemory, polybridge, write_data  # noqa: E402


def model_matrix(table):
    """The model matrix of y ~ x1..x8 + g (intercept, x1..x8, gb..ge: treatment contrasts of
    the 5-level factor) for one row group, and its y."""
    x = np.empty((table.num_rows, 13))
    x[:, 0] = 1
    for i in range(1, 9):
        x[:, i] = table.column(f"x{i}").to_numpy()
    codes = table.column("g").combine_chunks().indices.to_numpy()
    for level in range(1, 5):
        x[:, 8 + level] = codes == level
    return x, table.column("y").to_numpy()


def normal_equations_oracle(path):
    """Coefficients (intercept, x1..x8, gb..ge) by accumulating X'X and X'y over row groups."""
    xtx, xty = np.zeros((13, 13)), np.zeros(13)
    source = pq.ParquetFile(path)
    for index in range(source.metadata.num_row_groups):
        x, y = model_matrix(source.read_row_group(index))
        xtx += x.T @ x
        xty += x.T @ y
    return np.linalg.solve(xtx, xty)


def r_lm_peak(rds):
    """Peak resident memory (bytes) of an R process that reads `rds` and fits lm + summary."""
    code = f"d <- readRDS('{rds}'); s <- summary(lm({FORMULA}, data = d))"
    process = subprocess.Popen(["Rscript", "-e", code])
    memory = TreeMemory(process.pid)
    process.wait()
    return memory.stop()


def main():
    binary = os.environ.get("POLYBRIDGE_BIN", ".build/release/polybridge")
    rows = int(os.environ.get("BENCH_LARGE_ROWS", "100000000"))
    lm_rows = int(os.environ.get("BENCH_LM_ROWS", "5000000"))
    folder = os.environ.get("BENCH_DIR") or tempfile.mkdtemp(prefix="polybridge-bench-large-")
    path = os.path.join(folder, f"large-{rows}.parquet")
    print(f"model: {FORMULA}; {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB")
    try:
        if not os.path.exists(path):
            t0 = time.perf_counter()
            write_data(path, rows)
            print(f"wrote {rows:,} rows ({os.path.getsize(path) / 1e9:.1f} GB Parquet, 1,000,000-row groups) "
                  f"in {time.perf_counter() - t0:.0f} s, streaming (one row group in memory at a time)")
        pb = polybridge(binary, path)
        print(f"polybridge fit exact, 2 workers, {pb['chunks']} chunks: fit phase {pb['fit']:.1f} s, "
              f"end to end {pb['wall']:.1f} s; peak memory coordinator + workers {pb['peak'] / 2**30:.2f} GiB "
              f"(goal < 4 GiB; sampled from /proc every 50 ms)")
        t0 = time.perf_counter()
        oracle = normal_equations_oracle(path)
        difference = max(abs(a - b) / abs(b) for a, b in zip(pb["coef"], oracle))
        print(f"independent check (numpy normal equations over the same file, {time.perf_counter() - t0:.0f} s): "
              f"max relative coefficient difference {difference:.1e}")
        small = os.path.join(folder, f"lm-{lm_rows}.parquet")
        write_data(small, lm_rows)
        rds = small + ".rds"
        subprocess.run([binary, "convert", small, rds], check=True, capture_output=True)
        peak = r_lm_peak(rds)
        scaled = peak / lm_rows * rows
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        verdict = ("more than this machine's memory: R's lm cannot fit it here" if scaled > memory
                   else "within this machine's memory")
        print(f"R lm + summary on {lm_rows:,} rows (from RDS): peak memory {peak / 2**30:.2f} GiB "
              f"({peak / lm_rows:.0f} bytes per row); at {rows:,} rows that is about {scaled / 2**30:.0f} GiB, {verdict}")
    finally:
        if not os.environ.get("BENCH_DIR"):
            subprocess.run(["rm", "-rf", folder])


if __name__ == "__main__":
    main()
