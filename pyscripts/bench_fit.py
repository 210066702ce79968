"""`make bench-fit`: polybridge fit (exact, worker pool) against R's lm, parallel::mclapply with
averaged coefficients, and the multiprocessing + rpy2 recipe, on the same Parquet data.

Data: y ~ x1..x8 + g (a 5-level factor), written with pyarrow. Prints the machine, sizes, each
method's time, the ratio to lm's and each method's largest relative coefficient difference from
lm on the whole data (lm's coefficients are the reference, computed in the same run).
"""
import functools
import json
import multiprocessing
import os
import re
import subprocess
import tempfile
import threading
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FORMULA = "y ~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + g"


def write_data(path, rows, seed=1):
    rng = np.random.default_rng(seed)
    writer = None
    block = 1_000_000
    for start in range(0, rows, block):
        n = min(block, rows - start)
        columns = {f"x{i}": rng.standard_normal(n) for i in range(1, 9)}
        codes = rng.integers(0, 5, n).astype(np.int32)
        g = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(["a", "b", "c", "d", "e"]))
        y = 1 + sum(i * columns[f"x{i}"] for i in range(1, 9)) + codes * 0.5 + rng.standard_normal(n)
        table = pa.table({**columns, "g": g, "y": y})
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=n)
    writer.close()


