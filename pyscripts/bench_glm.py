"""`make bench-glm`: polybridge fit --family binomial (exact IRLS over chunks kept on two warm
workers) against R's glm, parallel::mclapply with averaged coefficients, and the
multiprocessing + rpy2 recipe, on the same data.

Data: a binary y ~ x1..x8 + g (a 5-level factor), written with pyarrow as Parquet (and as CSV
for Rscript's fread). Prints the machine, each method's time, its ratio to R's glm fit and its
largest relative coefficient difference from R's glm (the reference, computed in the same run),
where the fit's time goes (first pass, each IRLS round, summary) and the peak memory.
"""
import os
import re
import subprocess
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

import bench_fit
from bench_fit import largest_difference, rscript

FORMULA = bench_fit.FORMULA  # the table bench-fit uses, with a binary response


def write_data(path, csv, rows, seed=1):
    """Parquet (row groups of 1M rows) and, unless `csv` is None, CSV of the benchmark's
    binary-response table, written one row group at a time."""
    rng = np.random.default_rng(seed)
    writer = None
    csv_writer = None
    block = 1_000_000
    for start in range(0, rows, block):
        n = min(block, rows - start)
        columns = {f"x{i}": rng.standard_normal(n) for i in range(1, 9)}
        codes = rng.integers(0, 5, n).astype(np.int32)
        g = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(["a", "b", "c", "d", "e"]))
        eta = -0.4 + sum(0.05 * i * columns[f"x{i}"] for i in range(1, 9)) + codes * 0.2
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.float64)
        table = pa.table({**columns, "g": g, "y": y})
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=n)
        if csv is not None:
            plain = table.set_column(8, "g", table.column("g").cast(pa.string()))
            if csv_writer is None:
                csv_writer = pacsv.CSVWriter(csv, plain.schema)
            csv_writer.write_table(plain)
    writer.close()
    if csv_writer is not None:
        csv_writer.close()


R_COMMON = r"""
to_json <- function(x) cat(sprintf('{"read": %.6f, "fit": %.6f, "iter": %d, "coef": [%s]}\n', x$read, x$fit, x$iter,
                                   paste(sprintf("%.17g", x$coef), collapse = ",")))
"""


def r_glm(rds):
    return rscript(R_COMMON + f"""
d <- readRDS('{rds}')
t1 <- Sys.time(); fit <- glm({FORMULA}, family = binomial, data = d); s <- summary(fit); t2 <- Sys.time()
to_json(list(read = 0, fit = as.numeric(t2 - t1, units = "secs"), iter = fit$iter, coef = coef(s)[, 1]))
""")


def rscript_end_to_end(csv):
    """Rscript from its start: library(data.table), fread, glm, summary."""
    t0 = time.perf_counter()
    out = rscript(R_COMMON + f"""
library(data.table)
d <- fread('{csv}', stringsAsFactors = TRUE)
fit <- glm({FORMULA}, family = binomial, data = d); s <- summary(fit)
to_json(list(read = 0, fit = 0, iter = fit$iter, coef = coef(s)[, 1]))
""")
    out["wall"] = time.perf_counter() - t0
    return out


def polybridge(binary, path, extra=()):
    """`polybridge fit --family binomial --workers 2 --timing` on the file's row groups (with
    `extra` options), with where its fit phase went."""
    run = bench_fit.polybridge(binary, path, ("--family", "binomial", *extra))
    phases = re.search(r"first pass \(read, build, first round\) ([0-9.]+) s; (\d+) IRLS rounds after it ([0-9.]+) s "
                       r"\(([0-9.]+) s each\); summary ([0-9.]+) s", run["stderr"])
    return {**run, "first": float(phases.group(1)), "rounds": int(phases.group(2)), "each": float(phases.group(4)),
            "summary": float(phases.group(5)), "iter": run["json"]["iterations"]}


