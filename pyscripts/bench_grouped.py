"""`make bench-grouped`: one lm per group with `polybridge fit --by` against R's ways of fitting
many models: lapply(split()), data.table's `by`, dplyr's group_modify with broom::tidy, and
parallel::mclapply over groups on 2 cores, on the same data in the same run.

Data: BENCH_ROWS rows (default 2,000,000) in BENCH_GROUPS groups (default 10,000) whose sizes
follow a skewed (Zipf-like) law, stored in random order; y ~ x1 + x2 + g (BENCH_FORMULA), g a
5-level factor. Every method collects each group's coefficients and standard errors. R's methods
read the data from RDS first (timed apart); polybridge is timed end to end, its read included.
Also: polybridge on the same rows with one group holding half of them, against balanced groups.
Each line gives the largest relative difference of its estimates from lapply(split())'s.
"""
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FORMULA = os.environ.get("BENCH_FORMULA", "y ~ x1 + x2 + g")


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


def polybridge(binary, path, folder):
    """`polybridge fit --by id --out … --groups-out …`, timed from process start; its first
    200 estimates (key order) read back from the coefficients file."""
    out, groups = os.path.join(folder, "coef.parquet"), os.path.join(folder, "groups.parquet")
    t0 = time.perf_counter()
    subprocess.run([binary, "fit", "--data", path, "--formula", FORMULA, "--by", "id", "--out", out, "--groups-out", groups],
                   check=True, capture_output=True)
    wall = time.perf_counter() - t0
    table = pq.read_table(out)
    failed = pq.read_table(groups).column("error").null_count
    return {"wall": wall, "first": table.column("estimate").to_pylist()[:200], "n": table.num_rows,
            "groups_ok": failed}


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
        results = {name: r_method(rds, body) for name, body in R_METHODS.items()}
        reference = results["lapply(split()) + summary"]["first"]
        fastest = min(r["read"] + r["fit"] for name, r in results.items() if "mclapply" not in name)
        print(f"  {'polybridge fit --by (end to end: read, fit, write both tables)':<66} {pb['wall']:8.2f} s   "
              f"max rel. diff {largest_difference(pb['first'], reference):.1e}")
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
              f"({timings['half'] / timings['balanced']:.2f}x; goal <= 1.3x)")


if __name__ == "__main__":
    main()