def rscript(code):
    out = subprocess.run(["Rscript", "-e", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


R_COMMON = r"""
to_json <- function(x) cat(sprintf('{"read": %.6f, "fit": %.6f, "coef": [%s]}\n', x$read, x$fit,
                                   paste(sprintf("%.17g", x$coef), collapse = ",")))
"""


def r_lm(rds):
    return rscript(R_COMMON + f"""
t0 <- Sys.time(); d <- readRDS('{rds}'); t1 <- Sys.time()
s <- summary(lm({FORMULA}, data = d)); t2 <- Sys.time()
to_json(list(read = as.numeric(t1 - t0, units = "secs"), fit = as.numeric(t2 - t1, units = "secs"), coef = coef(s)[, 1]))
""")


def r_mclapply(rds, chunks, cores, family=None):
    """parallel::mclapply over `chunks` row ranges, averaging the chunks' coefficients: lm, or
    glm with `family` (an R family name)."""
    fit = f"lm({FORMULA}, data = d[i, ])" if family is None else f"glm({FORMULA}, family = {family}, data = d[i, ])"
    return rscript(R_COMMON + f"""
library(parallel)
d <- readRDS('{rds}')
t1 <- Sys.time()
idx <- split(seq_len(nrow(d)), ceiling(seq_len(nrow(d)) * {chunks} / nrow(d)))
fits <- mclapply(idx, function(i) coef({fit}), mc.cores = {cores})
coef <- Reduce(`+`, fits) / length(fits)
t2 <- Sys.time()
to_json(list(read = 0, fit = as.numeric(t2 - t1, units = "secs"), coef = coef))
""")


def _rpy2_chunk(frame, family=None):
    import rpy2.robjects as ro
    from rpy2.robjects import pandas2ri
    from rpy2.robjects.conversion import localconverter
    with localconverter(ro.default_converter + pandas2ri.converter):
        r_frame = ro.conversion.py2rpy(frame)
    if family is None:
        fit = ro.r["lm"](ro.Formula(FORMULA), data=r_frame)
    else:
        fit = ro.r["glm"](ro.Formula(FORMULA), data=r_frame, family=ro.r[family]())
    return list(ro.r["coef"](fit))


def rpy2_recipe(path, chunks, cores, family=None):
    """The common recipe: pandas reads the file, the frame is split into chunks that a
    multiprocessing pool pickles to its workers, each converts its chunk with rpy2 and fits lm
    (or glm with `family`), and the coefficients are averaged."""
    import pandas as pd
    t0 = time.perf_counter()
    frame = pd.read_parquet(path)
    parts = [frame.iloc[len(frame) * i // chunks:len(frame) * (i + 1) // chunks] for i in range(chunks)]
    with multiprocessing.get_context("spawn").Pool(cores) as pool:
        fits = pool.map(functools.partial(_rpy2_chunk, family=family), parts)
    coef = np.mean(np.array(fits), axis=0)
    return {"fit": time.perf_counter() - t0, "coef": list(coef)}


class TreeMemory:
    """The largest summed resident memory of a process and its descendants, sampled every 50 ms
    from /proc while it runs."""

    def __init__(self, pid):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self, pid):
        pids = [pid]
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as handle:
                    for child in handle.read().split():
                        pids.extend(self._tree(int(child)))
        except OSError:
            pass
        return pids

    def _run(self):
        while not self._stop.is_set():
            total = 0
            for pid in self._tree(self.pid):
                try:
                    with open(f"/proc/{pid}/status") as handle:
                        for line in handle:
                            if line.startswith("VmRSS:"):
                                total += int(line.split()[1]) * 1024
                except OSError:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.05)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak


def polybridge(binary, path, extra=()):
    """`polybridge fit --workers 2` (with `extra` options) on the file's row groups: wall time
    from process start to result, the fit phase it reports (warm workers: reading rows,
    building, factoring, combining), the peak memory of it and its workers, and its JSON and
    standard error."""
    t0 = time.perf_counter()
    process = subprocess.Popen([binary, "fit", "--data", path, "--formula", FORMULA, "--json", "--workers", "2",
                                "--timing", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = TreeMemory(process.pid)
    out, err = process.communicate()
    wall = time.perf_counter() - t0
    peak = memory.stop()
    if process.returncode != 0:
        raise SystemExit(f"polybridge fit failed ({process.returncode}): {err}")
    timing = re.search(r"workers ready ([0-9.]+) s, fit ([0-9.]+) s \((\d+) chunks\)", err)
    fit = json.loads(out)
    return {"wall": wall, "ready": float(timing.group(1)), "fit": float(timing.group(2)),
            "chunks": int(timing.group(3)), "peak": peak, "coef": [c["estimate"] for c in fit["coefficients"]],
            "json": fit, "stderr": err}


def in_process_wall(binary, path, chunks):
    """Wall time of `polybridge fit --chunks N` in this process alone (no workers), the
    baseline for what starting two workers adds to a fit's wall time."""
    t0 = time.perf_counter()
    subprocess.run([binary, "fit", "--data", path, "--formula", FORMULA, "--json", "--chunks", str(chunks)],
                   check=True, capture_output=True)
    return time.perf_counter() - t0


def largest_difference(coef, reference):
    return max(abs(a - b) / max(abs(b), 1e-300) for a, b in zip(coef, reference))


def main():
    binary = os.environ.get("POLYBRIDGE_BIN", ".build/release/polybridge")
    sizes = [int(s) for s in os.environ.get("BENCH_ROWS", "2000000,10000000").split(",")]
    cores = os.cpu_count() or 2
    r_version = subprocess.run(["Rscript", "-e", "cat(R.version.string)"], capture_output=True, text=True).stdout
    blas = subprocess.run(["Rscript", "-e", "cat(La_library())"], capture_output=True, text=True).stdout
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {cores} cores, {memory:.0f} GiB; {r_version}; R's LAPACK {blas} (reference BLAS). "
          "lm and mclapply use R's LINPACK QR; polybridge workers factor chunks with their own blocked Householder QR "
          "in Swift, and the combine uses R's lm.fit (LINPACK dqrdc2) on the stacked factors")
    print(f"model: {FORMULA} (8 numeric predictors, g a 5-level factor), data from Parquet")
    with tempfile.TemporaryDirectory() as folder:
        for rows in sizes:
            path, rds = f"{folder}/data.parquet", f"{folder}/data.rds"
            write_data(path, rows)
            subprocess.run([binary, "convert", path, rds], check=True, capture_output=True)
            print(f"\n{rows:,} rows ({os.path.getsize(path) / 1e6:.0f} MB Parquet)")
            lm = r_lm(rds)
            reference = lm["coef"]
            results = [
                ("R lm + summary, data loaded (fit phase)", lm["fit"], reference),
                ("R readRDS + lm + summary (end to end)", lm["read"] + lm["fit"], reference),
            ]
            pb = polybridge(binary, path)
            results.append((f"polybridge fit exact, 2 warm workers, {pb['chunks']} chunks (fit phase)", pb["fit"], pb["coef"]))
            results.append(("polybridge fit end to end (process start, workers start, fit)", pb["wall"], pb["coef"]))
            mc = r_mclapply(rds, 8, 2)
            results.append(("R mclapply average, 8 chunks, 2 cores (APPROXIMATE)", mc["fit"], mc["coef"]))
            rp = None
            if rows <= int(os.environ.get("RPY2_MAX_ROWS", "10000000")):
                rp = rpy2_recipe(path, 8, 2)
                results.append(("multiprocessing + rpy2 average, 8 chunks, read included (APPROXIMATE)", rp["fit"], rp["coef"]))
            for label, seconds, coef in results:
                print(f"  {label:<60} {seconds:8.2f} s  {seconds / lm['fit']:6.2f}x lm fit   "
                      f"max rel. coef diff {largest_difference(coef, reference):.1e}")
            end_to_end = lm["read"] + lm["fit"]
            print(f"  ratios: polybridge fit phase / lm fit {pb['fit'] / lm['fit']:.3f} (goal <= 0.1); "
                  f"end to end / R readRDS + lm {pb['wall'] / end_to_end:.3f} (goal <= 0.2); "
                  f"mclapply / polybridge fit phase {mc['fit'] / pb['fit']:.1f}x (goal >= 2)"
                  + (f"; rpy2 recipe / polybridge end to end {rp['fit'] / pb['wall']:.0f}x (goal >= 40)" if rp else ""))
            print(f"  polybridge: workers ready in {pb['ready']:.2f} s; peak memory of coordinator + workers "
                  f"{pb['peak'] / 2**30:.2f} GiB (sampled from /proc every 50 ms)")
            alone = min(in_process_wall(binary, path, pb["chunks"]) for _ in range(2))
            print(f"  two workers add {pb['wall'] - alone:+.2f} s to the wall time of the same chunks fitted in this process alone "
                  f"({alone:.2f} s; goal <= 0.2 s)")


if __name__ == "__main__":
    main()