def main():
    binary = os.environ.get("POLYBRIDGE_BIN", ".build/release/polybridge")
    sizes = [int(s) for s in os.environ.get("BENCH_ROWS", "2000000,10000000").split(",")]
    cores = os.cpu_count() or 2
    r_version = subprocess.run(["Rscript", "-e", "cat(R.version.string)"], capture_output=True, text=True).stdout
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {cores} cores, {memory:.0f} GiB; {r_version} (reference BLAS). R's glm.fit solves each iteration with "
          "LINPACK (Cdqrls); polybridge workers keep their chunks' model matrices, factor sqrt(W)[X|z] in Swift each round, "
          "and the coordinator solves the stacked factors with the same Cdqrls")
    print(f"model: {FORMULA}, family binomial (8 numeric predictors, g a 5-level factor, binary y), data from Parquet")
    with tempfile.TemporaryDirectory() as folder:
        for rows in sizes:
            path, csv, rds = f"{folder}/data.parquet", f"{folder}/data.csv", f"{folder}/data.rds"
            write_data(path, csv, rows)
            subprocess.run([binary, "convert", path, rds], check=True, capture_output=True)
            print(f"\n{rows:,} rows ({os.path.getsize(path) / 1e6:.0f} MB Parquet)")
            glm = r_glm(rds)
            reference = glm["coef"]
            pb = polybridge(binary, path)
            results = [("R glm + summary, data loaded (fit phase)", glm["fit"], reference),
                       (f"polybridge exact, 2 warm workers, {pb['chunks']} chunks (fit phase)", pb["fit"], pb["coef"]),
                       ("polybridge end to end (process start, workers start, fit)", pb["wall"], pb["coef"])]
            e2e = None
            if rows <= int(os.environ.get("RSCRIPT_MAX_ROWS", "2000000")):
                e2e = rscript_end_to_end(csv)
                results.append(("Rscript: fread CSV + glm + summary (end to end)", e2e["wall"], e2e["coef"]))
            mc = bench_fit.r_mclapply(rds, 8, 2, family="binomial")
            results.append(("R mclapply glm average, 8 chunks, 2 cores (APPROXIMATE)", mc["fit"], mc["coef"]))
            rp = None
            if rows <= int(os.environ.get("RPY2_MAX_ROWS", "2000000")):
                rp = bench_fit.rpy2_recipe(path, 8, 2, family="binomial")
                results.append(("multiprocessing + rpy2 glm average, 8 chunks, read included (APPROXIMATE)", rp["fit"], rp["coef"]))
            for label, seconds, coef in results:
                print(f"  {label:<72} {seconds:8.2f} s  {seconds / glm['fit']:6.3f}x glm fit   "
                      f"max rel. coef diff {largest_difference(coef, reference):.1e}")
            print(f"  iterations: R {glm['iter']}, polybridge {pb['iter']}; polybridge fit phase: first pass {pb['first']:.2f} s, "
                  f"{pb['rounds']} IRLS rounds after it at {pb['each']:.3f} s each (goal <= 0.3 s), summary {pb['summary']:.2f} s")
            print(f"  ratios: polybridge fit phase / R glm fit {pb['fit'] / glm['fit']:.3f} (goal <= 0.05 at 10M)"
                  + (f"; polybridge end to end / Rscript fread + glm {pb['wall'] / e2e['wall']:.3f} (goal <= 0.2 at 2M)" if e2e else "")
                  + f"; mclapply / polybridge fit phase {mc['fit'] / pb['fit']:.1f}x"
                  + (f"; rpy2 recipe / polybridge end to end {rp['fit'] / pb['wall']:.1f}x" if rp else ""))
            print(f"  polybridge: workers ready in {pb['ready']:.2f} s; peak memory of coordinator + workers "
                  f"{pb['peak'] / 2**30:.2f} GiB (goal < 2 GiB at 10M; sampled from /proc every 50 ms)")
            disk = polybridge(binary, path, ("--chunk-state", "disk"))
            print(f"  polybridge --chunk-state disk (each chunk's state in a file, mapped once per round): fit phase "
                  f"{disk['fit']:.2f} s ({disk['fit'] / glm['fit']:.3f}x glm fit), rounds {disk['each']:.3f} s each, "
                  f"peak memory {disk['peak'] / 2**30:.2f} GiB, max rel. coef diff {largest_difference(disk['coef'], reference):.1e}")


if __name__ == "__main__":
    main()
