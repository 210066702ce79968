"""`make bench-grouped`: one lm per group with `polybridge fit --by` against R's ways of fitting
many models: lapply(split()), data.table's `by`, dplyr's group_modify with broom::tidy, and
parallel::mclapply over groups on 2 cores, on the same data in the same run.

Data: BENCH_ROWS rows (default 2,000,000) in BENCH_GROUPS groups (default 10,000) whose sizes
follow a skewed (Zipf-like) law, stored in random order; y ~ x1 + x2 + g (BENCH_FORMULA), g a
5-level factor. Every method collects each group's coefficients and standard errors. R's methods
read the data from RDS first (timed apart); polybridge is timed end to end, its read included.
Also: polybridge on the same rows with one group holding half of them, against balanced groups;
the multiprocessing + rpy2 recipe per group at RPY2_ROWS rows (default 1,000,000); and
polybridge's time and peak memory at BENCH_MEMORY_ROWS rows (default 10,000,000). polybridge runs
twice: in its own process, and in parts on BENCH_WORKERS worker processes (default 2). Each line
gives the largest relative difference of its estimates from lapply(split())'s.
"""
import functools
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(__file__))
from bench_fit import TreeMemory  # noqa: E402

FORMULA = os.environ.get("BENCH_FORMULA", "y ~ x1 + x2 + g")
# How polybridge runs in parts: BENCH_WORKERS worker processes (default 2).
WORKERS = ("--workers", os.environ.get("BENCH_WORKERS", "2"))


