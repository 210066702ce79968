#!/usr/bin/env bash
# `make bench-glm-large`: an exact logistic glm of 100,000,000 rows from a Parquet file the bench
# writes in streaming fashion (the chunks keep their state on disk), the peak memory of
# coordinator plus workers, and an independent IRLS in numpy over the same file.
# BENCH_LARGE_ROWS and BENCH_DIR (keep the file there between runs) adjust it.
set -euo pipefail
cd "$(dirname "$0")/.."
POLYBRIDGE_BIN="${POLYBRIDGE_BIN:-.build/release/polybridge}" python3 pyscripts/bench_glm_large.py
