"""`make bench-compare OLD=path/to/polybridge`: two polybridge binaries side by side in one run,
on the same data: the 2,000,000-row exact fit on two local workers (bench-fit's model, with R's
lm in the same run as the anchor) and the same fit on Ray and Dask (bench-engines' figures).
Each binary runs three times in alternation and the fastest run of each is kept; prints each
figure for both binaries and the new/old ratio (goal: within 10%).
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import bench_engines  # noqa: E402
from bench_fit import largest_difference, polybridge, r_lm, write_data  # noqa: E402


def engine_fit(binary, path, executor):
    bench_engines.BIN = binary
    return bench_engines.fit(path, executor)


def main():
    old = os.environ.get("OLD_BIN")
    new = os.environ.get("POLYBRIDGE_BIN", ".build/release/polybridge")
    if not old:
        raise SystemExit("give the old binary: make bench-compare OLD=path/to/polybridge")
    rows = int(os.environ.get("BENCH_ROWS", "2000000"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    print(f"machine: {os.cpu_count()} cores; {rows:,} rows from Parquet; old {old}, new {new}; best of {rounds}")
    with tempfile.TemporaryDirectory() as folder:
        path, rds = f"{folder}/data.parquet", f"{folder}/data.rds"
        write_data(path, rows)
        subprocess.run([new, "convert", path, rds], check=True, capture_output=True)
        lm = r_lm(rds)
        best = {}
        for _ in range(rounds):
            for name, binary in (("old", old), ("new", new)):
                runs = {"local": polybridge(binary, path)}
                for executor in ("ray", "dask"):
                    runs[executor] = engine_fit(binary, path, executor)
                for executor, result in runs.items():
                    key = (name, executor)
                    if key not in best or result["wall"] < best[key]["wall"]:
                        best[key] = result
    print(f"  R readRDS + lm + summary: {lm['read'] + lm['fit']:.2f} s (lm fit {lm['fit']:.2f} s)")
    for executor in ("local", "ray", "dask"):
        old_run, new_run = best[("old", executor)], best[("new", executor)]
        ready = {"local": "ready", "ray": "startup", "dask": "startup"}[executor]
        print(f"  {executor:<5} wall old {old_run['wall']:6.2f} s new {new_run['wall']:6.2f} s ({new_run['wall'] / old_run['wall']:.2f}x)"
              f"  fit phase old {old_run['fit']:5.2f} s new {new_run['fit']:5.2f} s ({new_run['fit'] / old_run['fit']:.2f}x)"
              f"  workers ready old {old_run[ready]:5.2f} s new {new_run[ready]:5.2f} s"
              f"  max rel. coef diff from lm: new {largest_difference(new_run['coef'], lm['coef']):.1e}")
    local = best[("new", "local")]
    print(f"  new local end to end / R readRDS + lm: {local['wall'] / (lm['read'] + lm['fit']):.3f}")


if __name__ == "__main__":
    main()