def write_data(path, rows, groups, layout, seed=7):
    """Parquet of `rows` rows in random order; `layout` is "skewed" (Zipf-like sizes),
    "balanced" (equal sizes) or "half" (one group holds half the rows, the rest equal)."""
    rng = np.random.default_rng(seed)
    if layout == "skewed":
        weights = 1 / np.arange(1, groups + 1) ** 0.9
        sizes = np.maximum(5, np.floor(weights / weights.sum() * rows)).astype(np.int64)
    elif layout == "half":
        sizes = np.full(groups, (rows // 2) // (groups - 1), dtype=np.int64)
        sizes[0] = rows // 2
    else:
        sizes = np.full(groups, rows // groups, dtype=np.int64)
    sizes[0] += rows - sizes.sum()
    ids = np.repeat(np.arange(1, groups + 1, dtype=np.int32), sizes)
    rng.shuffle(ids)
    n = len(ids)
    x = {f"x{i}": rng.standard_normal(n) for i in range(1, 9)}
    codes = rng.integers(0, 5, n).astype(np.int32)
    g = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(["a", "b", "c", "d", "e"]))
    y = 1 + (ids % 7) * 0.1 + sum(0.5 * i * x[f"x{i}"] for i in range(1, 9)) + codes * 0.3 + rng.standard_normal(n)
    pq.write_table(pa.table({"id": ids, **x, "g": g, "y": y}), path, row_group_size=1_000_000)


def rscript(code):
    out = subprocess.run(["Rscript", "-e", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


R_COMMON = r"""
suppressMessages({ library(data.table); library(dplyr); library(broom) })
emit <- function(read, fit, est) cat(sprintf('{"read": %.6f, "fit": %.6f, "first": [%s], "n": %d}\n', read, fit,
                                             paste(sprintf("%.17g", est), collapse = ","), length(est)))
"""

# Each R method returns a data frame (or list) whose `estimate` column lists every group's
# coefficients in key order; the first 200 are compared.
R_METHODS = {
    "lapply(split()) + summary": """
parts <- split(d, d$id)
res <- lapply(parts, function(x) coef(summary(lm(FORMULA, data = x)))[, 1:2, drop = FALSE])
est <- unlist(lapply(res, function(m) m[, 1]))
""",
    "data.table by-group lm": """
dt <- as.data.table(d)
res <- dt[, { s <- coef(summary(lm(FORMULA, data = .SD))); list(term = rownames(s), estimate = s[, 1], std_error = s[, 2]) }, by = id]
setorder(res, id)
est <- res$estimate
""",
    "dplyr group_modify + broom::tidy": """
res <- d %>% group_by(id) %>% group_modify(~ tidy(lm(FORMULA, data = .x))) %>% ungroup()
est <- res$estimate
""",
    "parallel::mclapply over groups, 2 cores": """
parts <- split(d, d$id)
res <- parallel::mclapply(parts, function(x) coef(summary(lm(FORMULA, data = x)))[, 1:2, drop = FALSE], mc.cores = 2)
est <- unlist(lapply(res, function(m) m[, 1]))
""",
}


def r_method(rds, body):
    code = R_COMMON + f"""
t0 <- Sys.time(); d <- readRDS('{rds}'); t1 <- Sys.time()
{body.replace("FORMULA", FORMULA)}
t2 <- Sys.time()
emit(as.numeric(t1 - t0, units = "secs"), as.numeric(t2 - t1, units = "secs"), head(unname(est), 200))
"""
    return rscript(code)


def polybridge(binary, path, folder, extra=()):
    """`polybridge fit --by id --out … --groups-out …` (with `extra` options), timed from
    process start, with the peak memory of its process tree (workers included); its first
    200 estimates (key order) read back from the coefficients file."""
    out, groups = os.path.join(folder, "coef.parquet"), os.path.join(folder, "groups.parquet")
    t0 = time.perf_counter()
    process = subprocess.Popen([binary, "fit", "--data", path, "--formula", FORMULA, "--by", "id", "--out", out, "--groups-out", groups,
                                *extra],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    memory = TreeMemory(process.pid)
    _, err = process.communicate()
    wall = time.perf_counter() - t0
    peak = memory.stop()
    if process.returncode != 0:
        raise SystemExit(f"polybridge fit --by failed ({process.returncode}): {err}")
    table = pq.read_table(out)
    failed = pq.read_table(groups).column("error").null_count
    return {"wall": wall, "peak": peak, "first": table.column("estimate").to_pylist()[:200], "n": table.num_rows,
            "groups_ok": failed}


def _rpy2_groups(frames):
    import rpy2.robjects as ro
    from rpy2.robjects import pandas2ri
    from rpy2.robjects.conversion import localconverter
    out = []
    for frame in frames:
        with localconverter(ro.default_converter + pandas2ri.converter):
            r_frame = ro.conversion.py2rpy(frame)
        table = ro.r["coef"](ro.r["summary"](ro.r["lm"](ro.Formula(FORMULA), data=r_frame)))
        out.extend(list(table)[: len(table) // 4])
    return out


def rpy2_recipe(path):
    """The common Python recipe: pandas reads the file and groups it, a multiprocessing pool of 2
    pickles batches of group frames to its workers, each converts each frame with rpy2 and fits
    lm with summary; the estimates come back in key order."""
    import pandas as pd
    t0 = time.perf_counter()
    frame = pd.read_parquet(path)
    frame["g"] = frame["g"].astype("category")
    frames = [part.drop(columns="id") for _, part in frame.groupby("id", sort=True)]
    batches = [frames[i:i + 100] for i in range(0, len(frames), 100)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        estimates = [e for batch in pool.map(functools.partial(_rpy2_groups), batches) for e in batch]
    return {"wall": time.perf_counter() - t0, "first": estimates[:200]}


def largest_difference(values, reference):
    return max(abs(a - b) / max(abs(b), 1e-300) for a, b in zip(values, reference))


def main():
    binary = os.environ.get("POLYBRIDGE_BIN", ".build/release/polybridge")
    rows = int(os.environ.get("BENCH_ROWS", "2000000"))
    groups = int(os.environ.get("BENCH_GROUPS", "10000"))
    r_version = subprocess.run(["Rscript", "-e", "cat(R.version.string)"], capture_output=True, text=True).stdout
    print(f"machine: {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; {r_version}")
    print(f"model: {FORMULA}, one fit per id; {rows:,} rows in {groups:,} groups (skewed sizes), random order")
    with tempfile.TemporaryDirectory() as folder:
        path, rds = os.path.join(folder, "data.parquet"), os.path.join(folder, "data.rds")
        write_data(path, rows, groups, "skewed")
        subprocess.run([binary, "convert", path, rds], check=True, capture_output=True)
        pb = polybridge(binary, path, folder)
        pooled = polybridge(binary, path, folder, WORKERS)
        results = {name: r_method(rds, body) for name, body in R_METHODS.items()}
        reference = results["lapply(split()) + summary"]["first"]
        fastest = min(r["read"] + r["fit"] for name, r in results.items() if "mclapply" not in name)
        print(f"  {'polybridge fit --by (end to end: read, fit, write both tables)':<66} {pb['wall']:8.2f} s   "
              f"max rel. diff {largest_difference(pb['first'], reference):.1e}")
        print(f"  {'polybridge fit --by ' + ' '.join(WORKERS) + ' (in parts on worker processes)':<66} {pooled['wall']:8.2f} s   "
              f"max rel. diff {largest_difference(pooled['first'], reference):.1e}")
        for name, r in results.items():
            print(f"  {name + ' (read + fit)':<66} {r['read'] + r['fit']:8.2f} s   (read {r['read']:.2f} s)   "
                  f"polybridge {((r['read'] + r['fit']) / pb['wall']):5.1f}x faster   max rel. diff {largest_difference(r['first'], reference):.1e}")
        mc = results["parallel::mclapply over groups, 2 cores"]
        print(f"  ratios: fastest single-process R way / polybridge {fastest / pb['wall']:.1f}x (goal >= 20x); "
              f"mclapply / polybridge {(mc['read'] + mc['fit']) / pb['wall']:.1f}x (goal >= 10x)")
        timings = {}
        for layout in ("balanced", "half"):
            other = os.path.join(folder, f"{layout}.parquet")
            write_data(other, rows, groups, layout)
            timings[layout] = polybridge(binary, other, folder)["wall"]
        print(f"  layout: balanced {timings['balanced']:.2f} s, one group with half the rows {timings['half']:.2f} s "
              f"({timings['half'] / timings['balanced']:.2f}x; goal <= 1.3x); peak memory at {rows:,} rows {pb['peak'] / 2**30:.2f} GiB")
        rpy2_rows = int(os.environ.get("RPY2_ROWS", "1000000"))
        if rpy2_rows > 0:
            small = os.path.join(folder, "rpy2.parquet")
            write_data(small, rpy2_rows, groups, "skewed")
            mine, theirs = polybridge(binary, small, folder), rpy2_recipe(small)
            print(f"  {rpy2_rows:,} rows, {groups:,} groups: polybridge {mine['wall']:.2f} s, multiprocessing + rpy2 per group "
                  f"{theirs['wall']:.2f} s ({theirs['wall'] / mine['wall']:.0f}x; goal >= 100x), "
                  f"max rel. diff {largest_difference(theirs['first'], mine['first']):.1e}")
        memory_rows = int(os.environ.get("BENCH_MEMORY_ROWS", "10000000"))
        if memory_rows > 0:
            large = os.path.join(folder, "large.parquet")
            write_data(large, memory_rows, groups, "skewed")
            big = polybridge(binary, large, folder)
            print(f"  {memory_rows:,} rows, {groups:,} groups: polybridge {big['wall']:.2f} s, peak memory {big['peak'] / 2**30:.2f} GiB "
                  "(goal < 2 GiB; sampled from /proc every 50 ms)")
            parts = polybridge(binary, large, folder, WORKERS)
            print(f"  {memory_rows:,} rows, {groups:,} groups: polybridge {' '.join(WORKERS)} {parts['wall']:.2f} s, "
                  f"peak memory of all its processes {parts['peak'] / 2**30:.2f} GiB (goal < 2 GiB)")


if __name__ == "__main__":
    main()
