"""`make bench-glm-large`: an exact logistic glm of 100,000,000 rows (y ~ x1..x8 + g) from a
Parquet file the bench writes in streaming fashion, with the peak memory of coordinator plus
workers, checked against an independent IRLS written here in numpy.

All chunks' IRLS state (the model matrix, response, weights, offset, trials and starting
means: 19 doubles a row, about 15 GB) would not fit in half this machine's memory, so the fit
keeps it on disk by itself (`--chunk-state auto`, the default): each worker writes its chunks'
state to unlinked files in its temporary folder and maps one chunk at a time in each round.

The oracle reads the same file row group by row group in every iteration and accumulates
X'WX and X'Wz in float64 (glm.fit's starting means, working weights and response, and its
convergence rule |dev - dev_old| / (|dev| + 0.1) < 1e-8), so it shares no code with
polybridge or R. Standard errors come from the last iteration's X'WX, as summary.glm's do.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(__file__))
from bench_fit import polybridge  # noqa: E402
from bench_fit_large import model_matrix  # noqa: E402
from bench_glm import write_data  # noqa: E402

P = 13  # intercept, x1..x8, gb..ge


def binomial_deviance(y, mu):
    """Σ 2 (y log(y/mu) + (1-y) log((1-y)/(1-mu))) for y in {0, 1}."""
    return float(-2 * np.sum(np.where(y == 1, np.log(mu), np.log1p(-mu))))


def numpy_irls(path, epsilon=1e-8, maxit=25):
    """glm(y ~ ., family = binomial) by IRLS over the file's row groups: coefficients,
    standard errors, deviance, null deviance, iterations."""
    source = pq.ParquetFile(path)
    groups = range(source.metadata.num_row_groups)
    beta, deviance_old, iterations = None, 0.0, 0
    while iterations < maxit:
        iterations += 1
        xtwx, xtwz, deviance = np.zeros((P, P)), np.zeros(P), 0.0
        for index in groups:
            x, y = model_matrix(source.read_row_group(index))
            # binomial()$initialize with unit weights: mustart = (y + 0.5) / 2; glm.fit's first
            # old deviance is the deviance at those means.
            eta = np.log((y + 0.5) / (1.5 - y)) if beta is None else x @ beta
            mu = 1 / (1 + np.exp(-eta))
            if beta is None:
                deviance_old += binomial_deviance(y, mu)
            dmu = mu * (1 - mu)  # d mu / d eta for the logit link, = variance
            z = eta + (y - mu) / dmu
            w = dmu  # working weight (d mu/d eta)^2 / V(mu)
            xw = x * w[:, None]
            xtwx += x.T @ xw
            xtwz += xw.T @ z
        beta = np.linalg.solve(xtwx, xtwz)
        # The deviance at the new coefficients (one more pass, as glm.fit computes it).
        for index in groups:
            x, y = model_matrix(source.read_row_group(index))
            deviance += binomial_deviance(y, 1 / (1 + np.exp(-(x @ beta))))
        if abs(deviance - deviance_old) / (abs(deviance) + 0.1) < epsilon:
            break
        deviance_old = deviance
    standard_errors = np.sqrt(np.diag(np.linalg.inv(xtwx)))
    rows, ones = 0, 0.0
    for index in groups:
        y = source.read_row_group(index, columns=["y"]).column("y").to_numpy()
        rows, ones = rows + len(y), ones + float(y.sum())
    mean = ones / rows
    null_deviance = -2 * (ones * np.log(mean) + (rows - ones) * np.log1p(-mean))
    return {"coef": beta, "se": standard_errors, "deviance": deviance, "null": null_deviance, "iter": iterations}


def relative(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.abs(np.asarray(b))))


def main():
    binary = os.environ.get("POLYBRIDGE_BIN", ".build/release/polybridge")
    rows = int(os.environ.get("BENCH_LARGE_ROWS", "100000000"))
    folder = os.environ.get("BENCH_DIR") or tempfile.mkdtemp(prefix="polybridge-bench-glm-large-")
    path = os.path.join(folder, f"glm-large-{rows}.parquet")
    print(f"model: y ~ x1..x8 + g, family binomial; {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB")
    try:
        if not os.path.exists(path):
            t0 = time.perf_counter()
            write_data(path, None, rows)
            print(f"wrote {rows:,} rows ({os.path.getsize(path) / 1e9:.1f} GB Parquet, 1,000,000-row groups) "
                  f"in {time.perf_counter() - t0:.0f} s, streaming (one row group in memory at a time)")
        pb = polybridge(binary, path, ("--family", "binomial"))
        where = re.search(r"timing: chunk state kept (on disk|in memory)", pb["stderr"])
        phases = re.search(r"first pass \(read, build, first round\) ([0-9.]+) s; (\d+) IRLS rounds after it ([0-9.]+) s "
                           r"\(([0-9.]+) s each\); summary ([0-9.]+) s", pb["stderr"])
        fit = pb["json"]
        print(f"polybridge fit --family binomial, 2 workers, {pb['chunks']} chunks, state kept {where.group(1) if where else '?'}: "
              f"fit phase {pb['fit']:.1f} s (first pass {phases.group(1)} s, {phases.group(2)} IRLS rounds at "
              f"{phases.group(4)} s each, summary {phases.group(5)} s), end to end {pb['wall']:.1f} s, "
              f"{fit['iterations']} iterations; peak memory coordinator + workers {pb['peak'] / 2**30:.2f} GiB "
              f"(goal < 4 GiB; sampled from /proc every 50 ms)")
        t0 = time.perf_counter()
        oracle = numpy_irls(path)
        se = [c["standardError"] for c in fit["coefficients"]]
        print(f"independent check (numpy IRLS over the same file, {time.perf_counter() - t0:.0f} s, {oracle['iter']} iterations): "
              f"max relative difference: coefficients {relative(pb['coef'], oracle['coef']):.1e}, "
              f"standard errors {relative(se, oracle['se']):.1e}, deviance {relative([fit['deviance']], [oracle['deviance']]):.1e}, "
              f"null deviance {relative([fit['nullDeviance']], [oracle['null']]):.1e}; iterations equal: "
              f"{fit['iterations'] == oracle['iter']}")
    finally:
        if not os.environ.get("BENCH_DIR"):
            subprocess.run(["rm", "-rf", folder])


if __name__ == "__main__":
    main()
